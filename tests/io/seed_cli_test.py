#!/usr/bin/env python3
"""`spate seed` options and goals: each bad option is one clear stderr line and exit 2; a
folder of torrents is served whole; --seed-time and --seed-ratio end the torrents (a
`seeded` event each) and the command exits 0 on its own; a download through a seed
limited by --max-up and --torrent-max-up still completes byte-identical (the rate itself is
measured by tools, not asserted here).
Usage: seed_cli_test.py SPATE. Files live in a temporary folder; everything talks to
127.0.0.1 only; every process is bounded by a timeout and stopped by its pid."""

import filecmp
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SPATE = sys.argv[1]
TIMEOUT = 60
results = {"passed": 0, "failed": 0}


def run(*args, timeout=TIMEOUT):
    return subprocess.run([SPATE, *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def check(name, ok, detail=""):
    if ok:
        results["passed"] += 1
        print(f"ok   {name}")
    else:
        results["failed"] += 1
        print(f"FAIL {name}: {detail}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def events(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def start_seed(*args):
    return subprocess.Popen([SPATE, "seed", *args, "--no-tracker", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)


def wait_listening(seed, seconds=30):
    """The port from the seed's `listening` event (its events come in order, one a line)."""
    deadline = time.monotonic() + seconds
    seen = []
    while time.monotonic() < deadline:
        line = seed.stdout.readline()
        if not line:
            break
        seen.append(line)
        event = json.loads(line)
        if event.get("event") == "listening":
            return int(event["detail"].split()[-1]), seen
    raise AssertionError(f"seed never listened: {''.join(seen)} {seed.stderr.read()}")


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def bad_options(torrent, data, empty):
    cases = [
        (["--max-up", "fast"], "--max-up fast: not a rate"),
        (["--max-down", "0"], "--max-down 0: not a rate"),
        (["--torrent-max-up", "1.5M"], "--torrent-max-up 1.5M: not a rate"),
        (["--seed-time", "5w"], "--seed-time 5w: not a duration"),
        (["--seed-time", "0"], "--seed-time 0: not a duration"),
        (["--seed-ratio", "-1"], "--seed-ratio -1"),
        (["--memory", "lots"], "--memory lots: not a size"),
        (["--max-peers", "0"], "--max-peers and --upload-slots must be at least 1"),
    ]
    for extra, expected in cases:
        got = run("seed", torrent, "--data", data, "--no-tracker", *extra)
        lines = got.stderr.strip().splitlines()
        check(f"seed {' '.join(extra)} is refused with one line",
              got.returncode == 2 and len(lines) == 1 and expected in lines[0],
              f"exit {got.returncode}, stderr {got.stderr!r}")
    got = run("seed", empty, "--data", data, "--no-tracker")
    check("a folder without .torrent files is refused",
          got.returncode == 2 and "holds no .torrent file" in got.stderr, got.stderr)


def main():
    tmp = tempfile.mkdtemp(prefix="spate-seed-cli-")
    procs = []
    try:
        data = os.path.join(tmp, "data")
        folder = os.path.join(tmp, "torrents")
        empty = os.path.join(tmp, "empty")
        for d in (data, folder, empty):
            os.makedirs(d)
        names = ["one.bin", "two.bin"]
        for i, name in enumerate(names):
            with open(os.path.join(data, name), "wb") as f:
                f.write(os.urandom(700_000 + i))
            made = run("create", os.path.join(data, name), "-o",
                       os.path.join(folder, name + ".torrent"), "--piece-size", "32K")
            check(f"create {name}", made.returncode == 0, made.stderr)
        torrent = os.path.join(folder, "one.bin.torrent")
        bad_options(torrent, data, empty)

        # A folder of torrents: both are checked and served; --seed-time ends them.
        seed = start_seed(folder, "--data", data, "--port", str(free_port()),
                          "--seed-time", "2s")
        procs.append(seed)
        out, err = seed.communicate(timeout=60)
        got = events(out)
        checked = sorted(e["torrent"] for e in got if e["event"] == "checked")
        seeded = sorted(e["torrent"] for e in got if e["event"] == "seeded")
        check("a folder's torrents are all served", checked == names, out)
        check("--seed-time ends every torrent and exits 0",
              seeded == names and seed.returncode == 0, f"{seed.returncode} {out} {err}")

        # --seed-ratio 1: the seed ends once a leecher took the whole torrent, by itself.
        # The upload limits slow it down but must not stop it.
        seed = start_seed(torrent, "--data", data, "--port", str(free_port()),
                          "--seed-ratio", "1", "--max-up", "2M", "--torrent-max-up", "1M")
        procs.append(seed)
        port, _ = wait_listening(seed)
        out_dir = os.path.join(tmp, "leech")
        fetched = run("download", torrent, "-o", out_dir, "--no-tracker",
                      "--peer", f"127.0.0.1:{port}", "--port", str(free_port()), "--json")
        check("a leecher completes through the rate-limited seed",
              fetched.returncode == 0 and filecmp.cmp(os.path.join(data, "one.bin"),
                                                      os.path.join(out_dir, "one.bin"),
                                                      shallow=False),
              fetched.stderr)
        out, err = seed.communicate(timeout=30)
        got = events(out)
        check("--seed-ratio 1 ends the torrent after one full upload and exits 0",
              seed.returncode == 0 and any(e["event"] == "seeded" and "ratio" in e["detail"]
                                           for e in got), f"{seed.returncode} {out} {err}")
    except (AssertionError, subprocess.TimeoutExpired, json.JSONDecodeError) as e:
        check("seed command run", False, str(e))
    finally:
        for p in procs:
            stop(p)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
