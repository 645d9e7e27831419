#!/usr/bin/python3
"""Integration: `spate announce` and `spate download` against lying trackers on loopback.

Each test starts a tracker written here (an HTTP server on a TCP socket, or a UDP socket,
both on 127.0.0.1, one thread per connection) that misbehaves in one known way, runs the
real binary against it, and checks that spate ends within a bounded time, with exit 1 and
exactly one line (plain, or one --json object) naming the problem, no crash (signal or
sanitizer report) and a bounded peak RSS (VmHWM sampled from /proc, and ru_maxrss).

  huge_body        Content-Length 200 MB, and a close-delimited body streamed without end:
                   refused at the client's 1 MiB body cap
  endless_chunked  Transfer-Encoding: chunked that never ends: refused at the cap
  endless_headers  header lines streamed without end: refused, memory bounded
  slow_drip        one byte per second, in the body and in the status line: timed out at
                   --timeout (the default is 30 s: src/cli/announce_command.cpp)
  gzip_bomb        Content-Encoding: gzip of a bencoded dict that inflates to 1 GiB
                   (1 MiB compressed): refused or a parse error, memory bounded; the request
                   must not advertise gzip
  failure_reason   d14:failure reason...e, with 200 and with 400: the reason is shown
  reason_text      a failure reason carrying a newline and terminal escapes: still one line
                   on a terminal, no escape bytes passed through
  garbage          not bencode, an HTML page, a list, peers of 7 bytes, no interval, deep
                   nesting, a cut body, no reply, a bad status line: one clear error each
  http_status      an HTML 404 page: the error names the status
  udp_garbage      UDP: random bytes, wrong transaction id, short packets, a reply from
                   another port, a flood, an undecodable announce reply: ignored, then the
                   --timeout; an action=3 error on connect or announce: the message shown
  download         `spate download` whose trackers are the huge-body one and a slow drip,
                   with --peer to a good scripted seeder: completes byte-identical, exits
                   promptly despite the hanging tracker, and reports the tracker error as a
                   --json event
  redaction        tracker URLs with a user:password, a passkey query and a 32-hex path key:
                   the secrets appear in no output of info, announce (plain, --json,
                   --scrape, a refused URL) or download, while 127.0.0.1:PORT does

Not here, because covered elsewhere: redirect loops and redirects to other schemes
(tests/net/http_client_test.cpp: redirect_loop_stops_after_max_redirects,
redirect_to_another_scheme_is_refused); the built-in tracker's silence without a valid
connection id and its 16-byte connect reply (tests/integration/builtin_tracker_test.cpp:
udp_answers_nothing_without_a_valid_connection_id, udp_connect).

The code is in three files: this one (the tests and main), hostile_tracker_servers.py
(the lying HTTP and UDP trackers and their replies) and hostile_tracker_harness.py (spate
runs and the checks on them, processes, a torrent and a seeder for `spate download`).

usage: hostile_tracker_test.py SPATE_BINARY [TEST]...   (all tests when none is named)
Every process started here is stopped by its pid, pass or fail; every server is shut down;
every loop and wait is bounded; everything stays on 127.0.0.0/8. Standard library only.
"""

import json
import os
import re
import resource
import sys
import tempfile
import time
import traceback
import urllib.parse
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# pylint: disable=wrong-import-position
import hostile_tracker_harness as harness  # noqa: E402
from hostile_tracker_harness import (  # noqa: E402
    HOST, MAGNET, MIB, Processes, TestFailure, announce, expect, expect_announce_error,
    expect_sane, make_torrent, rss_limit_kib, run_spate, slack, start_seeder)
from hostile_tracker_servers import (  # noqa: E402
    GARBAGE, OK_BODY, UDP_IGNORED, HttpTracker, UdpTracker, connect_reply, drip,
    error_reply, failure, gzip_bomb, raw, reply, stream, udp_case, with_http)

