#!/usr/bin/python3
"""Integration: spate under resource exhaustion on loopback: descriptors, peers, memory.

Each test watches spate's open descriptors (len(os.listdir("/proc/PID/fd")), sampled every
20 ms in a thread) and its memory (VmRSS, VmHWM in /proc/PID/status) while it runs:

  silent1000      `spate seed` (2 MiB, --max-peers 500) gets 1,000 connections at once from
                  20 addresses (127.0.1.1 ..., 50 each) that send nothing, or a quarter of a
                  handshake; while they are open, 5 good leechers (leecher_swarm.py) must all
                  finish verified within 60 s; spate must close every silent connection
                  itself (a handshake that never completes times out) within 60 s; its
                  descriptors must stay below max-peers + 64 the whole time; once everything
                  is closed they must come back to within 4 of the idle count (no leak)
  unreachable5000 a fake HTTP tracker (in this process, 127.0.0.1) answers spate download's
                  announce with 5,000 peers on 127.0.10.1 ... where nothing listens (a port this
                  test holds bound but not listening: refused at once) and, last, one good
                  scripted_peer.py seeder: the download must complete byte-identical within
                  120 s, with descriptors below max-peers (200) + 64 and peak RSS (VmHWM)
                  below 512 MiB throughout (the figures are printed)
  fdlimit         a 1,000-file torrent (1-8 KiB files of random bytes in nested folders, 16 KiB
                  pieces spanning files) goes from `spate seed` to `spate download --peer`, both
                  started with RLIMIT_NOFILE 64: both must succeed (seed exits 0 on SIGINT
                  after), every file byte-identical, and neither ever holds more than 64
                  descriptors

  smallring       spate with --ring-entries 2 (the smallest io_uring submission queue it
                  takes; /proc/PID/fdinfo must show that size where the kernel prints SqMask)
                  under full load. seed: `spate seed --ring-entries 2 --no-tracker --json`
                  of a 4 MiB torrent serves 30 leechers (leecher_swarm.py, 127.0.3.1 ...
                  127.0.3.30, all connected at once, every piece SHA-1 verified): all finish
                  within 90 s and spate exits 0 on SIGINT. download: `spate download
                  --ring-entries 2` of what `spate swarm --peers 30 --size 64M
                  --builtin-tracker 127.0.0.1:PORT` serves (it finds the 30 peers through
                  that tracker) completes within 180 s, byte-identical to the file the swarm
                  wrote with --data-out. Both parts run; either failing fails the test.

usage: exhaustion_test.py SPATE_BINARY [TEST]...   (all tests when none is named)
Prints "ok   TEST (s): figures" or "FAIL TEST: reason" per test and exits 1 on any failure
(never skips). spate is started with RLIMIT_NOFILE 4096 (64 in fdlimit), so what bounds its
descriptors is spate, not the limit it inherited; this process raises its own soft limit to
the hard one for the 1,000 sockets. Every process started here is stopped by its pid, pass
or fail; every wait and loop is bounded; everything stays on 127.0.0.0/8. Reuses
scripted_peer.py, leecher_swarm.py (through seed_swarm_test.py) and the download
tests' helpers (hostile_harness.py, or download_hostile_test.py where that is not there);
the watching and the fakes are in exhaustion_support.py.
"""

import errno
import os
import re
import random
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from exhaustion_support import (  # noqa: E402  pylint: disable=wrong-import-position
    FD_SLACK, LEAK_SLACK, MIB, FakeTracker, Silent, Spate, Watch, expect, expect_small_ring,
    fd_count, first_difference, free_port, harness, make_many_files, raise_own_fd_limit,
    run_in_thread, sp, spate_create, sst, tcp_attempt_fails, wait_for_ring)


# silent1000 -----------------------------------------------------------------------------

SILENT = 1000
SILENT_SOURCES = 20  # 50 connections from each address
SEED_MAX_PEERS = 500
GOOD_LEECHERS = 5
GOOD_SECONDS = 60  # the good leechers' bound, from when the silent connections are open
SILENT_CLOSE_SECONDS = 60  # spate must have closed every silent connection by then


