"""`spate download` beside peers that break the peer protocol (download_hostile_test.py runs
these; see its docstring). One hostile scripted_peer listener beside a good one each time:
the download must finish byte-identical, none of the hostile 0xEE bytes may reach the
file, and it must finish within a bound set by spate's timeouts (torrent_download.hpp:
10 s connect and handshake, 60 s request, 120 s idle).
"""

import os
import socket
import time

from hostile_harness import (
    MIB, Peers, Run, TestFailure, download, download_args, expect, expect_done,
    expect_identical, expect_no_fill, make_payload, start_spate, wait_spate)

REQUEST_TIMEOUT = 60  # spate's download_settings::request_timeout, in seconds
QUICK = 45  # a download that waits on none of spate's timeouts ends well within this
STRICT_SIZES = ["have_short", "have_long", "choke", "unchoke", "interested", "request"]
LENIENT_SIZES = ["bitfield_twice", "bitfield_after_unchoke"]
DROPPING_UNREQUESTED = ["other", "unaligned", "duplicate"]
SMALL_MEMORY = "128K"  # two 64 KiB piece buffers (spate's least is two slots)
# A good peer at 2 MiB/s that unchokes 0.5 s after spate's interested: the hostile peer
# beside it is asked first, so it is the one holding the piece buffers.
LATE_GOOD = "slow:2m,0.5"
# How scripted_peer's log says the other side ended a connection: a clean close, or a reset
# when spate closed with bytes of ours still unread.
CLOSED_BY_SPATE = ("closed by the leecher", "ConnectionResetError", "BrokenPipeError")


def closed_by_spate(close):
    return close is not None and close["reason"].startswith(CLOSED_BY_SPATE)


def hostile_pair(procs, tmp, label, torrent_path, seed_dir, hostile, good):
    """A scripted_peer with one hostile listener (127.0.0.2) and one good one (127.0.0.3)."""
    peers = Peers(procs, torrent_path, seed_dir, os.path.join(tmp, f"{label}.jsonl"),
                  [f"127.0.0.2:0={hostile}", f"127.0.0.3:0={good}"])
    return peers, peers.addrs()[0], peers.addrs()[1]


def bounded_download(procs, tmp, label, torrent_path, out, peers, *extra, seconds, why):
    """A `spate download` that must end within `seconds`; if not, it is killed and the
    failure says `why` the bound holds and where the download stood."""
    proc, out_path, err_path = start_spate(procs, tmp, label,
                                           download_args(torrent_path, out, peers, *extra))
    try:
        rc, usage, hwm, wall = wait_spate(proc, seconds)
    except TestFailure as err:
        with open(out_path, encoding="utf-8", errors="replace") as o:
            progress = [line for line in o.read().splitlines() if '"progress"' in line]
        raise TestFailure(f"{err} ({why}); last progress: "
                          f"{progress[-1] if progress else 'none'}") from None
    return read_run(rc, usage, hwm, wall, out_path, err_path)


def read_run(rc, usage, hwm, wall, out_path, err_path):
    with open(out_path, encoding="utf-8", errors="replace") as o, \
            open(err_path, encoding="utf-8", errors="replace") as e:
        return Run(rc, o.read(), e.read(), wall, usage, hwm)


def expect_clean_finish(run, out, torrent, data, what):
    """Done, the file byte-identical, and none of the hostile 0xEE fill in it."""
    path = os.path.join(out, torrent.name)
    expect_no_fill(path, data, what)
    expect_done(run, f"download beside {what}")
    expect_identical(path, data)


def expect_closed_by_spate(peers, bad, good, what):
    """Every connection of `bad` that misbehaved ends with spate closing it (as the peer's
    log says), the first of them while spate still asked `good` for blocks."""
    conns = sorted({e["conn"] for e in peers.events("misbehave", bad)})
    closes = {e["conn"]: e for e in peers.events("close", bad)}
    last_good = max((e["t"] for e in peers.events("request", good)), default=0)
    for conn in conns:
        close = closes.get(conn)
        expect(closed_by_spate(close),
               f"{what}: connection {conn} of {bad} was not closed by spate "
               f"({close['reason'] if close else 'still open when the peers stopped'})")
    first = closes[conns[0]]
    expect(first["t"] < last_good,
           f"{what}: spate closed {bad} only after its last request to {good} "
           f"({first['t'] - last_good:.2f} s later): it kept the peer to the end")


def misbehaving(peers, bad, what):
    events = peers.events("misbehave", bad)
    expect(events, f"{what}: {bad} never misbehaved: spate never asked it for a block")
    return events


