#!/usr/bin/python3
"""Interop: `spate download` from real seeders on loopback, through opentracker over UDP and HTTP.

Two payloads: a single file (torrent by mktorrent) and a multi-file folder with nested
folders, an empty file and uneven sizes (torrent by libtorrent's create_torrent, v1 only with
canonical_files, so it holds BEP 47 pad files; `spate info` must see them). Each is seeded in
turn by libtorrent's python binding (tools/lib/lt_seed.py), aria2c and transmission-cli, each
alone in a swarm of its own: a fresh opentracker (whitelist mode) that the seeder announces to
over HTTP. While that seeder runs, spate downloads the payload twice, once with a torrent
whose only tracker is the opentracker's udp:// URL and once with its http:// URL (same info
dict, same info-hash), into a fresh folder each time. Each download must exit 0, print only
JSON lines ending in a "done" event, and leave every file byte-identical to the payload
(pad files excepted) and no other file in the torrent's folder.

usage: download_interop.py SPATE_BINARY [--leecher spate|libtorrent|aria2] [--only NAME]...
--leecher runs the same matrix with a third-party leecher in spate's place: it proves the
seeder setups good on their own. --only PAYLOAD-SEEDER (e.g. multi-aria2) limits the matrix.

Every process started here is stopped by its pid, pass or fail; everything stays on
127.0.0.1; every wait is bounded. Exits 1 when any case fails or a program cannot run.
"""

import argparse
import filecmp
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
try:
    import seeders
except ImportError as e:  # libtorrent missing: a clear failure, never a skip
    print(f"download interop: cannot import libtorrent ({e}); install python3-libtorrent and "
          f"run under Debian's /usr/bin/python3", file=sys.stderr)
    sys.exit(1)

PIECE_SIZE = 64 * 1024
DOWNLOAD_SECONDS = 90  # transmission unchokes a new peer only at its next 10 s rechoke
PROGRAM_SECONDS = 60

# The multi-file payload: relative path -> size. Sizes straddle piece boundaries, one file
# is exactly two pieces, one is smaller than a piece, one is empty.
MULTI_FILES = {
    "a.bin": 1_000_003,
    "docs/readme.txt": 777,
    "docs/empty": 0,
    "media/two-pieces.bin": 2 * PIECE_SIZE,
    "media/deep/tail.bin": 1_500_000,
    "z.bin": 99_999,
}
SINGLE_SIZE = 3 * 1024 * 1024 + 12_345


def run(args, seconds=PROGRAM_SECONDS):
    proc = subprocess.run(args, capture_output=True, text=True, timeout=seconds)
    if proc.returncode != 0:
        raise seeders.setup_error(f"{os.path.basename(args[0])} failed with status "
                                  f"{proc.returncode}: {proc.stderr.strip()}")
    return proc.stdout


