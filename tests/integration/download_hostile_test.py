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

usage: download_hostile_test.py SPATE_BINARY [TEST]...   (all tests when none is named)
env: SPATE_TEST_SEED fixes the random kill moments; SPATE_TEST_200_MIB sizes peers200.
Every process started here is stopped by its pid, pass or fail; every wait is bounded;
everything stays on 127.0.0.0/8.
"""

import collections
import glob
import hashlib
import json
import os
import random
import resource
import select
import signal
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import scripted_peer as sp  # noqa: E402  pylint: disable=wrong-import-position

PEER_TOOL = os.path.join(HERE, "scripted_peer.py")
PIECE = 65536
MIB = 1024 * 1024
FILL_RUN = bytes([sp.FILL]) * 64  # no run this long occurs in a random payload
SPATE = None


class TestFailure(AssertionError):
    """A check that failed: the message says what spate did and what was expected."""


def expect(condition, message):
    if not condition:
        raise TestFailure(message)


class Processes:
    """Every process a test starts; stop_all() ends each one by its pid, pass or fail."""

    def __init__(self):
        self.procs = []
        self.inner = []  # (parent Popen, file holding a grandchild's pid)

    def start(self, args, **kw):
        proc = subprocess.Popen(args, **kw)
        self.procs.append(proc)
        return proc

    def stop_all(self):
        for parent, pid_file in self.inner:
            kill_inner(parent, pid_file)
        for proc in reversed(self.procs):
            if proc.returncode is None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)


def kill_inner(parent, pid_file):
    """SIGKILLs the pid in `pid_file` only while it is still `parent`'s child, so a reused
    pid is never hit."""
    try:
        with open(pid_file, encoding="ascii") as f:
            pid = int(f.read().strip())
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            ppid = int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError):
        return
    if ppid == parent.pid and parent.poll() is None:
        os.kill(pid, signal.SIGKILL)


def read_line(proc, seconds):
    """One line of a child's stdout, or a failure after `seconds`."""
    deadline, buf = time.monotonic() + seconds, b""
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        expect(left > 0 and proc.poll() is None,
               f"{proc.args[1]} printed no line within {seconds} s (exit {proc.poll()})")
        ready, _, _ = select.select([proc.stdout], [], [], min(left, 0.5))
        if ready:
            chunk = os.read(proc.stdout.fileno(), 4096)
            expect(chunk, f"{proc.args[1]} closed its stdout")
            buf += chunk
    return buf.decode()


class Peers:
    """One scripted_peer process: its listeners and its request log."""

    def __init__(self, procs, torrent_path, data_dir, log, listens=(), extra=()):
        args = [sys.executable, PEER_TOOL, "--torrent", torrent_path, "--data", data_dir,
                "--log", log, *extra]
        for spec in listens:
            args += ["--listen", spec]
        self.log = log
        self.proc = procs.start(args, stdout=subprocess.PIPE)
        self.listeners = json.loads(read_line(self.proc, 120))["listeners"]

    def addrs(self, mode=None):
        return [l["peer"] for l in self.listeners if mode is None or l["mode"] == mode]

    def events(self, event=None, peer=None):
        with open(self.log, encoding="utf-8") as f:
            lines = [json.loads(line) for line in f if line.strip()]
        return [e for e in lines if (event is None or e["event"] == event)
                and (peer is None or e["peer"] == peer)]

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


class Run:
    """What one `spate download` did: exit code, --json events, stderr, resources."""

    def __init__(self, rc, stdout, stderr, wall, usage, hwm_kib):
        self.rc, self.stderr, self.wall, self.usage, self.hwm_kib = rc, stderr, wall, usage, hwm_kib
        self.events = []
        for line in stdout.splitlines():
            try:
                self.events.append(json.loads(line))
            except json.JSONDecodeError:
                raise TestFailure(f"spate --json printed a line that is not JSON: {line!r}")

    def of(self, kind):
        return [e for e in self.events if e.get("event") == kind]

    def describe(self):
        tail = [json.dumps(e) for e in self.events if e.get("event") != "progress"][-8:]
        return f"exit {self.rc}; stderr: {self.stderr.strip()!r}; last events: {tail}"


def start_spate(procs, tmp, label, args):
    out = open(os.path.join(tmp, f"{label}.stdout"), "wb")
    err = open(os.path.join(tmp, f"{label}.stderr"), "wb")
    with out, err:
        return procs.start(args, stdout=out, stderr=err), out.name, err.name


def wait_spate(proc, seconds, sample_rss=False):
    """Waits with os.wait4 for this child's own rusage; SIGKILLs it after `seconds`.
    Returns (exit code, rusage, peak VmHWM in KiB or 0, wall seconds)."""
    started, deadline, hwm = time.monotonic(), time.monotonic() + seconds, 0
    while True:
        if proc.returncode is not None:  # already reaped by a poll()
            return proc.returncode, None, hwm, time.monotonic() - started
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return proc.returncode, usage, hwm, time.monotonic() - started
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait(timeout=10)
            raise TestFailure(f"spate did not finish within {seconds} s (killed)")
        if sample_rss:
            hwm = max(hwm, vm_hwm_kib(proc.pid))
        time.sleep(0.02)


def vm_hwm_kib(pid):
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def download_args(torrent_path, out, peers, *extra):
    args = [SPATE, "download", torrent_path, "-o", out, "--no-tracker", "--json", *extra]
    for peer in peers:
        args += ["--peer", peer]
    return args


