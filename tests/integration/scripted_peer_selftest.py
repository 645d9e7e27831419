#!/usr/bin/python3
"""scripted_peer --self-test: every mode against a tiny strict leecher, in this process,
then the tool as the tests run it (a child process, the ready line, SIGTERM, exit 0).
Run it as `scripted_peer.py --self-test`. Python 3 standard library only.
"""

import asyncio
import json
import os
import signal
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# pylint: disable=wrong-import-position
from peer_wire import (  # noqa: E402
    BLOCK, FILL, FIXED_LENGTHS, MSG_BITFIELD, MSG_CANCEL, MSG_INTERESTED, MSG_PIECE,
    MSG_REQUEST, MSG_UNCHOKE, BencodeError, EventLog, Payload, all_blocks, bdecode,
    bitfield_bytes, count_addresses, handshake, make_test_torrent, message)
from scripted_peer import WRONG_SIZE, parse_listen, parse_mode, start_listeners  # noqa: E402

TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scripted_peer.py")


async def leech(addr, torrent, blocks, got, info_hash=None, cancel=False, strict=True):
    """The self-test's tiny leecher: handshake, interested, asks for `blocks` once unchoked
    (and with `cancel`, cancels the first of them at once), and records in `got` what came
    back and the first violation a strict client would see (not strict: blocks unasked or
    repeated go to got["ignored"] and it reads on). `got` is filled in place so that a
    caller's timeout keeps what arrived before it."""
    host, port = addr.rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(handshake(info_hash or torrent.info_hash, b"-PY0001-" + bytes(12))
                     + message(MSG_INTERESTED))
        got["handshake"] = (await reader.readexactly(68))[28:48] == torrent.info_hash
        if not got["handshake"]:
            got["error"] = "handshake names another torrent"
            return
        asked, first, cancelled = {}, True, set()
        while len(got["blocks"]) < len(blocks):
            (length,) = struct.unpack(">I", await reader.readexactly(4))
            if length > BLOCK + 13:
                got["error"] = f"oversized message ({length} bytes)"
                return
            body = await reader.readexactly(length) if length else b"\0"
            if length and FIXED_LENGTHS.get(body[0], length) != length:
                got["error"] = f"wrong size: id {body[0]} in {length} bytes"
                return
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
                if cancel and blocks:
                    cancelled.add(blocks[0][:2])
                    writer.write(message(MSG_CANCEL, struct.pack(">III", *blocks[0])))
            elif body[0] == MSG_PIECE:
                index, begin = struct.unpack(">II", body[1:9])
                if index >= torrent.piece_count or \
                        begin + length - 9 > torrent.piece_size(index):
                    got["error"] = f"piece out of range ({index}, {begin})"
                    return
                if (index, begin) in cancelled:
                    got["after_cancel"].append((index, begin))  # BEP 3 allows it: a race
                    continue
                wrong = "unrequested" if asked.get((index, begin)) != length - 9 else \
                    "duplicate" if (index, begin) in got["blocks"] else None
                if wrong and not strict:
                    got["ignored"].append((index, begin))
                    continue
                if wrong:
                    got["error"] = f"{wrong} block ({index}, {begin})"
                    return
                got["blocks"][(index, begin)] = body[9:]
            first = False
    except asyncio.IncompleteReadError as err:
        got["error"] = f"closed after {len(err.partial)} bytes of a message"
    finally:
        writer.close()