BODY_CAP = MIB  # http_request_options::max_body_size, http_tracker_settings::max_body_size


# ------------------------------------------------------------------------------------
# HTTP tests


def test_huge_body(tmp, procs):
    """Content-Length 200 MB, and a close-delimited body without end: refused at the cap."""
    chunk = b"d8:intervali1800e5:peers" + b"x" * (65536 - 24)
    cases = {
        "content-length": b"HTTP/1.1 200 OK\r\nContent-Length: 209715200\r\n\r\n",
        "close-delimited": b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n",
    }
    for name, head in cases.items():
        def body(tracker, name=name):
            for json_out in (False, True):
                run = announce(procs, tmp, tracker.url(), timeout=20, json_out=json_out)
                error = expect_announce_error(run, tracker.url(), r"larger than the limit",
                                              timeout=20, json_out=json_out)
                print(f"{name}: {error!r} in {run.wall:.2f} s, {run.memory()}")
        with_http(stream(head, chunk, 200 * 1000 * 1000), body)


def test_endless_chunked(tmp, procs):
    """Transfer-Encoding: chunked, 64 KiB chunks without a last one: refused at the cap."""
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    piece = b"10000\r\n" + b"d" * 65536 + b"\r\n"

    def body(tracker):
        for json_out in (False, True):
            run = announce(procs, tmp, tracker.url(), timeout=20, json_out=json_out)
            error = expect_announce_error(run, tracker.url(), r"larger than the limit",
                                          timeout=20, json_out=json_out)
            print(f"{error!r} in {run.wall:.2f} s, {run.memory()}")
        # The cap, not the socket buffers, stopped the transfer: far less than was offered.
        expect(tracker.sent < 64 * MIB, f"the tracker sent {tracker.sent} bytes before spate "
                                        f"gave up")
    with_http(stream(head, piece, 1000 * MIB), body)


def test_endless_headers(tmp, procs):
    """Header lines without end (1 KiB each): refused, or timed out, with memory bounded."""
    head = b"HTTP/1.1 200 OK\r\n"
    piece = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"h" * 1000) for i in range(64))

    def body(tracker):
        run = announce(procs, tmp, tracker.url(), timeout=10, json_out=True)
        error = expect_announce_error(run, tracker.url(), r"HTTP reply|no answer within|timed out",
                                      timeout=10, json_out=True)
        print(f"{error!r} in {run.wall:.2f} s after {tracker.sent // MIB} MiB of headers, "
              f"{run.memory()}")
    with_http(stream(head, piece, 4000 * MIB), body)


def test_slow_drip(tmp, procs):
    """One byte per second, in the body and in the status line: timed out at --timeout."""
    cases = {
        "body": drip(OK_BODY * 10, b"HTTP/1.1 200 OK\r\nContent-Length: 270\r\n\r\n"),
        "status line": drip(b"HTTP/1.1 200 OK\r\nContent-Length: 27\r\n\r\n" + OK_BODY),
    }
    timeout = 4
    for name, handler in cases.items():
        def body(tracker, name=name):
            run = announce(procs, tmp, tracker.url(), timeout=timeout, json_out=True)
            error = expect_announce_error(run, tracker.url(),
                                          rf"no answer within {timeout} s|timed out",
                                          timeout=timeout, json_out=True)
            expect(run.wall >= timeout - 0.5, f"gave up after {run.wall:.1f} s, before the "
                                              f"{timeout} s timeout: {error!r}")
            print(f"{name}: {error!r} after {run.wall:.2f} s")
        with_http(handler, body)


