#!/usr/bin/python3
"""scripted_peer: a plain BEP 3 seeder whose misbehaviour is exact and repeatable.

spate's download tests need peers that break the protocol in one known way each, at a
known moment, and that say afterwards which blocks were asked of them. Real clients cannot
do that, so this tool serves a torrent's data from many loopback addresses at once, each
listener with its own mode:

  good                      handshake, bitfield, unchoke on interested, serve requests
  slow[:RATE[,DELAY]]       good, but each connection sends at most RATE bytes/s (256k),
                            and the unchoke comes DELAY seconds after the interested (0)
  corrupt[:all|PIECES]      serves 0xEE fill instead of the data (of every piece, or of
                            the listed ones, e.g. corrupt:0-3,7)
  oversized[:huge|piece]    huge: after the unchoke, a message whose length prefix is
                            0x7fffffff; piece: answers a request with a 1 MiB + 16 KiB block
  bad_bitfield[:long|short|spare|late]
                            a bitfield one byte too long or too short, with spare bits set,
                            or sent after a have and withdrawing that piece (late);
                            requests get 0xEE fill
  out_of_range[:index|begin|end]
                            answers requests with a piece message whose index is the piece
                            count, whose begin is the piece length, or which runs past it
  disconnect_mid_block[:N]  serves N whole blocks per connection (0), then half of the next
                            one, then closes
  silent[:bitfield|nothing] handshakes and sends its bitfield (or nothing at all), never
                            unchokes or answers
  never_answers             handshake, bitfield, unchoke on interested, then holds every
                            request unanswered
  wrong_size[:KIND]         answers the first request with a message of the wrong size for
                            its id, then sends nothing more: have_short (a have of 3 bytes),
                            have_long (6 bytes), choke, interested (each with a 1-byte
                            payload), request (10 bytes); unchoke: the unchoke itself has a
                            payload. Two a lenient client may take, served with good data:
                            bitfield_twice (the bitfield again before the first block) and
                            bitfield_after_unchoke (unchoke first, then the bitfield)
  unrequested[:KIND]        answers the first request with a 0xEE block of a piece not
                            asked of it (other), or at begin + 1 (unaligned), or with its data
                            and then the same block again as 0xEE (duplicate), then sends
                            nothing more; cancelled: holds every request, and answers each
                            one cancelled with 0xEE at once
  wrong_hash                answers the handshake with another info-hash, then sends its
                            bitfield and an unchoke unasked; requests get 0xEE fill

Every byte a hostile mode sends in place of payload is 0xEE, so a test can prove that none
of it reached the disk. Every request received is logged (--log) as a JSON line:
  {"event":"request","peer":"127.0.0.2:7001","remote":"127.0.0.1:5500","conn":3,
   "piece":0,"begin":16384,"length":16384,"t":...}
with other events: connect, handshake, interested, cancel, misbehave, cut, close (with
"reason", "closed by the leecher" when the other side closed first, and "pending", the
blocks asked for and never sent whole). "peer" is the listener's address as a leecher
names it. Once every listener is bound, one line goes to stdout:
  {"event":"ready","listeners":[{"peer":"127.0.0.2:40001","mode":"good"},...]}
then the tool serves until SIGTERM or SIGINT.

usage:
  scripted_peer.py --torrent F --data DIR [--listen ADDR:PORT[=MODE[:ARG]]]...
                   [--count N --base ADDR --port P [--mode MODE[:ARG]]] [--log FILE]
  scripted_peer.py --self-test
DIR holds the payload as a leecher writes it: DIR/<name>, or DIR/<name>/<path> for a
multi-file torrent. Python 3 standard library only; the wire and torrent helpers are in
peer_wire.py (re-exported here), the self-test in scripted_peer_selftest.py.
"""

import argparse
import asyncio
import collections
import hashlib
import ipaddress
import json
import os
import re
import signal
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# Re-exported: leecher_swarm.py and the download tests use them as scripted_peer.X.
from peer_wire import (  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import
    BLOCK, FILL, FIXED_LENGTHS, IN_MEMORY_LIMIT, PSTR, MSG_CHOKE, MSG_UNCHOKE, MSG_INTERESTED,
    MSG_NOT_INTERESTED, MSG_HAVE, MSG_BITFIELD, MSG_REQUEST, MSG_PIECE, MSG_CANCEL,
    BencodeError, bdecode, bencode, Torrent, Payload, count_addresses, peer_name, message,
    handshake, bitfield_bytes, EventLog, make_test_torrent, all_blocks)

