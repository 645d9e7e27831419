#!/usr/bin/python3
"""hostile_tracker_harness: what the tests of hostile_tracker_test.py share.

Failed checks (TestFailure, expect), the bounds on time and memory (slack, rss_limit_kib),
processes started and stopped by pid, one spate command run and watched (run_spate, Run:
exit code, output, wall time, peak RSS) and the checks on it (expect_sane, announce,
expect_announce_error), and for `spate download`: torrents made with `spate create` and a
scripted_peer.py seeder. Set SPATE and ASAN (is_asan) to the binary first.
Every wait is bounded; everything stays on 127.0.0.0/8. Standard library only.
"""

import json
import os
import random
import re
import select
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import scripted_peer as sp  # noqa: E402  pylint: disable=wrong-import-position

PEER_TOOL = os.path.join(HERE, "scripted_peer.py")
MIB = 1024 * 1024
SPATE = None  # the spate binary under test: set before any test runs
ASAN = False  # whether SPATE links ASan: set with SPATE
HOST = "127.0.0.1"
INFO_HASH = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"  # holds none of the SECRETS of the tests
MAGNET = f"magnet:?xt=urn:btih:{INFO_HASH}"
CRASH_MARKERS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer",
                 "runtime error:", "terminate called", "Assertion", "destroyed with",
                 "Segmentation fault", "core dumped")


class TestFailure(AssertionError):
    """A check that failed: the message says what spate did and what was expected."""


def expect(condition, message):
    if not condition:
        raise TestFailure(message)


def rss_limit_kib():
    # ASan's shadow memory and allocator add about 90 MiB (117 MiB for a failed announce,
    # against 29 MiB without); a body kept whole would still show: the huge body is 200 MB,
    # the gzip bomb 1 GiB, the cap 1 MiB.
    return (224 if ASAN else 100) * 1024


def slack():
    """Seconds allowed beyond a timeout for start-up and shutdown."""
    return 8.0 if ASAN else 3.0


# ------------------------------------------------------------------------------------
# processes


class Processes:
    """Every process a test starts; stop_all() ends each one by its pid, pass or fail."""

    def __init__(self):
        self.procs = []

    def start(self, args, **kw):
        proc = subprocess.Popen(args, **kw)
        self.procs.append(proc)
        return proc

    def stop_all(self):
        for proc in reversed(self.procs):
            if proc.returncode is None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)


def vm_hwm_kib(pid):
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class Run:
    """What one spate command did: exit code, output, wall time, peak RSS."""

    def __init__(self, args, rc, stdout, stderr, wall, sampled_kib, maxrss_kib):
        self.args, self.rc, self.stdout, self.stderr = args, rc, stdout, stderr
        # VmHWM sampled every 20 ms can miss the last moments of a run; ru_maxrss cannot,
        # but it counts this python process too (spawned by vfork, spate's exec inherits
        # its high-water mark). The check uses the larger, the report shows both.
        self.wall, self.sampled_kib, self.maxrss_kib = wall, sampled_kib, maxrss_kib
        self.hwm_kib = max(sampled_kib, maxrss_kib)

    def memory(self):
        return (f"VmHWM {self.sampled_kib // 1024} MiB (ru_maxrss {self.maxrss_kib // 1024} "
                f"MiB)")

    def lines(self):
        return [l for l in (self.stdout + self.stderr).splitlines() if l.strip()]

    def json_lines(self):
        out = []
        for line in self.stdout.splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                raise TestFailure(f"--json printed a line that is not JSON: {line!r}") from None
        return out

    def describe(self):
        return (f"`{' '.join(self.args[1:])}`: exit {self.rc} after {self.wall:.1f} s, "
                f"{self.memory()}; stdout {self.stdout.strip()[:600]!r}; "
                f"stderr {self.stderr.strip()[:600]!r}")


