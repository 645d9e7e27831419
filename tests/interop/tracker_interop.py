#!/usr/bin/python3
"""Interop: spate's tracker client against opentracker, and spate's tracker against real clients.

1. opentracker (Debian's, whitelist mode, bound to 127.0.0.1) serves a torrent made by
   `spate create`. `spate announce` announces and scrapes over HTTP and UDP.
2. A peer announced by libtorrent's python binding is seen by `spate announce`, and a peer
   announced by spate is seen by libtorrent: libtorrent dials the port spate announced,
   where this script listens and reads libtorrent's handshake for the torrent.
3. `spate tracker` serves a swarm of a libtorrent seeder and an aria2c leecher: they find
   each other through it, and aria2c's copy is byte-identical.

usage: tracker_interop.py SPATE_BINARY
Every process started here is stopped by its pid, pass or fail; everything stays on
127.0.0.1; every wait is bounded.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import libtorrent as lt

SPATE = None
PROCS = []


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp, \
            socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
        # A port free for both UDP and TCP, since the trackers serve both on one port.
        for _ in range(50):
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
            try:
                udp.bind(("127.0.0.1", port))
                return port
            except OSError:
                tcp.close()
                tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raise RuntimeError("no free port")


def start(args, **kw):
    proc = subprocess.Popen(args, **kw)
    PROCS.append(proc)
    return proc


def stop_all():
    for proc in PROCS:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def wait_for_tcp(port, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port} after {seconds} s")


def spate_announce(torrent, tracker, *extra):
    args = [SPATE, "announce", torrent, "--tracker", tracker, "--json", *extra]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=60)
    lines = [json.loads(l) for l in proc.stdout.splitlines() if l.strip()]
    return proc.returncode, lines, proc.stderr.strip()


def lt_session(port):
    return lt.session({
        "listen_interfaces": f"127.0.0.1:{port}",
        "outgoing_interfaces": "127.0.0.1",
        "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
        "enable_outgoing_utp": False, "enable_incoming_utp": False,
        "allow_multiple_connections_per_ip": True,
        "alert_mask": lt.alert.category_t.all_categories,
    })


def wait_alert(ses, kind, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ses.wait_for_alert(500)
        for alert in ses.pop_alerts():
            if isinstance(alert, kind):
                return alert
    raise AssertionError(f"libtorrent sent no {kind.__name__} within {seconds} s")


def check(condition, message, failures):
    print(("ok   " if condition else "FAIL ") + message)
    if not condition:
        failures.append(message)


def opentracker_part(tmp, torrent, info_hash, failures):
    port = free_port()
    root = os.path.join(tmp, "ot")
    os.makedirs(root)
    with open(os.path.join(root, "whitelist.txt"), "w") as f:
        f.write(info_hash + "\n")
    conf = os.path.join(tmp, "opentracker.conf")
    with open(conf, "w") as f:
        f.write(f"listen.tcp_udp 127.0.0.1:{port}\naccess.whitelist /whitelist.txt\n"
                f"tracker.rootdir {root}\ntracker.user nobody\n")
    # opentracker drops to `nobody` inside its chroot: the folder must be readable.
    os.chmod(tmp, 0o755)
    os.chmod(root, 0o755)
    os.chmod(os.path.join(root, "whitelist.txt"), 0o644)
    start(["opentracker", "-f", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_tcp(port)
    http = f"http://127.0.0.1:{port}/announce"
    udp = f"udp://127.0.0.1:{port}"

    for url in (http, udp):
        rc, lines, err = spate_announce(torrent, url, "--port", "40001")
        ok = rc == 0 and lines and lines[0].get("ok")
        check(ok, f"spate announce to opentracker over {url.split(':')[0]} ({err or 'answered'})",
              failures)
        rc, lines, err = spate_announce(torrent, url, "--scrape")
        ok = rc == 0 and lines and lines[0].get("ok") and "complete" in lines[0]
        check(ok, f"spate scrape of opentracker over {url.split(':')[0]} ({err or lines})",
              failures)

    # libtorrent announces; spate must see it in the peer list.
    lt_port = free_port()
    ses = lt_session(lt_port)
    empty = os.path.join(tmp, "lt-empty")
    os.makedirs(empty)
    handle = ses.add_torrent({"ti": lt.torrent_info(torrent), "save_path": empty})
    # The torrent names a placeholder tracker: point libtorrent at opentracker.
    handle.replace_trackers([lt.announce_entry(http)])
    handle.force_reannounce()
    wait_alert(ses, lt.tracker_reply_alert)
    rc, lines, err = spate_announce(torrent, http, "--port", "40002")
    peers = lines[0].get("peers", []) if lines else []
    check(f"127.0.0.1:{lt_port}" in peers,
          f"spate announce sees the peer libtorrent announced (127.0.0.1:{lt_port} in {peers})",
          failures)

    # spate announces a port this script listens on; libtorrent must dial it.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(30)
    our_port = listener.getsockname()[1]
    rc, lines, err = spate_announce(torrent, udp, "--port", str(our_port))
    check(rc == 0, f"spate announce of port {our_port} over udp ({err or 'answered'})", failures)
    handle.force_reannounce(0, -1, lt.reannounce_flags_t.ignore_min_interval)
    seen = False
    try:
        conn, _ = listener.accept()
        conn.settimeout(10)
        handshake = b""
        while len(handshake) < 48:
            chunk = conn.recv(68)
            if not chunk:
                break
            handshake += chunk
        conn.close()
        seen = handshake[28:48].hex() == info_hash
    except socket.timeout:
        pass
    listener.close()
    check(seen, "libtorrent dials the peer spate announced and asks for the torrent", failures)
    ses.remove_torrent(handle)
    del ses


def builtin_tracker_part(tmp, failures):
    proc = start([SPATE, "tracker", "--http", "127.0.0.1:0", "--udp", "127.0.0.1:0"],
                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()  # "tracker: udp 127.0.0.1:P, http 127.0.0.1:Q"
    http_port = int(line.split("http 127.0.0.1:")[1].split()[0].strip(","))
    udp_port = int(line.split("udp 127.0.0.1:")[1].split()[0].strip(","))
    url = f"http://127.0.0.1:{http_port}/announce"

    data = os.path.join(tmp, "seed")
    os.makedirs(data)
    with open(os.path.join(data, "payload.bin"), "wb") as f:
        f.write(os.urandom(3 * 1024 * 1024 + 17))
    torrent = os.path.join(tmp, "builtin.torrent")
    subprocess.run([SPATE, "create", os.path.join(data, "payload.bin"), "-o", torrent,
                    "-t", url], check=True, capture_output=True, timeout=60)

    seed_port = free_port()
    ses = lt_session(seed_port)
    handle = ses.add_torrent({"ti": lt.torrent_info(torrent), "save_path": data})
    deadline = time.monotonic() + 30
    while not handle.status().is_seeding and time.monotonic() < deadline:
        time.sleep(0.1)
    wait_alert(ses, lt.tracker_reply_alert)

    out = os.path.join(tmp, "aria2")
    os.makedirs(out)
    aria = start(["aria2c", "--dir", out, "--seed-time=0", "--enable-dht=false",
                  "--bt-enable-lpd=false", "--enable-peer-exchange=false",
                  "--file-allocation=falloc", "--interface=127.0.0.1",
                  "--listen-port", str(free_port()), "--summary-interval=0",
                  "--console-log-level=warn", torrent],
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        aria.wait(timeout=120)
    except subprocess.TimeoutExpired:
        pass
    same = False
    got = os.path.join(out, "payload.bin")
    if os.path.exists(got):
        with open(got, "rb") as a, open(os.path.join(data, "payload.bin"), "rb") as b:
            same = a.read() == b.read()
    check(aria.returncode == 0 and same,
          "aria2c downloads from a libtorrent seeder found through spate tracker", failures)
    # spate's UDP client against spate's tracker sees the libtorrent seeder.
    rc, lines, err = spate_announce(torrent, f"udp://127.0.0.1:{udp_port}", "--port", "40003")
    peers = lines[0].get("peers", []) if lines else []
    check(rc == 0 and f"127.0.0.1:{seed_port}" in peers,
          f"spate announce over udp to spate tracker sees the seeder ({err or peers})", failures)
    ses.remove_torrent(handle)
    del ses


def main():
    global SPATE
    SPATE = os.path.abspath(sys.argv[1])
    failures = []
    tmp = tempfile.mkdtemp(prefix="spate-tracker-interop-")
    try:
        payload = os.path.join(tmp, "payload.bin")
        with open(payload, "wb") as f:
            f.write(os.urandom(1024 * 1024))
        torrent = os.path.join(tmp, "ot.torrent")
        subprocess.run([SPATE, "create", payload, "-o", torrent, "-t",
                        "http://127.0.0.1:1/announce"], check=True, capture_output=True,
                       timeout=60)
        info = json.loads(subprocess.run([SPATE, "info", "--json", torrent], check=True,
                                         capture_output=True, text=True, timeout=60).stdout)
        opentracker_part(tmp, torrent, info["info_hash"], failures)
        builtin_tracker_part(tmp, failures)
    finally:
        stop_all()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"tracker interop: {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
