#!/usr/bin/python3
"""Interop: `spate seed` serves two torrents in one session to three real leechers.

A single-file and a multi-file torrent (both made by `spate create`, announcing to one
opentracker over HTTP) are seeded by one `spate seed` process. libtorrent's python binding,
aria2c and transmission-cli each download both torrents: six downloads at once, each into a
folder of its own. Every copy must be byte-identical to the payload with no other file
beside it, spate must report no error, every line of its --json output must be JSON, and
SIGINT must end it with exit status 0 (seeding until stopped is its normal end).

transmission-cli drops the 127.0.0.1 peers a tracker gives it and only takes peers that dial
it, so its downloads pass only if spate connects out to the leechers its announce returned.

usage: seed_interop.py SPATE_BINARY
Every process is stopped by its pid, pass or fail; everything stays on 127.0.0.1; every
wait is bounded. Exits 1 with the reason on any failure (never skips).
"""

import filecmp
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
try:
    import seeders
except ImportError as e:  # libtorrent missing: a clear failure, never a skip
    print(f"FAIL seed interop: cannot import libtorrent ({e}); install python3-libtorrent and "
          f"run under Debian's /usr/bin/python3")
    sys.exit(1)

PIECE_SIZE = 64 * 1024
# Each leecher's bound, from its start: the wait for the others to announce, spate's data
# check, transmission's ~10 s before its first request, and the transfer itself.
LEECH_SECONDS = 90
ANNOUNCE_SECONDS = 30  # for a leecher to show up in the tracker's scrape

# name -> {path below the data folder: (size, random seed)}. The multi-file sizes straddle
# piece boundaries; one file is smaller than a piece, one sits two folders deep.
PAYLOADS = {
    "single.bin": {"single.bin": (5 * 1024 * 1024 + 77, 1)},
    "set": {"set/a.bin": (1_500_000, 2), "set/deep/b.bin": (2 * 1024 * 1024, 3),
            "set/deep/c.txt": (777, 4)},
}

# libtorrent and aria2c find spate either way (its announce makes it a peer they are given
# or it dials them); transmission-cli is served only by a peer that dials it.
LEECHERS = {
    "libtorrent": seeders.libtorrent_leech,
    "aria2c": seeders.aria2_leech,
    "transmission-cli": seeders.transmission_leech,
}


def write(path, size, seed):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(random.Random(seed).randbytes(size))


class download:
    """One leecher fetching one torrent on a thread of its own, since each leech function
    blocks until its download ends (each is bounded by its own `seconds`)."""

    def __init__(self, procs, leecher, torrent_name, torrent, out_dir):
        self.leecher = leecher
        self.torrent_name = torrent_name
        self.torrent = torrent
        self.out_dir = out_dir
        self.failure = None
        self.finished_at = None
        os.makedirs(out_dir)
        self.m_thread = threading.Thread(target=self.m_run, args=(procs,), daemon=True,
                                         name=f"{leecher} {torrent_name}")
        self.m_thread.start()

    def m_run(self, procs):
        try:
            self.failure = LEECHERS[self.leecher](procs, self.torrent, self.out_dir,
                                                  LEECH_SECONDS)
        except Exception as e:  # noqa: BLE001  (reported as this download's failure)
            self.failure = f"{type(e).__name__}: {e}"
        self.finished_at = time.monotonic()

    def running(self):
        return self.m_thread.is_alive()

    def join(self, seconds):
        self.m_thread.join(timeout=max(seconds, 0))
        if self.m_thread.is_alive() and self.failure is None:
            self.failure = f"still running after its bound of {LEECH_SECONDS} s"


def wait_for_leechers(tracker, hex_hashes, count, downloads):
    """Until the tracker's scrape counts at least `count` leechers of every torrent.

    A download that ended already has failed (no seed exists yet): stop and report it."""
    deadline = time.monotonic() + ANNOUNCE_SECONDS
    seen = {}
    while time.monotonic() < deadline:
        ended = [d for d in downloads if not d.running()]
        if ended:
            d = ended[0]
            raise AssertionError(f"{d.leecher} ({d.torrent_name}) ended before spate seeded: "
                                 f"{d.failure}")
        seen = {h: tracker.scrape(h)[1] for h in hex_hashes}
        if all(n >= count for n in seen.values()):
            return
        time.sleep(0.2)
    raise AssertionError(f"the tracker counts {seen} leechers after {ANNOUNCE_SECONDS} s, "
                         f"not {count} of each torrent")