def test_silent1000(spate, tmp, procs):
    made = sst.make_data(spate, tmp)
    torrent, torrent_path = made["a"], made["a_path"]
    seed = Spate(procs, tmp, "seed", [spate, "seed", torrent_path, "--data", made["data"],
                                      "--no-tracker", "--json", "--port", str(free_port()),
                                      "--max-peers", str(SEED_MAX_PEERS)])
    port = seed.wait_listening()
    idle = seed.settle_fds()
    bound = SEED_MAX_PEERS + FD_SLACK
    watch = Watch(seed.proc.pid)
    watch.start()
    silent = None
    try:
        sources = sp.count_addresses("127.0.1.1", SILENT_SOURCES)
        silent = Silent(port, torrent.info_hash, SILENT, sources)
        expect(len(silent.socks) >= SEED_MAX_PEERS,
               f"only {len(silent.socks)} of {SILENT} silent connections were established "
               f"within 30 s ({len(silent.failed)} failed: {sorted(set(silent.failed))}; "
               f"{silent.pending_connects} never completed): fewer than --max-peers")
        seed.expect_running(f"after {len(silent.socks)} silent connections")
        leechers = sst.swarm(procs, tmp, "good", seed, torrent_path, "--count",
                             str(GOOD_LEECHERS), "--base", "127.0.2.1", "--expect-seed",
                             "--stall-timeout", "30", seconds=GOOD_SECONDS)
        leeching = run_in_thread(leechers)
        deadline = silent.started + max(GOOD_SECONDS, SILENT_CLOSE_SECONDS) + 30
        for turn in range(100_000):
            if time.monotonic() >= deadline or (not leeching.alive() and (
                    silent.open_count() == 0 or
                    time.monotonic() - silent.started > SILENT_CLOSE_SECONDS or
                    (turn % 10 == 0 and not silent.still_open(port)[0]))):
                break
            silent.watch(100)
        reports, _ = leeching(GOOD_SECONDS + 90)
        seed.expect_running("beside the silent connections")
        good = sst.expect_all_good(reports, torrent,
                                   f"{GOOD_LEECHERS} good leechers beside {len(silent.socks)} "
                                   f"silent connections (within {GOOD_SECONDS} s)")
        slowest = max(r["done"] for r in good.values())
        late = [t for t in silent.closed_at.values() if t > SILENT_CLOSE_SECONDS]
        held, orphaned = silent.still_open(port)
        expect(not held and not late,
               f"spate left {len(held) + len(late)} of {len(silent.socks)} silent connections "
               f"open for more than {SILENT_CLOSE_SECONDS} s (no handshake timeout?)")
        expect(silent.sent_to_us == 0,
               f"spate sent {silent.sent_to_us} bytes to connections that never handshook")
        closes = sorted(silent.closed_at.values())
        silent.close()
        back = None
        for _ in range(400):  # 20 s
            now = fd_count(seed.proc.pid)
            if now <= idle + LEAK_SLACK:
                back = now
                break
            time.sleep(0.05)
        expect(back is not None,
               f"spate still holds {fd_count(seed.proc.pid)} descriptors 20 s after every "
               f"peer closed (idle: {idle}): leaked")
        expect(watch.max_fds < bound,
               f"spate held {watch.max_fds} descriptors {watch.max_fds_at:.1f} s after the "
               f"{len(silent.socks)} silent connections began (idle {idle}; --max-peers "
               f"{SEED_MAX_PEERS}, bound {bound}): connections that have not finished their "
               f"handshake are not capped (the rest passed: good leechers done in "
               f"{slowest:.1f} s, silent ones closed {closes[0]:.1f}-{closes[-1]:.1f} s, "
               f"{len(orphaned)} never reached spate, {back} descriptors after)")
        watch.stop()
        seconds, _ = seed.stop()
        return (f"{len(silent.socks)} silent connections from {len(sources)} addresses open "
                f"in {silent.connect_seconds:.1f} s ({len(orphaned)} of them never reached "
                f"spate: its accept queue was full); {GOOD_LEECHERS} good leechers verified "
                f"all {torrent.piece_count} pieces, slowest in {slowest:.1f} s; spate closed "
                f"the silent ones {closes[0]:.1f}-{closes[-1]:.1f} s after they opened; "
                f"spate {watch.describe()} (bound {bound}, idle {idle}, {back} after); "
                f"SIGINT exit in {seconds:.1f} s")
    finally:
        watch.stop()
        if silent is not None:
            silent.close()