def each_case(cases, check):
    """check(case) for every case, so that one failure hides none of the others; then
    fails with all of their messages."""
    failed = []
    for case in cases:
        try:
            check(case)
        except TestFailure as err:
            print(f"{case}: FAIL {err}", flush=True)
            failed.append(f"{case}: {err}")
    expect(not failed, f"{len(failed)} of {len(cases)} cases failed:\n  " + "\n  ".join(failed))


def test_wrong_size(tmp, procs, _rng):
    """Messages of the wrong size for their id: the peer is dropped, the good one finishes.
    A bitfield sent twice, or after the unchoke, is what spate takes on purpose (aria2 sends
    late bitfields, connection.cpp): checked to be harmless, the peer kept and asked."""
    data, torrent_path, torrent, seed_dir = make_payload(tmp, "size.bin", 4 * MIB + 4321, 11)

    def check(kind):
        what = f"a wrong_size:{kind} peer"
        # The good peer unchokes after 1 s: the hostile one is asked first, and a lenient
        # kind (good data after its late bitfield) has time to be asked at all.
        peers, bad, good = hostile_pair(procs, tmp, kind, torrent_path, seed_dir,
                                        f"wrong_size:{kind}", "slow:2m,1")
        out = os.path.join(tmp, f"out-{kind}")
        try:
            run = download(procs, tmp, kind, torrent_path, out, peers.addrs(), seconds=120)
            expect_clean_finish(run, out, torrent, data, what)
            events = misbehaving(peers, bad, what)
            dropped = [e.get("reason") for e in run.of("peer_dropped") if e.get("peer") == bad]
            if kind in STRICT_SIZES:
                expect(dropped, f"{what}: no peer_dropped event for {bad}: {run.describe()}")
                expect_closed_by_spate(peers, bad, good, what)
                print(f"wrong_size:{kind}: dropped ({dropped[0]})")
                return
            later = [e for e in peers.events("request", bad) if e["t"] > events[0]["t"]]
            expect(not dropped and later, f"{what}: spate takes a late bitfield that only adds "
                                          f"pieces, but dropped {dropped} or asked nothing "
                                          f"after it ({len(later)} requests)")
            print(f"wrong_size:{kind}: taken, {len(later)} blocks asked after it")
        finally:
            peers.stop()

    each_case(STRICT_SIZES + LENIENT_SIZES, check)


def test_unrequested(tmp, procs, _rng):
    """Blocks nobody asked for, unaligned, or sent twice: the peer is dropped, and the
    pieces it was asked for go to the good peer. With two piece buffers, both first taken
    by the hostile peer, a buffer kept by a piece nobody fetches any more stalls the run.
    Blocks sent after spate cancelled them are thrown away and cost nothing."""
    data, torrent_path, torrent, seed_dir = make_payload(tmp, "unasked.bin", 6 * MIB + 5555, 12)

    def check(kind):
        what = f"an unrequested:{kind} peer"
        peers, bad, good = hostile_pair(procs, tmp, kind, torrent_path, seed_dir,
                                        f"unrequested:{kind}", LATE_GOOD)
        out = os.path.join(tmp, f"out-{kind}")
        # cancelled holds its 16 requests unanswered until the endgame cancels them: 1M (16
        # buffers) leaves the good peer room to work meanwhile.
        memory = SMALL_MEMORY if kind != "cancelled" else "1M"
        try:
            # 6 MiB at the good peer's 2 MiB/s take about 4 s. One buffer lost of two (one
            # piece asked of the dropped peer and kept, but no longer fetched) makes it 10 to
            # 50 s; both lost, it never ends.
            run = bounded_download(procs, tmp, kind, torrent_path, out, peers.addrs(),
                                   "--memory", memory, seconds=15,
                                   why=f"beside {what} with --memory {memory}; a piece "
                                       f"buffer not given back stalls it")
            expect_clean_finish(run, out, torrent, data, what)
            events = misbehaving(peers, bad, what)
            banned, failed = run.of("peer_banned"), run.of("piece_failed")
            expect(not failed and not banned, f"{what}: its 0xEE blocks were stored: "
                                              f"{len(failed)} pieces failed, banned {banned}")
            dropped = [e.get("reason") for e in run.of("peer_dropped") if e.get("peer") == bad]
            if kind in DROPPING_UNREQUESTED:
                expect(dropped, f"{what}: no peer_dropped event for {bad}: {run.describe()}")
                expect_closed_by_spate(peers, bad, good, what)
                print(f"unrequested:{kind}: {len(events)} connections, each dropped "
                      f"({dropped[0]}); {run.wall:.1f} s with --memory {memory}")
                return
            print(f"unrequested:{kind}: {len(events)} blocks sent after their cancel, "
                  f"thrown away; {run.wall:.1f} s with --memory {memory}")
        finally:
            peers.stop()

    each_case(DROPPING_UNREQUESTED + ["cancelled"], check)


