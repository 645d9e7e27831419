#!/usr/bin/python3
"""Integration: `spate download` against scripted hostile peers on loopback.

Each test starts scripted_peer.py (next to this file) on 127.0.0.x listeners, runs
`spate download T -o DIR --no-tracker --json --peer ...`, and checks the result against
the payload and against the peers' request logs:

  corrupt    a peer sending 0xEE instead of data is banned; the file is byte-identical
  malformed  a peer sending an oversized message, a bad bitfield or an out-of-range piece
             is dropped, and none of its 0xEE bytes reach the file
  mid_block  a peer that closes halfway through a block: its blocks are asked of the good
             peer, and the download completes
  full_disk  a 4 MiB tmpfs (private mount namespace) for a 16 MiB payload: exit 1, one
             "spate: ... No space left on device" line, and the resume file claims only
             pieces that verify
  sigkill    SIGKILL at a seeded random moment, three times: the rerun completes and asks
             for no piece that was already good on disk
  signals    SIGTERM (143) and SIGINT (130) the same way, and a resume file is left behind
  peers200   200 peers (127.0.0.2 .. 127.0.0.201) serve one 64 MiB download; prints the
             throughput and the leecher's peak RSS
and, in download_hostile_protocol.py, one hostile peer beside a good one each time (the
good one mostly unchokes late, so that the hostile one is asked first):
  wrong_size     have, choke, unchoke, interested or request of the wrong size: the peer is
                 dropped, its own log showing spate closed it mid-download; a bitfield sent
                 twice or after the unchoke is taken (spate accepts late bitfields, as aria2
                 sends them) and does no harm
  unrequested    a block nobody asked for, an unaligned one, a block sent twice: the peer is
                 dropped; with --memory 128K (two piece buffers, both taken by the hostile
                 peer's requests) it must still finish within 15 s, so a piece buffer kept
                 for a piece nobody fetches fails it. Blocks sent after spate cancelled them
                 are thrown away.
  silent         peers that handshake, then send nothing (or just their bitfield): done from
                 the good peer within 45 s
  never_answers  a peer that unchokes and answers no request: done within 45 s (the endgame
                 asks the good peer, no 60 s request timeout); with --memory 128K, both
                 buffers held by it, done within 90 s (the timeout, then the good peer)
  self           spate's own listen address as --peer: dialled once, closed at once (same
                 peer id), never counted as a peer; done from the good peer
  wrong_hash     a peer answering the handshake with another info-hash: closed by spate at
                 once, never sent interested or a request

usage: download_hostile_test.py SPATE_BINARY [TEST]...   (all tests when none is named)
env: SPATE_TEST_SEED fixes the random kill moments; SPATE_TEST_200_MIB sizes peers200.
Every process started here is stopped by its pid, pass or fail; every wait is bounded;
everything stays on 127.0.0.0/8.
"""

import collections
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# pylint: disable=wrong-import-position
import hostile_harness as h  # noqa: E402
import download_hostile_protocol  # noqa: E402
from hostile_harness import (  # noqa: E402
    MIB, PIECE, Peers, Processes, Run, TestFailure, check_resume, download, download_args,
    expect, expect_done, expect_identical, expect_no_fill, good_pieces, kill_inner,
    make_payload, start_spate, wait_spate)


def test_corrupt(tmp, procs, _rng):
    """A peer sending wrong data for every block is banned; good peers finish the job."""
    data, torrent_path, torrent, seed_dir = make_payload(tmp, "corrupt.bin", 8 * MIB + 777, 1)
    peers = Peers(procs, torrent_path, seed_dir, os.path.join(tmp, "peers.jsonl"),
                  ["127.0.0.2:0=corrupt", "127.0.0.3:0=slow:2m", "127.0.0.4:0=slow:2m",
                   "127.0.0.5:0=silent"])
    out = os.path.join(tmp, "out")
    run = download(procs, tmp, "spate", torrent_path, out, peers.addrs())
    bad = peers.addrs("corrupt")[0]
    expect_done(run, "download beside a corrupt peer")
    expect(peers.events("misbehave", bad), f"{bad} sent no corrupt block: spate never asked it")
    expect_identical(os.path.join(out, torrent.name), data)
    expect(run.of("piece_failed"), "corrupt blocks arrived but no piece_failed event")
    banned = {e.get("peer"): e.get("reason") for e in run.of("peer_banned")}
    expect(bad in banned, f"the corrupt peer {bad} was not banned (banned: {banned})")
    print(f"banned {banned}; {len(run.of('piece_failed'))} pieces failed")


