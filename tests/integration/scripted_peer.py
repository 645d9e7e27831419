#!/usr/bin/python3
"""scripted_peer: a plain BEP 3 seeder whose misbehaviour is exact and repeatable.

spate's download tests need peers that break the protocol in one known way each, at a
known moment, and that say afterwards which blocks were asked of them. Real clients cannot
do that, so this tool serves a torrent's data from many loopback addresses at once, each
listener with its own mode:

  good                      handshake, bitfield, unchoke on interested, serve requests
  slow[:RATE]               good, but each connection sends at most RATE bytes/s (256k)
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
  silent                    handshakes and sends its bitfield, never unchokes or answers

Every byte a hostile mode sends in place of payload is 0xEE, so a test can prove that none
of it reached the disk. Every request received is logged (--log) as a JSON line:
  {"event":"request","peer":"127.0.0.2:7001","remote":"127.0.0.1:5500","conn":3,
   "piece":0,"begin":16384,"length":16384,"t":...}
with other events: connect, handshake, cancel, misbehave, cut, close (with "pending", the
blocks asked for and never sent whole). "peer" is the listener's address as a leecher
names it. Once every listener is bound, one line goes to stdout:
  {"event":"ready","listeners":[{"peer":"127.0.0.2:40001","mode":"good"},...]}
then the tool serves until SIGTERM or SIGINT.

usage:
  scripted_peer.py --torrent F --data DIR [--listen ADDR:PORT[=MODE[:ARG]]]...
                   [--count N --base ADDR --port P [--mode MODE[:ARG]]] [--log FILE]
  scripted_peer.py --self-test
DIR holds the payload as a leecher writes it: DIR/<name>, or DIR/<name>/<path> for a
multi-file torrent. Python 3 standard library only.
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
import time

BLOCK = 16384
FILL = 0xEE
IN_MEMORY_LIMIT = 512 * 1024 * 1024  # payloads up to this are read once into memory
MAX_LEECHER_MESSAGE = 1024 * 1024 + 13  # what we accept from the leecher
HANDSHAKE_TIMEOUT = 10.0
PSTR = b"\x13BitTorrent protocol"
MODE_DEFAULTS = {"good": "", "slow": "262144", "corrupt": "all", "oversized": "huge",
                 "bad_bitfield": "long", "out_of_range": "index",
                 "disconnect_mid_block": "0", "silent": ""}
MSG_CHOKE, MSG_UNCHOKE, MSG_INTERESTED, MSG_NOT_INTERESTED = 0, 1, 2, 3
MSG_HAVE, MSG_BITFIELD, MSG_REQUEST, MSG_PIECE, MSG_CANCEL = 4, 5, 6, 7, 8


class BencodeError(ValueError):
    """Malformed bencode: the message names the first problem found."""


def bdecode(data, max_depth=64):
    """Decodes one bencoded value that must fill `data`.

    Returns (value, info_span): info_span is the (start, end) of the top-level "info"
    value, because the info-hash is SHA-1 over those raw bytes as found, not re-encoded.
    No length read from the input is trusted before it is checked against the input.
    """
    spans = []

    def parse(i, depth):
        if depth > max_depth:
            raise BencodeError(f"nested deeper than {max_depth} at byte {i}")
        if i >= len(data):
            raise BencodeError("truncated")
        c = data[i]
        if c == ord("i"):
            end = data.find(b"e", i + 1, i + 32)
            if end < 0 or not re.fullmatch(rb"-?(0|[1-9][0-9]*)", data[i + 1:end]) \
                    or data[i + 1:end] == b"-0":
                raise BencodeError(f"bad integer at byte {i}")
            return int(data[i + 1:end]), end + 1
        if c in (ord("l"), ord("d")):
            is_dict, i = c == ord("d"), i + 1
            out = {} if is_dict else []
            while True:
                if i >= len(data):
                    raise BencodeError("truncated list or dictionary")
                if data[i] == ord("e"):
                    return out, i + 1
                if not is_dict:
                    value, i = parse(i, depth + 1)
                    out.append(value)
                    continue
                key, i = parse(i, depth + 1)
                if not isinstance(key, bytes) or key in out:
                    raise BencodeError(f"bad or repeated dictionary key before byte {i}")
                start = i
                out[key], i = parse(i, depth + 1)
                if depth == 0 and key == b"info":
                    spans.append((start, i))
        if ord("0") <= c <= ord("9"):
            colon = data.find(b":", i, i + 12)
            digits = data[i:colon] if colon > 0 else b""
            if not digits.isdigit() or (len(digits) > 1 and digits[:1] == b"0"):
                raise BencodeError(f"bad string length at byte {i}")
            end = colon + 1 + int(digits)
            if end > len(data):
                raise BencodeError(f"string at byte {i} runs past the end")
            return bytes(data[colon + 1:end]), end
        raise BencodeError(f"unexpected byte {c:#04x} at {i}")

    value, end = parse(0, 0)
    if end != len(data):
        raise BencodeError(f"{len(data) - end} trailing bytes")
    return value, (spans[0] if spans else None)


def bencode(value):
    """Encodes ints, bytes, str, lists and dicts (keys sorted), for torrents the tests make."""
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, list):
        return b"l" + b"".join(bencode(v) for v in value) + b"e"
    items = sorted((k.encode() if isinstance(k, str) else k, v) for k, v in value.items())
    return b"d" + b"".join(bencode(k) + bencode(v) for k, v in items) + b"e"


class Torrent:
    """The parts of a v1 .torrent a seeder needs: info-hash, geometry, piece hashes, files."""

    def __init__(self, raw):
        self.raw = bytes(raw)
        meta, span = bdecode(raw)
        if not isinstance(meta, dict) or span is None or not isinstance(meta[b"info"], dict):
            raise BencodeError("no info dictionary")
        info = meta[b"info"]
        self.info_hash = hashlib.sha1(raw[span[0]:span[1]]).digest()
        self.name = info[b"name"].decode()
        self.piece_length = info[b"piece length"]
        hashes = info[b"pieces"]
        self.hashes = [hashes[i:i + 20] for i in range(0, len(hashes), 20)]
        if b"files" in info:
            self.files = [(os.path.join(self.name, *(p.decode() for p in f[b"path"])),
                           f[b"length"], b"p" in f.get(b"attr", b"")) for f in info[b"files"]]
        else:
            self.files = [(self.name, info[b"length"], False)]
        self.total = sum(f[1] for f in self.files)
        self.piece_count = len(self.hashes)
        if self.piece_length <= 0 or -(-self.total // self.piece_length) != self.piece_count:
            raise BencodeError("piece count does not match the total size")

    @classmethod
    def load(cls, path):
        with open(path, "rb") as f:
            return cls(f.read())

    def piece_size(self, index):
        return min(self.piece_length, self.total - index * self.piece_length)


class Payload:
    """The torrent's bytes in stream order, with pad files as zeros.

    Read once into memory when it fits, so serving a block is a memoryview slice; larger
    payloads are read per block with pread."""

    def __init__(self, torrent, data_dir):
        self.torrent, self.data, self.files = torrent, None, []
        offset = 0
        for rel, length, pad in torrent.files:
            path = None if pad else os.path.join(data_dir, rel)
            if path is not None and os.path.getsize(path) < length:
                raise OSError(f"{path}: shorter than the torrent's {length} bytes")
            self.files.append((offset, length, path))
            offset += length
        if torrent.total <= IN_MEMORY_LIMIT:
            buf = bytearray(torrent.total)
            for start, length, path in self.files:
                if path is not None and length:
                    with open(path, "rb") as f:
                        buf[start:start + length] = f.read(length)
            self.data = memoryview(bytes(buf))

    def read(self, offset, length):
        if self.data is not None:
            return self.data[offset:offset + length]
        out = bytearray()
        for start, size, path in self.files:
            lo, hi = max(offset, start), min(offset + length, start + size)
            if lo >= hi:
                continue
            if path is None:
                out += bytes(hi - lo)
            else:
                with open(path, "rb") as f:
                    out += os.pread(f.fileno(), hi - lo, lo - start)
        return memoryview(bytes(out))

    def bad_pieces(self):
        """Pieces whose data does not match the torrent: a test set up wrongly, not a peer."""
        t = self.torrent
        return [i for i in range(t.piece_count)
                if hashlib.sha1(self.read(i * t.piece_length, t.piece_size(i))).digest()
                != t.hashes[i]]


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
    choices = {"oversized": ("huge", "piece"), "bad_bitfield": ("long", "short", "spare", "late"),
               "out_of_range": ("index", "begin", "end")}
    if name in choices and arg not in choices[name]:
        raise ValueError(f"mode {name} takes one of {choices[name]}, not {arg!r}")
    if name == "slow":
        arg = parse_rate(arg)
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


def count_addresses(base, count):
    """`count` loopback addresses from `base` upward, skipping x.y.z.0 and x.y.z.255 so that
    no address looks like a network or broadcast one (127.0.0.2 .. 127.0.0.254, 127.0.1.1 ..)."""
    out, addr = [], ipaddress.IPv4Address(base)
    for _ in range(count * 2 + 4):
        if len(out) == count:
            break
        if addr not in ipaddress.IPv4Network("127.0.0.0/8"):
            raise ValueError(f"{count} addresses from {base} leave 127.0.0.0/8")
        if int(addr) & 0xFF not in (0, 255):
            out.append(str(addr))
        addr += 1
    return out


def peer_name(host, port):
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def message(msg_id, payload=b""):
    return struct.pack(">IB", 1 + len(payload), msg_id) + payload


def handshake(info_hash, peer_id):
    return PSTR + bytes(8) + info_hash + peer_id


def bitfield_bytes(count):
    """All pieces had, peer-wire order (piece 0 is the high bit of byte 0)."""
    out = bytearray(b"\xff" * (count // 8))
    if count % 8:
        out.append((0xFF << (8 - count % 8)) & 0xFF)
    return bytes(out)


class EventLog:
    """JSON lines, flushed per line so a test can read them while the tool runs."""

    def __init__(self, path):
        self.file = open(path, "a", encoding="utf-8") if path else None

    def write(self, **fields):
        if self.file:
            fields["t"] = round(time.monotonic(), 6)
            self.file.write(json.dumps(fields) + "\n")
            self.file.flush()


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
        await self.send(handshake(self.l.torrent.info_hash, self.l.peer_id))
        await self.send_bitfield()
        serving = asyncio.ensure_future(self.serve())
        try:
            return await self.read_loop()
        finally:
            serving.cancel()
            await asyncio.gather(serving, return_exceptions=True)

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
            if body[0] == MSG_INTERESTED and not self.unchoked and self.l.mode != "silent":
                self.unchoked = True
                await self.send(message(MSG_UNCHOKE))
                if self.l.mode == "oversized" and self.l.arg == "huge":
                    self.log("misbehave", what="oversized:huge", length=0x7FFFFFFF)
                    self.done = True  # the stream is garbage from here on
                    await self.send(struct.pack(">IB", 0x7FFFFFFF, MSG_PIECE),
                                    bytes([FILL]) * BLOCK)
            elif body[0] in (MSG_REQUEST, MSG_CANCEL):
                if length != 13:
                    return f"leecher sent a {length}-byte request or cancel"
                index, begin, size = struct.unpack(">III", body[1:])
                if body[0] == MSG_CANCEL:
                    self.log("cancel", piece=index, begin=begin, length=size)
                    if (index, begin, size) in self.queue:
                        self.queue.remove((index, begin, size))
                    continue
                self.log("request", piece=index, begin=begin, length=size,
                         choked=not self.unchoked)
                t = self.l.torrent
                if index >= t.piece_count or size == 0 or size > 8 * BLOCK \
                        or begin + size > t.piece_size(index):
                    return f"leecher asked for a block out of range ({index}, {begin}, {size})"
                if self.unchoked and not self.done:
                    self.queue.append((index, begin, size))
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
            self.next_send = max(self.next_send, now) + (13 + size) / l.arg
        elif l.mode == "corrupt" and (l.arg == "all" or index in l.arg) \
                or l.mode == "bad_bitfield":
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
        await self.send(head, data)
        self.served += 1
        return True


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
        finally:
            self.tasks.discard(asyncio.current_task())
            pending = [[i, b] for i, b, _ in conn.undelivered + list(conn.queue)]
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

async def leech(addr, torrent, blocks, got, info_hash=None):
    """The self-test's tiny leecher: handshake, interested, asks for `blocks` once unchoked,
    and records in `got` what came back and the first violation a strict client would see.
    `got` is filled in place so that a caller's timeout keeps what arrived before it."""
    host, port = addr.rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(handshake(info_hash or torrent.info_hash, b"-PY0001-" + bytes(12))
                     + message(MSG_INTERESTED))
        got["handshake"] = (await reader.readexactly(68))[28:48] == torrent.info_hash
        asked, first = {}, True
        while len(got["blocks"]) < len(blocks):
            (length,) = struct.unpack(">I", await reader.readexactly(4))
            if length > BLOCK + 13:
                got["error"] = f"oversized message ({length} bytes)"
                return
            body = await reader.readexactly(length) if length else b"\0"
            if body[0] == MSG_BITFIELD:
                want = bitfield_bytes(torrent.piece_count)
                if not first or len(body) - 1 != len(want) or body[-1] & ~want[-1]:
                    got["error"] = "bad bitfield"
                    return
                got["bitfield"] = body[1:]
            elif body[0] == MSG_UNCHOKE and not got["unchoked"]:
                got["unchoked"] = True
                asked = {(i, b): n for i, b, n in blocks}
                writer.write(b"".join(message(MSG_REQUEST, struct.pack(">III", *blk))
                                      for blk in blocks))
            elif body[0] == MSG_PIECE:
                index, begin = struct.unpack(">II", body[1:9])
                if index >= torrent.piece_count or \
                        begin + length - 9 > torrent.piece_size(index):
                    got["error"] = f"piece out of range ({index}, {begin})"
                    return
                if asked.get((index, begin)) != length - 9:
                    got["error"] = f"unrequested block ({index}, {begin})"
                    return
                got["blocks"][(index, begin)] = body[9:]
            first = False
    except asyncio.IncompleteReadError as err:
        got["error"] = f"closed after {len(err.partial)} bytes of a message"
    finally:
        writer.close()


