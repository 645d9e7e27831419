#!/usr/bin/python3
"""peer_wire: the BitTorrent wire and torrent helpers the loopback test tools share.

Bencode (decoding keeps the raw span of "info" for the info-hash), a v1 .torrent's
geometry, a payload read from a data folder, peer-wire message framing, loopback address
ranges, a JSON-lines event log, and deterministic test torrents. scripted_peer.py,
leecher_swarm.py and the download tests use these (through scripted_peer, which re-exports
them). Python 3 standard library only.
"""

import hashlib
import ipaddress
import json
import os
import re
import struct
import time

BLOCK = 16384
FILL = 0xEE  # every byte a hostile mode sends in place of payload
IN_MEMORY_LIMIT = 512 * 1024 * 1024  # payloads up to this are read once into memory
PSTR = b"\x13BitTorrent protocol"
MSG_CHOKE, MSG_UNCHOKE, MSG_INTERESTED, MSG_NOT_INTERESTED = 0, 1, 2, 3
MSG_HAVE, MSG_BITFIELD, MSG_REQUEST, MSG_PIECE, MSG_CANCEL = 4, 5, 6, 7, 8
# Body lengths (id byte included) BEP 3 fixes; bitfield and piece vary.
FIXED_LENGTHS = {MSG_CHOKE: 1, MSG_UNCHOKE: 1, MSG_INTERESTED: 1, MSG_NOT_INTERESTED: 1,
                 MSG_HAVE: 5, MSG_REQUEST: 13, MSG_CANCEL: 13}

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