MALFORMED = ["oversized:huge", "oversized:piece", "bad_bitfield:long", "bad_bitfield:short",
             "bad_bitfield:spare", "bad_bitfield:late", "out_of_range:index",
             "out_of_range:begin", "out_of_range:end"]


def test_malformed(tmp, procs, _rng):
    """Each protocol-breaking peer beside a good one: dropped, and nothing of it written."""
    # 65 pieces: not a multiple of 8, so the bitfield has spare bits to set.
    data, torrent_path, torrent, seed_dir = make_payload(tmp, "malformed.bin",
                                                         64 * PIECE + 12345, 2)
    for mode in MALFORMED:
        label = mode.replace(":", "-")
        peers = Peers(procs, torrent_path, seed_dir, os.path.join(tmp, f"{label}.jsonl"),
                      [f"127.0.0.2:0={mode}", "127.0.0.3:0=slow:4m"])
        bad = peers.addrs()[0]
        out = os.path.join(tmp, f"out-{label}")
        try:
            run = download(procs, tmp, label, torrent_path, out, peers.addrs())
            expect_no_fill(os.path.join(out, torrent.name), data, f"the {mode} peer")
            expect_done(run, f"download beside a {mode} peer")
            expect(peers.events("misbehave", bad),
                   f"{mode}: the peer never misbehaved: spate never asked it for a block")
            expect_identical(os.path.join(out, torrent.name), data)
            dropped = [e for e in run.of("peer_dropped") if e.get("peer") == bad]
            expect(dropped, f"{mode}: no peer_dropped event for {bad} "
                            f"(dropped: {[e.get('peer') for e in run.of('peer_dropped')]})")
            print(f"{mode}: dropped ({dropped[0].get('reason')})")
        finally:
            peers.stop()


def test_mid_block(tmp, procs, _rng):
    """Blocks a peer left half-sent are asked of the other peer."""
    data, torrent_path, torrent, seed_dir = make_payload(tmp, "mid.bin", 4 * MIB + 999, 3)
    peers = Peers(procs, torrent_path, seed_dir, os.path.join(tmp, "peers.jsonl"),
                  ["127.0.0.2:0=disconnect_mid_block:0", "127.0.0.3:0=slow:2m"])
    cutter, good = peers.addrs()
    out = os.path.join(tmp, "out")
    run = download(procs, tmp, "spate", torrent_path, out, peers.addrs())
    expect_done(run, "download beside a peer that disconnects mid-block")
    cuts = peers.events("cut", cutter)
    expect(cuts, f"{cutter} never cut a block: spate never asked it")
    expect_identical(os.path.join(out, torrent.name), data)
    lost = {(e["piece"], e["begin"]) for e in cuts}
    lost |= {tuple(p) for e in peers.events("close", cutter) for p in e["pending"]}
    asked = {(e["piece"], e["begin"]) for e in peers.events("request", good)}
    expect(lost <= asked, f"blocks the cutting peer never delivered were not asked of {good}: "
                          f"{sorted(lost - asked)[:10]}")
    print(f"{len(cuts)} cuts, {len(lost)} blocks re-requested from {good}")


FULL_DISK_SCRIPT = r"""
mnt=$1 marker=$2 pid_file=$3 copy=$4 out=$5 err=$6
shift 6
mount -t tmpfs -o size=4m spate-full-disk "$mnt" || exit 97
: > "$marker"
"$@" > "$out" 2> "$err" &
echo $! > "$pid_file"
wait $!
rc=$?
cp -a "$mnt/." "$copy/"
exit $rc
"""