# unreachable5000 ------------------------------------------------------------------------

UNREACHABLE = 5000
DOWNLOAD_MAX_PEERS = 200  # spate download's default
DOWNLOAD_SECONDS = 120
RSS_LIMIT_MIB = 512
GOOD_RATE = "2m"  # the good seeder's bytes per second


def test_unreachable5000(spate, tmp, procs):
    # A port held bound on every address but never listening: a connection to it is
    # refused at once, and nothing else (spate's own listener included) can take it.
    hold = socket.socket()
    tracker = None
    try:
        hold.bind(("0.0.0.0", 0))
        dead_port = hold.getsockname()[1]
        dead = [(host, dead_port) for host in sp.count_addresses("127.0.10.1", UNREACHABLE)]
        with socket.socket() as probe:
            probe.bind((dead[-1][0], 0))
            expect(probe.connect_ex(dead[-1]) == errno.ECONNREFUSED,
                   f"{dead[-1]} is not refused: the test's dead port is in use")
        data = random.Random(5000).randbytes(8 * MIB + 4321)
        seed_dir = os.path.join(tmp, "seed")
        os.makedirs(seed_dir)
        with open(os.path.join(seed_dir, "far.bin"), "wb") as f:
            f.write(data)
        tracker = FakeTracker()  # first: the torrent names it
        torrent_path = os.path.join(tmp, "far.torrent")
        torrent = spate_create(spate, os.path.join(seed_dir, "far.bin"), torrent_path, 65536,
                               "-t", tracker.url)
        expect(torrent.total == len(data), "spate create made another torrent")
        # Slow enough (about 4 s) that spate dials all 5,000 and retries them meanwhile.
        good = harness.Peers(procs, torrent_path, seed_dir, os.path.join(tmp, "peers.jsonl"),
                         [f"127.0.0.2:0=slow:{GOOD_RATE}"])
        host, port = good.addrs()[0].rsplit(":", 1)
        tracker.set_peers(dead + [(host, int(port))])  # the good one last
        out = os.path.join(tmp, "out")
        run = Spate(procs, tmp, "download", [spate, "download", torrent_path, "-o", out,
                                             "--json", "--port", str(free_port())])
        refused_before = tcp_attempt_fails()
        watch = Watch(run.proc.pid)
        watch.start()
        try:
            rc, usage, _, wall = harness.wait_spate(run.proc, DOWNLOAD_SECONDS)
        finally:
            watch.stop()
        refused = tcp_attempt_fails() - refused_before
        with open(run.out_path, encoding="utf-8", errors="replace") as o:
            result = harness.Run(rc, o.read(), run.stderr(), wall, usage, watch.hwm_kib)
        harness.expect_done(result, f"download with {UNREACHABLE} unreachable peers and one good "
                                f"one (tracker announces: {tracker.announces})")
        # System-wide, so other processes can only add to it: a lower bound on spate's dials.
        expect(refused >= UNREACHABLE,
               f"only {refused} TCP connection attempts failed on this host while spate ran: "
               f"it never dialled most of the {UNREACHABLE} unreachable peers, so the test "
               f"proved nothing")
        expect(tracker.announces, "spate finished without announcing to the tracker")
        harness.expect_identical(os.path.join(out, torrent.name), data)
        bound = DOWNLOAD_MAX_PEERS + FD_SLACK
        expect(watch.max_fds < bound,
               f"spate download held {watch.max_fds} descriptors {watch.max_fds_at:.1f} s in "
               f"with {UNREACHABLE} unreachable peers (bound {bound})")
        # VmHWM, not ru_maxrss: that one counts the forked python before the exec.
        hwm_mib = watch.hwm_kib / 1024
        expect(hwm_mib < RSS_LIMIT_MIB,
               f"spate download's peak RSS was {hwm_mib:.0f} MiB (limit {RSS_LIMIT_MIB} MiB)")
        return (f"{len(data) / MIB:.1f} MiB byte-identical in {wall:.1f} s from the one good "
                f"peer of {UNREACHABLE + 1} announced (announces: {tracker.announces}; "
                f"{refused} refused connects on the host meanwhile); spate "
                f"{watch.describe()} (bound {bound}), VmRSS max "
                f"{watch.max_rss_kib / 1024:.1f} MiB")
    finally:
        if tracker is not None:
            tracker.close()
        hold.close()


