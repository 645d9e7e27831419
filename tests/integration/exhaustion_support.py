#!/usr/bin/python3
"""Support for exhaustion_test.py: what its tests watch spate with and throw at it.

  limit_fds, fd_count, memory_kib, Watch   spate's RLIMIT_NOFILE; its descriptors and memory
                                           from /proc/PID, sampled in a thread
  Spate                                    one spate process (stdout, stderr in files)
  ring_sizes, wait_for_ring,               the io_uring submission queue sizes a process
  expect_small_ring                        holds (/proc/PID/fdinfo SqMask)
  free_port, spate_create                  a free loopback port; a torrent by `spate create`
  first_difference                         where two files first differ
  Silent, tcp_states, TCP_SYN_RECV         connections that never handshake; this host's
                                           TCP table for one local port
  run_in_thread                            a function in a thread, joined with a bound
  tcp_attempt_fails, FakeTracker           failed connects on this host; an HTTP tracker
                                           in this process that announces given peers
  make_many_files                          a tree of small random files
  raise_own_fd_limit                       this process's RLIMIT_NOFILE up to its hard limit

Standard library only, with scripted_peer.py, seed_swarm_test.py and the download tests'
helpers (hostile_harness.py, or download_hostile_test.py where that is not there).
"""

import errno
import http.server
import os
import random
import resource
import select
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import scripted_peer as sp  # noqa: E402  pylint: disable=wrong-import-position
import seed_swarm_test as sst  # noqa: E402  pylint: disable=wrong-import-position
try:  # the download tests' helpers (Peers, wait_spate, Run, expect_done, expect_identical)
    import hostile_harness as harness  # noqa: E402  pylint: disable=wrong-import-position
except ImportError:  # before they moved out of download_hostile_test.py
    import download_hostile_test as harness  # noqa: E402  pylint: disable=wrong-import-position

MIB = 1024 * 1024
SPATE_NOFILE = 4096  # spate's soft RLIMIT_NOFILE unless a test sets another
FD_SLACK = 64  # descriptors allowed beyond --max-peers: ring, listeners, files, stdio, ...
LEAK_SLACK = 4  # descriptors allowed above the idle count once every peer is gone
TestFailure = sst.TestFailure
expect = sst.expect


def limit_fds(soft):
    """preexec_fn for a spate child: RLIMIT_NOFILE soft limit `soft` (never above the hard
    limit), and no core files."""
    def apply():
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        cap = soft if hard == resource.RLIM_INFINITY else min(soft, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (cap, hard))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def memory_kib(pid):
    """(VmRSS, VmHWM) in KiB."""
    got = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                got[line[:5]] = int(line.split()[1])
    return got.get("VmRSS", 0), got.get("VmHWM", 0)


class Watch(threading.Thread):
    """Samples one process's descriptor count and memory every `interval` s until stop()
    (or the process ends, or `limit` s pass), keeping the peaks and when they were seen."""

    def __init__(self, pid, interval=0.02, limit=900.0):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.started = time.monotonic()
        self.deadline = self.started + limit
        self.halt = threading.Event()
        self.samples = self.max_fds = self.max_rss_kib = self.hwm_kib = 0
        self.max_fds_at = 0.0
        self.last_fds = None

    def sample(self):
        fds = fd_count(self.pid)
        rss, hwm = memory_kib(self.pid)
        self.samples += 1
        self.last_fds = fds
        if fds > self.max_fds:
            self.max_fds, self.max_fds_at = fds, time.monotonic() - self.started
        self.max_rss_kib = max(self.max_rss_kib, rss)
        self.hwm_kib = max(self.hwm_kib, hwm)

    def run(self):
        while not self.halt.is_set() and time.monotonic() < self.deadline:
            try:
                self.sample()
            except (OSError, ValueError):
                break  # the process has ended
            self.halt.wait(self.interval)

    def stop(self):
        self.halt.set()
        self.join(timeout=10)
        return self

    def describe(self):
        return (f"{self.max_fds} descriptors at most ({self.max_fds_at:.1f} s in, "
                f"{self.samples} samples), VmHWM {self.hwm_kib / 1024:.1f} MiB")


class Spate(sst.Seed):
    """One spate process with stdout and stderr in files; sst.Seed's readers (events,
    wait_for, expect_running, stderr) and its SIGINT stop apply to it."""

    def __init__(self, procs, tmp, label, args, nofile=SPATE_NOFILE):
        # pylint: disable=super-init-not-called
        self.label = label
        self.out_path = os.path.join(tmp, f"{label}.stdout")
        self.err_path = os.path.join(tmp, f"{label}.stderr")
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = procs.start(args, stdout=out, stderr=err, preexec_fn=limit_fds(nofile))
        self.port = None

    def expect_running(self, when):
        expect(self.proc.poll() is None, f"spate {self.label} exited {self.proc.returncode} "
                                         f"{when}; stderr: {self.stderr()!r}")

    def wait_listening(self, seconds=120):
        seen = self.wait_for(lambda e: e.get("event") == "listening", seconds, "listening")
        self.port = int(seen["port"]) if "port" in seen else \
            int(str(seen.get("detail", "")).split()[-1])
        return self.port

    def settle_fds(self, seconds=1.0):
        """The smallest descriptor count seen over `seconds` (spate idle)."""
        low, deadline = fd_count(self.proc.pid), time.monotonic() + seconds
        for _ in range(int(seconds / 0.05) + 1):
            if time.monotonic() >= deadline:
                break
            time.sleep(0.05)
            low = min(low, fd_count(self.proc.pid))
        return low


