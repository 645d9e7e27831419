#!/usr/bin/env python3
"""`spate swarm`, both ways round, against spate itself on loopback.

1. Seeders: `spate swarm --peers 3 --files 3 --builtin-tracker ... --data-out D` serves a
   generated 24 MiB payload; `spate download` finds the three synthetic peers through the
   in-process tracker and its copy must equal the files the swarm wrote. The swarm's
   `served` report must account for the bytes.
2. Leechers: `spate seed` serves those files; `spate swarm --leechers --peers 5` downloads
   the whole torrent five times over from it and must report 5 of 5 finished.
3. Bad input: --leechers without --peer, a non-loopback tracker, and a piece size that is
   not a power of two each end with one stderr line and exit 2.
Usage: swarm_test.py SPATE. Everything on 127.0.0.x; every process bounded and stopped by
its pid; temporary files removed.
"""

import filecmp
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

SPATE = os.path.abspath(sys.argv[1])
failures = []


def check(name, ok, detail=""):
    print(f"{'ok  ' if ok else 'FAIL'} {name}" + ("" if ok else f": {detail}"), flush=True)
    if not ok:
        failures.append(name)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def read_event(proc, name, limit=200):
    """The first JSON line of `proc` whose event is `name` (bounded by `limit` lines)."""
    for _ in range(limit):
        line = proc.stdout.readline()
        if not line:
            break
        event = json.loads(line)
        if event.get("event") == name:
            return event
    raise AssertionError(f"no {name} event; stderr: {proc.stderr.read()}")


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            return proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.communicate()
    return proc.communicate()


def main():
    tmp = tempfile.mkdtemp(prefix="spate-swarm-test-")
    procs = []
    try:
        torrent = os.path.join(tmp, "swarm.torrent")
        data = os.path.join(tmp, "data")
        swarm = subprocess.Popen(
            [SPATE, "swarm", "--peers", "3", "--size", "24M", "--piece-size", "64K",
             "--files", "3", "--torrent-out", torrent, "--data-out", data,
             "--builtin-tracker", f"127.0.0.1:{free_port()}", "--json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append(swarm)
        ready = read_event(swarm, "ready")
        check("the swarm is ready with 3 peers", ready["peers"] == 3, ready)
        out = os.path.join(tmp, "out")
        got = subprocess.run([SPATE, "download", torrent, "-o", out, "--json",
                              "--port", str(free_port())],
                             capture_output=True, text=True, timeout=120)
        check("spate download from the swarm exits 0", got.returncode == 0, got.stderr)
        done = [e for e in json_lines(got.stdout) if e.get("event") == "done"]
        name = "spate-swarm-24M"
        same = filecmp.dircmp(os.path.join(data, name), os.path.join(out, name))
        check("the copy equals the files the swarm wrote",
              len(same.common_files) == 3 and not same.diff_files and not same.left_only
              and not same.right_only and all(filecmp.cmp(
                  os.path.join(data, name, f), os.path.join(out, name, f), shallow=False)
                  for f in same.common_files), same.diff_files)
        check("the download used the synthetic peers", bool(done), got.stdout[-300:])
        served_out, _ = stop(swarm)
        served = [e for e in json_lines(served_out) if e.get("event") == "served"]
        check("the swarm reports what it served",
              served and served[0]["bytes"] >= 24 * 1024 * 1024 and swarm.returncode == 0,
              served_out[-300:])

        port = free_port()
        seed = subprocess.Popen([SPATE, "seed", torrent, "--data", data, "--no-tracker",
                                 "--port", str(port), "--json"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append(seed)
        listening = read_event(seed, "listening")
        port = int(listening["detail"].split()[-1])
        leech = subprocess.run([SPATE, "swarm", "--leechers", "--peers", "5", "--torrent",
                                torrent, "--peer", f"127.0.0.1:{port}", "--json"],
                               capture_output=True, text=True, timeout=120)
        report = [e for e in json_lines(leech.stdout) if e.get("event") == "leeched"]
        check("5 synthetic leechers fetch the whole torrent from spate seed",
              leech.returncode == 0 and report and report[0]["finished"] == 5
              and report[0]["bytes"] >= 5 * 24 * 1024 * 1024,
              f"{leech.returncode} {leech.stdout} {leech.stderr}")
        stop(seed)

        for args, what in (
                (["--leechers", "--torrent", torrent], "--leechers needs"),
                (["--tracker", "http://10.1.2.3:80/announce", "--size", "1M"], "loopback"),
                (["--size", "1M", "--piece-size", "20000"], "power of two")):
            bad = subprocess.run([SPATE, "swarm", *args, "--torrent-out",
                                  os.path.join(tmp, "bad.torrent")],
                                 capture_output=True, text=True, timeout=60)
            lines = bad.stderr.strip().splitlines()
            check(f"swarm {' '.join(args)} is refused with one line",
                  bad.returncode in (1, 2) and len(lines) == 1
                  and (what is None or what in lines[0]), f"{bad.returncode} {bad.stderr!r}")
    except (AssertionError, subprocess.TimeoutExpired, json.JSONDecodeError, KeyError) as e:
        check("swarm test ran", False, repr(e))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    print("all passed" if not failures else f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