# fdlimit --------------------------------------------------------------------------------

FILES = 1000
FDLIMIT = 64
FDLIMIT_SECONDS = 120


def test_fdlimit(spate, tmp, procs):
    root = os.path.join(tmp, "seed", "many")
    files = make_many_files(root, FILES, 64)
    torrent_path = os.path.join(tmp, "many.torrent")
    torrent = spate_create(spate, root, torrent_path, 16384)
    expect(len(torrent.files) == FILES and torrent.total == sum(map(len, files.values())),
           f"spate create made a torrent of {len(torrent.files)} files")
    seed = Spate(procs, tmp, "seed", [spate, "seed", torrent_path, "--data",
                                      os.path.join(tmp, "seed"), "--no-tracker", "--json",
                                      "--port", str(free_port())], nofile=FDLIMIT)
    seed_watch = Watch(seed.proc.pid)
    seed_watch.start()
    watch = None
    try:
        seed.wait_for(lambda e: e.get("event") in ("listening", "error"), FDLIMIT_SECONDS,
                      "listening")
        errors = [e.get("detail") for e in seed.events() if e.get("event") == "error"]
        expect(not errors, f"spate seed with RLIMIT_NOFILE {FDLIMIT} could not serve the "
                           f"{FILES}-file torrent: {errors}; stderr: {seed.stderr()!r}")
        port = seed.wait_listening()
        checked = [e.get("detail") for e in seed.events() if e.get("event") == "checked"]
        out = os.path.join(tmp, "out")
        run = Spate(procs, tmp, "download", [spate, "download", torrent_path, "-o", out,
                                             "--no-tracker", "--json", "--port",
                                             str(free_port()), "--peer", f"127.0.0.1:{port}"],
                    nofile=FDLIMIT)
        watch = Watch(run.proc.pid)
        watch.start()
        try:
            rc, usage, _, wall = harness.wait_spate(run.proc, FDLIMIT_SECONDS)
        finally:
            watch.stop()
        with open(run.out_path, encoding="utf-8", errors="replace") as o:
            result = harness.Run(rc, o.read(), run.stderr(), wall, usage, watch.hwm_kib)
        harness.expect_done(result, f"spate download of {FILES} files with RLIMIT_NOFILE {FDLIMIT}")
        wrong = []
        for rel, payload in files.items():
            path = os.path.join(out, torrent.name, rel)
            try:
                with open(path, "rb") as f:
                    same = f.read() == payload
            except OSError as err:
                same = err.strerror
            if same is not True:
                wrong.append(f"{rel}: {same or 'differs'}")
        expect(not wrong, f"{len(wrong)} of {FILES} files are not byte-identical: {wrong[:5]}")
        # Both say once that the limit leaves room for fewer peers than asked (200 by default).
        for who, stderr in (("seed", seed.stderr()), ("download", result.stderr)):
            warned = re.findall(r"warning: the open-file limit \(64\) allows (\d+) peers, not (\d+)",
                                stderr)
            expect(len(warned) == 1 and int(warned[0][0]) < int(warned[0][1]),
                   f"spate {who} under RLIMIT_NOFILE {FDLIMIT} did not warn once about the peers "
                   f"it can hold: {stderr!r}")
        seed.expect_running("after the download")
        seed_watch.stop()
        seconds, _ = seed.stop()
        for who, w in (("seed", seed_watch), ("download", watch)):
            expect(w.max_fds <= FDLIMIT, f"spate {who} held {w.max_fds} descriptors "
                                         f"(RLIMIT_NOFILE {FDLIMIT})")
        return (f"{FILES} files, {torrent.total / MIB:.1f} MiB in {torrent.piece_count} pieces "
                f"of 16 KiB, byte-identical in {wall:.1f} s; seed checked {checked}; seed "
                f"{seed_watch.describe()}; download {watch.describe()}; seed exit 0 in "
                f"{seconds:.1f} s")
    finally:
        seed_watch.stop()
        if watch is not None:
            watch.stop()