def test_silent(tmp, procs, _rng):
    """Peers that handshake and then send nothing (or only their bitfield) hold nothing up."""
    data, torrent_path, torrent, seed_dir = make_payload(tmp, "silent.bin", 4 * MIB + 777, 13)
    peers = Peers(procs, torrent_path, seed_dir, os.path.join(tmp, "peers.jsonl"),
                  ["127.0.0.2:0=silent:nothing", "127.0.0.3:0=silent:bitfield",
                   "127.0.0.4:0=slow:4m"])
    mute, quiet, good = peers.addrs()
    out = os.path.join(tmp, "out")
    run = bounded_download(procs, tmp, "spate", torrent_path, out, peers.addrs(),
                           seconds=QUICK, why="the good peer alone takes about 1 s")
    expect_clean_finish(run, out, torrent, data, "silent peers")
    for addr in (mute, quiet):
        expect(peers.events("handshake", addr), f"spate never handshook with {addr}")
    print(f"done in {run.wall:.1f} s beside a mute and a bitfield-only peer")


def test_never_answers(tmp, procs, _rng):
    """A peer that unchokes and has every piece but answers no request. With buffers to
    spare its blocks go to the good peer in the endgame, long before spate's 60 s request
    timeout. With two buffers, both held by its requests, nothing moves until that timeout
    takes them back; then the good peer must carry the download to the end."""
    data, torrent_path, torrent, seed_dir = make_payload(tmp, "mute.bin", 4 * MIB + 888, 14)
    cases = {"plenty": (None, QUICK, f"the good peer needs 2 s; waiting for the "
                                     f"{REQUEST_TIMEOUT} s request timeout instead of asking it "
                                     f"in the endgame would exceed this"),
             "tight": (SMALL_MEMORY, REQUEST_TIMEOUT + 30,
                       f"a peer that never answers holds both piece buffers until the "
                       f"{REQUEST_TIMEOUT} s request timeout, then the good peer needs 2 s")}

    def check(label):
        memory, bound, why = cases[label]
        peers, bad, good = hostile_pair(procs, tmp, label, torrent_path, seed_dir,
                                        "never_answers", LATE_GOOD)
        out = os.path.join(tmp, f"out-{label}")
        extra = ["--memory", memory] if memory else []
        try:
            run = bounded_download(procs, tmp, label, torrent_path, out, peers.addrs(),
                                   *extra, seconds=bound, why=why)
            expect_clean_finish(run, out, torrent, data, "a peer that never answers")
            held = {(e["piece"], e["begin"]) for e in peers.events("request", bad)}
            expect(held, f"spate never asked {bad} for a block: the test proves nothing")
            asked = {(e["piece"], e["begin"]) for e in peers.events("request", good)}
            expect(held <= asked, f"blocks held by {bad} were never asked of {good}: "
                                  f"{sorted(held - asked)[:10]}")
            print(f"{label} (--memory {memory or 'default'}): done in {run.wall:.1f} s; the "
                  f"{len(held)} blocks held by {bad} came from {good}")
        finally:
            peers.stop()

    each_case(list(cases), check)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hex_port(address):
    """The port of a /proc/net/tcp address ("0100007F:1F90")."""
    return int(address.rsplit(":", 1)[1], 16)


def tcp_entries(port):
    """(local, remote, state) of every IPv4/IPv6 TCP socket with `port` at either end, from
    /proc/net/tcp*: states in hex, 01 established, 06 time-wait, 0A listen."""
    out = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, encoding="ascii") as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            local, remote, state = fields[1], fields[2], fields[3]
            if port in (hex_port(local), hex_port(remote)):
                out.add((local, remote, state))
    return out


