#!/usr/bin/python3
"""A libtorrent seeder on loopback, for tools/quickstart, tools/bench-download and tests/interop.

usage: lt_seed.py TORRENT DATA_DIR LISTEN_PORT [--tracker URL]... [--interface ADDR]
                  [--ready-timeout SECONDS]

Seeds TORRENT from DATA_DIR (the folder that holds the torrent's file or top folder) with
libtorrent's python binding, listening on ADDR:LISTEN_PORT (127.0.0.1 by default) over TCP
only. Prints "ready" on stdout once the full hash check found every piece and a tracker has
answered an announce, then seeds until SIGTERM or SIGINT, when it announces `stopped`
(bounded wait) and exits 0. Exits 1 with one "lt_seed: ..." line on stderr when the data does
not match or no tracker answers within --ready-timeout seconds.

--tracker replaces the torrent's trackers (repeat for more tiers). Runs under Debian's
/usr/bin/python3, the only python with the libtorrent module. DHT, LSD, UPnP, NAT-PMP and uTP
are off, so nothing leaves the interface it binds.
"""

import argparse
import signal
import sys
import time

import libtorrent as lt

STOP = False


def on_signal(signum, frame):
    del signum, frame
    global STOP
    STOP = True


def make_session(interface, port):
    settings = {
        "listen_interfaces": f"{interface}:{port}",
        "outgoing_interfaces": interface,
        "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
        # uTP is far slower than TCP on loopback; every peer here speaks TCP.
        "enable_outgoing_utp": False, "enable_incoming_utp": False,
        # Every peer of a loopback swarm has the same address and differs by port.
        "allow_multiple_connections_per_ip": True,
        # Loopback trackers whose path is not /announce are refused by default.
        "ssrf_mitigation": False,
        # A seeder serving one fast leecher: keep its send buffer full.
        "send_buffer_watermark": 8 * 1024 * 1024,
        "send_buffer_low_watermark": 1024 * 1024,
        "stop_tracker_timeout": 2,
        "alert_mask": (lt.alert.category_t.status_notification
                       | lt.alert.category_t.error_notification
                       | lt.alert.category_t.tracker_notification),
    }
    return lt.session(settings)


def main():
    parser = argparse.ArgumentParser(description="libtorrent seeder on loopback")
    parser.add_argument("torrent")
    parser.add_argument("data_dir")
    parser.add_argument("port", type=int)
    parser.add_argument("--tracker", action="append", default=[])
    parser.add_argument("--interface", default="127.0.0.1")
    parser.add_argument("--ready-timeout", type=float, default=300.0)
    args = parser.parse_args()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    ses = make_session(args.interface, args.port)
    info = lt.torrent_info(args.torrent)
    handle = ses.add_torrent({"ti": info, "save_path": args.data_dir,
                              "flags": lt.torrent_flags.auto_managed})
    if args.tracker:
        handle.replace_trackers([lt.announce_entry(url) for url in args.tracker])

    # Wait for the hash check to pass and a tracker to answer while seeding, re-announcing
    # once seeding starts: the first announce may have gone out before the check finished.
    seeding = False
    answered = False
    errors = []
    deadline = time.monotonic() + args.ready_timeout
    while not STOP and time.monotonic() < deadline and not (seeding and answered):
        ses.wait_for_alert(200)
        for alert in ses.pop_alerts():
            if isinstance(alert, lt.tracker_reply_alert) and seeding:
                answered = True
            elif isinstance(alert, lt.tracker_error_alert):
                errors.append(alert.message())
        status = handle.status()
        if status.is_seeding and not seeding:
            seeding = True
            handle.force_reannounce(0, -1, lt.reannounce_flags_t.ignore_min_interval)
    if not (seeding and answered):
        status = handle.status()
        if STOP:
            reason = "stopped before it was ready"
        elif not seeding:
            error = status.errc.message() if status.errc.value() else "no error"
            reason = (f"data in {args.data_dir} does not match {args.torrent}: "
                      f"{status.num_pieces} of {info.num_pieces()} pieces "
                      f"({status.state}, {error})")
        else:
            reason = f"no tracker answered ({'; '.join(errors[-3:]) or 'no reply'})"
        print(f"lt_seed: {reason}", file=sys.stderr)
        return 1

    print("ready", flush=True)
    while not STOP:
        ses.wait_for_alert(500)
        ses.pop_alerts()

    # Destroying the session announces `stopped` so the tracker forgets this seeder, waiting
    # at most stop_tracker_timeout seconds for a dead tracker.
    ses.remove_torrent(handle)
    del ses
    return 0


if __name__ == "__main__":
    sys.exit(main())
