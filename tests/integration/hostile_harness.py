#!/usr/bin/python3
"""hostile_harness: what the `spate download` hostile-peer tests share.

Processes started and stopped by pid, scripted_peer.py processes (Peers) and their logs,
one `spate download` run (Run) with its --json events, payloads and torrents made with
`spate create`, and the checks on the downloaded file. Set SPATE to the binary first.
Every wait is bounded; everything stays on 127.0.0.0/8.
"""

import glob
import hashlib
import json
import os
import random
import select
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import scripted_peer as sp  # noqa: E402  pylint: disable=wrong-import-position

PEER_TOOL = os.path.join(HERE, "scripted_peer.py")
PIECE = 65536
MIB = 1024 * 1024
FILL_RUN = bytes([sp.FILL]) * 64  # no run this long occurs in a random payload
SPATE = None  # the spate binary under test: set before any test runs


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