def test_full_disk(tmp, procs, _rng):
    """16 MiB into a 4 MiB tmpfs: exit 1 with one reason line, no false claim of a piece."""
    data, torrent_path, torrent, seed_dir = make_payload(tmp, "full.bin", 16 * MIB, 4)
    peers = Peers(procs, torrent_path, seed_dir, os.path.join(tmp, "peers.jsonl"),
                  ["127.0.0.2:0", "127.0.0.3:0"])
    paths = {k: os.path.join(tmp, k) for k in ("mnt", "mounted", "pid", "copy", "stdout",
                                               "stderr", "unshare.err")}
    os.makedirs(paths["mnt"])
    os.makedirs(paths["copy"])
    args = ["unshare", "--mount", "--propagation", "private", "sh", "-c", FULL_DISK_SCRIPT,
            "sh", paths["mnt"], paths["mounted"], paths["pid"], paths["copy"],
            paths["stdout"], paths["stderr"],
            *download_args(torrent_path, paths["mnt"], peers.addrs())]
    with open(paths["unshare.err"], "wb") as err:
        proc = procs.start(args, stderr=err)
    procs.inner.append((proc, paths["pid"]))
    try:
        rc = proc.wait(timeout=180)
    except subprocess.TimeoutExpired:
        kill_inner(proc, paths["pid"])
        proc.wait(timeout=30)
        raise TestFailure("spate did not stop within 180 s on a full filesystem (killed)")
    with open(paths["unshare.err"], encoding="utf-8", errors="replace") as f:
        outer = f.read().strip()
    expect(os.path.exists(paths["mounted"]),
           f"could not mount a tmpfs in a private mount namespace (needs root, unshare and "
           f"mount; this test never skips): exit {rc}, {outer!r}")
    with open(paths["stderr"], encoding="utf-8", errors="replace") as f:
        stderr = f.read()
    with open(paths["stdout"], encoding="utf-8", errors="replace") as f:
        run = Run(rc, f.read(), stderr, 0, None, 0)
    expect(rc == 1, f"a full filesystem must end in exit 1: {run.describe()}")
    lines = stderr.splitlines()
    expect(len(lines) == 1 and lines[0].startswith("spate: "),
           f"stderr must be exactly one line starting 'spate: ', got {lines}")
    expect("no space left on device" in lines[0].lower(),
           f"the reason line does not name ENOSPC: {lines[0]!r}")
    claimed = check_resume(paths["copy"], torrent, os.path.join(paths["copy"], torrent.name))
    print(f"reason: {lines[0]!r}; resume claims {claimed} pieces, all verified")


def kill_round(tmp, procs, rng, sig, want_rc, label, setup):
    """Starts a download, sends `sig` at a random moment, then reruns it to the end with
    fresh peers (fresh logs), which must ask for no piece that was already good on disk."""
    data, torrent_path, torrent, seed_dir = setup
    out = os.path.join(tmp, f"out-{label}")
    rates = ["127.0.0.2:0=slow:1m", "127.0.0.3:0=slow:1m", "127.0.0.4:0=slow:1m",
             "127.0.0.5:0=slow:1m"]
    peers = Peers(procs, torrent_path, seed_dir, os.path.join(tmp, f"{label}-1.jsonl"), rates)
    delay = rng.uniform(0.3, 3.0)  # the peers together send 4 MiB/s: 16 MiB take over 4 s
    proc, _, err_path = start_spate(procs, tmp, f"{label}-1",
                                    download_args(torrent_path, out, peers.addrs()))
    deadline = time.monotonic() + delay
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    with open(err_path, encoding="utf-8", errors="replace") as f:
        expect(proc.poll() is None, f"{label}: spate ended (exit {proc.returncode}) before "
                                    f"the signal at {delay:.2f} s: {f.read().strip()!r}")
    proc.send_signal(sig)
    rc, _, _, _ = wait_spate(proc, 60)
    with open(err_path, encoding="utf-8", errors="replace") as f:
        expect(rc == want_rc, f"{label}: exit {rc} after {signal.Signals(sig).name}, "
                              f"want {want_rc}: {f.read().strip()!r}")
    peers.stop()
    path = os.path.join(out, torrent.name)
    claimed = check_resume(out, torrent, path, need=sig != signal.SIGKILL)
    good = good_pieces(torrent, path)
    peers = Peers(procs, torrent_path, seed_dir, os.path.join(tmp, f"{label}-2.jsonl"), rates)
    try:
        run = download(procs, tmp, f"{label}-2", torrent_path, out, peers.addrs())
        expect_done(run, f"{label}: the rerun")
        expect_identical(path, data)
        asked = {e["piece"] for e in peers.events("request")}
        again = sorted(good & asked)
        expect(not again, f"{label}: the rerun asked again for pieces already good on disk: "
                          f"{again[:20]} ({len(again)} of {len(good)})")
    finally:
        peers.stop()
    print(f"{label}: {signal.Signals(sig).name} at {delay:.2f} s; {len(good)} of "
          f"{torrent.piece_count} pieces good on disk, resume claimed {claimed}; the rerun "
          f"asked for {len(asked)} pieces, none of them again")


def test_sigkill(tmp, procs, rng):
    setup = make_payload(tmp, "kill.bin", 16 * MIB + 4321, 5)
    for n in range(3):
        kill_round(tmp, procs, rng, signal.SIGKILL, -signal.SIGKILL, f"sigkill-{n + 1}", setup)


