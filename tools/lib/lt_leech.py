#!/usr/bin/python3
"""Timed libtorrent leechers that dial one seeder directly, for tools/bench-seed.

usage: lt_leech.py TORRENT OUT_DIR SEEDER_PORT [--leechers N] [--timeout SECONDS]
                   [--interface ADDR]

Starts N libtorrent sessions (default 1) in this one process, each downloading TORRENT into
its own empty folder OUT_DIR/leecher-I, and has each dial ADDR:SEEDER_PORT (127.0.0.1 by
default) with connect_peer. The torrent should name no tracker: then the seeder is the only
peer any leecher knows of, so the figure is that seeder's alone. Prints one JSON object on
stdout and exits 0 when every leecher finished, 1 otherwise (the object says how far each got):

  {"connect": T, "leechers": [{"first_byte": T, "finished": T, "bytes": B}, ...],
   "cpu": SECONDS, "ok": true}

Times T are CLOCK_MONOTONIC seconds (time.monotonic(), which is system-wide on Linux, so the
caller can set them against its own clock). "connect" is taken just before the first
connect_peer; "first_byte" is when the leecher's payload count was first seen above zero
(polled every few ms); "finished" is when its torrent_finished_alert was popped. "cpu" is this
process's user + system seconds (every libtorrent thread) from "connect" to the last finish.

Runs under Debian's /usr/bin/python3, the only python with the libtorrent module. DHT, LSD,
UPnP, NAT-PMP and uTP are off; the handshake is plaintext, as in tests/interop/seeders.py's
lt-leech, so every seeder gets the same opening.
"""

import argparse
import json
import os
import resource
import sys
import time

import libtorrent as lt


def cpu_seconds():
    ru = resource.getrusage(resource.RUSAGE_SELF)  # all threads of this process
    return ru.ru_utime + ru.ru_stime


def make_session(interface):
    return lt.session({
        # Port 0: the kernel picks a free one, so N sessions never race for a port.
        "listen_interfaces": f"{interface}:0", "outgoing_interfaces": interface,
        "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
        # uTP is far slower than TCP on loopback.
        "enable_outgoing_utp": False, "enable_incoming_utp": False,
        # The N leechers and the seeder all share one address.
        "allow_multiple_connections_per_ip": True,
        "out_enc_policy": lt.enc_policy.disabled, "in_enc_policy": lt.enc_policy.disabled,
        "alert_mask": lt.alert.category_t.status_notification
        | lt.alert.category_t.error_notification,
    })


def main():
    parser = argparse.ArgumentParser(description="timed libtorrent leechers for bench-seed")
    parser.add_argument("torrent")
    parser.add_argument("out_dir")
    parser.add_argument("port", type=int)
    parser.add_argument("--leechers", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--interface", default="127.0.0.1")
    args = parser.parse_args()

    info = lt.torrent_info(args.torrent)
    sessions, handles = [], []
    for i in range(args.leechers):
        folder = os.path.join(args.out_dir, f"leecher-{i}")
        os.makedirs(folder)
        ses = make_session(args.interface)
        sessions.append(ses)
        handles.append(ses.add_torrent({"ti": info, "save_path": folder}))

    # The seeder is ready before this process starts: dial at once and start the clocks.
    cpu0 = cpu_seconds()
    connect = time.monotonic()
    for handle in handles:
        handle.connect_peer((args.interface, args.port))
    first_byte = [None] * args.leechers
    finished = [None] * args.leechers
    errors = []
    deadline = connect + args.timeout
    redial_at = connect + 5
    while None in finished and time.monotonic() < deadline:
        # A short wait on each session in turn: a finish is seen within a few ms, which is
        # what "finished" is worth next to transfers of seconds.
        for i, ses in enumerate(sessions):
            ses.wait_for_alert(max(1, 10 // args.leechers))
            for alert in ses.pop_alerts():
                if isinstance(alert, lt.torrent_finished_alert) and finished[i] is None:
                    finished[i] = time.monotonic()
                elif isinstance(alert, lt.peer_error_alert | lt.peer_disconnected_alert):
                    errors.append(alert.message())
            if first_byte[i] is None and handles[i].status().total_payload_download > 0:
                first_byte[i] = time.monotonic()
        # A seeder that dropped the first connection gets one more dial every 5 s; a fast
        # seeder never sees it (it is already connected, and libtorrent skips a known peer).
        now = time.monotonic()
        if now >= redial_at:
            redial_at = now + 5
            for i, handle in enumerate(handles):
                if finished[i] is None and handle.status().num_peers == 0:
                    handle.connect_peer((args.interface, args.port))
    cpu = cpu_seconds() - cpu0

    ok = None not in finished
    report = {"connect": connect, "cpu": cpu, "ok": ok, "leechers": []}
    for i, handle in enumerate(handles):
        status = handle.status()
        report["leechers"].append({"first_byte": first_byte[i], "finished": finished[i],
                                   "bytes": status.total_wanted_done,
                                   "pieces": status.num_pieces})
    if not ok:
        report["errors"] = errors[-5:]
    # Removing the torrents and destroying the sessions close the files before the caller
    # compares them; only then is the report printed.
    for ses, handle in zip(sessions, handles):
        ses.remove_torrent(handle)
    del ses, handle
    handles.clear()
    sessions.clear()
    print(json.dumps(report), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