async def leech_for(addr, torrent, blocks, seconds=5.0, info_hash=None):
    got = {"handshake": False, "bitfield": None, "unchoked": False, "blocks": {},
           "error": None}
    try:
        await asyncio.wait_for(leech(addr, torrent, blocks, got, info_hash), seconds)
    except asyncio.TimeoutError:
        got["error"] = "timeout"
    return got


def make_test_torrent(root, name, sizes, piece_length=32768):
    """Writes files of deterministic bytes (a size of -N is an N-byte BEP 47 pad file) and
    returns their Torrent, hashed here, independently of the code under test."""
    stream, files = bytearray(), []
    for n, size in enumerate(sizes):
        data = bytes(abs(size)) if size < 0 else bytes((i * 7 + n) % 251 for i in range(size))
        stream += data
        if size < 0:
            files.append({"attr": "p", "length": -size, "path": [".pad", str(-size)]})
            continue
        rel = os.path.join(name, f"f{n}.bin") if len(sizes) > 1 else name
        os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
        with open(os.path.join(root, rel), "wb") as f:
            f.write(data)
        files.append({"length": size, "path": [f"f{n}.bin"]})
    info = {"name": name, "piece length": piece_length, "pieces": b"".join(
        hashlib.sha1(stream[i:i + piece_length]).digest()
        for i in range(0, len(stream), piece_length))}
    info.update({"files": files} if len(sizes) > 1 else {"length": sizes[0]})
    return Torrent(bencode({"info": info})), bytes(stream)


