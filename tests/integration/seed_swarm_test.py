#!/usr/bin/python3
"""Integration: `spate seed` serves a swarm of the project's own leechers on loopback.

One `spate seed A.torrent B.torrent --data DATA --no-tracker --json --max-peers 400` runs
for the whole test (A: a two-file folder of about 2 MiB, B: one 1.5 MB file; random bytes,
64 KiB pieces, made by `spate create`). leecher_swarm.py (next to this file) dials it from
distinct 127.x.y.z addresses and checks every piece with SHA-1 against the .torrent. Cases,
in this order (truncated changes B's data):

  swarm      300 leechers download A at once (none says interested before all 300 have
             the seed's bitfield, and each stays connected until all are done): all
             finish, every piece verified, 300 connections open before the first finished;
             prints spate's peak RSS (VmHWM) and the peers count of its status lines
  hostile    20 good leechers download A beside an out-of-range requester of each kind
             (piece index, begin, length, end), a flood of 20,000 requests that reads
             nothing until the good ones are done, and a leecher that asks for half the
             pieces while choked: the good ones finish, the hostile ones never get a block
             they must not get, the flood gets back no more blocks than spate's bounds
             (500 queued requests, 4 MiB of send backlog), the sockets' kernel queues and
             the requests spate had not read yet allow (a seed that queued them all would
             send 20,000), and spate keeps running
  truncated  B's file is cut to half its length under the running seed; leechers of B and
             of A run at once: spate prints {"event":"error","torrent":"b.bin",...}, no
             leecher of B gets a block that fails its hash, every leecher of A finishes,
             and after the error spate still serves A to new leechers

Then SIGINT: spate must exit within 30 s (0, or 1 with one stderr line naming the torrent the
truncated case stopped), and every line it printed must be JSON.

usage: seed_swarm_test.py SPATE_BINARY [CASE]...   (all cases when none is named)
env: SPATE_TEST_SWARM_LEECHERS sets the swarm case's count (300).
Prints one "ok   ..." line per case with its figures, or "FAIL ..."; exits 1 on any failure
(it never skips). Every process started here is stopped by its pid, pass or fail; every
wait is bounded; everything stays on 127.0.0.0/8.
"""

import json
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import scripted_peer as sp  # noqa: E402  pylint: disable=wrong-import-position

SWARM_TOOL = os.path.join(HERE, "leecher_swarm.py")
PIECE = 65536
A_FILES = {"set/one.bin": 1_200_000, "set/deep/two.bin": 900_001}  # pieces span the seam
B_SIZE = 1_500_000  # half of it ends inside a block of piece 11
# spate's bounds on one peer's uploads (session::download_settings).
MAX_QUEUED_REQUESTS = 500
MAX_SEND_BACKLOG = 4 * 1024 * 1024
MIB = 1024 * 1024


class TestFailure(AssertionError):
    """A check that failed: the message says what spate did and what was expected."""


def expect(condition, message):
    if not condition:
        raise TestFailure(message)


class Processes:
    """Every process the test starts; stop_all() ends each one by its pid, pass or fail."""

    def __init__(self):
        self.procs = []

    def start(self, args, **kw):
        proc = subprocess.Popen(args, **kw)
        self.procs.append(proc)
        return proc

    def stop_all(self):
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)


