#!/usr/bin/env python3
"""`spate verify` exit codes and output: 0 complete, 1 bad or missing pieces or no folder,
2 bad input. Usage: verify_cli_test.py SPATE. Files live in a temporary folder; every
process is run to completion with a timeout (subprocess.run kills it on expiry)."""

import json
import os
import shutil
import subprocess
import sys
import tempfile

SPATE = sys.argv[1]
TIMEOUT = 60
results = {"passed": 0, "failed": 0}


def run(*args):
    return subprocess.run([SPATE, *args], capture_output=True, text=True, timeout=TIMEOUT,
                          stdin=subprocess.DEVNULL)


def check(name, ok, detail=""):
    if ok:
        results["passed"] += 1
        print(f"ok   {name}")
    else:
        results["failed"] += 1
        print(f"FAIL {name}: {detail}")


def main():
    tmp = tempfile.mkdtemp(prefix="spate-verify-")
    try:
        data = os.path.join(tmp, "data")
        payload = os.path.join(data, "payload")
        os.makedirs(os.path.join(payload, "sub"))
        with open(os.path.join(payload, "a.bin"), "wb") as f:
            f.write(os.urandom(300_000))
        with open(os.path.join(payload, "sub", "b.bin"), "wb") as f:
            f.write(os.urandom(70_001))
        torrent = os.path.join(tmp, "p.torrent")
        made = run("create", payload, "-o", torrent, "--piece-size", "32K")
        check("create", made.returncode == 0, made.stderr)

        good = run("verify", torrent, "--data", data)
        check("complete data exits 0", good.returncode == 0, good.stderr)
        check("complete data line", good.stdout.strip() == "pieces: 12 good, 0 bad, 0 missing",
              good.stdout)

        as_json = run("verify", torrent, "--data", data, "--json")
        try:
            obj = json.loads(as_json.stdout)
        except ValueError:
            obj = {}
        check("json object", obj == {"pieces": 12, "good": 12, "bad": 0, "missing": 0,
                                     "complete": True}, as_json.stdout)

        with open(os.path.join(payload, "a.bin"), "r+b") as f:
            f.seek(40_000)
            byte = f.read(1)
            f.seek(40_000)
            f.write(bytes([byte[0] ^ 0xFF]))
        os.remove(os.path.join(payload, "sub", "b.bin"))
        broken = run("verify", torrent, "--data", data, "--json")
        check("bad and missing exit 1", broken.returncode == 1, broken.stderr)
        try:
            obj = json.loads(broken.stdout)
        except ValueError:
            obj = {}
        check("bad and missing counted",
              obj == {"pieces": 12, "good": 8, "bad": 1, "missing": 3, "complete": False},
              broken.stdout)

        absent = run("verify", torrent, "--data", os.path.join(tmp, "absent"))
        check("absent folder exits 1", absent.returncode == 1, absent.stderr)
        check("absent folder says so", "does not exist" in absent.stderr, absent.stderr)

        no_torrent = run("verify", os.path.join(tmp, "none.torrent"), "--data", data)
        check("unreadable torrent exits 2", no_torrent.returncode == 2, no_torrent.stderr)
        with open(os.path.join(tmp, "junk.torrent"), "wb") as f:
            f.write(b"not bencode")
        junk = run("verify", os.path.join(tmp, "junk.torrent"), "--data", data)
        check("bad torrent exits 2", junk.returncode == 2, junk.stderr)
        usage = run("verify", torrent)
        check("missing --data exits 2", usage.returncode == 2, usage.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{results['passed']} passed, {results['failed']} failed")
    return 0 if results["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