def download(procs, tmp, label, torrent_path, out, peers, *extra, seconds=180, sample_rss=False):
    proc, out_path, err_path = start_spate(procs, tmp, label,
                                           download_args(torrent_path, out, peers, *extra))
    rc, usage, hwm, wall = wait_spate(proc, seconds, sample_rss)
    with open(out_path, encoding="utf-8", errors="replace") as o, \
            open(err_path, encoding="utf-8", errors="replace") as e:
        return Run(rc, o.read(), e.read(), wall, usage, hwm)


def make_payload(tmp, name, size, seed):
    """Random bytes (no 0xEE run can occur by chance) under tmp/seed, and a torrent of them."""
    data = random.Random(seed).randbytes(size)
    seed_dir = os.path.join(tmp, "seed")
    os.makedirs(seed_dir, exist_ok=True)
    with open(os.path.join(seed_dir, name), "wb") as f:
        f.write(data)
    torrent_path = os.path.join(tmp, name + ".torrent")
    proc = subprocess.run([SPATE, "create", os.path.join(seed_dir, name), "-o", torrent_path,
                           "--piece-size", str(PIECE)], capture_output=True, text=True,
                          timeout=600)
    expect(proc.returncode == 0, f"spate create failed: {proc.stderr.strip()}")
    torrent = sp.Torrent.load(torrent_path)
    expect(torrent.total == size and torrent.name == name, "spate create made another torrent")
    return data, torrent_path, torrent, seed_dir


def expect_identical(path, data):
    expect(os.path.exists(path), f"{path} was not written")
    with open(path, "rb") as f:
        got = f.read()
    if got == data:
        return
    first = next((i for i in range(min(len(got), len(data))) if got[i] != data[i]),
                 min(len(got), len(data)))
    raise TestFailure(f"{path} differs from the payload at byte {first} (piece {first // PIECE}); "
                      f"{len(got)} bytes, payload {len(data)}")


def expect_no_fill(path, data, who):
    """No run of the hostile peers' 0xEE fill where the payload has other bytes."""
    if not os.path.exists(path):
        return
    with open(path, "rb") as f:
        got = f.read()
    at = got.find(FILL_RUN)
    while at >= 0:
        expect(data[at:at + len(FILL_RUN)] == FILL_RUN,
               f"bytes from {who} (0xEE fill) were written at offset {at} (piece {at // PIECE})")
        at = got.find(FILL_RUN, at + 1)


def good_pieces(torrent, path):
    """Pieces whose bytes on disk pass their hash, computed here, apart from spate."""
    good = set()
    if not os.path.exists(path):
        return good
    with open(path, "rb") as f:
        for i in range(torrent.piece_count):
            chunk = f.read(torrent.piece_size(i))
            if hashlib.sha1(chunk).digest() == torrent.hashes[i]:
                good.add(i)
    return good


def check_resume(out, torrent, data_path, need=False):
    """Every piece a resume file under out/.spate claims must verify on disk.

    Format (storage issue): bencoded dict with "info-hash", "pieces" and "have", the
    bitfield in peer-wire order. Returns the number of pieces claimed."""
    files = glob.glob(os.path.join(out, ".spate", "*.resume"))
    expect(files or not need, f"no resume file under {out}/.spate after a clean stop")
    claimed = 0
    good = good_pieces(torrent, data_path) if files else set()
    for path in files:
        with open(path, "rb") as f:
            resume, _ = sp.bdecode(f.read())
        have = resume.get(b"have") if isinstance(resume, dict) else None
        expect(isinstance(have, bytes) and len(have) == -(-torrent.piece_count // 8),
               f"{path}: no have bitfield of {torrent.piece_count} pieces")
        expect(resume.get(b"info-hash") == torrent.info_hash, f"{path}: another info-hash")
        pieces = [i for i in range(torrent.piece_count) if have[i // 8] & (0x80 >> i % 8)]
        bad = [i for i in pieces if i not in good]
        expect(not bad, f"{path} claims pieces that do not verify on disk: {bad[:20]}")
        claimed = max(claimed, len(pieces))
    return claimed


def expect_done(run, what):
    expect(run.rc == 0, f"{what}: {run.describe()}")
    expect(run.of("done"), f"{what}: exit 0 without a done event")


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
    with open(SPATE, "rb") as f:
        build = "ASan build" if b"__asan_init" in f.read() else "no sanitizers"
    print(f"RESULT 200 peers on loopback: {mib} MiB in {seconds:.2f} s "
          f"({mib / seconds:.1f} MiB/s; {run.wall:.2f} s wall with start-up); leecher peak RSS "
          f"{run.hwm_kib / 1024:.1f} MiB (VmHWM), ru_maxrss {run.usage.ru_maxrss / 1024:.1f} MiB; "
          f"CPU {run.usage.ru_utime:.2f} s user + {run.usage.ru_stime:.2f} s sys; "
          f"{len(served)} peers served blocks, {peak_connections(events)} connections at "
          f"most at once; {build}", flush=True)


TESTS = {"corrupt": test_corrupt, "malformed": test_malformed, "mid_block": test_mid_block,
         "full_disk": test_full_disk, "sigkill": test_sigkill, "signals": test_signals,
         "peers200": test_peers200}


def main(argv):
    global SPATE  # pylint: disable=global-statement
    if len(argv) < 1 or any(name not in TESTS for name in argv[1:]):
        print(__doc__, file=sys.stderr)
        return 2
    SPATE = os.path.abspath(argv[0])
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
