#!/usr/bin/python3
"""A libtorrent seeder on loopback that also dials leechers on request, for tools/bench-clients.

usage: lt_dial_seed.py TORRENT DATA_DIR LISTEN_PORT [--ready-timeout SECONDS] [--verbose]

Seeds TORRENT from DATA_DIR on 127.0.0.1:LISTEN_PORT over TCP with tools/lib/lt_seed.py's
session settings, and announces to the torrent's tracker. Prints "ready" on stdout once the
full hash check found every piece and the tracker answered an announce. Then, for every line
"dial PORT" it reads on stdin, it connects to 127.0.0.1:PORT unless already connected to it
(so repeating a line is harmless). Exits 0 at EOF on stdin, SIGTERM or
SIGINT, after announcing `stopped` (bounded wait); exits 1 with one "lt_dial_seed: ..." line
on stderr when it does not become ready within --ready-timeout seconds.

Why not lt_seed.py: transmission-cli and rtorrent never dial a 127.0.0.1 peer that a tracker
gave them (../../shared/INTEROP.md); they download only from a seeder that dials them, and
lt_seed.py has no way to be told whom to dial. Its handshake here is plaintext, since
transmission stalls about 10 s on an encrypted one from the dialling side.
"""

import argparse
import os
import select
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import lt_seed  # noqa: E402
import libtorrent as lt  # noqa: E402

STOP = False


def on_signal(signum, frame):
    del signum, frame
    global STOP
    STOP = True


def wait_until_ready(ses, handle, seconds):
    """True once the torrent seeds and a tracker answered an announce made while seeding."""
    seeding = answered = False
    deadline = time.monotonic() + seconds
    while not STOP and time.monotonic() < deadline and not (seeding and answered):
        ses.wait_for_alert(200)
        for alert in ses.pop_alerts():
            if isinstance(alert, lt.tracker_reply_alert) and seeding:
                answered = True
        if handle.status().is_seeding and not seeding:
            seeding = True
            # The first announce may have gone out before the check finished.
            handle.force_reannounce(0, -1, lt.reannounce_flags_t.ignore_min_interval)
    return seeding and answered


def dial(handle, port):
    """Connects to 127.0.0.1:port unless a connection to it is already open: a second
    connect_peer to a connected peer can make libtorrent drop one of the two as a duplicate,
    and a fresh connection costs transmission about 10 s before its first request."""
    if any(peer.ip == ("127.0.0.1", port) for peer in handle.get_peer_info()):
        return
    handle.connect_peer(("127.0.0.1", port))


def main():
    parser = argparse.ArgumentParser(description="libtorrent seeder that dials on request")
    parser.add_argument("torrent")
    parser.add_argument("data_dir")
    parser.add_argument("port", type=int)
    parser.add_argument("--ready-timeout", type=float, default=300.0)
    parser.add_argument("--verbose", action="store_true",
                        help="print peer connects, disconnects and errors on stderr")
    args = parser.parse_args()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    ses = lt_seed.make_session("127.0.0.1", args.port)
    ses.apply_settings({"out_enc_policy": lt.enc_policy.disabled,
                        "in_enc_policy": lt.enc_policy.disabled})
    if args.verbose:
        ses.apply_settings({"alert_mask": lt.alert.category_t.all_categories})
    handle = ses.add_torrent({"ti": lt.torrent_info(args.torrent), "save_path": args.data_dir,
                              "flags": lt.torrent_flags.auto_managed})
    if not wait_until_ready(ses, handle, args.ready_timeout):
        status = handle.status()
        print(f"lt_dial_seed: not ready after {args.ready_timeout} s: seeding "
              f"{status.is_seeding}, {status.num_pieces} pieces", file=sys.stderr)
        return 1
    print("ready", flush=True)

    pending = b""
    while not STOP:
        readable, _, _ = select.select([sys.stdin.buffer], [], [], 0.2)
        if readable:
            chunk = os.read(sys.stdin.fileno(), 4096)
            if not chunk:
                break  # the caller is gone: stop seeding
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                words = line.split()
                if len(words) == 2 and words[0] == b"dial" and words[1].isdigit():
                    dial(handle, int(words[1]))
        for alert in ses.pop_alerts():  # popped even when not shown: they pile up otherwise
            if args.verbose and isinstance(alert, (lt.peer_connect_alert,
                                                   lt.peer_disconnected_alert,
                                                   lt.peer_error_alert,
                                                   lt.incoming_connection_alert)):
                print(f"lt_dial_seed: {alert.message()}", file=sys.stderr, flush=True)

    # Destroying the session announces `stopped`, waiting at most stop_tracker_timeout.
    ses.remove_torrent(handle)
    del ses
    return 0


if __name__ == "__main__":
    sys.exit(main())