def start_leechers(procs, tracker, torrents, work, leechers, downloads):
    """Starts each leecher on each torrent (appended to downloads), then waits until the
    tracker counts every download started so far."""
    for leecher in leechers:
        for name, path in torrents.items():
            downloads.append(download(procs, leecher, name, path,
                                      os.path.join(work, f"{leecher}-{name}")))
    hashes = [seeders.info_hash(path) for path in torrents.values()]
    wait_for_leechers(tracker, hashes, len(downloads) // len(torrents), downloads)


def compare(torrent, data, out_dir):
    """None when out_dir holds exactly the torrent's files, each byte-identical to data's."""
    entries = seeders.file_entries(torrent)
    expected = {os.path.normpath(path) for path, _, _ in entries}
    for rel in sorted(expected):
        got = os.path.join(out_dir, rel)
        if not os.path.isfile(got):
            return f"{rel} is missing"
        if not filecmp.cmp(os.path.join(data, rel), got, shallow=False):
            return f"{rel} differs from the payload"
    for dirpath, _, names in os.walk(out_dir):
        for name in names:
            rel = os.path.normpath(os.path.relpath(os.path.join(dirpath, name), out_dir))
            if rel not in expected:
                return f"unexpected file {rel} beside the download"
    return None


def spate_events(path):
    """The --json lines spate wrote, parsed; raises if one is not a JSON object."""
    events = []
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                raise AssertionError(f"spate seed --json printed a line that is not JSON: "
                                     f"{line[:200]!r}") from None
            if not isinstance(event, dict):
                raise AssertionError(f"spate seed --json printed a non-object: {line[:200]!r}")
            events.append(event)
    return events


def spate_state(out_path, err_path, tracker, hex_hashes):
    """What spate and the tracker said so far, for a failure message."""
    try:
        events = spate_events(out_path)
    except (AssertionError, OSError) as e:
        events = [{"unreadable": str(e)}]
    status = [e for e in events if e.get("event") == "status"][-1:]
    others = [e for e in events if e.get("event") != "status"]
    try:
        counts = {h[:8]: tracker.scrape(h) for h in hex_hashes}
    except OSError as e:
        counts = f"scrape failed: {e}"
    return (f"spate events {others + status}, stderr {seeders.tail(err_path)!r}; tracker "
            f"(complete, incomplete) {counts}")


def main():
    if len(sys.argv) != 2:
        print("usage: seed_interop.py SPATE_BINARY", file=sys.stderr)
        return 2
    spate = os.path.abspath(sys.argv[1])
    # meson's timeout sends SIGTERM: leave through the finally that stops every program.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    procs = seeders.processes()
    downloads = []
    failures = []
    start = time.monotonic()
    work = tempfile.mkdtemp(prefix="spate-seed-interop-")
    # opentracker drops to nobody inside a folder below this one.
    os.chmod(work, 0o755)
    try:
        seeders.require_programs("opentracker", "aria2c", "transmission-cli")
        data = os.path.join(work, "data")
        for files in PAYLOADS.values():
            for rel, (size, seed) in files.items():
                write(os.path.join(data, rel), size, seed)
        torrents = {name: os.path.join(work, name + ".torrent") for name in PAYLOADS}
        # The tracker must know the info-hashes before it starts (whitelist mode), and
        # the torrents must name the tracker: make them with a placeholder URL first.
        for name, path in torrents.items():
            subprocess.run([spate, "create", os.path.join(data, name), "-o", path,
                            "--piece-size", str(PIECE_SIZE), "-t",
                            "http://127.0.0.1:1/announce"],
                           check=True, stdout=subprocess.DEVNULL, timeout=60)
            # aria2c and transmission would want BEP 47 pad files on disk as data.
            pads = [p for p, _, pad in seeders.file_entries(path) if pad]
            if pads:
                raise AssertionError(f"spate create wrote pad files into {name}: {pads}")
        hashes = [seeders.info_hash(path) for path in torrents.values()]
        tracker = seeders.opentracker(procs, os.path.join(work, "ot"), hashes)
        for name, path in torrents.items():
            seeders.with_announce(path, tracker.http, path + ".new")
            os.replace(path + ".new", path)

        # spate announces once at start and then only at the tracker's interval (about
        # 30 min from opentracker), so the leechers must be at the tracker before spate
        # starts: its first announce is how it learns of them and dials them. libtorrent
        # and aria2c go first and transmission-cli after they are counted, so those two
        # are not given transmission's address (not before they announce their completion):
        # it is spate's dial that serves transmission.
        start_leechers(procs, tracker, torrents, work, ["libtorrent", "aria2c"], downloads)
        start_leechers(procs, tracker, torrents, work, ["transmission-cli"], downloads)

        spate_out = os.path.join(work, "spate.jsonl")
        spate_err = os.path.join(work, "spate.err")
        # To files, not pipes: nothing reads them until the end, and a full pipe would
        # block spate's loop.
        with open(spate_out, "w") as out, open(spate_err, "w") as err:
            seed = procs.start([spate, "seed", *torrents.values(), "--data", data,
                                "--port", str(seeders.free_port()), "--json"],
                               stdout=out, stderr=err)
        seeding_at = time.monotonic()
        print(f"     leechers counted by the tracker after {seeding_at - start:.1f} s; "
              f"spate seed started", flush=True)

        for d in downloads:
            d.join(LEECH_SECONDS + 30 - (time.monotonic() - seeding_at))
        for d in downloads:
            label = f"{d.leecher} got {d.torrent_name} from spate seed"
            why = d.failure or compare(d.torrent, data, d.out_dir)
            if why is None:
                print(f"ok   {label} ({d.finished_at - seeding_at:.1f} s after spate "
                      f"started)", flush=True)
            else:
                failures.append(f"{label}: {why}")
                print(f"FAIL {label}: {why}", flush=True)
        if failures:
            print(f"     {spate_state(spate_out, spate_err, tracker, hashes)}", flush=True)

        if seed.poll() is not None:
            raise AssertionError(f"spate seed exited early ({seed.returncode}): "
                                 f"{seeders.tail(spate_err)}")
        seed.send_signal(signal.SIGINT)
        try:
            seed.wait(timeout=30)
        except subprocess.TimeoutExpired:
            raise AssertionError("spate seed did not exit within 30 s of SIGINT") from None
        if seed.returncode != 0:
            raise AssertionError(f"spate seed exited {seed.returncode} after SIGINT: "
                                 f"{seeders.tail(spate_err)}")
        events = spate_events(spate_out)
        errors = [e for e in events if e.get("event") == "error"]
        if errors:
            raise AssertionError(f"spate seed reported errors: {errors}")
        # Informational only: leechers may also trade pieces among themselves, and the
        # status line comes every 5 s, so it may lag the downloads.
        sent = [e.get("sent") for e in events if e.get("event") == "status"][-1:]
        print(f"ok   spate seed exited 0 on SIGINT; {len(events)} --json lines, all JSON; "
              f"last status: sent {sent[0] if sent else 'none yet'} bytes, "
              f"{sum(size for files in PAYLOADS.values() for size, _ in files.values())} "
              f"bytes per full copy of both torrents", flush=True)
    except (AssertionError, seeders.setup_error, OSError, subprocess.SubprocessError) as e:
        failures.append(str(e))
        print(f"FAIL seed interop: {e}", flush=True)
    finally:
        procs.stop_all()
        # Stopping the processes ends the leech functions still waiting on them. A thread
        # that was just starting its program may have added it after stop_all passed: stop
        # again once the threads are done.
        deadline = time.monotonic() + 30
        for d in downloads:
            d.join(deadline - time.monotonic())
        procs.stop_all()
        # Only now: the folder goes once nothing runs in it.
        shutil.rmtree(work, ignore_errors=True)
    print(f"seed interop ({time.monotonic() - start:.0f} s): {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