def run_watching_port(procs, tmp, label, args, port, seconds):
    """Runs spate while sampling the sockets on `port` every 20 ms. Returns the Run, when
    each (local, remote) other than the listener was first seen (in any state: a closed
    one lingers in time-wait), and how long each was seen established."""
    proc, out_path, err_path = start_spate(procs, tmp, label, args)
    seen, established = {}, {}
    started = time.monotonic()
    deadline = started + seconds
    while proc.poll() is None and time.monotonic() < deadline:
        now = time.monotonic()
        for local, remote, state in tcp_entries(port):
            if state == "0A":
                continue
            seen.setdefault((local, remote), now)
            if state == "01":
                first, _ = established.get((local, remote), (now, now))
                established[(local, remote)] = (first, now)
        time.sleep(0.02)
    run = read_run(*wait_spate(proc, max(1.0, deadline - time.monotonic())), out_path, err_path)
    run.wall = time.monotonic() - started
    for local, remote, state in tcp_entries(port):  # closed ones linger in time-wait
        if state != "0A":
            seen.setdefault((local, remote), time.monotonic())
    return run, seen, {k: last - first for k, (first, last) in established.items()}


def test_self(tmp, procs, _rng):
    """spate given its own listen address as a peer: it sees its own peer id, closes both
    ends at once and never dials it again; the good peer carries the download."""
    data, torrent_path, torrent, seed_dir = make_payload(tmp, "self.bin", 8 * MIB + 999, 15)
    peers = Peers(procs, torrent_path, seed_dir, os.path.join(tmp, "peers.jsonl"),
                  ["127.0.0.2:0=slow:1m"])
    for attempt in range(1, 4):  # another process may take the free port before spate does
        port = free_port()
        out = os.path.join(tmp, f"out-{attempt}")
        args = download_args(torrent_path, out, [f"127.0.0.1:{port}", *peers.addrs()],
                             "--port", str(port))
        run, seen, held = run_watching_port(procs, tmp, f"spate-{attempt}", args, port, 150)
        listening = [e.get("port") for e in run.of("listening")]
        if listening == [port]:
            break
        expect(attempt < 3, f"spate listened on {listening}, not on --port {port}, 3 times")
    expect_clean_finish(run, out, torrent, data, "its own address as a peer")
    # One connection shows as two rows (one per end), or one once an end is gone; the
    # dialling end's port names it.
    dials = {next(iter({hex_port(a) for a in pair} - {port}), port) for pair in seen}
    expect(dials, f"no connection to port {port} was ever seen: spate never dialled itself, "
                  f"the test proves nothing")
    expect(len(dials) == 1, f"spate dialled its own address {len(dials)} times: it did not "
                            f"ban it after the first (same peer id)")
    longest = max(held.values(), default=0.0)
    expect(longest < 5, f"a connection to itself stayed open {longest:.1f} s")
    counts = [e.get("peers") for e in run.of("progress")]
    expect(counts and max(counts) <= 1, f"spate counted itself as a peer: progress events "
                                        f"report {max(counts or [0])} peers with one good one")
    print(f"dialled itself once (port {port}), open at most {longest:.2f} s; progress peers "
          f"{sorted(set(counts))}; done in {run.wall:.1f} s")


def test_wrong_hash(tmp, procs, _rng):
    """A peer answering the handshake with another torrent's info-hash is closed at once,
    never asked for anything, and its eager bitfield and unchoke are not taken."""
    data, torrent_path, torrent, seed_dir = make_payload(tmp, "hash.bin", 8 * MIB + 321, 16)
    peers, bad, good = hostile_pair(procs, tmp, "peers", torrent_path, seed_dir, "wrong_hash",
                                    "slow:2m")
    out = os.path.join(tmp, "out")
    run = download(procs, tmp, "spate", torrent_path, out, peers.addrs(), seconds=120)
    expect_clean_finish(run, out, torrent, data, "a peer with another info-hash")
    shook = {e["conn"]: e["t"] for e in peers.events("handshake", bad)}
    expect(shook, f"spate never dialled {bad}: the test proves nothing")
    asked = peers.events("request", bad) + peers.events("interested", bad)
    expect(not asked, f"spate went on with {bad} after a wrong info-hash: {asked[:3]}")
    closes = {e["conn"]: e for e in peers.events("close", bad)}
    for conn, t in shook.items():
        close = closes.get(conn)
        expect(closed_by_spate(close), f"connection {conn} of {bad} was not closed by spate "
                                       f"({close['reason'] if close else 'never closed'})")
        expect(close["t"] - t < 5, f"spate took {close['t'] - t:.1f} s to close {bad} after "
                                   f"a wrong info-hash")
    slowest = max(closes[c]["t"] - t for c, t in shook.items())
    print(f"{len(shook)} connections with the wrong info-hash, each closed by spate within "
          f"{slowest * 1000:.0f} ms; done in {run.wall:.1f} s")


TESTS = {"wrong_size": test_wrong_size, "unrequested": test_unrequested,
         "silent": test_silent, "never_answers": test_never_answers, "self": test_self,
         "wrong_hash": test_wrong_hash}
