#!/usr/bin/python3
"""leecher_swarm: many plain BEP 3 leechers in one process, each from its own loopback address.

spate's seeding tests need hundreds of leechers that dial one seed at once, check every piece
against the .torrent and say exactly what the seed sent them; some must break the protocol in
one known way. Each leecher binds its own source address (127.0.0.2, 127.0.0.3, ..., skipping
x.y.z.0 and x.y.z.255: 300 of them reach into 127.0.1.x) before it dials, sends a plaintext
handshake, reads the seed's bitfield and haves, says interested, and once unchoked keeps
--pipeline requests of 16 KiB in flight. A choke discards its pending requests (BEP 3): they
are asked again after the next unchoke. A block while choked is a violation; one answer per
discarded request after the next unchoke is counted as "late" (the request may have reached
the seed only after it unchoked us again). Every piece is checked with SHA-1, then dropped. A block not asked for, a piece that fails its hash,
a bad bitfield or an oversized message ends the leecher as failed, with the reason.

Modes (--hostile adds one leecher of a mode after the --count good ones):
  good                 downloads every piece, in its own random order
  out_of_range[:KIND]  once unchoked asks for a block outside the torrent, then for piece 0.
                       KIND: index (the piece count), begin (past the piece), length (32 KiB),
                       end (past the end of the last piece), all. The seed must never answer
                       the bad request; dropping the leecher is its right
  flood                once unchoked sends --flood-requests valid requests at once and reads
                       nothing until the good leechers are done and the seed has read them
                       all; then reads until the seed is quiet, and reports how many blocks
                       came back, with what was still unread and queued in the kernel then
  choked_requests      asks for the first half of the pieces before it is interested or
                       unchoked, then downloads the second half: a block of the first is a
                       violation

--start-together: no leecher says interested before every one has the seed's first message
(or has failed), so all are connected before the first finishes. --hold: a leecher that is
done says not-interested and stays connected until all have ended, so the seed carries every
connection for the whole run and must hand its upload slot on when interest ends, not only
when a socket closes. --expect-seed: the seed's first message must be a bitfield of every piece.

Output, one JSON object a line: {"event":"leecher",...} per leecher (mode, source, ok,
reason, outcome, bytes, pieces, blocks, accepted/done times, ...), then {"event":"summary",
"leechers","ok","failed","bytes","hash_failures","accepted_before_first_done",
"peak_accepted",...}. Exit 0 when every leecher ended ok, 1 otherwise, 2 on bad usage.

usage:
  leecher_swarm.py --torrent F --seed HOST:PORT [--count N] [--base 127.0.0.2]
                   [--hostile MODE[:ARG]]... [--pipeline 32] [--timeout 120]
                   [--stall-timeout 30] [--start-together] [--hold] [--expect-seed]
  leecher_swarm.py --self-test      (against scripted_peer.py listeners, in this process)
Every wait is bounded by --timeout; every connection is closed before exit. Standard library
only; the .torrent is read with scripted_peer's bencode decoder, never with the code under
test.
"""

import argparse
import asyncio
import collections
import hashlib
import json
import os
import random
import socket
import struct
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scripted_peer as sp  # noqa: E402  pylint: disable=wrong-import-position

BLOCK = sp.BLOCK
MAX_MESSAGE = 1024 * 1024  # what a leecher accepts for anything but a piece
KINDS = ("index", "begin", "length", "end")
MODES = {"good": "", "out_of_range": "index", "flood": "", "choked_requests": ""}
KEEP_ALIVE = 30.0  # seconds between keep-alives; spate drops a peer idle for 120 s


class LeecherFailure(Exception):
    """Ends one leecher: the message says what the seed did."""


def parse_mode(text):
    name, _, arg = text.partition(":")
    if name not in MODES:
        raise ValueError(f"unknown mode {name!r}; modes: {', '.join(MODES)}")
    arg = arg or MODES[name]
    if name == "out_of_range" and arg not in KINDS + ("all",):
        raise ValueError(f"out_of_range takes one of {KINDS + ('all',)}, not {arg!r}")
    if name != "out_of_range" and arg:
        raise ValueError(f"mode {name} takes no argument")
    return name, arg


