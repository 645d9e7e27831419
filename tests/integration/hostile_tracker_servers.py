#!/usr/bin/python3
"""hostile_tracker_servers: the lying trackers of hostile_tracker_test.py, on 127.0.0.1.

HttpTracker (an HTTP server on a TCP socket, one thread per connection) and UdpTracker (a
UDP socket) answer each request with a handler. The HTTP handlers here misbehave in known
ways: reply (a status and a body), raw (any bytes), stream (a piece again and again), drip
(one byte per second); gzip_bomb builds a body that inflates to a given size; GARBAGE lists
HTTP replies that are no announce reply. For UDP (BEP 15): udp_case, connect_reply,
error_reply, and UDP_IGNORED, the replies a client must ignore.
No server thread outlives SERVER_LIFETIME; close() shuts a server down and fails the test
if the server itself broke. Standard library only.
"""

import random
import socket
import struct
import threading
import time
import traceback
import zlib

from hostile_tracker_harness import HOST, MIB, expect

SERVER_LIFETIME = 300.0  # no server thread outlives this, whatever happens


# ------------------------------------------------------------------------------------
# the HTTP tracker


class HttpTracker:
    """An HTTP server on 127.0.0.1: `handler(conn, request, tracker)` answers each request.

    request: {"line": "GET /... HTTP/1.1", "path": ..., "headers": {lower name: value}}.
    Handlers must return promptly once self.stop is set or self.deadline has passed."""

    def __init__(self, handler):
        self.handler = handler
        self.stop = threading.Event()
        self.deadline = time.monotonic() + SERVER_LIFETIME
        self.requests, self.sent, self.errors = [], 0, []
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((HOST, 0))
        self.sock.listen(64)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.threads = []
        self.acceptor = threading.Thread(target=self._accept, daemon=True)
        self.acceptor.start()

    def url(self, path="/announce"):
        return f"http://{HOST}:{self.port}{path}"

    def alive(self):
        return not self.stop.is_set() and time.monotonic() < self.deadline

    def count(self, sent):
        with self.lock:
            self.sent += sent

    def _accept(self):
        for _ in range(10000):
            if not self.alive():
                return
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _serve(self, conn):
        with conn:
            try:
                conn.settimeout(5)
                head = b""
                while b"\r\n\r\n" not in head and len(head) < 65536 and self.alive():
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    head += chunk
                text = head.split(b"\r\n\r\n", 1)[0].decode("latin-1")
                line, *rest = text.split("\r\n")
                headers = {}
                for h in rest:
                    name, _, value = h.partition(":")
                    headers[name.strip().lower()] = value.strip()
                request = {"line": line, "path": line.split(" ")[1] if " " in line else "",
                           "headers": headers}
                with self.lock:
                    self.requests.append(request)
                conn.settimeout(1)
                self.handler(conn, request, self)
            except (OSError, ValueError):
                pass
            except Exception:  # pylint: disable=broad-except
                self.errors.append(traceback.format_exc())

    def close(self):
        self.stop.set()
        self.sock.close()
        self.acceptor.join(timeout=10)
        for thread in self.threads:
            thread.join(timeout=10)
        expect(not self.errors, "the HTTP tracker itself broke: " + "".join(self.errors[:1]))


def send(conn, tracker, data):
    conn.sendall(data)
    tracker.count(len(data))


def reply(status, body, headers=""):
    """A handler answering with `status` and `body`, then closing."""
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}.get(status, "X")

    def handler(conn, _request, tracker):
        send(conn, tracker, f"HTTP/1.1 {status} {reason}\r\nContent-Length: {len(body)}\r\n"
                            f"Connection: close\r\n{headers}\r\n".encode() + body)
    return handler


def raw(data):
    def handler(conn, _request, tracker):
        send(conn, tracker, data)
    return handler


def stream(head, piece, limit):
    """Sends `head`, then `piece` again and again until the client goes, the server stops,
    or `limit` bytes were sent."""
    def handler(conn, _request, tracker):
        send(conn, tracker, head)
        total = 0
        for _ in range(2 * limit // len(piece) + 1000):
            if total >= limit or not tracker.alive():
                return
            try:
                send(conn, tracker, piece)
            except socket.timeout:
                continue  # the client is not reading; it may still close
            total += len(piece)
    return handler


def drip(data, head=b""):
    """Sends `head`, then `data` one byte per second."""
    def handler(conn, _request, tracker):
        send(conn, tracker, head)
        for i in range(len(data)):
            if not tracker.alive():
                return
            send(conn, tracker, data[i:i + 1])
            tracker.stop.wait(1.0)
    return handler


def with_http(handler, body):
    tracker = HttpTracker(handler)
    try:
        body(tracker)
    finally:
        tracker.close()


OK_BODY = b"d8:intervali1800e5:peers0:e"


def failure(reason):
    return b"d14:failure reason%d:%se" % (len(reason), reason)


def gzip_bomb(inflated_mib):
    """A gzip member of a bencoded dict padded with zeros to `inflated_mib` MiB.

    Each MiB of zeros is deflated once after a full flush, which resets the compressor,
    so every later MiB deflates to the same bytes: repeated, not recomputed."""
    prefix = b"d8:intervali1800e7:padding%d:" % (inflated_mib * MIB)
    suffix = b"5:peers0:e"
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    parts = [comp.compress(prefix) + comp.flush(zlib.Z_FULL_FLUSH)]
    zeros = bytes(MIB)
    one = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)
    again = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)
    expect(one == again, "zlib does not deflate a MiB of zeros the same way twice")
    parts.append(one * inflated_mib)
    parts.append(comp.compress(suffix) + comp.flush(zlib.Z_FINISH))
    crc = zlib.crc32(prefix)
    for _ in range(inflated_mib):
        crc = zlib.crc32(zeros, crc)
    crc = zlib.crc32(suffix, crc)
    size = len(prefix) + inflated_mib * MIB + len(suffix)
    return (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + b"".join(parts)
            + struct.pack("<II", crc, size & 0xFFFFFFFF))


