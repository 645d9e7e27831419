#!/usr/bin/python3
"""Interop: `spate seed` serves two torrents in one session to real leechers.

A single-file and a multi-file torrent (both made by `spate create`, announcing to one
opentracker over HTTP) are seeded by one `spate seed` process. aria2c downloads the first
and libtorrent's python binding the second; each finds spate through the tracker and dials
the port spate announced. Both copies must be byte-identical, and SIGINT must end spate
with exit status 0 (seeding until stopped is its normal end).

usage: seed_interop.py SPATE_BINARY
Every process is stopped by its pid, pass or fail; everything stays on 127.0.0.1; every
wait is bounded. Exits 1 with the reason on any failure (never skips).
"""

import filecmp
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
import seeders  # noqa: E402  (needs libtorrent; fails loudly without it)


def write(path, size, seed):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(random.Random(seed).randbytes(size))


def wait_for_seeding(tracker, spate, hex_hashes, seconds=60):
    """Until the tracker counts spate as a seeder of every torrent."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if spate.poll() is not None:
            raise AssertionError(f"spate seed exited early ({spate.returncode}): "
                                 f"{spate.stderr.read()}")
        if all(tracker.scrape(h)[0] >= 1 for h in hex_hashes):
            return
        time.sleep(0.2)
    raise AssertionError("spate seed never showed up as a seeder at the tracker")


def main():
    spate = os.path.abspath(sys.argv[1])
    procs = seeders.processes()
    try:
        seeders.require_programs("opentracker", "aria2c")
        with tempfile.TemporaryDirectory(prefix="spate-seed-interop-") as work:
            os.chmod(work, 0o755)
            data = os.path.join(work, "data")
            write(os.path.join(data, "single.bin"), 5 * 1024 * 1024 + 77, 1)
            write(os.path.join(data, "set", "a.bin"), 1_500_000, 2)
            write(os.path.join(data, "set", "deep", "b.bin"), 2 * 1024 * 1024, 3)
            torrents = {}
            for name in ("single.bin", "set"):
                torrents[name] = os.path.join(work, name + ".torrent")
            hashes = []
            # The tracker must know the info-hashes before it starts (whitelist mode), and
            # the torrents must name the tracker: make them with a placeholder URL first.
            for name, path in torrents.items():
                subprocess.run([spate, "create", os.path.join(data, name), "-o", path,
                                "--piece-size", "65536", "-t", "http://127.0.0.1:1/announce"],
                               check=True, stdout=subprocess.DEVNULL, timeout=60)
                hashes.append(seeders.info_hash(path))
            tracker = seeders.opentracker(procs, os.path.join(work, "ot"), hashes)
            for name, path in torrents.items():
                seeders.with_announce(path, tracker.http, path + ".new")
                os.replace(path + ".new", path)
            seed = procs.start([spate, "seed", *torrents.values(), "--data", data,
                                "--port", str(seeders.free_port()), "--json"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            wait_for_seeding(tracker, seed, hashes)
            out_a = os.path.join(work, "aria2")
            out_b = os.path.join(work, "libtorrent")
            for what, failure in (
                    ("aria2c", seeders.aria2_leech(procs, torrents["single.bin"], out_a, 120)),
                    ("libtorrent", seeders.libtorrent_leech(procs, torrents["set"], out_b, 120))):
                if failure:
                    raise AssertionError(f"{what}: {failure}")
            pairs = [(os.path.join(data, "single.bin"), os.path.join(out_a, "single.bin")),
                     (os.path.join(data, "set", "a.bin"), os.path.join(out_b, "set", "a.bin")),
                     (os.path.join(data, "set", "deep", "b.bin"),
                      os.path.join(out_b, "set", "deep", "b.bin"))]
            for want, got in pairs:
                if not os.path.exists(got) or not filecmp.cmp(want, got, shallow=False):
                    raise AssertionError(f"{got} is missing or differs from {want}")
            seed.send_signal(signal.SIGINT)
            out, err = seed.communicate(timeout=30)
            if seed.returncode != 0:
                raise AssertionError(f"spate seed exited {seed.returncode} after SIGINT: {err!r}")
            for line in out.splitlines():
                json.loads(line)  # every line of --json output is JSON
            print("ok   aria2c and libtorrent downloaded two torrents from one spate seed")
            return 0
    except (AssertionError, seeders.setup_error) as failure:
        print(f"FAIL seed interop: {failure}")
        return 1
    finally:
        procs.stop_all()


if __name__ == "__main__":
    sys.exit(main())
