#!/usr/bin/python3
"""Interop: a downloading spate answers requests for the pieces it has.

`spate download --seed` with the payload already complete in its folder dials a libtorrent
leecher (given with --peer: the leecher has no tracker), or is dialled by one on its listen
port (--port), unchokes it and serves it every block; the leecher's copy must be byte-identical, and Ctrl-C (SIGINT) must end spate with
exit status 130. A second leecher gets a multi-file torrent the same way.

usage: upload_interop.py SPATE_BINARY
Everything stays on 127.0.0.1; every process is stopped by its pid; every wait is bounded.
"""

import filecmp
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time

import libtorrent as lt


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def leecher_session(port):
    return lt.session({
        "listen_interfaces": f"127.0.0.1:{port}", "outgoing_interfaces": "127.0.0.1",
        "enable_dht": False, "enable_lsd": False, "enable_upnp": False,
        "enable_natpmp": False, "enable_outgoing_utp": False, "enable_incoming_utp": False,
        "allow_multiple_connections_per_ip": True,
    })


def write_payload(root, files):
    rng = random.Random(7)
    for rel, size in files:
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(rng.randbytes(size))


def listening_port(seeder, name):
    """The port from spate's {"event":"listening"} line (bounded wait)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = seeder.stdout.readline()
        if not line:
            break
        event = json.loads(line)
        if event.get("event") == "listening":
            return event["port"]
    raise AssertionError(f"{name}: spate printed no listening event")


def serve_one(spate, work, name, files, piece_size, dial_in=False):
    """spate seeds `files` (under work/seed/name) to a fresh libtorrent leecher: spate
    dials the leecher, or with `dial_in` the leecher dials spate's listen port."""
    seed_dir = os.path.join(work, "seed")
    write_payload(seed_dir, [(os.path.join(name, rel) if rel else name, size)
                             for rel, size in files])
    torrent = os.path.join(work, name + ".torrent")
    subprocess.run([spate, "create", os.path.join(seed_dir, name), "-o", torrent,
                    "--piece-size", str(piece_size)], check=True, stdout=subprocess.DEVNULL,
                   timeout=60)
    port = free_port()
    session = leecher_session(port)
    leech_dir = os.path.join(work, "leech-" + name)
    handle = session.add_torrent({"ti": lt.torrent_info(torrent), "save_path": leech_dir})
    args = [spate, "download", torrent, "-o", seed_dir, "--seed", "--no-tracker", "--json"]
    if dial_in:
        args += ["--port", str(free_port())]
    else:
        args += ["--peer", f"127.0.0.1:{port}"]
    seeder = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        if dial_in:
            handle.connect_peer(("127.0.0.1", listening_port(seeder, name)))
        deadline = time.monotonic() + 90
        while not handle.status().is_seeding:
            if time.monotonic() > deadline:
                raise AssertionError(f"{name}: the leecher did not complete within 90 s "
                                     f"({handle.status().progress * 100:.1f}%)")
            if seeder.poll() is not None:
                raise AssertionError(f"{name}: spate exited early with {seeder.returncode}: "
                                     f"{seeder.stderr.read()}")
            time.sleep(0.1)
        seeder.send_signal(signal.SIGINT)
        out, err = seeder.communicate(timeout=30)
        if seeder.returncode != 130:
            raise AssertionError(f"{name}: spate exited {seeder.returncode} after SIGINT, "
                                 f"expected 130; stderr: {err!r}")
    finally:
        if seeder.poll() is None:
            seeder.kill()
            seeder.wait()
        del session
    for rel, _ in files:
        a = os.path.join(seed_dir, name, rel) if rel else os.path.join(seed_dir, name)
        b = os.path.join(leech_dir, name, rel) if rel else os.path.join(leech_dir, name)
        if not filecmp.cmp(a, b, shallow=False):
            raise AssertionError(f"{name}: {rel or name} differs after the upload")
    how = "dialling spate's listen port" if dial_in else "dialled by spate"
    print(f"ok   {name}: a libtorrent leecher downloaded it from spate, {how}")


def main():
    spate = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory(prefix="spate-upload-") as work:
        serve_one(spate, work, "single.bin", [("", 6 * 1024 * 1024 + 12345)], 262144)
        serve_one(spate, work, "multi", [("a.bin", 1_000_001), ("sub/b.bin", 3 * 1024 * 1024),
                                         ("c.bin", 17)], 65536)
        serve_one(spate, work, "incoming.bin", [("", 5 * 1024 * 1024 + 3)], 131072, dial_in=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