GARBAGE = [
    # name, handler, pattern of the error
    ("not bencode", reply(200, b"hello, tracker here"), r"not valid bencode"),
    ("html page", reply(200, b"<!DOCTYPE html><html><body><h1>Welcome</h1></body></html>",
                        "Content-Type: text/html\r\n"), r"not valid bencode"),
    ("empty body", reply(200, b""), r"not valid bencode"),
    ("bencoded list", reply(200, b"l8:intervali1800ee"), r"not a bencoded dictionary"),
    ("peers of 7 bytes", reply(200, b"d8:intervali1800e5:peers7:abcdefge"),
     r"whole number of 6"),
    ("peers an integer", reply(200, b"d8:intervali1800e5:peersi7ee"), r"wrong type"),
    ("no interval", reply(200, b"d5:peers0:e"), r"no 'interval'"),
    ("negative interval", reply(200, b"d8:intervali-5e5:peers0:e"), r"interval"),
    ("cut bencode", reply(200, b"d8:intervali1800e5:peers60:abc"), r"not valid bencode"),
    ("deep nesting", reply(200, b"d8:intervali1800e5:peers0:1:x" + b"l" * 900000),
     r"not valid bencode|nest|deep"),
    ("trailing bytes", reply(200, OK_BODY + b"<html>"), r"not valid bencode"),
    ("no reply", raw(b""), r"closed the connection without replying"),
    ("body cut short", raw(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + OK_BODY),
     r"ended early"),
    ("not HTTP", raw(b"SSH-2.0-OpenSSH_9.2\r\n\r\n"), r"malformed HTTP reply"),
    ("bad status line", raw(b"HTTP/1.1 OK\r\nContent-Length: 27\r\n\r\n" + OK_BODY),
     r"malformed HTTP reply"),
    ("bad content-length", raw(b"HTTP/1.1 200 OK\r\nContent-Length: -27\r\n\r\n" + OK_BODY),
     r"malformed HTTP reply"),
]


# ------------------------------------------------------------------------------------
# the UDP tracker


class UdpTracker:
    """A UDP socket on 127.0.0.1: `handler(datagram, tracker)` returns the replies to send,
    as (bytes, socket or None for the tracker's own)."""

    def __init__(self, handler):
        self.handler = handler
        self.stop = threading.Event()
        self.deadline = time.monotonic() + SERVER_LIFETIME
        self.received, self.errors = [], []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((HOST, 0))
        self.sock.settimeout(0.1)
        self.other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # another port
        self.other.bind((HOST, 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def url(self):
        return f"udp://{HOST}:{self.port}/announce"

    def _serve(self):
        for _ in range(100000):
            if self.stop.is_set() or time.monotonic() > self.deadline:
                return
            try:
                data, addr = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            self.received.append(data)
            try:
                for out, via in self.handler(data, self):
                    (via or self.sock).sendto(out, addr)
            except OSError:
                pass
            except Exception:  # pylint: disable=broad-except
                self.errors.append(traceback.format_exc())

    def close(self):
        self.stop.set()
        self.thread.join(timeout=10)
        self.sock.close()
        self.other.close()
        expect(not self.errors, "the UDP tracker itself broke: " + "".join(self.errors[:1]))


UDP_PROTOCOL_ID = 0x41727101980
CONNECTION_ID = 0x1122334455667788


def udp_request(data):
    """(action, transaction id) of a client datagram, or None."""
    if len(data) < 16:
        return None
    action, txn = struct.unpack(">II", data[8:16])
    return action, txn


def connect_reply(txn):
    return struct.pack(">IIQ", 0, txn, CONNECTION_ID)


def error_reply(txn, text):
    return struct.pack(">II", 3, txn) + text


def udp_case(on_connect, on_announce=None):
    """A handler answering connects with on_connect(txn, tracker) and announces with
    on_announce(txn, tracker)."""
    def handler(data, tracker):
        got = udp_request(data)
        if got is None:
            return []
        action, txn = got
        if action == 0:
            return on_connect(txn, tracker)
        if action == 1 and on_announce is not None:
            return on_announce(txn, tracker)
        return []
    return handler


UDP_RNG = random.Random(15)
UDP_IGNORED = [
    ("random bytes", udp_case(lambda txn, t: [(UDP_RNG.randbytes(n), None)
                                              for n in (0, 3, 16, 20, 98, 1500)])),
    ("wrong transaction id", udp_case(lambda txn, t: [(connect_reply(txn ^ 1), None)])),
    ("short packets", udp_case(lambda txn, t: [(connect_reply(txn)[:n], None)
                                               for n in (4, 8, 12, 15)])),
    ("reply from another port", udp_case(lambda txn, t: [(connect_reply(txn), t.other)])),
    ("announce action to a connect", udp_case(
        lambda txn, t: [(struct.pack(">IIIII", 1, txn, 1800, 0, 0), None)])),
    ("flood of 3000 wrong replies", udp_case(
        lambda txn, t: [(connect_reply(txn ^ (i + 1)), None) for i in range(3000)])),
    ("announce reply with peers of 7 bytes", udp_case(
        lambda txn, t: [(connect_reply(txn), None)],
        lambda txn, t: [(struct.pack(">IIIII", 1, txn, 1800, 0, 1) + b"abcdefg", None)])),
]
