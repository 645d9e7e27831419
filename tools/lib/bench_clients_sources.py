"""What tools/bench-clients' leechers download from: `spate swarm` (synthetic seeders with the
built-in tracker) or one libtorrent seeder (tools/lib/lt_dial_seed.py) through opentracker.

Each source starts with start(), gives .torrent and .size, has dial(port) (None when the
source dials leechers by itself), and stop() returns a line on what serving cost. Every
process goes through the caller's seeders.processes registry, so it is stopped by its pid.
Runs under Debian's /usr/bin/python3.
"""

import json
import os
import random
import signal
import subprocess
import time

import seeders  # tests/interop/seeders.py

LIB = os.path.dirname(os.path.abspath(__file__))
LT_DIAL_SEED = os.path.join(LIB, "lt_dial_seed.py")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid):
    """User + system seconds of every thread of pid so far (/proc/PID/stat fields 14, 15)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()  # the name may hold spaces or ')'
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def pinned(argv, core):
    return argv if core is None else ["taskset", "-c", str(core)] + argv


def json_events(path):
    events = []
    with open(path, errors="replace") as f:
        for line in f:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict):
                events.append(event)
    return events


class synthetic_swarm:
    """`spate swarm --peers N --size S [--files K] --builtin-tracker 127.0.0.1:0 --json`.
    It dials every leecher that announces to its tracker, so dial is None."""

    dial = None

    def __init__(self, ctx, folder, peers, size, files):
        self.ctx, self.folder = ctx, folder
        self.peers, self.size, self.files = peers, size, files
        self.torrent = os.path.join(folder, "swarm.torrent")
        self.proc = None

    def start(self):
        os.makedirs(self.folder)
        argv = [self.ctx.spate, "swarm", "--peers", str(self.peers), "--size", str(self.size),
                "--torrent-out", self.torrent, "--builtin-tracker", "127.0.0.1:0", "--json"]
        if self.files > 1:
            argv += ["--files", str(self.files)]
        # Its JSON lines go to a file, not a pipe nobody reads while the rounds run.
        self.out = os.path.join(self.folder, "swarm.out")
        self.err = os.path.join(self.folder, "swarm.err")
        with open(self.out, "w") as o, open(self.err, "w") as e:
            self.proc = self.ctx.procs.start(pinned(argv, self.ctx.source_pin), stdout=o,
                                             stderr=e, stdin=subprocess.DEVNULL)
        # It hashes the generated payload first: about 1 s per GiB.
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            ready = [e for e in json_events(self.out) if e.get("event") == "ready"]
            if ready:
                self.piece = ready[0].get("piece_length", 0)
                return
            if self.proc.poll() is not None:
                raise seeders.setup_error(f"spate swarm exited {self.proc.returncode}: "
                                          f"{seeders.tail(self.err)}")
            time.sleep(0.05)
        raise seeders.setup_error("spate swarm was not ready within 600 s")

    def stop(self):
        """SIGINT; returns what it says it served and what that cost."""
        if self.proc is None or self.proc.poll() is not None:
            return "swarm: no report (it was not running)"
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        self.ctx.procs.stop(self.proc)
        served = [e for e in json_events(self.out) if e.get("event") == "served"]
        if not served:
            return f"swarm: no 'served' report: {seeders.tail(self.err)}"
        s = served[-1]
        self.cpu_per_gb = s.get("cpu_seconds_per_gb", 0.0)
        return (f"swarm: served {s.get('bytes', 0) / 1e9:.2f} GB over "
                f"{s.get('connections', 0)} connections for {s.get('cpu_seconds', 0):.2f} CPU s: "
                f"{self.cpu_per_gb:.2f} CPU s/GB")


class lt_seeder:
    """One libtorrent seeder (lt_dial_seed.py, lt_seed.py's settings) of a generated payload
    through opentracker over HTTP (aria2c reaches udp:// trackers only through DHT)."""

    def __init__(self, ctx, folder, size):
        self.ctx, self.folder, self.size = ctx, folder, size
        self.proc = None
        self.served_bytes = 0

    def start(self):
        os.makedirs(self.folder)
        os.chmod(self.folder, 0o755)  # opentracker drops to nobody in a folder below it
        data = os.path.join(self.folder, "seed")
        os.makedirs(data)
        payload = os.path.join(data, "payload.bin")
        rng = random.Random(20240101)  # bench-download's payload, for figures that compare
        with open(payload, "wb") as f:
            left = self.size
            while left:
                n = min(left, 1 << 20)
                f.write(rng.randbytes(n))
                left -= n
        draft = os.path.join(self.folder, "draft.torrent")
        subprocess.run([self.ctx.spate, "create", payload, "-o", draft,
                        "-t", "http://127.0.0.1:1/announce"],
                       check=True, stdout=subprocess.DEVNULL, timeout=600)
        tracker = seeders.opentracker(self.ctx.procs, os.path.join(self.folder, "ot"),
                                      [seeders.info_hash(draft)])
        self.torrent = seeders.with_announce(draft, tracker.http,
                                             os.path.join(self.folder, "bench.torrent"))
        if self.ctx.source_pin is not None:
            # opentracker's work is tiny; keep it off the leecher's core too.
            subprocess.run(["taskset", "-p", "-c", str(self.ctx.source_pin),
                            str(tracker.proc.pid)], check=True, stdout=subprocess.DEVNULL)
        self.err = os.path.join(self.folder, "lt_dial_seed.err")
        argv = ["/usr/bin/python3", LT_DIAL_SEED, self.torrent, data,
                str(seeders.free_port()), "--ready-timeout", "300"]
        if self.ctx.keep:
            argv.append("--verbose")  # its peer events, for the logs that --keep keeps
        with open(self.err, "w") as e:
            self.proc = self.ctx.procs.start(pinned(argv, self.ctx.source_pin),
                                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                             stderr=e)
        # It exits after --ready-timeout, so this read is bounded.
        line = self.proc.stdout.readline().decode(errors="replace").strip()
        if line != "ready":
            raise seeders.setup_error(f"lt_dial_seed.py did not become ready (status "
                                      f"{self.proc.poll()}): {seeders.tail(self.err)}")
        import libtorrent as lt
        self.piece = lt.torrent_info(self.torrent).piece_length()
        self.cpu0 = proc_cpu(self.proc.pid)

    def dial(self, port):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.stdin.write(f"dial {port}\n".encode())
            self.proc.stdin.flush()

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return "libtorrent seeder: no report (it was not running)"
        cpu = proc_cpu(self.proc.pid) - self.cpu0
        self.proc.stdin.close()  # EOF: it announces stopped and exits
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
        self.ctx.procs.stop(self.proc)
        gb = self.served_bytes / 1e9
        return (f"libtorrent seeder (lt_dial_seed.py): {cpu:.2f} CPU s while the clients "
                f"downloaded {gb:.2f} GB: {cpu / gb if gb else 0:.2f} CPU s per GB downloaded")