def write_bytes(path, size, seed):
    """Deterministic, incompressible bytes: the same payload on every run."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    rng = random.Random(seed)
    with open(path, "wb") as f:
        left = size
        while left:
            chunk = min(left, 1 << 20)
            f.write(rng.randbytes(chunk))
            left -= chunk


def make_single(tmp):
    """payload/single/single.bin and its mktorrent torrent (no pad files, one tracker)."""
    root = os.path.join(tmp, "payload", "single")
    path = os.path.join(root, "single.bin")
    write_bytes(path, SINGLE_SIZE, 1)
    torrent = os.path.join(tmp, "single.torrent")
    run(["mktorrent", "-l", str(PIECE_SIZE.bit_length() - 1), "-a",
         "http://127.0.0.1:1/announce", "-o", torrent, path])
    return root, torrent


def make_multi(tmp, spate):
    """payload/multi/multi/... and a libtorrent v1 torrent with BEP 47 pad files."""
    import libtorrent as lt
    root = os.path.join(tmp, "payload", "multi")
    folder = os.path.join(root, "multi")
    for i, (rel, size) in enumerate(sorted(MULTI_FILES.items())):
        write_bytes(os.path.join(folder, rel), size, 100 + i)
    fs = lt.file_storage()
    lt.add_files(fs, folder)
    ct = lt.create_torrent(fs, PIECE_SIZE,
                           flags=lt.create_torrent.v1_only | lt.create_torrent.canonical_files)
    ct.add_tracker("http://127.0.0.1:1/announce")
    lt.set_piece_hashes(ct, root)
    torrent = os.path.join(tmp, "multi.torrent")
    with open(torrent, "wb") as f:
        f.write(lt.bencode(ct.generate()))
    # The case is only worth running if the torrent has pad files and spate sees them.
    ours = json.loads(run([spate, "info", "--json", torrent]))
    pads_lt = [p for p, _, pad in seeders.file_entries(torrent) if pad]
    pads_spate = [f["path"] for f in ours["files"] if f.get("pad")]
    if not pads_lt:
        raise seeders.setup_error("libtorrent wrote no pad files into the multi-file torrent")
    if [p.replace(os.sep, "/") for p in pads_lt] != pads_spate:
        raise seeders.setup_error(f"spate info sees pad files {pads_spate}, libtorrent "
                                  f"{pads_lt}")
    return root, torrent


def compare(torrent, payload_root, out_dir):
    """None when out_dir holds the payload byte for byte (pad files excepted), else why."""
    entries = seeders.file_entries(torrent)
    pads = {os.path.normpath(p) for p, _, pad in entries if pad}
    expected = {os.path.normpath(p) for p, _, pad in entries if not pad}
    for rel in sorted(expected):
        got = os.path.join(out_dir, rel)
        if not os.path.isfile(got):
            return f"{rel} is missing"
        if not filecmp.cmp(got, os.path.join(payload_root, rel), shallow=False):
            return f"{rel} differs from the payload"
    name = entries[0][0].split(os.sep)[0]
    top = os.path.join(out_dir, name)
    if os.path.isdir(top):
        for dirpath, _, names in os.walk(top):
            for n in names:
                rel = os.path.normpath(os.path.relpath(os.path.join(dirpath, n), out_dir))
                if rel not in expected and rel not in pads:
                    return f"unexpected file {rel} in the download"
    return None


def spate_leech(spate, procs, torrent, out_dir, seconds):
    """Runs `spate download --json`; None when it reported done, else why it failed."""
    proc = procs.start([spate, "download", torrent, "-o", out_dir, "--json"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        procs.stop(proc)
        return f"spate download did not finish within {seconds} s"
    if proc.returncode != 0:
        return f"spate download exited with status {proc.returncode}: {err.strip()[-400:]}"
    events = []
    for line in out.splitlines():
        if not line.strip():
            continue
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            return f"spate download --json printed a line that is not JSON: {line[:200]!r}"
    done = [e for e in events if isinstance(e, dict) and e.get("event") == "done"]
    if not done:
        return f"spate download printed no done event ({len(events)} lines)"
    if not isinstance(done[-1].get("bytes"), int) or done[-1]["bytes"] <= 0:
        return f"spate download's done event has no byte count: {done[-1]}"
    return None


def run_case(args, procs, tmp, payload, payload_root, torrent, seeder, failures):
    """One seeder alone in a fresh opentracker swarm; two downloads (UDP, HTTP tracker)."""
    case = os.path.join(tmp, f"{payload}-{seeder}")
    os.makedirs(case)
    os.chmod(case, 0o755)
    hex_hash = seeders.info_hash(torrent)
    started = []
    try:
        tracker = seeders.opentracker(procs, os.path.join(case, "ot"), [hex_hash])
        started.append(tracker.proc)
        http_torrent = seeders.with_announce(torrent, tracker.http,
                                             os.path.join(case, "http.torrent"))
        udp_torrent = seeders.with_announce(torrent, tracker.udp,
                                            os.path.join(case, "udp.torrent"))
        # The seeder gets a copy: aria2c and transmission want pad files on disk and may
        # write state next to the data; the pristine payload is what results compare against.
        seed_dir = os.path.join(case, "seed")
        shutil.copytree(payload_root, seed_dir)
        start_seeder = seeders.SEEDERS[seeder]
        t0 = time.monotonic()
        seeder_proc = start_seeder(procs, tracker, http_torrent, seed_dir, case)
        started.append(seeder_proc)
        print(f"     {payload}-{seeder}: seeding after {time.monotonic() - t0:.1f} s", flush=True)
    except (seeders.setup_error, OSError, subprocess.SubprocessError) as e:
        for kind in ("udp", "http"):
            failures.append(f"{payload} from {seeder} over {kind}: setup failed: {e}")
            print(f"FAIL {payload} from {seeder} over {kind}: setup failed: {e}", flush=True)
        for proc in reversed(started):
            procs.stop(proc)
        return 0

    passed = 0
    for kind, leech_torrent in (("udp", udp_torrent), ("http", http_torrent)):
        label = f"{payload} from {seeder} over {kind}"
        if kind == "http" and seeder in seeders.ONE_LEECHER_PER_ADDRESS:
            # transmission keeps one record per peer address: once a leecher on 127.0.0.1
            # completed, it takes every 127.0.0.1 peer for a seed and drops it. A new
            # transmission (same data, same config) serves the second download.
            procs.stop(seeder_proc)
            started.remove(seeder_proc)
            try:
                seeder_proc = start_seeder(procs, tracker, http_torrent, seed_dir, case)
            except (seeders.setup_error, OSError, subprocess.SubprocessError) as e:
                failures.append(f"{label}: restarting the seeder failed: {e}")
                print(f"FAIL {label}: restarting the seeder failed: {e}", flush=True)
                continue
            started.append(seeder_proc)
        out_dir = os.path.join(case, f"out-{kind}")
        os.makedirs(out_dir)
        t0 = time.monotonic()
        if args.leecher == "spate":
            why = spate_leech(args.spate, procs, leech_torrent, out_dir, DOWNLOAD_SECONDS)
        else:
            why = seeders.REFERENCE_LEECHERS[args.leecher](procs, leech_torrent, out_dir,
                                                           DOWNLOAD_SECONDS)
        if why is None:
            why = compare(leech_torrent, payload_root, out_dir)
        seconds = time.monotonic() - t0
        if why is None:
            passed += 1
            print(f"ok   {label} ({args.leecher}, {seconds:.1f} s)", flush=True)
        else:
            failures.append(f"{label}: {why}")
            print(f"FAIL {label} ({args.leecher}, {seconds:.1f} s): {why}", flush=True)
        shutil.rmtree(out_dir, ignore_errors=True)
    for proc in reversed(started):
        procs.stop(proc)
    return passed


def main():
    parser = argparse.ArgumentParser(description="spate download against real seeders")
    parser.add_argument("spate")
    parser.add_argument("--leecher", choices=["spate", *seeders.REFERENCE_LEECHERS],
                        default="spate")
    parser.add_argument("--only", action="append", default=[])
    args = parser.parse_args()
    args.spate = os.path.abspath(args.spate)

    # meson's timeout sends SIGTERM: leave through the finally that stops every program.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    failures = []
    passed = 0
    procs = seeders.processes()
    tmp = tempfile.mkdtemp(prefix="spate-download-interop-")
    # opentracker drops to nobody inside a folder below this one.
    os.chmod(tmp, 0o755)
    start = time.monotonic()
    try:
        seeders.require_programs("opentracker", "aria2c", "transmission-cli", "mktorrent")
        payloads = {"single": make_single(tmp), "multi": make_multi(tmp, args.spate)}
        for payload, (root, torrent) in payloads.items():
            for seeder in seeders.SEEDERS:
                if args.only and f"{payload}-{seeder}" not in args.only:
                    continue
                passed += run_case(args, procs, tmp, payload, root, torrent, seeder,
                                   failures)
    except (seeders.setup_error, OSError, subprocess.SubprocessError) as e:
        failures.append(f"cannot run the interop programs: {e}")
        print(f"FAIL cannot run the interop programs: {e}", flush=True)
    finally:
        procs.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"download interop ({args.leecher}, {time.monotonic() - start:.0f} s): "
          f"{passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