def all_blocks(torrent, pieces=None):
    return [(i, b, min(BLOCK, torrent.piece_size(i) - b))
            for i in (range(torrent.piece_count) if pieces is None else pieces)
            for b in range(0, torrent.piece_size(i), BLOCK)]


async def self_test():
    """Checks the codec helpers, then every mode against the tiny leecher above. Exit 0/1."""
    import tempfile  # pylint: disable=import-outside-toplevel
    failures = []

    def check(ok, what):
        print(("ok   " if ok else "FAIL ") + what, flush=True)
        if not ok:
            failures.append(what)

    for bad in (b"4:ab", b"i01e", b"i-0e", b"i1ex", b"d1:ai1e", b"di1ei1ee", b"l" * 80 + b"e" * 80,
                b"d1:ai1e1:ai2ee", b"99999999999999:x", b"x"):
        try:
            bdecode(bad)
            check(False, f"bdecode refuses {bad[:20]!r}")
        except BencodeError:
            pass
    check(bdecode(b"d4:infod1:ai-3eee") == ({b"info": {b"a": -3}}, (7, 16)),
          "bdecode finds the raw span of info")
    addrs = count_addresses("127.0.0.2", 300)
    check(len(set(addrs)) == 300 and addrs[0] == "127.0.0.2" and "127.0.1.1" in addrs and
          not any(a.endswith((".0", ".255")) for a in addrs), "300 addresses span 127.0.x.y")
    check(parse_listen("127.0.0.3:7001=corrupt:0-2,5") == ("127.0.0.3", 7001, "corrupt",
                                                           {0, 1, 2, 5}), "parse_listen")
    for bad in ("127.0.0.3", "127.0.0.3:1=nasty", "127.0.0.3:1=oversized:tiny"):
        try:
            parse_listen(bad)
            check(False, f"parse_listen refuses {bad}")
        except ValueError:
            pass

    modes = ["good", "slow:128k", "corrupt:1", "oversized:huge", "oversized:piece",
             "bad_bitfield:long", "bad_bitfield:short", "bad_bitfield:spare",
             "bad_bitfield:late", "out_of_range:index", "out_of_range:begin",
             "out_of_range:end", "disconnect_mid_block:1", "silent", "good"]
    with tempfile.TemporaryDirectory(prefix="scripted-peer-") as tmp:
        single, stream = make_test_torrent(tmp, "single.bin", [5 * 32768 + 1000])
        multi, mstream = make_test_torrent(tmp, "multi", [40000, -25536, 50000, 7])
        log_path = os.path.join(tmp, "log.jsonl")
        log = EventLog(log_path)
        specs = [(f"127.0.0.{n + 2}", 0) + parse_mode(m) for n, m in enumerate(modes)]
        listeners = await start_listeners(specs[:-1], single, Payload(single, tmp), log)
        listeners += await start_listeners(specs[-1:], multi, Payload(multi, tmp), log)
        at = {f"{l.mode}:{l.arg}" if l.mode != "good" else l.torrent.name: l.name
              for l in listeners}
        try:
            for name, torrent, data in (("single.bin", single, stream),
                                        ("multi", multi, mstream)):
                got = await leech_for(at[name], torrent, all_blocks(torrent))
                joined = b"".join(got["blocks"].get(k[:2], b"") for k in all_blocks(torrent))
                check(got["error"] is None and joined == data, f"good {name}: all data "
                      f"({got['error']})")
            started = time.monotonic()
            got = await leech_for(at["slow:131072"], single, all_blocks(single, [0, 1, 2]))
            # A lower bound only: the limiter makes it certain whatever the load.
            check(got["error"] is None and time.monotonic() - started >= 4 * BLOCK / 131072,
                  "slow: 6 blocks at 128 KiB/s take at least 4 blocks' time")
            got = await leech_for(at["corrupt:{1}"], single, all_blocks(single, [0, 1]))
            check(got["error"] is None and got["blocks"][(0, 0)] == stream[:BLOCK] and
                  got["blocks"][(1, 0)] == bytes([FILL]) * BLOCK, "corrupt:1 fills piece 1")
            for mode, want in (("oversized:huge", "oversized"), ("oversized:piece", "oversized"),
                               ("bad_bitfield:long", "bad bitfield"),
                               ("bad_bitfield:short", "bad bitfield"),
                               ("bad_bitfield:spare", "bad bitfield"),
                               ("bad_bitfield:late", "bad bitfield"),
                               ("out_of_range:index", "out of range"),
                               ("out_of_range:begin", "out of range"),
                               ("out_of_range:end", "out of range")):
                got = await leech_for(at[mode], single, all_blocks(single, [2]))
                check(want in (got["error"] or ""), f"{mode}: leecher sees {got['error']}")
            got = await leech_for(at["disconnect_mid_block:1"], single, all_blocks(single, [0]))
            check(len(got["blocks"]) == 1 and "closed after" in (got["error"] or ""),
                  f"disconnect_mid_block:1 sends one block, then half ({got['error']})")
            got = await leech_for(at["silent:"], single, all_blocks(single, [0]), 0.5)
            check(got["handshake"] and got["bitfield"] and not got["unchoked"],
                  "silent: handshake and bitfield, no unchoke")
            got = await leech_for(at["single.bin"], single, [], info_hash=bytes(20))
            check(not got["handshake"] and "closed" in (got["error"] or ""),
                  "another torrent's info-hash is refused")
        finally:
            for listener in listeners:
                await listener.stop()
        with open(log_path, encoding="utf-8") as f:
            events = [json.loads(line) for line in f]
        requests = {(e["piece"], e["begin"]) for e in events
                    if e["event"] == "request" and e["peer"] == at["single.bin"]}
        check(requests == {k[:2] for k in all_blocks(single)}, "log holds every request")
        cut = [e for e in events if e["peer"] == at["disconnect_mid_block:1"]]
        check(any(e["event"] == "cut" and e["begin"] == BLOCK for e in cut) and
              any(e["event"] == "close" and [0, BLOCK] in e["pending"] for e in cut),
              "log holds the cut block, pending at close")
        await self_test_process(tmp, single, stream, check)
    print(f"{len(failures)} failures")
    return 1 if failures else 0