def run_spate(procs, tmp, args, seconds):
    """Runs spate with `args`; SIGKILLs it (by pid) after `seconds` and fails."""
    label = f"run{len(procs.procs)}"
    out_path, err_path = os.path.join(tmp, label + ".out"), os.path.join(tmp, label + ".err")
    full = [SPATE, *args]
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = procs.start(full, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
    started, hwm, maxrss = time.monotonic(), 0, 0
    deadline = started + seconds
    for _ in range(int(seconds / 0.02) + 100):  # the deadline comes first
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            maxrss = usage.ru_maxrss
            break
        if time.monotonic() > deadline:
            break
        hwm = max(hwm, vm_hwm_kib(proc.pid))
        time.sleep(0.02)
    if proc.returncode is None:
        proc.kill()
        proc.wait(timeout=10)
        with open(err_path, encoding="utf-8", errors="replace") as e:
            raise TestFailure(f"`{' '.join(args)}` did not finish within {seconds:.0f} s "
                              f"(killed; VmHWM {hwm // 1024} MiB; stderr "
                              f"{e.read().strip()[:400]!r})")
    wall = time.monotonic() - started
    with open(out_path, encoding="utf-8", errors="replace") as o, \
            open(err_path, encoding="utf-8", errors="replace") as e:
        return Run(full, proc.returncode, o.read(), e.read(), wall, hwm, maxrss)


def expect_sane(run):
    """No signal, no sanitizer report, memory bounded."""
    expect(run.rc >= 0, f"spate died of signal {-run.rc}: {run.describe()}")
    crash = [m for m in CRASH_MARKERS if m in run.stderr]
    expect(not crash, f"spate reported {crash}: {run.describe()}")
    expect(run.hwm_kib < rss_limit_kib(),
           f"peak RSS over {rss_limit_kib() // 1024} MiB: {run.describe()}")


def announce(procs, tmp, url, *extra, timeout=None, json_out=False, source=MAGNET):
    args = ["announce", source, "--tracker", url, *extra]
    if timeout is not None:
        args += ["--timeout", str(timeout)]
    if json_out:
        args.append("--json")
    return run_spate(procs, tmp, args, (timeout or 30) + 30 + slack())


def expect_announce_error(run, url, pattern, timeout=None, json_out=False):
    """Exit 1 within the bound, and exactly one line (or one --json object) for `url`
    whose error matches `pattern`. Returns the error text."""
    expect_sane(run)
    bound = (timeout or 30) + slack()
    expect(run.wall < bound, f"took {run.wall:.1f} s, more than {bound:.0f} s: {run.describe()}")
    expect(run.rc == 1, f"want exit 1 for a failed announce: {run.describe()}")
    if json_out:
        objects = run.json_lines()
        expect(len(objects) == 1 and not run.stderr.strip(),
               f"want one JSON object and an empty stderr: {run.describe()}")
        got = objects[0]
        expect(got.get("ok") is False and isinstance(got.get("error"), str),
               f"want ok false and an error string: {got}")
        error = got["error"]
    else:
        lines = run.lines()
        expect(len(lines) == 1, f"want exactly one output line: {run.describe()}")
        error = lines[0]
        expect(f"{HOST}:" in error, f"the error line does not name the tracker: {error!r}")
    expect(re.search(pattern, error), f"error {error!r} does not match /{pattern}/ ({url})")
    return error


# ------------------------------------------------------------------------------------
# download: a torrent and a seeder


def read_line(proc, seconds):
    deadline, buf = time.monotonic() + seconds, b""
    for _ in range(100000):
        if b"\n" in buf:
            break
        left = deadline - time.monotonic()
        expect(left > 0 and proc.poll() is None,
               f"scripted_peer printed no line within {seconds} s (exit {proc.poll()})")
        ready, _, _ = select.select([proc.stdout], [], [], min(left, 0.5))
        if ready:
            chunk = os.read(proc.stdout.fileno(), 4096)
            expect(chunk, "scripted_peer closed its stdout")
            buf += chunk
    return buf.decode()


def make_torrent(tmp, name, size, trackers):
    data = random.Random(size).randbytes(size)
    seed_dir = os.path.join(tmp, "seed")
    os.makedirs(seed_dir, exist_ok=True)
    with open(os.path.join(seed_dir, name), "wb") as f:
        f.write(data)
    path = os.path.join(tmp, name + ".torrent")
    args = [SPATE, "create", os.path.join(seed_dir, name), "-o", path, "--piece-size", "65536"]
    for url in trackers:
        args += ["-t", url]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    expect(proc.returncode == 0, f"spate create failed: {proc.stderr.strip()}")
    with open(path, "rb") as f:
        meta, _ = sp.bdecode(f.read())
    stored = [url.decode() for tier in meta.get(b"announce-list", []) for url in tier]
    if not stored and b"announce" in meta:  # one tracker: no announce-list
        stored = [meta[b"announce"].decode()]
    expect(stored == list(trackers), f"spate create stored the trackers {stored}")
    expect(sp.Torrent.load(path).total == size, "spate create made another torrent")
    return data, path, seed_dir


def start_seeder(procs, tmp, torrent_path, seed_dir, mode="slow:2m"):
    proc = procs.start([sys.executable, PEER_TOOL, "--torrent", torrent_path, "--data", seed_dir,
                        "--log", os.path.join(tmp, "peer.jsonl"),
                        "--listen", f"127.0.0.2:0={mode}"], stdout=subprocess.PIPE)
    return json.loads(read_line(proc, 120))["listeners"][0]["peer"]


def is_asan(path):
    """Whether the binary links ASan (looks for __asan_init, a chunk at a time)."""
    tail = b""
    with open(path, "rb") as f:
        for _ in range(1 << 16):
            chunk = f.read(1 << 20)
            if not chunk:
                return False
            if b"__asan_init" in tail + chunk:
                return True
            tail = chunk[-16:]
    return False