# smallring ------------------------------------------------------------------------------

RING = 2  # --ring-entries: the smallest submission queue spate takes
RING_PIECE = 65536
RING_SEED_SIZE = 4 * MIB + 12345  # the last piece is short
RING_LEECHERS = 30
RING_SEED_SECONDS = 90  # leecher_swarm.py's bound for the whole run, ASan builds included
RING_SWARM_PEERS = 30
RING_SWARM_SIZE = "64M"
RING_DOWNLOAD_SECONDS = 180


def smallring_seed(spate, tmp, procs):
    data = random.Random(2).randbytes(RING_SEED_SIZE)
    seed_dir = os.path.join(tmp, "data")
    os.makedirs(seed_dir)
    with open(os.path.join(seed_dir, "ring.bin"), "wb") as f:
        f.write(data)
    torrent_path = os.path.join(tmp, "ring.torrent")
    torrent = spate_create(spate, os.path.join(seed_dir, "ring.bin"), torrent_path, RING_PIECE)
    expect(torrent.total == len(data), "spate create made another torrent")
    seed = Spate(procs, tmp, "seed", [spate, "seed", torrent_path, "--data", seed_dir,
                                      "--no-tracker", "--json", "--port", str(free_port()),
                                      "--ring-entries", str(RING)])
    seed.wait_listening()
    rings = expect_small_ring("seed", wait_for_ring(seed.proc, 10), RING)
    watch = Watch(seed.proc.pid)
    watch.start()
    try:
        reports, summary = sst.swarm(procs, tmp, "leechers", seed, torrent_path, "--count",
                                     str(RING_LEECHERS), "--base", "127.0.3.1",
                                     "--start-together", "--hold", "--expect-seed",
                                     "--stall-timeout", "30", seconds=RING_SEED_SECONDS)()
        seed.expect_running(f"serving {RING_LEECHERS} leechers with --ring-entries {RING}")
        good = sst.expect_all_good(reports, torrent, f"{RING_LEECHERS} leechers of a seed "
                                                     f"with --ring-entries {RING}")
        sources = {r["source"] for r in good.values()}
        expect(len(good) == RING_LEECHERS and len(sources) == RING_LEECHERS,
               f"{len(good)} leechers from {len(sources)} addresses ran, not {RING_LEECHERS}")
        expect(summary["accepted_before_first_done"] == RING_LEECHERS,
               f"only {summary['accepted_before_first_done']} of {RING_LEECHERS} leechers had "
               f"the seed's bitfield before the first finished (peak "
               f"{summary['peak_accepted']} at once)")
        expect(summary["hash_failures"] == 0,
               f"{summary['hash_failures']} pieces failed their hash")
        slowest = max(r["done"] for r in good.values())
        expect(slowest <= RING_SEED_SECONDS,
               f"the slowest leecher took {slowest:.1f} s (bound {RING_SEED_SECONDS} s)")
        watch.stop()
        seconds, _ = seed.stop()
        return (f"{RING_LEECHERS} leechers from {len(sources)} addresses, all connected at "
                f"once, verified all {torrent.piece_count} pieces "
                f"({summary['bytes'] / MIB:.0f} MiB), slowest in {slowest:.1f} s; {rings}; "
                f"spate {watch.describe()}; SIGINT exit 0 in {seconds:.1f} s")
    finally:
        watch.stop()