class Seed:
    """The running `spate seed`: its JSON lines (read from its stdout file) and its memory."""

    def __init__(self, procs, spate, tmp, torrents, data):
        self.out_path = os.path.join(tmp, "seed.stdout")
        self.err_path = os.path.join(tmp, "seed.stderr")
        with socket.socket() as probe:  # a port free now; spate takes the next one if not
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        args = [spate, "seed", *torrents, "--data", data, "--no-tracker", "--port", str(port),
                "--json", "--max-peers", "400"]
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = procs.start(args, stdout=out, stderr=err)
        listening = self.wait_for(lambda e: e.get("event") == "listening", 120, "listening")
        self.port = int(str(listening.get("detail", "")).split()[-1])

    def lines(self):
        with open(self.out_path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        return text.split("\n")[:-1]  # a line still being written has no newline yet

    def events(self):
        out = []
        for line in self.lines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                raise TestFailure(f"spate --json printed a line that is not JSON: {line!r}")
        return out

    def stderr(self):
        with open(self.err_path, encoding="utf-8", errors="replace") as f:
            return f.read().strip()

    def expect_running(self, when):
        expect(self.proc.poll() is None,
               f"spate seed exited {self.proc.returncode} {when}; stderr: {self.stderr()!r}")

    def wait_for(self, match, seconds, what):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            found = [e for e in self.events() if match(e)]
            if found:
                return found[0]
            self.expect_running(f"while the test waited for its {what} event")
            time.sleep(0.1)
        raise TestFailure(f"spate printed no {what} event within {seconds} s; its lines: "
                          f"{self.lines()[-6:]}")

    def vm_hwm_mib(self):
        with open(f"/proc/{self.proc.pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        raise TestFailure("no VmHWM in /proc/PID/status")

    def stop(self):
        """SIGINT, then exit within 30 s, and nothing but JSON on stdout: exit 0, or exit 1
        with one stderr line naming the torrents when one was stopped by an error."""
        started = time.monotonic()
        failed = sorted(e["torrent"] for e in self.events() if e.get("event") == "error")
        self.proc.send_signal(signal.SIGINT)
        try:
            rc = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            raise TestFailure("spate seed did not exit within 30 s of SIGINT") from None
        if failed:
            lines = self.stderr().strip().splitlines()
            expect(rc == 1 and len(lines) == 1 and all(name in lines[0] for name in failed),
                   f"spate seed exited {rc} after SIGINT with {failed} failed; stderr: "
                   f"{self.stderr()!r}")
        else:
            expect(rc == 0, f"spate seed exited {rc} after SIGINT; stderr: {self.stderr()!r}")
        return time.monotonic() - started, len(self.events())


def swarm(procs, tmp, label, seed, torrent_path, *args, seconds):
    """Starts leecher_swarm.py; the returned function waits for it and returns
    (reports by id, summary)."""
    out_path = os.path.join(tmp, f"{label}.jsonl")
    with open(out_path, "wb") as out, open(out_path + ".err", "wb") as err:
        proc = procs.start([sys.executable, SWARM_TOOL, "--torrent", torrent_path,
                            "--seed", f"127.0.0.1:{seed.port}", "--timeout", str(seconds),
                            *args], stdout=out, stderr=err)

    def finish():
        try:
            proc.wait(timeout=seconds + 60)  # the tool ends by itself at --timeout
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
            raise TestFailure(f"{label}: leecher_swarm.py did not end by its deadline") from None
        with open(out_path, encoding="utf-8") as f:
            lines = [json.loads(line) for line in f if line.strip()]
        with open(out_path + ".err", encoding="utf-8", errors="replace") as f:
            err = f.read().strip()
        summaries = [l for l in lines if l.get("event") == "summary"]
        expect(proc.returncode in (0, 1) and summaries,
               f"{label}: leecher_swarm.py exited {proc.returncode} without a summary: {err}")
        return {l["id"]: l for l in lines if l.get("event") == "leecher"}, summaries[0]

    return finish


def describe_failures(reports, limit=5):
    bad = [r for r in reports.values() if not r["ok"]]
    shown = [f"{r['source']} {r['mode']}: {r['reason'] or r['outcome']}" for r in bad[:limit]]
    return f"{len(bad)} failed: {shown}"


def expect_all_good(reports, torrent, what):
    good = {i: r for i, r in reports.items() if r["mode"] == "good"}
    expect(good and all(r["ok"] and r["pieces"] == torrent.piece_count for r in good.values()),
           f"{what}: not every leecher verified all {torrent.piece_count} pieces; "
           f"{describe_failures(good)}")
    return good


def status_peers(seed, first_line):
    """The largest peers count of spate's status lines (one every 5 s) since `first_line`."""
    peers = [e.get("peers", 0) for e in seed.events()[first_line:] if e.get("event") == "status"]
    return f"status peers max {max(peers)}" if peers else "no status line in the case"


def case_swarm(ctx):
    seed, torrent = ctx["seed"], ctx["a"]
    count = int(os.environ.get("SPATE_TEST_SWARM_LEECHERS", "300"))
    before = len(seed.events())
    started = time.monotonic()
    reports, summary = swarm(ctx["procs"], ctx["tmp"], "swarm", seed, ctx["a_path"],
                             "--count", str(count), "--base", "127.0.0.2", "--start-together",
                             "--hold", "--expect-seed", "--stall-timeout", "30",
                             seconds=120)()
    wall = time.monotonic() - started
    seed.expect_running("during the swarm case")
    expect(summary["accepted_before_first_done"] == count and summary["peak_accepted"] == count,
           f"only {summary['accepted_before_first_done']} of {count} leechers had the seed's "
           f"bitfield before the first finished (peak {summary['peak_accepted']} at once); "
           f"{describe_failures(reports)}")
    expect_all_good(reports, torrent, f"{count} leechers")
    expect(summary["hash_failures"] == 0, f"{summary['hash_failures']} pieces failed their hash")
    slowest = max(r["done"] for r in reports.values())
    return (f"{count} leechers on {len(set(r['source'] for r in reports.values()))} addresses, "
            f"{count} connections open before the first finished; {summary['bytes'] / MIB:.0f} "
            f"MiB verified in {slowest:.1f} s ({summary['bytes'] / MIB / slowest:.0f} MiB/s, "
            f"{wall:.1f} s with start-up); spate VmHWM {seed.vm_hwm_mib():.1f} MiB; "
            f"{status_peers(seed, before)}; {summary['late']} late duplicate blocks (requests "
            f"a choke discarded, answered after the next unchoke)")


HOSTILE = ["out_of_range:index", "out_of_range:begin", "out_of_range:length", "out_of_range:end",
           "flood", "choked_requests"]


def flood_bound(flood):
    """Blocks a flooded spate may send back once the flooder starts reading: its queue of
    requests; its send buffers, twice (the queued bytes and the one send in flight), each
    the backlog limit plus a queue's worth, since requests let in before the backlog
    filled are still answered; what the two sockets' kernel queues held then; the requests
    spate had not read yet; and asyncio's read buffer (24 blocks at most). Without the
    tool's figures (spate closed first) the kernel's largest autotuned buffers stand in.
    A seed that queued every request would send back all 20,000."""
    kernel = flood["kernel_bytes"]
    if kernel is None:
        kernel = 0
        for name in ("tcp_rmem", "tcp_wmem"):
            with open(f"/proc/sys/net/ipv4/{name}", encoding="ascii") as f:
                kernel += int(f.read().split()[2])
    send_buffers = 2 * (MAX_SEND_BACKLOG // sp.BLOCK + MAX_QUEUED_REQUESTS)
    return (MAX_QUEUED_REQUESTS + send_buffers + kernel // sp.BLOCK +
            (flood["unread_requests"] or 0) + 32)


def case_hostile(ctx):
    seed, torrent = ctx["seed"], ctx["a"]
    args = ["--count", "20", "--base", "127.0.2.1", "--start-together", "--hold",
            "--expect-seed", "--stall-timeout", "10", "--flood-requests", "20000"]
    for mode in HOSTILE:
        args += ["--hostile", mode]
    reports, summary = swarm(ctx["procs"], ctx["tmp"], "hostile", seed, ctx["a_path"], *args,
                             seconds=90)()
    seed.expect_running("beside the hostile leechers")
    expect_all_good(reports, torrent, "20 good leechers beside hostile ones")
    hostile = {r["mode"]: r for r in reports.values() if r["mode"] != "good"}
    expect(sorted(hostile) == sorted(HOSTILE), f"the swarm ran {sorted(hostile)}")
    bad = [f"{m}: {r['reason']}" for m, r in hostile.items() if not r["ok"]]
    expect(not bad, f"hostile leechers saw what they must not, or never got to misbehave: {bad}")
    flood = hostile["flood"]
    bound = flood_bound(flood)
    expect(flood["blocks"] <= bound,
           f"the flood got {flood['blocks']} blocks back for {flood['requests']} requests: "
           f"more than spate's bounds, the socket buffers and the {flood['unread_requests']} "
           f"requests it had not read yet allow ({bound})")
    expect(summary["hash_failures"] == 0, f"{summary['hash_failures']} pieces failed their hash")
    outcomes = ", ".join(f"{m} {r['outcome']}" for m, r in sorted(hostile.items())
                         if m != "flood")
    return (f"20 good leechers finished; {outcomes}; flood: {flood['blocks']} blocks back for "
            f"{flood['requests']} requests (bound {bound}: {flood['unread_requests']} unread, "
            f"{flood['kernel_bytes']} bytes in kernel queues), {flood['outcome']}")


# A leecher of the truncated torrent may end these ways; any other reason (a hash failure,
# an unrequested block, a bad message) is spate's fault.
TRUNCATED_ENDS = ("stalled:", "closed by the seed", "timed out")


def case_truncated(ctx):
    seed, a, b = ctx["seed"], ctx["a"], ctx["b"]
    os.truncate(os.path.join(ctx["data"], b.name), B_SIZE // 2)
    run_b = swarm(ctx["procs"], ctx["tmp"], "truncated-b", seed, ctx["b_path"], "--count", "10",
                  "--base", "127.0.3.1", "--stall-timeout", "10", seconds=45)
    run_a = swarm(ctx["procs"], ctx["tmp"], "truncated-a", seed, ctx["a_path"], "--count", "20",
                  "--base", "127.0.4.1", "--expect-seed", seconds=90)
    b_reports, b_summary = run_b()
    a_reports, _ = run_a()
    seed.expect_running("after torrent B's file was truncated")
    expect(b_summary["hash_failures"] == 0,
           f"spate sent leechers of the truncated torrent {b_summary['hash_failures']} pieces "
           f"that fail their hash")
    wrong = [f"{r['source']}: {r['reason']}" for r in b_reports.values()
             if not r["ok"] and not str(r["reason"]).startswith(TRUNCATED_ENDS)]
    expect(not wrong, f"leechers of the truncated torrent saw a protocol fault: {wrong[:5]}")
    expect_all_good(a_reports, a, "A's leechers beside the truncated B")
    error = seed.wait_for(lambda e: e.get("event") == "error" and e.get("torrent") == b.name,
                          30, f'{{"event":"error","torrent":"{b.name}"}}')
    # After the error, the other torrent is still served to newcomers.
    later, _ = swarm(ctx["procs"], ctx["tmp"], "truncated-a-later", seed, ctx["a_path"],
                     "--count", "5", "--base", "127.0.5.1", "--expect-seed", seconds=60)()
    expect_all_good(later, a, "A's leechers after B's error")
    seed.expect_running("after the truncated case")
    ends = sorted({str(r["reason"] or r["outcome"]).split(" (")[0] for r in b_reports.values()})
    return (f"B's error: {error.get('detail')!r}; B's 10 leechers verified "
            f"{b_summary['pieces']} pieces, none failed its hash, ended: {ends}; "
            f"20 + 5 of A's leechers finished")


CASES = {"swarm": case_swarm, "hostile": case_hostile, "truncated": case_truncated}


def make_data(spate, tmp):
    """Random payloads and their torrents, made by spate create and read back here."""
    data, rng = os.path.join(tmp, "data"), random.Random(20240605)
    for rel, size in list(A_FILES.items()) + [("b.bin", B_SIZE)]:
        path = os.path.join(data, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(rng.randbytes(size))
    out = {"data": data}
    for key, source in (("a", "set"), ("b", "b.bin")):
        path = os.path.join(tmp, f"{key}.torrent")
        made = subprocess.run([spate, "create", os.path.join(data, source), "-o", path,
                               "--piece-size", str(PIECE), "-t", "http://127.0.0.1:1/announce"],
                              capture_output=True, text=True, timeout=120)
        expect(made.returncode == 0, f"spate create {source} failed: {made.stderr.strip()}")
        out[key], out[f"{key}_path"] = sp.Torrent.load(path), path
    expect(out["a"].total == sum(A_FILES.values()) and out["b"].total == B_SIZE,
           "spate create made torrents of other sizes")
    return out


def main(argv):
    if not argv or any(name not in CASES for name in argv[1:]):
        print(__doc__, file=sys.stderr)
        return 2
    spate = os.path.abspath(argv[0])
    if not os.access(spate, os.X_OK) or not os.access(SWARM_TOOL, os.R_OK):
        print(f"FAIL {spate} is not an executable, or {SWARM_TOOL} is missing (never skipped)")
        return 1
    names = [name for name in CASES if name in argv[1:]] or list(CASES)
    failures, procs = [], Processes()
    with tempfile.TemporaryDirectory(prefix="spate-seed-swarm-") as tmp:
        try:
            ctx = make_data(spate, tmp)
            ctx.update(tmp=tmp, procs=procs)
            ctx["seed"] = Seed(procs, spate, tmp, [ctx["a_path"], ctx["b_path"]], ctx["data"])
            for name in names:
                started = time.monotonic()
                try:
                    figures = CASES[name](ctx)
                    print(f"ok   {name} ({time.monotonic() - started:.1f} s): {figures}",
                          flush=True)
                except TestFailure as err:
                    failures.append(name)
                    print(f"FAIL {name}: {err}", flush=True)
            seed = ctx["seed"]
            seed.expect_running("at the end")
            peak = seed.vm_hwm_mib()
            seconds, lines = seed.stop()
            print(f"ok   shutdown: spate peak RSS {peak:.1f} MiB (VmHWM); SIGINT -> exit in "
                  f"{seconds:.1f} s; {lines} lines, all JSON", flush=True)
        except TestFailure as err:
            failures.append("setup or shutdown")
            print(f"FAIL {err}", flush=True)
        except Exception:  # pylint: disable=broad-except
            failures.append("the test itself")
            print(f"FAIL the test itself broke:\n{traceback.format_exc()}", flush=True)
        finally:
            procs.stop_all()
    print(f"{len(failures)} failed: {failures}" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a killed spate leaves no core files
    sys.exit(main(sys.argv[1:]))