def blocks_of(torrent, piece):
    size = torrent.piece_size(piece)
    return [(piece, begin, min(BLOCK, size - begin)) for begin in range(0, size, BLOCK)]


def bad_requests(torrent, kind):
    """The out-of-range requests of `kind` ("all": every kind), as (piece, begin, length)."""
    last = torrent.piece_count - 1
    last_size = torrent.piece_size(last)
    table = {"index": (torrent.piece_count, 0, BLOCK),
             "begin": (0, torrent.piece_size(0), BLOCK),
             "length": (0, 0, 2 * BLOCK),
             # Starts inside the last piece and runs past the end of the torrent.
             "end": (last, max(0, last_size - BLOCK // 2), BLOCK)}
    return [table[k] for k in (KINDS if kind == "all" else (kind,))]


def tcp_queues(local, remote):
    """(tx_queue, rx_queue) in bytes of the IPv4 TCP socket local -> remote, from
    /proc/net/tcp or, for a dual-stack socket, /proc/net/tcp6; None if there is none."""
    def key(host, port):
        return "%08X:%04X" % (struct.unpack("<I", socket.inet_aton(host))[0], port)

    def v4(field):  # ::ffff:a.b.c.d in tcp6 ends with a.b.c.d in tcp's own notation
        addr, port = field.split(":")
        return f"{addr[24:] if addr.startswith('0' * 16 + 'FFFF0000') else addr}:{port}"

    want = (key(*local), key(*remote))
    for name in ("tcp", "tcp6"):
        with open(f"/proc/net/{name}", encoding="ascii") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if (v4(fields[1]), v4(fields[2])) == want:
                    tx, rx = fields[4].split(":")
                    return int(tx, 16), int(rx, 16)
    return None


class Leecher:
    """One connection to the seed; run() never raises, it fills in the fields report() shows."""

    def __init__(self, swarm, number, source, mode, arg):
        self.swarm, self.number, self.source, self.mode, self.arg = swarm, number, source, mode, arg
        self.torrent = swarm.torrent
        self.peer_id = b"-LS0001-" + os.urandom(6).hex().encode()
        self.reader = self.writer = self.outcome = self.failure = None
        self.cut = None  # set by the watchdog before it cancels the leecher
        self.state, self.choked, self.finished = "connecting", True, False
        self.misbehaved = False  # a hostile mode has done its one thing
        self.unchokes = self.chokes = self.requests_sent = self.blocks = self.bytes = 0
        self.todo = collections.deque()  # blocks to ask for, announced by the seed
        self.pending = collections.Counter()  # requests out and not yet answered
        self.pending_total = 0
        self.discarded = collections.Counter()  # requests a choke discarded
        self.late = 0  # blocks that answered a discarded request after the next unchoke
        self.forbidden = set()  # requests whose answer would be a violation
        self.buffers = {}  # piece -> (bytearray, set of begins received)
        self.have, self.verified, self.wanted = set(), set(), self.pick_wanted()
        self.unread_requests = self.kernel_bytes = None  # the flood's, when it starts reading
        self.t_accepted = self.t_done = self.t_end = None
        self.last_progress = time.monotonic()

    def pick_wanted(self):
        count = self.torrent.piece_count
        if self.mode == "out_of_range":
            return [0]  # the answer to a valid request after the bad ones
        if self.mode == "choked_requests":
            return list(range(max(1, count // 2), count))
        order = list(range(count))
        random.Random(self.swarm.opts.random_seed * 1_000_003 + self.number).shuffle(order)
        return order

    # The wire.

    def send(self, msg_id, payload=b""):
        self.writer.write(sp.message(msg_id, payload))

    def send_request(self, block):
        self.send(sp.MSG_REQUEST, struct.pack(">III", *block))
        self.requests_sent += 1

    async def read_message(self):
        """One message body, or None for a keep-alive."""
        (length,) = struct.unpack(">I", await self.reader.readexactly(4))
        if length == 0:
            return None
        if length > MAX_MESSAGE + 13:
            raise LeecherFailure(f"the seed sent a {length}-byte message")
        body = await self.reader.readexactly(length)
        if body[0] == sp.MSG_PIECE and length > BLOCK + 9:
            raise LeecherFailure(f"the seed sent a piece message of {length} bytes")
        return body

    # The protocol.

    async def session(self):
        sw, t = self.swarm, self.torrent
        async with sw.connect_gate:  # a burst of 300 SYNs would overflow a 128-deep backlog
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                sock.setblocking(False)
                sock.bind((self.source, 0))  # before connect: the seed sees this address
                await asyncio.get_running_loop().sock_connect(sock, sw.opts.seed)
            except OSError:
                sock.close()
                raise
            self.reader, self.writer = await asyncio.open_connection(sock=sock)
            self.state = "in the handshake"
            self.writer.write(sp.handshake(t.info_hash, self.peer_id))
            theirs = await self.reader.readexactly(68)
        if theirs[:20] != sp.PSTR or theirs[28:48] != t.info_hash:
            raise LeecherFailure("the seed's handshake names another protocol or torrent")
        self.state = "waiting for the seed's first message"
        first = await self.read_message()
        while first is None:
            first = await self.read_message()
        self.t_accepted = sw.now()
        sw.accepted()
        if sw.opts.expect_seed and first[0] != sp.MSG_BITFIELD:
            raise LeecherFailure(f"the seed's first message is type {first[0]}, not a bitfield")
        self.handle(first, first=True)
        if self.mode == "choked_requests":
            for piece in range(max(1, t.piece_count // 2)):
                for block in blocks_of(t, piece):
                    self.forbidden.add(block)
                    self.send_request(block)
            self.misbehaved = True
        sw.settle(self)
        if sw.opts.start_together:
            self.state = "waiting for the other leechers to connect"
            await sw.all_settled.wait()
        self.send(sp.MSG_INTERESTED)
        self.state = "waiting to be unchoked"
        while not self.finished:
            if self.mode == "flood" and self.requests_sent:
                await self.flood_drain()
                break
            body = await self.read_message()
            if body is not None:
                self.handle(body)
        self.t_done = sw.now()
        self.send(sp.MSG_NOT_INTERESTED)
        sw.done(self, finished=True)
        if sw.opts.hold:
            await self.hold()

    def handle(self, body, first=False):
        kind = body[0]
        if kind == sp.MSG_CHOKE and not self.choked:
            self.choked, self.chokes = True, self.chokes + 1
            # BEP 3: a choke discards what we asked for; ask again after the next unchoke.
            again = [b for b, n in self.pending.items() if n and b[0] not in self.verified]
            self.discarded.update(again)
            self.todo.extendleft(reversed(again))
            self.pending.clear()
            self.pending_total = 0
        elif kind == sp.MSG_UNCHOKE and self.choked:
            self.choked, self.unchokes = False, self.unchokes + 1
            if self.mode != "flood":
                self.state = "downloading"
            self.last_progress = time.monotonic()
            if self.unchokes == 1:
                self.first_unchoke()
        elif kind == sp.MSG_HAVE:
            if len(body) != 5:
                raise LeecherFailure(f"a have message of {len(body)} bytes")
            (piece,) = struct.unpack(">I", body[1:])
            if piece >= self.torrent.piece_count:
                raise LeecherFailure(f"the seed announced piece {piece} of "
                                     f"{self.torrent.piece_count}")
            self.announce([piece])
        elif kind == sp.MSG_BITFIELD:
            self.bitfield(body[1:], first)
        elif kind == sp.MSG_PIECE:
            self.piece(body)
        self.request_more()

    def bitfield(self, field, first):
        count = self.torrent.piece_count
        if not first:
            raise LeecherFailure("a bitfield after the first message")
        if len(field) != -(-count // 8) or (count % 8 and field[-1] & (0xFF >> count % 8)):
            raise LeecherFailure(f"a bitfield of {len(field)} bytes or with spare bits set, "
                                 f"for {count} pieces")
        had = [i for i in range(count) if field[i // 8] & (0x80 >> i % 8)]
        if self.swarm.opts.expect_seed and len(had) != count:
            raise LeecherFailure(f"the seed's bitfield has {len(had)} of {count} pieces")
        self.announce(had)

    def announce(self, pieces):
        """Pieces the seed has: the wanted ones among them join the queue, in our order."""
        new = set(pieces) - self.have
        self.have |= new
        for piece in self.wanted:
            if piece in new and piece not in self.verified:
                self.todo.extend(blocks_of(self.torrent, piece))

    def first_unchoke(self):
        if self.mode == "out_of_range":
            for block in bad_requests(self.torrent, self.arg):
                self.forbidden.add(block)
                self.send_request(block)
            self.misbehaved = True
        elif self.mode == "flood":
            # Valid requests, every block over and over, all written at once.
            t = self.torrent
            blocks = [b for p in range(t.piece_count) for b in blocks_of(t, p)]
            for n in range(self.swarm.opts.flood_requests):
                block = blocks[n % len(blocks)]
                self.pending[block] += 1
                self.send_request(block)
            self.pending_total = self.swarm.opts.flood_requests
            self.todo.clear()
            self.misbehaved = True

    def request_more(self):
        if self.choked or self.mode == "flood":
            return
        while self.todo and self.pending_total < self.swarm.opts.pipeline:
            block = self.todo.popleft()
            if block[0] in self.verified:
                continue
            if self.pending_total == 0:
                self.last_progress = time.monotonic()
            self.pending[block] += 1
            self.pending_total += 1
            self.send_request(block)

    def piece(self, body):
        if len(body) < 9:
            raise LeecherFailure(f"a piece message of {len(body)} bytes")
        index, begin = struct.unpack(">II", body[1:9])
        block = (index, begin, len(body) - 9)
        self.blocks += 1
        self.bytes += block[2]
        if block in self.forbidden:
            what = "while we were choked" if self.mode == "choked_requests" else "out of range"
            raise LeecherFailure(f"the seed answered {block}, asked for {what}")
        if self.choked:
            raise LeecherFailure(f"the seed sent block {block} while it was choking us")
        if self.pending[block] <= 0 and self.discarded[block] > 0:
            # A request sent before we saw a choke may reach the seed after its next unchoke
            # (BEP 3 has no reject without BEP 6): once per discarded request, a late answer
            # is a duplicate, not a fault.
            self.discarded[block] -= 1
            self.late += 1
            return
        if self.pending[block] <= 0:
            raise LeecherFailure(f"the seed sent block {block}, which is not asked for"
                                 f"{' (we are choked)' if self.choked else ''}")
        self.pending[block] -= 1
        self.pending_total -= 1
        self.last_progress = time.monotonic()
        if index in self.verified:
            return  # a flood's repeat of a piece already checked
        size = self.torrent.piece_size(index)
        buf, got = self.buffers.setdefault(index, (bytearray(size), set()))
        buf[begin:begin + block[2]] = body[9:]
        got.add(begin)
        if len(got) < -(-size // BLOCK):
            return
        del self.buffers[index]
        if hashlib.sha1(buf).digest() != self.torrent.hashes[index]:
            self.swarm.hash_failures += 1
            raise LeecherFailure(f"piece {index} failed its SHA-1 check")
        self.verified.add(index)
        # Only wanted pieces are asked for (the flood aside), so the counts compare.
        if len(self.verified) == len(self.wanted) and self.mode != "flood":
            self.finished = True
            self.outcome = "ignored" if self.forbidden else "complete"

    async def flood_drain(self):
        """Reads nothing until the good leechers are done and the seed has read every request
        (or has stopped reading them), then reads until the seed is quiet for
        --drain-quiet seconds, closes, or has answered every request.

        What comes back is then bounded by what the seed had queued and buffered when the
        reading began, plus the requests it had not read yet: the fields unread_requests
        and kernel_bytes (the two sockets' kernel queues then) let a test check that bound."""
        self.state = "flooding, not reading"
        await self.swarm.good_done.wait()
        self.state = "waiting for the seed to read the flood"
        ours = self.writer.get_extra_info("sockname")[:2]
        seed = self.writer.get_extra_info("peername")[:2]
        last, same = None, 0
        while True:  # ends by itself or at the watchdog's deadline
            mine, theirs = tcp_queues(ours, seed), tcp_queues(seed, ours)
            if mine is None or theirs is None:
                break  # the seed closed the connection
            unread = self.writer.transport.get_write_buffer_size() + mine[0] + theirs[1]
            self.unread_requests = unread // 17
            self.kernel_bytes = mine[1] + theirs[0]
            # Unchanged for 2 s: the seed stopped reading (back-pressure), which bounds it too.
            same = same + 1 if unread == last else 0
            if unread == 0 or same >= 10:
                break
            last = unread
            await asyncio.sleep(0.2)
        self.state = "draining"
        self.outcome = "quiet"
        while self.pending_total:
            try:
                body = await asyncio.wait_for(self.read_message(), self.swarm.opts.drain_quiet)
            except asyncio.TimeoutError:
                break  # a message cut in half here is of no interest: we close next
            if body is not None:
                self.handle(body)
        else:
            self.outcome = "answered all"
        self.finished = True

    async def hold(self):
        """Stays connected (reading, so that the seed never blocks on us) until every
        leecher has ended."""
        self.state = "holding"
        waiting = asyncio.ensure_future(self.swarm.all_done.wait())
        reading = asyncio.ensure_future(self.read_message())
        try:
            while not waiting.done():
                await asyncio.wait({reading, waiting}, return_when=asyncio.FIRST_COMPLETED)
                if reading.done():
                    body = reading.result()  # the seed closing now is noted by run()
                    if body is not None:
                        self.handle(body)
                    reading = asyncio.ensure_future(self.read_message())
        finally:
            waiting.cancel()
            reading.cancel()

    # The run.

    async def watch(self, main):
        """Keep-alives, the overall deadline and the stall check, once a second."""
        next_keep_alive, opts = time.monotonic() + KEEP_ALIVE, self.swarm.opts
        while not main.done():
            await asyncio.sleep(1.0)
            now = time.monotonic()
            if now >= self.swarm.deadline:
                self.cut = f"timed out after {opts.timeout:g} s {self.state}"
            elif self.state == "downloading" and not self.choked and self.pending_total and \
                    now - self.last_progress > opts.stall_timeout:
                self.cut = (f"stalled: no block for {opts.stall_timeout:g} s with "
                            f"{self.pending_total} requests out")
            if self.cut:
                main.cancel()
                return
            if self.writer is not None and now >= next_keep_alive:
                self.writer.write(b"\0\0\0\0")
                next_keep_alive = now + KEEP_ALIVE

    async def run(self):
        main = asyncio.ensure_future(self.session())
        watchdog = asyncio.ensure_future(self.watch(main))
        try:
            await main
        except asyncio.CancelledError:
            if self.cut is None:
                raise
            self.fail(self.cut)
        except LeecherFailure as err:
            self.fail(str(err))
        except (asyncio.IncompleteReadError, ConnectionError) as err:
            if self.misbehaved and not self.finished:
                # Dropping a peer that broke the protocol, or floods it, is the seed's right.
                self.outcome, self.finished = "closed", True
                self.t_done = self.swarm.now()
            else:
                self.fail(f"closed by the seed {self.state} ({type(err).__name__})")
        except OSError as err:
            self.fail(f"{type(err).__name__} {self.state}: {err}")
        finally:
            watchdog.cancel()
            await asyncio.gather(watchdog, return_exceptions=True)
            if self.writer is not None:
                self.writer.close()
            self.t_end = self.swarm.now()
            if self.t_accepted is not None:
                self.swarm.accepted(closed=True)
            self.swarm.settle(self)
            self.swarm.done(self)

    def fail(self, reason):
        if self.finished and self.outcome:
            self.outcome += f", then: {reason}"  # after its job was done: noted, not a failure
        else:
            self.failure = reason

    def report(self):
        return {"event": "leecher", "id": self.number, "source": self.source,
                "mode": self.mode + (f":{self.arg}" if self.arg else ""),
                "ok": self.failure is None and self.finished, "reason": self.failure,
                "outcome": self.outcome, "bytes": self.bytes, "blocks": self.blocks,
                "pieces": len(self.verified), "requests": self.requests_sent,
                "unchokes": self.unchokes, "chokes": self.chokes,
                "accepted": self.t_accepted, "done": self.t_done, "seconds": self.t_end,
                "late": self.late, "unread_requests": self.unread_requests,
                "kernel_bytes": self.kernel_bytes}


class Swarm:
    """The leechers of one run and what they share: the options, the deadline, the start
    barrier, the events that end the flood's silence and the holding, the counts."""

    def __init__(self, torrent, opts):
        self.torrent, self.opts = torrent, opts
        self.connect_gate = asyncio.Semaphore(opts.connect_parallel)
        self.started = time.monotonic()
        self.deadline = self.started + opts.timeout
        sources = sp.count_addresses(opts.base, len(opts.specs))
        self.leechers = [Leecher(self, n, sources[n], *spec) for n, spec in enumerate(opts.specs)]
        self.settled, self.ended = set(), set()
        self.good_left = sum(1 for l in self.leechers if l.mode == "good")
        self.all_settled, self.good_done, self.all_done = (asyncio.Event(), asyncio.Event(),
                                                           asyncio.Event())
        self.hash_failures = self.open_accepted = self.peak_accepted = 0
        self.first_done = None
        if self.good_left == 0:
            self.good_done.set()

    def now(self):
        return round(time.monotonic() - self.started, 4)

    def accepted(self, closed=False):
        self.open_accepted += -1 if closed else 1
        self.peak_accepted = max(self.peak_accepted, self.open_accepted)

    def settle(self, leecher):
        self.settled.add(leecher.number)
        if len(self.settled) == len(self.leechers):
            self.all_settled.set()

    def done(self, leecher, finished=False):
        """Counts a leecher once, when it is done or has failed, whichever comes first."""
        if finished and self.first_done is None:
            self.first_done = leecher.t_done
        if leecher.number in self.ended:
            return
        self.ended.add(leecher.number)
        if leecher.mode == "good":
            self.good_left -= 1
            if self.good_left == 0:
                self.good_done.set()
        if len(self.ended) == len(self.leechers):
            self.all_done.set()

    async def run(self):
        await asyncio.gather(*(l.run() for l in self.leechers))
        reports = [l.report() for l in self.leechers]
        first = self.first_done
        failed = [r["id"] for r in reports if not r["ok"]]
        accepted = [r["accepted"] for r in reports if r["accepted"] is not None]
        return reports, {
            "event": "summary", "leechers": len(reports), "ok": len(reports) - len(failed),
            "failed": failed, "bytes": sum(r["bytes"] for r in reports),
            "late": sum(r["late"] for r in reports),
            "pieces": sum(r["pieces"] for r in reports), "seconds": self.now(),
            "first_done": first, "hash_failures": self.hash_failures,
            "accepted": len(accepted),
            "accepted_before_first_done": sum(1 for t in accepted if first is None or t <= first),
            "peak_accepted": self.peak_accepted}


# name, type, default, help (None: a flag)
OPTIONS = [("--torrent", str, None, "the .torrent"), ("--seed", str, None, "HOST:PORT to dial"),
           ("--count", int, 1, "good leechers"), ("--base", str, "127.0.0.2", "first source"),
           ("--pipeline", int, 32, "requests in flight"),
           ("--timeout", float, 120.0, "seconds for the whole run"),
           ("--stall-timeout", float, 30.0, "seconds unchoked, asking, without a block"),
           ("--flood-requests", int, 20000, "the flood's requests"),
           ("--drain-quiet", float, 3.0, "seconds of silence that end the flood's reading"),
           ("--connect-parallel", int, 32, "connects and handshakes at once"),
           ("--random-seed", int, 1, "piece orders"), ("--start-together", None, 0, ""),
           ("--hold", None, 0, ""), ("--expect-seed", None, 0, ""), ("--self-test", None, 0, "")]


def options(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    for name, kind, default, text in OPTIONS:
        if kind is None:
            parser.add_argument(name, action="store_true")
        else:
            parser.add_argument(name, type=kind, default=default, help=text)
    parser.add_argument("--hostile", action="append", default=[], metavar="MODE[:ARG]")
    opts = parser.parse_args(argv)
    if not opts.self_test and (not opts.torrent or not opts.seed):
        parser.error("--torrent and --seed are required")
    if min(opts.pipeline, opts.timeout, opts.stall_timeout, opts.drain_quiet) <= 0 or \
            opts.count < 0:
        parser.error("--pipeline and the timeouts must be positive, --count not negative")
    try:
        opts.specs = [("good", "")] * opts.count + [parse_mode(m) for m in opts.hostile]
        host, _, port = (opts.seed or ":0").rpartition(":")
        opts.seed = (host, int(port))
    except ValueError as err:
        parser.error(str(err))
    return opts


async def swarm_run(torrent, opts):
    return await Swarm(torrent, opts).run()


async def reckless_seed(torrent, payload):
    """A seed for the self-test that answers every request at once, choked or not, in range
    or not (with fill bytes where there is no data): what the hostile modes must catch."""
    async def serve(reader, writer):
        try:
            await reader.readexactly(68)
            writer.write(sp.handshake(torrent.info_hash, b"-RK0001-" + bytes(12)) +
                         sp.message(sp.MSG_BITFIELD, sp.bitfield_bytes(torrent.piece_count)))
            while True:
                (length,) = struct.unpack(">I", await reader.readexactly(4))
                body = await reader.readexactly(length) if length else b"\0"
                if body[0] == sp.MSG_INTERESTED:
                    writer.write(sp.message(sp.MSG_UNCHOKE))
                elif body[0] == sp.MSG_REQUEST:
                    index, begin, size = struct.unpack(">III", body[1:13])
                    at = index * torrent.piece_length + begin
                    data = bytes(payload.read(at, size)) if at + size <= torrent.total else b""
                    writer.write(sp.message(sp.MSG_PIECE, body[1:9] + data.ljust(size, b"\xee")))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
    return await asyncio.start_server(serve, "127.0.0.1", 0)


async def self_test():
    """Runs the modes against scripted_peer listeners and a reckless seed. Exit 0/1."""
    import tempfile  # pylint: disable=import-outside-toplevel
    failures = []

    def check(ok, what):
        print(("ok   " if ok else "FAIL ") + what, flush=True)
        if not ok:
            failures.append(what)

    async def swarm(where, *args):
        opts = options(["--torrent", "-", "--seed", where, "--timeout", "20", *args])
        reports, summary = await swarm_run(torrent, opts)
        return {r["mode"] + str(r["id"]): r for r in reports}, summary

    with tempfile.TemporaryDirectory(prefix="leecher-swarm-") as tmp:
        # 6 pieces of 32 KiB, the last one 1000 bytes: short last piece and block.
        torrent, _ = sp.make_test_torrent(tmp, "single.bin", [5 * 32768 + 1000])
        payload = sp.Payload(torrent, tmp)
        modes = ["good", "corrupt:1", "out_of_range:index", "silent", "bad_bitfield:short",
                 "disconnect_mid_block:1", "slow:1k"]
        specs = [(f"127.0.0.{n + 2}", 0) + sp.parse_mode(m) for n, m in enumerate(modes)]
        listeners = await sp.start_listeners(specs, torrent, payload, sp.EventLog(None))
        at = {l.mode: l.name for l in listeners}
        reckless = await reckless_seed(torrent, payload)
        reckless_at = f"127.0.0.1:{reckless.sockets[0].getsockname()[1]}"
        try:
            got, summary = await swarm(at["good"], "--count", "12", "--base", "127.0.0.254",
                                       "--hostile", "out_of_range:all", "--hostile", "flood",
                                       "--hostile", "choked_requests", "--flood-requests", "500",
                                       "--start-together", "--hold", "--expect-seed",
                                       "--pipeline", "3")
            sources = {r["source"] for r in got.values()}
            check(summary["ok"] == 15 and summary["pieces"] == 12 * 6 + 6 + 3 and
                  summary["accepted_before_first_done"] == summary["peak_accepted"] == 15 and
                  len(sources) == 15 and {"127.0.0.254", "127.0.1.1"} <= sources,
                  f"15 leechers from 15 addresses past .254, all connected before the first is "
                  f"done, all ok, every piece checked ({summary})")
            outcomes = [got[k]["outcome"] for k in ("out_of_range:all12", "flood13",
                                                    "choked_requests14")]
            check(outcomes == ["closed", "answered all", "ignored"] and
                  got["flood13"]["blocks"] == 500 and got["flood13"]["unread_requests"] == 0,
                  f"scripted_peer drops out_of_range, answers all of a flood of 500, serves "
                  f"nothing asked while choked: {outcomes}")
            for mode, want, extra in (
                    ("corrupt", "piece 1 failed its SHA-1 check", []),
                    ("out_of_range", "the seed sent block (6, 0, 16384), which is not", []),
                    ("silent", "timed out after 2 s waiting to be unchoked", ["--timeout", "2"]),
                    ("bad_bitfield", "a bitfield of 0 bytes", []),
                    ("disconnect_mid_block", "closed by the seed downloading", []),
                    ("slow", "stalled: no block for 1 s", ["--stall-timeout", "1"])):
                got, summary = await swarm(at[mode], "--base", "127.0.2.1", *extra)
                reason = got["good0"]["reason"] or ""
                check(summary["ok"] == 0 and reason.startswith(want),
                      f"{mode} seed: the leecher fails with {reason!r}")
            got, summary = await swarm(reckless_at, "--count", "0", "--base", "127.0.3.1",
                                       "--hostile", "choked_requests", "--hostile",
                                       "out_of_range:end")
            reasons = [got["choked_requests0"]["reason"], got["out_of_range:end1"]["reason"]]
            check(summary["ok"] == 0 and "asked for while we were choked" in reasons[0] and
                  "asked for out of range" in reasons[1],
                  f"a seed that answers what it must not is caught: {reasons}")
        finally:
            reckless.close()
            for listener in listeners:
                await listener.stop()
    print(f"{len(failures)} failures")
    return 1 if failures else 0


def main(argv):
    opts = options(argv)
    if opts.self_test:
        return asyncio.run(self_test())
    try:
        torrent = sp.Torrent.load(opts.torrent)
    except (OSError, ValueError, KeyError) as err:
        print(f"leecher_swarm: {opts.torrent}: {err}", file=sys.stderr)
        return 2
    reports, summary = asyncio.run(swarm_run(torrent, opts))
    for report in reports:
        print(json.dumps(report))
    print(json.dumps(summary), flush=True)
    return 0 if not summary["failed"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