MAX_LEECHER_MESSAGE = 1024 * 1024 + 13  # what we accept from the leecher
HANDSHAKE_TIMEOUT = 10.0
MODE_DEFAULTS = {"good": "", "slow": "262144", "corrupt": "all", "oversized": "huge",
                 "bad_bitfield": "long", "out_of_range": "index",
                 "disconnect_mid_block": "0", "silent": "bitfield", "never_answers": "",
                 "wrong_size": "have_short", "unrequested": "other", "wrong_hash": ""}
_EE = bytes([FILL])
# wrong_size: the message sent in place of an answer (the unchoke one in place of the unchoke).
WRONG_SIZE = {"have_short": message(MSG_HAVE, _EE * 3),
              "have_long": message(MSG_HAVE, bytes(4) + _EE * 2),
              "choke": message(MSG_CHOKE, _EE), "unchoke": message(MSG_UNCHOKE, _EE),
              "interested": message(MSG_INTERESTED, _EE),
              "request": message(MSG_REQUEST, bytes(8) + _EE * 2)}
MODE_CHOICES = {"oversized": ("huge", "piece"),
                "bad_bitfield": ("long", "short", "spare", "late"),
                "out_of_range": ("index", "begin", "end"), "silent": ("bitfield", "nothing"),
                "wrong_size": tuple(WRONG_SIZE) + ("bitfield_twice", "bitfield_after_unchoke"),
                "unrequested": ("other", "unaligned", "duplicate", "cancelled")}


def parse_pieces(text):
    """"0-3,7" -> {0, 1, 2, 3, 7}."""
    out = set()
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out.update(range(int(lo), int(hi or lo) + 1))
    return out


def parse_rate(text):
    """"256k", "2m" or bytes per second."""
    scale = {"k": 1024, "m": 1024 * 1024}.get(text[-1:].lower(), 1)
    rate = int(text[:-1] if scale > 1 else text) * scale
    if rate <= 0:
        raise ValueError("rate must be positive")
    return rate


def parse_mode(text):
    """"corrupt:0-3" -> ("corrupt", {0..3}); the argument checked for its mode."""
    name, _, arg = text.partition(":")
    if name not in MODE_DEFAULTS:
        raise ValueError(f"unknown mode {name!r}; modes: {', '.join(MODE_DEFAULTS)}")
    arg = arg or MODE_DEFAULTS[name]
    if name in MODE_CHOICES and arg not in MODE_CHOICES[name]:
        raise ValueError(f"mode {name} takes one of {MODE_CHOICES[name]}, not {arg!r}")
    if name in ("never_answers", "wrong_hash", "good") and arg:
        raise ValueError(f"mode {name} takes no argument, not {arg!r}")
    if name == "slow":
        rate, _, delay = arg.partition(",")
        arg = (parse_rate(rate), float(delay or 0))
        if not 0 <= arg[1] <= 60:
            raise ValueError(f"slow: an unchoke delay of {arg[1]} s is out of 0..60")
    elif name == "corrupt" and arg != "all":
        arg = parse_pieces(arg)
    elif name == "disconnect_mid_block":
        arg = int(arg)
    return name, arg


def parse_listen(text):
    """"127.0.0.2:7001=slow:1m" or "[::1]:0" -> (host, port, mode, arg)."""
    where, _, mode = text.partition("=")
    match = re.fullmatch(r"\[([0-9a-fA-F:]+)\]:(\d+)|([0-9.]+):(\d+)", where)
    if not match:
        raise ValueError(f"--listen wants ADDR:PORT[=MODE[:ARG]], not {text!r}")
    host = match.group(1) or match.group(3)
    ipaddress.ip_address(host)
    return (host, int(match.group(2) or match.group(4))) + parse_mode(mode or "good")


def piece_message(index, begin, data):
    return struct.pack(">IBII", 9 + len(data), MSG_PIECE, index, begin) + bytes(data)