def interrupt(proc, seconds=30):
    """SIGINT, then the exit code within `seconds`, or None (the caller's Processes kills)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return None


def smallring_download(spate, tmp, procs):
    torrent_path = os.path.join(tmp, "swarm.torrent")
    data_dir = os.path.join(tmp, "swarm-data")
    swarm = Spate(procs, tmp, "swarm", [spate, "swarm", "--peers", str(RING_SWARM_PEERS),
                                        "--size", RING_SWARM_SIZE, "--builtin-tracker",
                                        f"127.0.0.1:{free_port()}", "--torrent-out",
                                        torrent_path, "--data-out", data_dir, "--json"])
    ready = swarm.wait_for(lambda e: e.get("event") == "ready", 120, "ready")
    expect(ready.get("peers") == RING_SWARM_PEERS,
           f"spate swarm is ready with {ready.get('peers')} peers, not {RING_SWARM_PEERS}: "
           f"{ready}")
    torrent = sp.Torrent.load(torrent_path)
    source = os.path.join(data_dir, torrent.name)
    expect(os.path.isfile(source) and os.path.getsize(source) == torrent.total == 64 * MIB,
           f"spate swarm wrote no {torrent.total}-byte file {source} for a {RING_SWARM_SIZE} "
           f"torrent")
    out = os.path.join(tmp, "out")
    run = Spate(procs, tmp, "download", [spate, "download", torrent_path, "-o", out, "--json",
                                         "--port", str(free_port()),
                                         "--ring-entries", str(RING)])
    watch = Watch(run.proc.pid)
    watch.start()
    try:
        seen = wait_for_ring(run.proc, 10)
        rc, usage, _, wall = harness.wait_spate(run.proc, RING_DOWNLOAD_SECONDS)
    finally:
        watch.stop()
    with open(run.out_path, encoding="utf-8", errors="replace") as o:
        result = harness.Run(rc, o.read(), run.stderr(), wall, usage, watch.hwm_kib)
    what = (f"spate download --ring-entries {RING} from {RING_SWARM_PEERS} peers of spate "
            f"swarm (found through its built-in tracker)")
    harness.expect_done(result, what)
    rings = expect_small_ring("download", seen, RING)
    wrong = first_difference(os.path.join(out, torrent.name), source)
    expect(wrong is None, f"{what}: exit 0, but {wrong}")
    peers = [e.get("peers", 0) for e in result.of("progress")]
    peers = f"progress peers max {max(peers)}" if peers else "no progress line"
    swarm.expect_running("after the download")
    swarm_rc = interrupt(swarm.proc)
    served = [e for e in swarm.events() if e.get("event") == "served"]
    return (f"{torrent.total / MIB:.0f} MiB in {torrent.piece_count} pieces byte-identical in "
            f"{wall:.1f} s; {peers}; {rings}; spate {watch.describe()}; "
            f"swarm exit {swarm_rc} on SIGINT, served "
            f"{served[0].get('bytes') if served else '?'} bytes")


def test_smallring(spate, tmp, procs):
    figures, failed = [], []
    for part, run in (("seed", smallring_seed), ("download", smallring_download)):
        where = os.path.join(tmp, part)
        os.makedirs(where)
        try:
            figures.append(f"{part}: {run(spate, where, procs)}")
        except AssertionError as err:
            failed.append(f"{part}: {err}")
        finally:
            procs.stop_all()
    expect(not failed, " | ".join(failed + [f"(passed) {f}" for f in figures]))
    return " | ".join(figures)


TESTS = {"silent1000": test_silent1000, "unreachable5000": test_unreachable5000,
         "fdlimit": test_fdlimit, "smallring": test_smallring}


def main(argv):
    if not argv or any(name not in TESTS for name in argv[1:]):
        print(__doc__, file=sys.stderr)
        return 2
    spate = os.path.abspath(argv[0])
    if not os.access(spate, os.X_OK):
        print(f"FAIL {spate} is not an executable (never skipped)")
        return 1
    harness.SPATE = spate
    names = [name for name in TESTS if name in argv[1:]] or list(TESTS)
    failures = []
    try:
        raise_own_fd_limit(SILENT + 512)
    except AssertionError as err:
        print(f"FAIL {err}", flush=True)
        return 1
    for name in names:
        started = time.monotonic()
        procs = sst.Processes()
        with tempfile.TemporaryDirectory(prefix=f"spate-exhaustion-{name}-") as tmp:
            try:
                figures = TESTS[name](spate, tmp, procs)
                print(f"ok   {name} ({time.monotonic() - started:.1f} s): {figures}", flush=True)
            except AssertionError as err:  # TestFailure here and in the imported helpers
                failures.append(name)
                print(f"FAIL {name}: {err}", flush=True)
            except Exception:  # pylint: disable=broad-except
                failures.append(name)
                print(f"FAIL {name}: the test itself broke:\n{traceback.format_exc()}",
                      flush=True)
            finally:
                procs.stop_all()
    print(f"{len(failures)} of {len(names)} failed: {failures}" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a killed spate leaves no core files
    sys.exit(main(sys.argv[1:]))