def ring_sizes(pid):
    """The submission queue size of each io_uring the process holds, from the SqMask line of
    /proc/PID/fdinfo/FD (None for a ring whose fdinfo has no SqMask: an older kernel)."""
    sizes = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") != "anon_inode:[io_uring]":
                continue
            with open(f"/proc/{pid}/fdinfo/{fd}", encoding="ascii") as f:
                masks = [int(line.split()[1], 16) for line in f if line.startswith("SqMask:")]
        except (OSError, ValueError, IndexError):
            continue  # closed meanwhile
        sizes.append(masks[0] + 1 if masks else None)
    return sizes


def wait_for_ring(proc, seconds):
    """ring_sizes() of a just-started process once it holds a ring ([] if it never did
    within `seconds`, or ended first)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            sizes = ring_sizes(proc.pid)
        except OSError:
            break  # ended
        if sizes:
            return sizes
        time.sleep(0.005)
    return []


def expect_small_ring(who, sizes, entries):
    """spate `who` holds a ring and every ring it holds has `entries` submission entries
    (where the kernel says); returns how that was seen, for the figures."""
    expect(sizes, f"spate {who} was never seen holding an io_uring descriptor")
    expect(all(size in (None, entries) for size in sizes),
           f"spate {who} was started with --ring-entries {entries} but its io_uring "
           f"submission queues have {sizes} entries (/proc/PID/fdinfo SqMask + 1)")
    if None in sizes:
        return f"{len(sizes)} ring(s), size not shown by this kernel"
    return f"{len(sizes)} ring(s) of {entries} submission entries"


def first_difference(path, expected_path):
    """None when the two files hold the same bytes, else where they first differ."""
    try:
        with open(path, "rb") as got, open(expected_path, "rb") as want:
            offset = 0
            for _ in range(1 << 20):  # 1 TiB in 1 MiB reads
                a, b = got.read(MIB), want.read(MIB)
                if a != b:
                    at = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y),
                              min(len(a), len(b)))
                    return (f"{path} ({os.path.getsize(path)} bytes) differs from "
                            f"{expected_path} ({os.path.getsize(expected_path)} bytes) from "
                            f"byte {offset + at}")
                if not a:
                    return None
                offset += len(a)
    except OSError as err:
        return f"{err.filename}: {err.strerror}"
    return f"{path} is larger than 1 TiB"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def spate_create(spate, source, out, piece, *extra):
    made = subprocess.run([spate, "create", source, "-o", out, "--piece-size", str(piece),
                           *extra], capture_output=True, text=True, timeout=300)
    expect(made.returncode == 0, f"spate create {source} failed: {made.stderr.strip()}")
    return sp.Torrent.load(out)


class Silent:
    """Connections that send nothing, or the first 30 bytes of a handshake, and read
    nothing; it notes when spate closes each (EOF or reset) and anything spate sends."""

    def __init__(self, port, info_hash, count, sources, seconds=30):
        self.started = time.monotonic()
        self.socks, self.closed_at, self.sent_to_us, self.failed = {}, {}, 0, []
        self.partial = sp.handshake(info_hash, b"-EX0001-" + bytes(12))[:30]
        poller, waiting = select.poll(), {}
        for n in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            sock.bind((sources[n % len(sources)], 0))
            code = sock.connect_ex(("127.0.0.1", port))
            if code not in (0, errno.EINPROGRESS):
                self.failed.append(errno.errorcode.get(code, str(code)))
                sock.close()
                continue
            waiting[sock.fileno()] = (n, sock)
            poller.register(sock, select.POLLOUT)
        deadline = time.monotonic() + seconds
        for _ in range(100_000):
            if not waiting or time.monotonic() >= deadline:
                break
            for fd, _ in poller.poll(200):
                n, sock = waiting.pop(fd)
                poller.unregister(fd)
                code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if code:
                    self.failed.append(errno.errorcode.get(code, str(code)))
                    sock.close()
                    continue
                if n % 4 == 3:
                    sock.send(self.partial)
                self.socks[fd] = sock
        self.pending_connects = len(waiting)
        for _, sock in waiting.values():  # never completed: not part of the test's count
            sock.close()
        self.connect_seconds = time.monotonic() - self.started
        self.poller = select.poll()
        for fd in self.socks:
            self.poller.register(fd, select.POLLIN | select.POLLRDHUP)

    def open_count(self):
        return len(self.socks) - len(self.closed_at)

    def watch(self, wait_ms):
        """Notes the connections spate has closed; returns after at most wait_ms."""
        for fd, _ in self.poller.poll(wait_ms):
            sock = self.socks[fd]
            try:
                data = sock.recv(65536, socket.MSG_DONTWAIT)
            except BlockingIOError:
                continue
            except OSError:
                data = b""  # reset
            if data:
                self.sent_to_us += len(data)
                continue
            self.poller.unregister(fd)
            self.closed_at[fd] = time.monotonic() - self.started

    def still_open(self, port):
        """The connections spate has not closed, split by what this host's TCP table says
        of their other end: (held, orphaned). Held: a socket on spate's port, accepted or
        waiting in its accept queue. Orphaned: none, or one still in SYN_RECV: the kernel
        dropped our final ACK while the accept queue was full, so spate never had it (and a
        connection that sends nothing never learns)."""
        states = tcp_states(port)
        held, orphaned = [], []
        for fd, sock in self.socks.items():
            if fd not in self.closed_at:
                state = states.get(sock.getsockname())
                (held if state not in (None, TCP_SYN_RECV) else orphaned).append(state)
        return held, orphaned

    def close(self):
        for sock in self.socks.values():
            sock.close()


TCP_SYN_RECV = 3


def tcp_states(port):
    """{(remote host, remote port): state} of the IPv4 TCP sockets (or v4-mapped ones in
    tcp6) whose local port is `port`, from /proc/net/tcp and /proc/net/tcp6."""
    out = {}
    for name in ("tcp", "tcp6"):
        with open(f"/proc/net/{name}", encoding="ascii") as f:
            rows = f.readlines()[1:]
        for row in rows:
            fields = row.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            address, remote_port = fields[2].rsplit(":", 1)
            if local_port != port:
                continue
            if len(address) == 32:  # ::ffff:a.b.c.d ends with a.b.c.d as tcp writes it
                if not address.startswith("0" * 16 + "FFFF0000"):
                    continue
                address = address[24:]
            host = socket.inet_ntoa(struct.pack("<I", int(address, 16)))
            out[(host, int(remote_port, 16))] = int(fields[3], 16)
    return out


def run_in_thread(function):
    """Runs function() in a thread; the returned join(seconds) gives its result or raises
    what it raised."""
    box = {}

    def target():
        try:
            box["value"] = function()
        except BaseException as err:  # pylint: disable=broad-except
            box["error"] = err

    thread = threading.Thread(target=target, daemon=True)
    thread.start()

    def join(seconds):
        thread.join(seconds)
        if thread.is_alive():
            raise TestFailure("a helper thread did not end in time")
        if "error" in box:
            raise box["error"]
        return box["value"]

    join.alive = thread.is_alive
    return join


def tcp_attempt_fails():
    """TCP AttemptFails of this network namespace (/proc/net/snmp): connects refused or
    reset before they were established."""
    with open("/proc/net/snmp", encoding="ascii") as f:
        rows = [line.split() for line in f if line.startswith("Tcp:")]
    return int(rows[1][rows[0].index("AttemptFails")])


class FakeTracker:
    """An HTTP tracker on 127.0.0.1 that answers every announce with the compact peers given
    to set_peers() (bencoded with scripted_peer's encoder), or 503 before; it notes the
    event of each announce."""

    def __init__(self):
        self.body, self.announces = None, []
        tracker = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # pylint: disable=invalid-name
                url = urllib.parse.urlsplit(self.path)
                if url.path != "/announce" or tracker.body is None:
                    self.send_error(404 if url.path != "/announce" else 503)
                    return
                query = urllib.parse.parse_qs(url.query)
                tracker.announces.append(query.get("event", ["none"])[0])
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(tracker.body)))
                self.end_headers()
                self.wfile.write(tracker.body)

            def log_message(self, *args):  # pylint: disable=arguments-differ
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/announce"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.2,),
                                       daemon=True)
        self.thread.start()

    def set_peers(self, peers):
        compact = b"".join(socket.inet_aton(host) + struct.pack(">H", port)
                           for host, port in peers)
        self.body = sp.bencode({"complete": 1, "incomplete": 1, "interval": 1800,
                                "min interval": 60, "peers": compact})

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def make_many_files(root, count, seed):
    """`count` files of 1-8 KiB random bytes in nested folders under root; {rel: bytes}."""
    rng, files = random.Random(seed), {}
    for n in range(count):
        rel = os.path.join(f"d{n % 10}", f"e{n % 7}", f"f{n:04d}.bin") if n % 3 else \
            os.path.join(f"d{n % 10}", f"f{n:04d}.bin")
        payload = rng.randbytes(rng.randint(1024, 8192))
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(payload)
        files[rel] = payload
    return files


def raise_own_fd_limit(need):
    """This process's soft RLIMIT_NOFILE up to its hard one; at least `need` or a failure."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    expect(soft == resource.RLIM_INFINITY or soft >= need,
           f"this test needs {need} descriptors of its own but RLIMIT_NOFILE's hard limit is "
           f"{hard} (never skipped)")