class Connection:
    """One leecher on one listener: a reader loop here, a writer task for the blocks."""

    conn_ids = iter(range(1, 1 << 62))

    def __init__(self, listener, reader, writer):
        self.l, self.reader, self.writer = listener, reader, writer
        self.id = next(Connection.conn_ids)
        remote = writer.get_extra_info("peername") or ("?", 0)
        self.remote = peer_name(remote[0], remote[1])
        self.queue = collections.deque()
        self.wakeup = asyncio.Event()
        self.unchoked = False
        self.served = 0
        self.next_send = 0.0
        self.done = False  # a hostile mode has done its one thing: serve nothing more
        self.end_reason = None
        self.undelivered = []  # requested blocks answered with anything but their data
        self.held = []  # requests a holding mode (never_answers, unrequested:cancelled) keeps
        self.asked_pieces = set()
        self.bitfield_again = False

    def is_mode(self, mode, arg=None):
        return self.l.mode == mode and (arg is None or self.l.arg == arg)

    def log(self, event, **fields):
        self.l.log.write(event=event, peer=self.l.name, remote=self.remote, conn=self.id,
                         **fields)

    async def send(self, *parts):
        for part in parts:
            self.writer.write(part)
        await self.writer.drain()

    async def run(self):
        self.log("connect")
        hs = await asyncio.wait_for(self.reader.readexactly(68), HANDSHAKE_TIMEOUT)
        if hs[:20] != PSTR or hs[28:48] != self.l.torrent.info_hash:
            return "bad handshake or another torrent"
        self.log("handshake")
        info_hash = self.l.torrent.info_hash
        if self.is_mode("wrong_hash"):
            info_hash = hashlib.sha1(b"another torrent" + info_hash).digest()
            self.log("misbehave", what="wrong_hash", info_hash=info_hash.hex())
        await self.send(handshake(info_hash, self.l.peer_id))
        await self.send_opening()
        serving = asyncio.ensure_future(self.serve())
        try:
            return await self.read_loop()
        finally:
            serving.cancel()
            await asyncio.gather(serving, return_exceptions=True)

    async def send_opening(self):
        """What follows the handshake: the bitfield, as the mode has it."""
        count = self.l.torrent.piece_count
        if self.is_mode("silent", "nothing"):
            return
        if self.is_mode("wrong_size", "bitfield_after_unchoke"):
            self.unchoked = True
            self.log("misbehave", what="wrong_size:bitfield_after_unchoke")
            await self.send(message(MSG_UNCHOKE), message(MSG_BITFIELD, bitfield_bytes(count)))
            return
        await self.send_bitfield()
        if self.is_mode("wrong_hash"):
            self.unchoked = True
            await self.send(message(MSG_UNCHOKE))

    async def send_bitfield(self):
        count, mode, arg = self.l.torrent.piece_count, self.l.mode, self.l.arg
        field = bitfield_bytes(count)
        if mode == "bad_bitfield":
            if arg == "late":
                # A have, then a bitfield without that piece: a late bitfield that
                # withdraws what the peer announced (spate takes late bitfields that only
                # add pieces, as aria2 sends them).
                await self.send(message(MSG_HAVE, struct.pack(">I", count - 1)))
                field = bytearray(field)
                field[(count - 1) // 8] &= ~(0x80 >> ((count - 1) % 8)) & 0xFF
                field = bytes(field)
            elif arg == "long":
                field += b"\x00"
            elif arg == "short":
                field = field[:-1]
            else:
                field = field[:-1] + bytes([field[-1] | ((1 << (8 - count % 8)) - 1)])
            self.log("misbehave", what=f"bad_bitfield:{arg}", length=len(field))
        await self.send(message(MSG_BITFIELD, field))

    async def on_interested(self):
        """The leecher is interested: unchoke it (and misbehave, in some modes)."""
        self.unchoked = True
        if self.is_mode("slow") and self.l.arg[1]:
            await asyncio.sleep(self.l.arg[1])  # requests wait in the socket meanwhile
        if self.is_mode("wrong_size", "unchoke"):
            self.log("misbehave", what="wrong_size:unchoke", length=len(WRONG_SIZE["unchoke"]) - 4)
            self.done = True
            await self.send(WRONG_SIZE["unchoke"])
            return
        await self.send(message(MSG_UNCHOKE))
        if self.is_mode("oversized", "huge"):
            self.log("misbehave", what="oversized:huge", length=0x7FFFFFFF)
            self.done = True  # the stream is garbage from here on
            await self.send(struct.pack(">IB", 0x7FFFFFFF, MSG_PIECE), bytes([FILL]) * BLOCK)

    async def on_cancel(self, block):
        self.log("cancel", piece=block[0], begin=block[1], length=block[2])
        if block in self.queue:
            self.queue.remove(block)
        if block in self.held:
            self.held.remove(block)
            if self.is_mode("unrequested", "cancelled"):
                self.log("misbehave", what="unrequested:cancelled", piece=block[0],
                         begin=block[1])
                await self.send(piece_message(block[0], block[1], _EE * block[2]))

    async def read_loop(self):
        """Reads leecher messages until it closes; returns why the connection ended."""
        while True:
            try:
                head = await self.reader.readexactly(4)
            except asyncio.IncompleteReadError:
                return self.end_reason or "closed by the leecher"
            (length,) = struct.unpack(">I", head)
            if length == 0:
                continue
            if length > MAX_LEECHER_MESSAGE:
                return f"leecher sent a {length}-byte message"
            body = await self.reader.readexactly(length)
            if body[0] in (MSG_INTERESTED, MSG_NOT_INTERESTED):
                self.log("interested", interested=body[0] == MSG_INTERESTED)
            if body[0] == MSG_INTERESTED and not self.unchoked and not self.is_mode("silent"):
                await self.on_interested()
            elif body[0] in (MSG_REQUEST, MSG_CANCEL):
                if length != 13:
                    return f"leecher sent a {length}-byte request or cancel"
                block = struct.unpack(">III", body[1:])
                if body[0] == MSG_CANCEL:
                    await self.on_cancel(block)
                    continue
                index, begin, size = block
                self.log("request", piece=index, begin=begin, length=size,
                         choked=not self.unchoked)
                t = self.l.torrent
                if index >= t.piece_count or size == 0 or size > 8 * BLOCK \
                        or begin + size > t.piece_size(index):
                    return f"leecher asked for a block out of range ({index}, {begin}, {size})"
                self.asked_pieces.add(index)
                if not self.unchoked or self.done:
                    continue
                if self.is_mode("never_answers") or self.is_mode("unrequested", "cancelled"):
                    self.held.append(block)
                else:
                    self.queue.append(block)
                    self.wakeup.set()

    async def serve(self):
        while not self.done:
            await self.wakeup.wait()
            self.wakeup.clear()
            while self.queue and not self.done:
                block = self.queue[0]
                if not await self.send_block(*block):
                    self.undelivered.append(block)
                # A cancel that arrived while the block went out has removed it already.
                if self.queue and self.queue[0] == block:
                    self.queue.popleft()

    async def send_block(self, index, begin, size):
        """Answers one request as the mode says; True if the block's own data went out whole."""
        l, t = self.l, self.l.torrent
        head = struct.pack(">IBII", 9 + size, MSG_PIECE, index, begin)
        data = l.payload.read(index * t.piece_length + begin, size)
        if l.mode == "slow":
            now = asyncio.get_running_loop().time()
            if self.next_send > now:
                await asyncio.sleep(self.next_send - now)
            self.next_send = max(self.next_send, now) + (13 + size) / l.arg[0]
        elif l.mode == "corrupt" and (l.arg == "all" or index in l.arg) \
                or l.mode in ("bad_bitfield", "wrong_hash"):
            self.log("misbehave", what=l.mode, piece=index, begin=begin)
            await self.send(head, bytes([FILL]) * size)
            return False
        elif l.mode == "oversized":  # "piece": a block far larger than any request
            big = 1024 * 1024 + BLOCK
            self.log("misbehave", what="oversized:piece", piece=index, begin=begin,
                     length=9 + big)
            self.done = True
            await self.send(struct.pack(">IBII", 9 + big, MSG_PIECE, index, begin),
                            bytes([FILL]) * big)
            return False
        elif l.mode == "out_of_range":
            index, begin = {"index": (t.piece_count, begin),
                            "begin": (index, t.piece_size(index)),
                            "end": (index, t.piece_size(index) - size // 2)}[l.arg]
            self.log("misbehave", what=f"out_of_range:{l.arg}", piece=index, begin=begin)
            await self.send(struct.pack(">IBII", 9 + size, MSG_PIECE, index, begin),
                            bytes([FILL]) * size)
            return False
        elif l.mode == "disconnect_mid_block" and self.served >= l.arg:
            self.log("cut", piece=index, begin=begin, sent=size // 2)
            self.done, self.end_reason = True, "cut mid-block"
            await self.send(head, data[:size // 2])
            self.writer.close()
            return False
        elif l.mode == "wrong_size" and l.arg in WRONG_SIZE:
            self.log("misbehave", what=f"wrong_size:{l.arg}", length=len(WRONG_SIZE[l.arg]) - 4)
            self.done = True
            await self.send(WRONG_SIZE[l.arg])
            return False
        elif l.mode == "wrong_size" and l.arg == "bitfield_twice" and not self.bitfield_again:
            self.bitfield_again = True
            self.log("misbehave", what="wrong_size:bitfield_twice")
            await self.send(message(MSG_BITFIELD, bitfield_bytes(t.piece_count)))
        elif l.mode == "unrequested":
            return await self.send_unrequested(index, begin, size, head + bytes(data))
        await self.send(head, data)
        self.served += 1
        return True

    async def send_unrequested(self, index, begin, size, block):
        """unrequested: 0xEE data nobody asked for, then nothing more on this connection."""
        t, arg = self.l.torrent, self.l.arg
        self.done = True
        if arg == "duplicate":
            self.log("misbehave", what="unrequested:duplicate", piece=index, begin=begin)
            await self.send(block, piece_message(index, begin, _EE * size))
            self.served += 1
            return True
        other = [p for p in range(t.piece_count - 1, -1, -1) if p not in self.asked_pieces]
        if arg == "other" and other:
            index, begin, size = other[0], 0, min(BLOCK, t.piece_size(other[0]))
        else:  # unaligned (or every piece was asked for): the block shifted by one byte
            begin, size = begin + 1, max(1, size - 1)
        self.log("misbehave", what=f"unrequested:{arg}", piece=index, begin=begin, length=size)
        await self.send(piece_message(index, begin, _EE * size))
        return False


class Listener:
    """One address a leecher can dial, with its mode; shares the payload and the log."""

    def __init__(self, host, port, mode, arg, torrent, payload, log):
        self.host, self.port, self.mode, self.arg = host, port, mode, arg
        self.torrent, self.payload, self.log = torrent, payload, log
        self.peer_id = b"-SP0001-" + os.urandom(6).hex().encode()
        self.server, self.name, self.tasks = None, None, set()

    async def start(self):
        self.server = await asyncio.start_server(self.accept, self.host, self.port,
                                                 reuse_address=True, backlog=128)
        self.name = peer_name(self.host, self.server.sockets[0].getsockname()[1])

    async def accept(self, reader, writer):
        conn = Connection(self, reader, writer)
        self.tasks.add(asyncio.current_task())
        reason = "stopped"
        try:
            reason = await conn.run()
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError) as err:
            reason = f"{type(err).__name__}: {err}"
        except asyncio.CancelledError:
            # stop(): the connection ends here. Not raised on: asyncio's stream callback
            # would print the cancellation as an error when a task ends cancelled this way.
            reason = "stopped"
        finally:
            self.tasks.discard(asyncio.current_task())
            pending = [[i, b] for i, b, _ in conn.undelivered + list(conn.queue) + conn.held]
            conn.log("close", reason=reason, pending=pending)
            writer.close()

    async def stop(self):
        self.server.close()
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def start_listeners(specs, torrent, payload, log):
    """Binds every listener before any is announced, so a test never dials a port too early."""
    listeners = [Listener(*spec, torrent, payload, log) for spec in specs]
    for listener in listeners:
        await listener.start()
    return listeners


async def serve(args):
    torrent = Torrent.load(args.torrent)
    payload = Payload(torrent, args.data)
    bad = [] if args.no_verify else payload.bad_pieces()
    if bad:
        raise SystemExit(f"scripted_peer: {args.data} does not match the torrent "
                         f"(pieces {bad[:10]} fail their hash)")
    specs = [parse_listen(text) for text in args.listen]
    if args.count:
        specs += [(host, args.port) + parse_mode(args.mode)
                  for host in count_addresses(args.base, args.count)]
    if not specs:
        raise SystemExit("scripted_peer: nothing to listen on (--listen or --count)")
    for spec in specs:
        if spec[2] == "bad_bitfield" and spec[3] == "spare" and torrent.piece_count % 8 == 0:
            raise SystemExit("scripted_peer: bad_bitfield:spare needs a piece count that is "
                             "not a multiple of 8")
    log = EventLog(args.log)
    listeners = await start_listeners(specs, torrent, payload, log)
    print(json.dumps({"event": "ready", "listeners": [
        {"peer": l.name, "mode": l.mode} for l in listeners]}), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for listener in listeners:
        await listener.stop()


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--self-test", action="store_true")
    parser.add_argument("--torrent")
    parser.add_argument("--data")
    parser.add_argument("--listen", action="append", default=[])
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--base", default="127.0.0.2")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--mode", default="good")
    parser.add_argument("--log")
    parser.add_argument("--no-verify", action="store_true",
                        help="skip hashing the data folder at start")
    args = parser.parse_args(argv)
    if args.self_test:
        import scripted_peer_selftest  # pylint: disable=import-outside-toplevel
        return asyncio.run(scripted_peer_selftest.self_test())
    if not args.torrent or not args.data:
        parser.error("--torrent and --data are required")
    try:
        asyncio.run(serve(args))
    except (OSError, ValueError, KeyError) as err:
        print(f"scripted_peer: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