def test_gzip_bomb(tmp, procs):
    """gzip inflating to 1 GiB (1 MiB compressed) and to 64 MiB (64 KiB compressed, under
    the cap as sent): spate keeps at most its cap; an error, memory bounded."""
    def framed(bomb, chunked):
        head = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
        if not chunked:
            return head + b"Connection: close\r\n\r\n" + bomb
        return (head + b"Transfer-Encoding: chunked\r\n\r\n"
                + b"".join(b"%x\r\n%s\r\n" % (len(bomb[i:i + 65536]), bomb[i:i + 65536])
                           for i in range(0, len(bomb), 65536)) + b"0\r\n\r\n")
    big, small = gzip_bomb(1024), gzip_bomb(64)
    # A check of the bomb itself: its start inflates to the bencoded prefix and zeros.
    start = zlib.decompressobj(31).decompress(big[:MIB], 64)
    expect(start.startswith(b"d8:intervali1800e7:padding1073741824:"), "the bomb is broken")
    expect(len(small) < BODY_CAP // 8, f"the small bomb is {len(small)} bytes")
    cases = {
        "1 GiB, close-delimited": framed(big, False),
        "1 GiB, chunked": framed(big, True),
        "64 MiB, close-delimited": framed(small, False),
        "64 MiB, chunked": framed(small, True),
    }
    for name, data in cases.items():
        def body(tracker, name=name):
            run = announce(procs, tmp, tracker.url(), timeout=20, json_out=True)
            error = expect_announce_error(
                run, tracker.url(), r"larger than the limit|not valid bencode|malformed",
                timeout=20, json_out=True)
            accept = [r["headers"].get("accept-encoding", "") for r in tracker.requests]
            expect(accept and all("gzip" not in a and "deflate" not in a for a in accept),
                   f"the request advertised compression: Accept-Encoding {accept}")
            print(f"{name}: {error!r} in {run.wall:.2f} s, {run.memory()} "
                  f"(Accept-Encoding: {accept[0]!r})")
        with_http(raw(data), body)


def test_failure_reason(tmp, procs):
    """A bencoded refusal, with status 200 and 400: the reason is shown."""
    reason = b"torrent not registered with this tracker"
    for status in (200, 400):
        def body(tracker, status=status):
            for json_out in (False, True):
                run = announce(procs, tmp, tracker.url(), timeout=20, json_out=json_out)
                error = expect_announce_error(run, tracker.url(),
                                              r"tracker refused: " + re.escape(reason.decode()),
                                              timeout=20, json_out=json_out)
                print(f"status {status}: {error!r}")
        with_http(reply(status, failure(reason)), body)


def test_reason_text(tmp, procs):
    """A refusal whose reason holds a newline and terminal escapes: one line, no escapes."""
    reason = b"first line\nsecond line \x1b[2J\x1b]0;owned\x07 end"

    def body(tracker):
        run = announce(procs, tmp, tracker.url(), timeout=20, json_out=True)
        error = expect_announce_error(run, tracker.url(), r"tracker refused: first line",
                                      timeout=20, json_out=True)
        print(f"--json: {error!r}")
        run = announce(procs, tmp, tracker.url(), timeout=20)
        expect_sane(run)
        expect(run.rc == 1, f"want exit 1: {run.describe()}")
        controls = sorted({c for c in run.stdout + run.stderr if ord(c) < 32 and c != "\n"})
        expect(not controls, f"a tracker's text reached the terminal with control characters "
                             f"{controls}: {run.stdout!r}")
        expect(len(run.lines()) == 1, f"a tracker's newline split the error line: "
                                      f"{run.stdout!r}")
    with_http(reply(200, failure(reason)), body)


def test_garbage(tmp, procs):
    """Replies that are no announce reply: one clear error each, exit 1, no crash."""
    bad = []
    for name, handler, pattern in GARBAGE:
        def body(tracker, name=name, pattern=pattern):
            run = announce(procs, tmp, tracker.url(), timeout=10, json_out=True)
            try:
                error = expect_announce_error(run, tracker.url(), pattern, timeout=10,
                                              json_out=True)
                print(f"{name}: {error!r}")
            except TestFailure as err:
                print(f"{name}: FAIL {err}")
                bad.append(f"{name}: {err}")
        with_http(handler, body)
    expect(not bad, f"{len(bad)} of {len(GARBAGE)} replies were not refused clearly: "
                    + " | ".join(bad))


def test_http_status(tmp, procs):
    """An HTML error page with 404 (and 503): the error says which status came back."""
    page = b"<html><head><title>404 Not Found</title></head><body>nginx</body></html>"
    for status in (404, 503):
        def body(tracker, status=status):
            run = announce(procs, tmp, tracker.url(), timeout=10, json_out=True)
            error = expect_announce_error(run, tracker.url(), rf"\b{status}\b", timeout=10,
                                          json_out=True)
            print(f"{status}: {error!r}")
        with_http(reply(status, page, "Content-Type: text/html\r\n"), body)


# ------------------------------------------------------------------------------------
# UDP tests


def test_udp_garbage(tmp, procs):
    """Replies that must be ignored end in the --timeout; action=3 errors are shown."""
    timeout = 2
    bad = []
    for name, handler in UDP_IGNORED:
        tracker = UdpTracker(handler)
        try:
            run = announce(procs, tmp, tracker.url(), timeout=timeout, json_out=True)
            error = expect_announce_error(run, tracker.url(),
                                          rf"no answer within {timeout} s|timed out",
                                          timeout=timeout, json_out=True)
            expect(run.wall >= timeout - 0.5, f"{name}: gave up after {run.wall:.1f} s, "
                                              f"before the timeout: {error!r}")
            # BEP 15's first retry comes after 15 s: within 2 s one connect, maybe an announce.
            expect(1 <= len(tracker.received) <= 2,
                   f"{name}: the tracker got {len(tracker.received)} datagrams")
            print(f"{name}: {error!r} after {run.wall:.2f} s, {run.memory()}")
        except TestFailure as err:
            print(f"{name}: FAIL {err}")
            bad.append(f"{name}: {err}")
        finally:
            tracker.close()
    refusals = [
        ("error on connect", udp_case(lambda txn, t: [(error_reply(txn, b"go away"), None)]),
         "go away"),
        ("error on announce", udp_case(lambda txn, t: [(connect_reply(txn), None)],
                                       lambda txn, t: [(error_reply(txn, b"unregistered "
                                                                    b"torrent"), None)]),
         "unregistered torrent"),
    ]
    for name, handler, text in refusals:
        tracker = UdpTracker(handler)
        try:
            for json_out in (False, True):
                run = announce(procs, tmp, tracker.url(), timeout=10, json_out=json_out)
                error = expect_announce_error(run, tracker.url(),
                                              r"tracker refused: " + re.escape(text),
                                              timeout=10, json_out=json_out)
                expect(run.wall < 5 + slack(), f"{name}: a refusal took {run.wall:.1f} s")
                print(f"{name}: {error!r} after {run.wall:.2f} s")
        except TestFailure as err:
            print(f"{name}: FAIL {err}")
            bad.append(f"{name}: {err}")
        finally:
            tracker.close()
    expect(not bad, " | ".join(bad))


# ------------------------------------------------------------------------------------
# download and redaction


def test_download(tmp, procs):
    """Trackers that lie (200 MB body) and hang (slow drip) beside a good peer: the download
    completes, exits promptly, and reports the tracker's error as an event."""
    huge = HttpTracker(stream(b"HTTP/1.1 200 OK\r\nContent-Length: 209715200\r\n\r\n",
                              b"x" * 65536, 200 * 1000 * 1000))
    dripping = HttpTracker(drip(OK_BODY * 10, b"HTTP/1.1 200 OK\r\nContent-Length: 270\r\n\r\n"))
    try:
        data, torrent_path, seed_dir = make_torrent(tmp, "payload.bin", 4 * MIB + 333,
                                                    [huge.url(), dripping.url()])
        peer = start_seeder(procs, tmp, torrent_path, seed_dir)
        out = os.path.join(tmp, "out")
        run = run_spate(procs, tmp, ["download", torrent_path, "-o", out, "--json",
                                     "--peer", peer], 60 + slack())
        expect_sane(run)
        events = run.json_lines()
        expect(run.rc == 0 and any(e.get("event") == "done" for e in events),
               f"the download did not complete: {run.describe()}")
        with open(os.path.join(out, "payload.bin"), "rb") as f:
            expect(f.read() == data, "the downloaded file differs from the payload")
        expect(huge.requests, "spate never asked the huge-body tracker")
        # The drip tracker holds its announce for 30 s (the announcer's request timeout):
        # the download must not wait for it (4 MiB at 2 MiB/s take about 2 s).
        expect(run.wall < 20 + slack(), f"the download took {run.wall:.1f} s: it waited for "
                                         f"a hanging tracker")
        kinds = sorted({e.get("event") for e in events})
        tracker_events = [e for e in events if "tracker" in str(e.get("event", ""))
                          or "tracker" in e]
        print(f"completed in {run.wall:.2f} s, {run.memory()}; asked the huge tracker "
              f"{len(huge.requests)}, "
              f"the dripping one {len(dripping.requests)} times; events: {kinds}; "
              f"stderr {run.stderr.strip()!r}")
        expect(tracker_events and any(re.search(r"larger than the limit", json.dumps(e))
                                      for e in tracker_events),
               f"no --json event reports the huge-body tracker's error (events: {kinds}; "
               f"tracker events: {tracker_events}; stderr {run.stderr.strip()!r})")
    finally:
        huge.close()
        dripping.close()


SECRETS = ("secret", "SECRETKEY", "0123456789abcdef0123456789abcdef")


def test_redaction(tmp, procs):
    """Passkeys in tracker URLs appear in no output; the tracker's host:port does.

    A passkey query and a 32-hex path key are usable URLs (the tracker must get them); a
    user:password URL is refused by spate (tracker_url.cpp), and the refusal must not
    print it either."""
    def tracker_handler(conn, request, tracker):
        if request["path"].startswith("/0123456789abcdef"):
            reply(200, OK_BODY)(conn, request, tracker)
        else:
            reply(200, failure(b"unknown passkey"))(conn, request, tracker)

    tracker = HttpTracker(tracker_handler)
    try:
        where = f"{HOST}:{tracker.port}"
        query_url = f"http://{where}/announce?passkey=SECRETKEY&x=1"
        path_url = f"http://{where}/0123456789abcdef0123456789abcdef/announce"
        user_url = f"http://user:secret@{where}/announce?passkey=SECRETKEY&x=1"
        ftp_url = f"ftp://user:secret@{where}/announce?passkey=SECRETKEY"
        data, torrent_path, seed_dir = make_torrent(tmp, "private.bin", 2 * MIB + 1,
                                                    [query_url, path_url])
        _, user_torrent, _ = make_torrent(tmp, "user.bin", 1000, [user_url])
        magnet = MAGNET + "".join("&tr=" + urllib.parse.quote(u, safe="")
                                  for u in (query_url, path_url))
        user_magnet = MAGNET + "&tr=" + urllib.parse.quote(user_url, safe="")
        runs = []  # (what, run, must name host:port)

        def spate_run(what, args, named=True, seconds=40):
            runs.append((what, run_spate(procs, tmp, args, seconds + slack()), named))

        sources = {"torrent": torrent_path, "magnet": magnet, "user:password torrent":
                   user_torrent, "user:password magnet": user_magnet}
        for label, source in sources.items():
            for extra in ([], ["--json"]):
                spate_run(f"info {' '.join(extra)} {label}", ["info", source, *extra])
        for extra in ([], ["--json"], ["--scrape"], ["--scrape", "--json"]):
            for label, source in sources.items():
                spate_run(f"announce {' '.join(extra)} {label}",
                          ["announce", source, "--timeout", "10", *extra])
            spate_run(f"announce {' '.join(extra)} --tracker",
                      ["announce", MAGNET, "--timeout", "10", "--tracker", query_url,
                       "--tracker", path_url, *extra])
            for url in (user_url, ftp_url):
                spate_run(f"announce {' '.join(extra)} --tracker {url.split(':')[0]}://user:"
                          f"password@", ["announce", MAGNET, "--timeout", "10", "--tracker",
                                         url, *extra])
        peer = start_seeder(procs, tmp, torrent_path, seed_dir)
        out = os.path.join(tmp, "out")
        # Nothing in download's output names trackers yet; once tracker events exist they
        # must be redacted too, so only the secrets are checked here.
        spate_run("download --json", ["download", torrent_path, "-o", out, "--json",
                                      "--peer", peer], named=False, seconds=60)
        download = runs[-1][1]
        leaks, unnamed = [], []
        for what, run, named in runs:
            expect_sane(run)
            text = run.stdout + run.stderr
            found = [s for s in SECRETS if s in text]
            if found:
                line = next(l for l in text.splitlines() if any(s in l for s in found))
                at = min(line.find(s) for s in found if s in line)
                leaks.append((f"{' '.join(what.split())} ({' '.join(found)})",
                              line[max(0, at - 60):at + 60]))
            if named and where not in text:
                unnamed.append(f"{what}: {text.strip()[:300]!r}")
        expect(download.rc == 0, f"the download failed: {download.describe()}")
        asked = " ".join(r["path"] for r in tracker.requests)
        expect("passkey=SECRETKEY" in asked and "/0123456789abcdef0123456789abcdef/" in asked,
               f"the tracker was not asked with both keys (the keys must reach it): {asked!r}")
        print(f"{len(runs)} runs; the tracker got {len(tracker.requests)} requests")
        expect(not unnamed, f"outputs that do not name {where}: {unnamed}")
        expect(not leaks, f"secrets printed by {len(leaks)} of {len(runs)} runs: "
                          + "; ".join(what for what, _ in leaks) + ". For example: "
                          + " | ".join(line for _, line in leaks[:4]))
    finally:
        tracker.close()


TESTS = {"huge_body": test_huge_body, "endless_chunked": test_endless_chunked,
         "endless_headers": test_endless_headers, "slow_drip": test_slow_drip,
         "gzip_bomb": test_gzip_bomb, "failure_reason": test_failure_reason,
         "reason_text": test_reason_text, "garbage": test_garbage,
         "http_status": test_http_status, "udp_garbage": test_udp_garbage,
         "download": test_download, "redaction": test_redaction}


def main(argv):
    if len(argv) < 1 or any(name not in TESTS for name in argv[1:]):
        print(__doc__, file=sys.stderr)
        return 2
    harness.SPATE = os.path.abspath(argv[0])
    harness.ASAN = harness.is_asan(harness.SPATE)
    print(f"{harness.SPATE}: {'ASan build' if harness.ASAN else 'no sanitizers'}; peak RSS "
          f"limit {rss_limit_kib() // 1024} MiB", flush=True)
    failures = []
    for name in argv[1:] or list(TESTS):
        started = time.monotonic()
        procs = Processes()
        with tempfile.TemporaryDirectory(prefix=f"spate-hostile-tracker-{name}-") as tmp:
            try:
                TESTS[name](tmp, procs)
                print(f"ok   {name} ({time.monotonic() - started:.1f} s)", flush=True)
            except TestFailure as err:
                failures.append(name)
                print(f"FAIL {name} ({time.monotonic() - started:.1f} s): {err}", flush=True)
            except Exception:  # pylint: disable=broad-except
                failures.append(name)
                print(f"FAIL {name}: the test itself broke:\n{traceback.format_exc()}", flush=True)
            finally:
                procs.stop_all()
    print(f"{len(failures)} of {len(argv[1:]) or len(TESTS)} failed: {failures}")
    return 1 if failures else 0


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crashed spate leaves no core file
    sys.exit(main(sys.argv[1:]))