async def self_test_process(tmp, torrent, data, check):
    """Runs the tool as the tests do: a child process, the ready line, SIGTERM, exit 0."""
    import subprocess  # pylint: disable=import-outside-toplevel
    path = os.path.join(tmp, "single.torrent")
    with open(path, "wb") as f:
        f.write(torrent.raw)
    proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--torrent", path,
                             "--data", tmp, "--listen", "127.0.0.2:0=silent", "--count", "3",
                             "--base", "127.0.0.254"], stdout=subprocess.PIPE)
    try:
        line = await asyncio.wait_for(
            asyncio.get_running_loop().run_in_executor(None, proc.stdout.readline), 20)
        names = [l["peer"] for l in json.loads(line)["listeners"]]
        hosts = [n.rsplit(":", 1)[0] for n in names]
        check(hosts == ["127.0.0.2", "127.0.0.254", "127.0.1.1", "127.0.1.2"],
              f"process: --listen and --count 3 from 127.0.0.254 bind {hosts}")
        got = await leech_for(names[-1], torrent, all_blocks(torrent))
        joined = b"".join(got["blocks"].get(k[:2], b"") for k in all_blocks(torrent))
        check(got["error"] is None and joined == data, "process: serves the whole torrent")
        proc.send_signal(signal.SIGTERM)
        check(proc.wait(timeout=10) == 0, "process: exits 0 on SIGTERM")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


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
        return asyncio.run(self_test())
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