async def leech_for(addr, torrent, blocks, seconds=5.0, info_hash=None, cancel=False,
                    strict=True):
    got = {"handshake": False, "bitfield": None, "unchoked": False, "blocks": {},
           "error": None, "after_cancel": [], "ignored": []}
    try:
        await asyncio.wait_for(leech(addr, torrent, blocks, got, info_hash, cancel, strict),
                               seconds)
    except asyncio.TimeoutError:
        got["error"] = "timeout"
    return got



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
    for bad in ("127.0.0.3", "127.0.0.3:1=nasty", "127.0.0.3:1=oversized:tiny",
                "127.0.0.3:1=wrong_size:huge", "127.0.0.3:1=never_answers:1"):
        try:
            parse_listen(bad)
            check(False, f"parse_listen refuses {bad}")
        except ValueError:
            pass

    modes = ["good", "slow:128k", "slow:1m,0.3", "corrupt:1", "oversized:huge", "oversized:piece",
             "bad_bitfield:long", "bad_bitfield:short", "bad_bitfield:spare",
             "bad_bitfield:late", "out_of_range:index", "out_of_range:begin",
             "out_of_range:end", "disconnect_mid_block:1", "silent", "silent:nothing",
             "never_answers", "wrong_hash"]
    modes += [f"wrong_size:{kind}" for kind in WRONG_KINDS]
    modes += [f"unrequested:{kind}" for kind in ("other", "unaligned", "duplicate", "cancelled")]
    modes += ["good"]  # the multi-file torrent's
    with tempfile.TemporaryDirectory(prefix="scripted-peer-") as tmp:
        single, stream = make_test_torrent(tmp, "single.bin", [5 * 32768 + 1000])
        multi, mstream = make_test_torrent(tmp, "multi", [40000, -25536, 50000, 7])
        log_path = os.path.join(tmp, "log.jsonl")
        log = EventLog(log_path)
        specs = [(f"127.0.0.{n + 2}", 0) + parse_mode(m) for n, m in enumerate(modes)]
        listeners = await start_listeners(specs[:-1], single, Payload(single, tmp), log)
        listeners += await start_listeners(specs[-1:], multi, Payload(multi, tmp), log)
        # Each listener by its mode as written, the good ones by their torrent's name.
        at = {m if m != "good" else l.torrent.name: l.name for m, l in zip(modes, listeners)}
        try:
            for name, torrent, data in (("single.bin", single, stream),
                                        ("multi", multi, mstream)):
                got = await leech_for(at[name], torrent, all_blocks(torrent))
                joined = b"".join(got["blocks"].get(k[:2], b"") for k in all_blocks(torrent))
                check(got["error"] is None and joined == data, f"good {name}: all data "
                      f"({got['error']})")
            started = time.monotonic()
            got = await leech_for(at["slow:128k"], single, all_blocks(single, [0, 1, 2]))
            # A lower bound only: the limiter makes it certain whatever the load.
            check(got["error"] is None and time.monotonic() - started >= 4 * BLOCK / 131072,
                  "slow: 6 blocks at 128 KiB/s take at least 4 blocks' time")
            started = time.monotonic()
            got = await leech_for(at["slow:1m,0.3"], single, all_blocks(single, [0]))
            check(got["error"] is None and len(got["blocks"]) == 2 and
                  time.monotonic() - started >= 0.3, "slow:1m,0.3: unchokes after 0.3 s")
            got = await leech_for(at["corrupt:1"], single, all_blocks(single, [0, 1]))
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
            got = await leech_for(at["silent"], single, all_blocks(single, [0]), 0.5)
            check(got["handshake"] and got["bitfield"] and not got["unchoked"],
                  "silent: handshake and bitfield, no unchoke")
            await check_new_modes(at, single, stream, check)
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
        held = [e for e in events if e["event"] == "close" and e["peer"] == at["never_answers"]]
        check(held and [0, 0] in held[0]["pending"], "never_answers: held blocks pending at close")
        cut = [e for e in events if e["peer"] == at["disconnect_mid_block:1"]]
        check(any(e["event"] == "cut" and e["begin"] == BLOCK for e in cut) and
              any(e["event"] == "close" and [0, BLOCK] in e["pending"] for e in cut),
              "log holds the cut block, pending at close")
        await self_test_process(tmp, single, stream, check)
    print(f"{len(failures)} failures")
    return 1 if failures else 0


WRONG_KINDS = tuple(WRONG_SIZE) + ("bitfield_twice", "bitfield_after_unchoke")


async def check_new_modes(at, single, stream, check):
    """silent:nothing, never_answers, wrong_hash, wrong_size and unrequested."""
    got = await leech_for(at["silent:nothing"], single, all_blocks(single, [0]), 0.5)
    check(got["handshake"] and got["bitfield"] is None and not got["unchoked"] and
          got["error"] == "timeout", f"silent:nothing: a handshake, then nothing ({got['error']})")
    got = await leech_for(at["never_answers"], single, all_blocks(single, [0]), 0.5)
    check(got["unchoked"] and got["bitfield"] and not got["blocks"] and
          got["error"] == "timeout", f"never_answers: unchokes, answers nothing ({got['error']})")
    got = await leech_for(at["wrong_hash"], single, all_blocks(single, [0]))
    check(got["error"] == "handshake names another torrent", f"wrong_hash: {got['error']}")
    for kind in WRONG_KINDS:
        want = "bad bitfield" if kind.startswith("bitfield") else \
            f"wrong size: id {WRONG_SIZE[kind][4]} in {len(WRONG_SIZE[kind]) - 4} bytes"
        got = await leech_for(at[f"wrong_size:{kind}"], single, all_blocks(single, [2]))
        check(got["error"] == want, f"wrong_size:{kind}: leecher sees {got['error']}")
    first4 = all_blocks(single, [0, 1])  # the first request is answered wrongly
    for kind, want, served in (("other", "unrequested block (5, 0)", 0),
                               ("unaligned", "unrequested block (0, 1)", 0),
                               ("duplicate", "duplicate block (0, 0)", 1)):
        got = await leech_for(at[f"unrequested:{kind}"], single, first4)
        good = all(got["blocks"][k[:2]] == stream[k[0] * 32768 + k[1]:][:k[2]]
                   for k in first4[:served])
        check(got["error"] == want and len(got["blocks"]) == served and good,
              f"unrequested:{kind}: {served} good blocks, then {got['error']}")
    for kind, ignored in (("other", (5, 0)), ("unaligned", (0, 1)), ("duplicate", (0, 0))):
        got = await leech_for(at[f"unrequested:{kind}"], single, first4, 0.5, strict=False)
        check(got["ignored"] == [ignored] and len(got["blocks"]) == (kind == "duplicate") and
              got["error"] == "timeout", f"unrequested:{kind}: nothing more after it "
              f"({got['ignored']}, {len(got['blocks'])} blocks taken, {got['error']})")
    got = await leech_for(at["unrequested:cancelled"], single, first4, 1.0, cancel=True)
    check(got["after_cancel"] == [(0, 0)] and not got["blocks"] and got["error"] == "timeout",
          f"unrequested:cancelled: only the cancelled block comes ({got['after_cancel']}, "
          f"{len(got['blocks'])} others, {got['error']})")


async def self_test_process(tmp, torrent, data, check):
    """Runs the tool as the tests do: a child process, the ready line, SIGTERM, exit 0."""
    import subprocess  # pylint: disable=import-outside-toplevel
    path = os.path.join(tmp, "single.torrent")
    with open(path, "wb") as f:
        f.write(torrent.raw)
    proc = subprocess.Popen([sys.executable, TOOL, "--torrent", path,
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