def test_signals(tmp, procs, rng):
    setup = make_payload(tmp, "signal.bin", 16 * MIB + 4321, 6)
    kill_round(tmp, procs, rng, signal.SIGTERM, 143, "sigterm", setup)
    kill_round(tmp, procs, rng, signal.SIGINT, 130, "sigint", setup)


def peak_connections(events):
    """Most connections open at once, from the peers' connect and close events."""
    steps = sorted((e["t"], 1 if e["event"] == "connect" else -1) for e in events
                   if e["event"] in ("connect", "close"))
    now = peak = 0
    for _, step in steps:
        now += step
        peak = max(peak, now)
    return peak


def test_peers200(tmp, procs, _rng):
    """200 peers on distinct addresses serve one download; prints rate and peak RSS.

    Each peer sends at most 512 KiB/s (100 MiB/s for all of them, more than one python
    process serves anyway), so the download lasts long enough for spate to reach all 200:
    unthrottled, a release build finishes before it has dialled half of them."""
    mib = int(os.environ.get("SPATE_TEST_200_MIB", "64"))
    data, torrent_path, torrent, seed_dir = make_payload(tmp, "swarm.bin", mib * MIB, 7)
    peers = Peers(procs, torrent_path, seed_dir, os.path.join(tmp, "peers.jsonl"),
                  extra=["--count", "200", "--base", "127.0.0.2", "--port", "0",
                         "--mode", "slow:512k"])
    addrs = peers.addrs()
    expect(len(addrs) == 200, f"scripted_peer listens on {len(addrs)} addresses, not 200")
    out = os.path.join(tmp, "out")
    run = download(procs, tmp, "spate", torrent_path, out, addrs, "--max-peers", "200",
                   seconds=900, sample_rss=True)
    expect_done(run, "download from 200 peers")
    expect_identical(os.path.join(out, torrent.name), data)
    events = peers.events()
    shook = {e["peer"] for e in events if e["event"] == "handshake"}
    served = collections.Counter(e["peer"] for e in events if e["event"] == "request")
    missing = sorted(set(addrs) - shook)
    expect(not missing, f"spate never handshook with {len(missing)} of 200 peers: {missing[:5]}")
    seconds = float(run.of("done")[-1].get("seconds") or run.wall)
    with open(h.SPATE, "rb") as f:
        build = "ASan build" if b"__asan_init" in f.read() else "no sanitizers"
    print(f"RESULT 200 peers on loopback: {mib} MiB in {seconds:.2f} s "
          f"({mib / seconds:.1f} MiB/s; {run.wall:.2f} s wall with start-up); leecher peak RSS "
          f"{run.hwm_kib / 1024:.1f} MiB (VmHWM), ru_maxrss {run.usage.ru_maxrss / 1024:.1f} MiB; "
          f"CPU {run.usage.ru_utime:.2f} s user + {run.usage.ru_stime:.2f} s sys; "
          f"{len(served)} peers served blocks, {peak_connections(events)} connections at "
          f"most at once; {build}", flush=True)


TESTS = {"corrupt": test_corrupt, "malformed": test_malformed, "mid_block": test_mid_block,
         "full_disk": test_full_disk, "sigkill": test_sigkill, "signals": test_signals,
         "peers200": test_peers200, **download_hostile_protocol.TESTS}


def main(argv):
    if len(argv) < 1 or any(name not in TESTS for name in argv[1:]):
        print(__doc__, file=sys.stderr)
        return 2
    h.SPATE = os.path.abspath(argv[0])
    seed = int(os.environ.get("SPATE_TEST_SEED") or random.SystemRandom().randrange(1 << 32))
    print(f"seed {seed} (SPATE_TEST_SEED={seed} repeats the random kill moments)", flush=True)
    rng = random.Random(seed)
    failures = []
    for name in argv[1:] or list(TESTS):
        started = time.monotonic()
        procs = Processes()
        with tempfile.TemporaryDirectory(prefix=f"spate-hostile-{name}-") as tmp:
            try:
                TESTS[name](tmp, procs, rng)
                print(f"ok   {name} ({time.monotonic() - started:.1f} s)", flush=True)
            except TestFailure as err:
                failures.append(name)
                print(f"FAIL {name}: {err}", flush=True)
            except Exception:  # pylint: disable=broad-except
                failures.append(name)
                print(f"FAIL {name}: the test itself broke:\n{traceback.format_exc()}", flush=True)
            finally:
                procs.stop_all()
    print(f"{len(failures)} of {len(argv[1:]) or len(TESTS)} failed: {failures}")
    return 1 if failures else 0


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a killed spate leaves no core files
    sys.exit(main(sys.argv[1:]))
