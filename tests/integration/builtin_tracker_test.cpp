// The built-in tracker on loopback, on one ring with the test's own clients: raw UDP
// datagrams built with the tracker codecs, and raw HTTP requests over TCP. Every test starts
// the tracker in a scope, stops it and joins it, so a leak or a stray operation shows up
// under ASan.

#include <spate/io/error.hpp>
#include <spate/io/ring.hpp>
#include <spate/io/scope.hpp>
#include <spate/io/socket_ops.hpp>
#include <spate/io/task.hpp>
#include <spate/io/timer_ops.hpp>
#include <spate/io/unique_fd.hpp>
#include <spate/tracker/builtin_tracker.hpp>
#include <spate/tracker/http_codec.hpp>
#include <spate/tracker/udp_codec.hpp>

#include <gtest/gtest.h>

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <memory>
#include <netinet/in.h>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using spate::endpoint;
using spate::result;
using spate::sha1_digest;
namespace io = spate::io;
namespace tracker = spate::tracker;
namespace udp = spate::tracker::udp;
namespace http = spate::tracker::http;

// How long a test waits for a datagram the tracker must not send: long enough for any
// loopback answer to arrive, short enough to keep the suite fast. Only "nothing came" is
// asserted, never how long anything took.
constexpr auto silence = 200ms;
constexpr auto reply_wait = 5s;

#define RING_OR_SKIP(NAME)                                                                         \
    auto NAME##_created = io::ring::create();                                                      \
    if (!NAME##_created && NAME##_created.error() == io::errc::ring_unavailable) {                 \
        GTEST_SKIP() << NAME##_created.error().message();                                          \
    }                                                                                              \
    ASSERT_TRUE(NAME##_created) << NAME##_created.error().message();                               \
    io::ring& NAME = *NAME##_created

std::unique_ptr<tracker::builtin_tracker> start_tracker(io::ring& r) {
    tracker::builtin_tracker_settings settings;
    settings.udp = endpoint::parse("127.0.0.1:0");
    settings.http = endpoint::parse("127.0.0.1:0");
    settings.swarm.announce_interval = 60s;
    settings.http_timeout = 5s;
    auto created = tracker::builtin_tracker::create(r, std::move(settings));
    EXPECT_TRUE(created) << created.error().message();
    return created ? std::move(*created) : nullptr;
}

// Runs `client` while the tracker serves, then stops the tracker and waits for all of it.
template <typename T> io::task<T> with_tracker(tracker::builtin_tracker& t, io::task<T> client) {
    io::scope tasks;
    tasks.spawn(t.run(tasks.token()));
    T value = co_await std::move(client);
    tasks.request_stop();
    co_await tasks.join();
    co_return value;
}

// The value of an outcome field until the scenario sets it.
tl::unexpected<std::error_code> not_run() {
    return spate::fail(std::make_error_code(std::errc::not_connected));
}

sha1_digest hash_of(unsigned char fill) {
    sha1_digest d;
    d.bytes.fill(static_cast<std::byte>(fill));
    return d;
}

tracker::announce_request request_for(const sha1_digest& info_hash, std::uint16_t port,
                                      std::uint64_t left) {
    tracker::announce_request request;
    request.info_hash = info_hash;
    request.peer.fill(static_cast<std::byte>(port & 0xff));
    request.port = port;
    request.left = left;
    request.event = tracker::announce_event::started;
    return request;
}

// A UDP socket on 127.0.0.1 (or ::1) with a port of its own.
io::unique_fd udp_client(bool ipv6 = false) {
    const endpoint local = *endpoint::parse(ipv6 ? "[::1]:0" : "127.0.0.1:0");
    io::unique_fd fd(::socket(ipv6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_storage address{};
    const socklen_t length = local.to_sockaddr(address);
    EXPECT_EQ(::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), length), 0);
    return fd;
}

// Sends `datagram` to `to` and waits up to `wait` for one datagram back.
io::task<result<std::vector<std::byte>>> exchange(io::ring& r, int fd, endpoint to,
                                                  std::vector<std::byte> datagram,
                                                  std::chrono::milliseconds wait) {
    sockaddr_storage address{};
    const socklen_t length = to.to_sockaddr(address);
    result<std::size_t> sent =
        co_await io::sendmsg(r, fd, std::span<const std::byte>(datagram),
                             reinterpret_cast<const sockaddr*>(&address), length);
    if (!sent) {
        co_return spate::fail(sent.error());
    }
    std::vector<std::byte> buffer(4096);
    const io::op_options options{.stop = {}, .timeout = wait, .deadline = std::nullopt};
    result<io::datagram_info> got = co_await io::recvmsg(r, fd, buffer, options);
    if (!got) {
        co_return spate::fail(got.error());
    }
    buffer.resize(got->size);
    co_return buffer;
}

template <std::size_t N> std::vector<std::byte> bytes(const std::array<std::byte, N>& a) {
    return {a.begin(), a.end()};
}

io::task<result<std::uint64_t>> udp_connect(io::ring& r, int fd, endpoint to) {
    result<std::vector<std::byte>> reply =
        co_await exchange(r, fd, to, bytes(udp::encode_connect_request(0x1234)), reply_wait);
    if (!reply) {
        co_return spate::fail(reply.error());
    }
    EXPECT_EQ(reply->size(), udp::connect_request_size); // no amplification
    auto header = udp::decode_reply_header(*reply);
    EXPECT_TRUE(header && header->transaction_id == 0x1234);
    co_return udp::decode_connect_reply(*reply);
}

io::task<result<tracker::announce_response>> udp_announce(io::ring& r, int fd, endpoint to,
                                                          std::uint64_t connection_id,
                                                          tracker::announce_request request,
                                                          std::chrono::milliseconds wait) {
    auto datagram = udp::encode_announce_request(connection_id, 0x5678, request, "");
    if (!datagram) {
        co_return spate::fail(datagram.error());
    }
    result<std::vector<std::byte>> reply = co_await exchange(r, fd, to, *datagram, wait);
    if (!reply) {
        co_return spate::fail(reply.error());
    }
    co_return udp::decode_announce_reply(*reply, to.family());
}

// Connects, then announces `request`; the announce reply.
io::task<result<tracker::announce_response>>
udp_connect_announce(io::ring& r, int fd, endpoint to, tracker::announce_request request) {
    result<std::uint64_t> id = co_await udp_connect(r, fd, to);
    if (!id) {
        co_return spate::fail(id.error());
    }
    co_return co_await udp_announce(r, fd, to, *id, std::move(request), reply_wait);
}

// --------------------------------------------------------------------------------------
// UDP
// --------------------------------------------------------------------------------------

struct two_peers_outcome {
    result<tracker::announce_response> first = not_run();
    result<tracker::announce_response> second = not_run();
    result<tracker::announce_response> first_again = not_run();
};

io::task<two_peers_outcome> two_peers(io::ring& r, endpoint to) {
    io::unique_fd a = udp_client();
    io::unique_fd b = udp_client();
    two_peers_outcome out;
    out.first = co_await udp_connect_announce(r, a.get(), to, request_for(hash_of(1), 7001, 100));
    out.second = co_await udp_connect_announce(r, b.get(), to, request_for(hash_of(1), 7002, 0));
    out.first_again =
        co_await udp_connect_announce(r, a.get(), to, request_for(hash_of(1), 7001, 100));
    co_return out;
}

TEST(builtin_tracker, udp_peers_announcing_see_each_other) {
    RING_OR_SKIP(r);
    auto t = start_tracker(r);
    ASSERT_TRUE(t && t->udp_endpoint());
    EXPECT_NE(t->udp_endpoint()->port(), 0);
    const two_peers_outcome out = r.run(with_tracker(*t, two_peers(r, *t->udp_endpoint())));

    ASSERT_TRUE(out.first) << out.first.error().message();
    EXPECT_TRUE(out.first->peers.empty()); // alone: never told about itself
    EXPECT_EQ(out.first->interval, 60s);
    EXPECT_EQ(out.first->incomplete, 1U);

    ASSERT_TRUE(out.second) << out.second.error().message();
    EXPECT_EQ(out.second->peers, std::vector{*endpoint::parse("127.0.0.1:7001")});
    EXPECT_EQ(out.second->complete, 1U);
    EXPECT_EQ(out.second->incomplete, 1U);

    ASSERT_TRUE(out.first_again) << out.first_again.error().message();
    EXPECT_EQ(out.first_again->peers, std::vector{*endpoint::parse("127.0.0.1:7002")});
    EXPECT_EQ(t->stats().udp_connects, 3U);
    EXPECT_EQ(t->stats().udp_announces, 3U);
}

io::task<two_peers_outcome> two_peers_v6(io::ring& r, endpoint to) {
    io::unique_fd a = udp_client(true);
    io::unique_fd b = udp_client(true);
    two_peers_outcome out;
    out.first = co_await udp_connect_announce(r, a.get(), to, request_for(hash_of(8), 7101, 100));
    out.second = co_await udp_connect_announce(r, b.get(), to, request_for(hash_of(8), 7102, 100));
    co_return out;
}

TEST(builtin_tracker, udp_over_ipv6_gives_ipv6_peers) {
    RING_OR_SKIP(r);
    tracker::builtin_tracker_settings settings;
    settings.udp = endpoint::parse("[::1]:0");
    auto created = tracker::builtin_tracker::create(r, std::move(settings));
    if (!created && created.error() == std::errc::address_not_available) {
        GTEST_SKIP() << "no IPv6 loopback here";
    }
    ASSERT_TRUE(created) << created.error().message();
    tracker::builtin_tracker& t = **created;
    EXPECT_FALSE(t.http_endpoint());
    const two_peers_outcome out = r.run(with_tracker(t, two_peers_v6(r, *t.udp_endpoint())));
    ASSERT_TRUE(out.first) << out.first.error().message();
    EXPECT_TRUE(out.first->peers.empty());
    ASSERT_TRUE(out.second) << out.second.error().message();
    EXPECT_EQ(out.second->peers, std::vector{*endpoint::parse("[::1]:7101")});
    EXPECT_EQ(out.second->incomplete, 2U);
}

struct unauthorised_outcome {
    result<tracker::announce_response> made_up_id = not_run();
    result<tracker::announce_response> borrowed_id = not_run();
    result<std::vector<std::byte>> scrape_without_id = not_run();
    result<std::vector<std::byte>> garbage = not_run();
    result<tracker::announce_response> owner = not_run();
};

io::task<unauthorised_outcome> unauthorised(io::ring& r, endpoint to) {
    io::unique_fd owner = udp_client();
    io::unique_fd other = udp_client();
    unauthorised_outcome out;
    out.made_up_id = co_await udp_announce(r, other.get(), to, 0x0123456789abcdefULL,
                                           request_for(hash_of(2), 7003, 5), silence);
    // An id handed to one socket is worthless from another address or port.
    result<std::uint64_t> id = co_await udp_connect(r, owner.get(), to);
    if (id) {
        out.borrowed_id = co_await udp_announce(r, other.get(), to, *id,
                                                request_for(hash_of(2), 7003, 5), silence);
        auto scrape = udp::encode_scrape_request(*id + 1, 9, std::vector{hash_of(2)});
        if (scrape) {
            out.scrape_without_id = co_await exchange(r, other.get(), to, *scrape, silence);
        }
        out.garbage = co_await exchange(r, other.get(), to, std::vector<std::byte>(7), silence);
        out.owner = co_await udp_announce(r, owner.get(), to, *id, request_for(hash_of(2), 7004, 5),
                                          reply_wait);
    }
    co_return out;
}

TEST(builtin_tracker, udp_answers_nothing_without_a_valid_connection_id) {
    RING_OR_SKIP(r);
    auto t = start_tracker(r);
    ASSERT_TRUE(t);
    const unauthorised_outcome out = r.run(with_tracker(*t, unauthorised(r, *t->udp_endpoint())));
    ASSERT_FALSE(out.made_up_id);
    EXPECT_EQ(out.made_up_id.error(), std::errc::timed_out);
    ASSERT_FALSE(out.borrowed_id);
    EXPECT_EQ(out.borrowed_id.error(), std::errc::timed_out);
    ASSERT_FALSE(out.scrape_without_id);
    EXPECT_EQ(out.scrape_without_id.error(), std::errc::timed_out);
    ASSERT_FALSE(out.garbage);
    EXPECT_EQ(out.garbage.error(), std::errc::timed_out);
    // The id still works for the socket it was issued to.
    ASSERT_TRUE(out.owner) << out.owner.error().message();
    EXPECT_EQ(out.owner->incomplete, 1U);

    EXPECT_EQ(t->stats().udp_unauthorised, 3U);
    EXPECT_EQ(t->stats().udp_malformed, 1U);
    // Unauthorised announces recorded nobody.
    EXPECT_EQ(t->registry().counts(hash_of(2)).leechers, 1U);
}

io::task<result<std::vector<tracker::scrape_entry>>> scrape_after_announces(io::ring& r,
                                                                            endpoint to) {
    io::unique_fd a = udp_client();
    io::unique_fd b = udp_client();
    io::unique_fd c = udp_client();
    tracker::announce_request seed = request_for(hash_of(3), 7005, 0);
    seed.event = tracker::announce_event::completed;
    (void)co_await udp_connect_announce(r, a.get(), to, seed);
    (void)co_await udp_connect_announce(r, b.get(), to, request_for(hash_of(3), 7006, 10));
    (void)co_await udp_connect_announce(r, b.get(), to, request_for(hash_of(4), 7006, 10));
    result<std::uint64_t> id = co_await udp_connect(r, c.get(), to);
    if (!id) {
        co_return spate::fail(id.error());
    }
    const std::vector<sha1_digest> asked{hash_of(3), hash_of(4), hash_of(5)};
    auto request = udp::encode_scrape_request(*id, 77, asked);
    if (!request) {
        co_return spate::fail(request.error());
    }
    result<std::vector<std::byte>> reply = co_await exchange(r, c.get(), to, *request, reply_wait);
    if (!reply) {
        co_return spate::fail(reply.error());
    }
    co_return udp::decode_scrape_reply(*reply, asked);
}

TEST(builtin_tracker, udp_scrape_counts_seeders_leechers_and_downloads) {
    RING_OR_SKIP(r);
    auto t = start_tracker(r);
    ASSERT_TRUE(t);
    const auto entries = r.run(with_tracker(*t, scrape_after_announces(r, *t->udp_endpoint())));
    ASSERT_TRUE(entries) << entries.error().message();
    ASSERT_EQ(entries->size(), 3U);
    EXPECT_EQ((*entries)[0],
              (tracker::scrape_entry{
                  .info_hash = hash_of(3), .complete = 1, .downloaded = 1, .incomplete = 1}));
    EXPECT_EQ((*entries)[1],
              (tracker::scrape_entry{
                  .info_hash = hash_of(4), .complete = 0, .downloaded = 0, .incomplete = 1}));
    EXPECT_EQ((*entries)[2], (tracker::scrape_entry{.info_hash = hash_of(5)}));
}

TEST(builtin_tracker, udp_announce_reply_fits_one_datagram_whatever_numwant_asks) {
    RING_OR_SKIP(r);
    auto t = start_tracker(r);
    ASSERT_TRUE(t);
    const auto now = std::chrono::steady_clock::now();
    // The protocol logic without sockets: 300 peers from 127.0.0.1:1..300, then one more
    // asking for every peer there is.
    auto announce_from = [&](std::uint16_t port, std::int32_t numwant) {
        const endpoint from = *endpoint::parse("127.0.0.1:" + std::to_string(port));
        const auto connected = t->handle_datagram(udp::encode_connect_request(1), from, now);
        auto id = udp::decode_connect_reply(connected);
        EXPECT_TRUE(id);
        tracker::announce_request request = request_for(hash_of(10), port, 1);
        request.numwant = numwant;
        auto datagram = udp::encode_announce_request(id.value_or(0), 2, request, "");
        EXPECT_TRUE(datagram);
        return t->handle_datagram(datagram.value_or(std::vector<std::byte>{}), from, now);
    };
    for (std::uint16_t port = 1; port <= 300; ++port) {
        (void)announce_from(port, 0);
    }
    const std::vector<std::byte> reply = announce_from(301, 100000);
    EXPECT_LE(reply.size(), 1200U);
    auto decoded = udp::decode_announce_reply(reply, spate::address_family::v4);
    ASSERT_TRUE(decoded) << decoded.error().message();
    EXPECT_EQ(decoded->peers.size(), (1200U - 20U) / 6U);
    EXPECT_EQ(decoded->incomplete, 301U);
    // numwant -1 means "the tracker's default".
    auto by_default = udp::decode_announce_reply(announce_from(302, -1), spate::address_family::v4);
    ASSERT_TRUE(by_default);
    EXPECT_EQ(by_default->peers.size(), 50U);
}

// --------------------------------------------------------------------------------------
// HTTP
// --------------------------------------------------------------------------------------

// Sends `request` over a new TCP connection and reads the whole answer (until the tracker
// closes the connection).
io::task<result<std::string>> http_exchange(io::ring& r, endpoint to, std::string request) {
    io::unique_fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_storage address{};
    const socklen_t length = to.to_sockaddr(address);
    const io::op_options options{.stop = {}, .timeout = reply_wait, .deadline = std::nullopt};
    result<void> connected = co_await io::connect(
        r, fd.get(), reinterpret_cast<const sockaddr*>(&address), length, options);
    if (!connected) {
        co_return spate::fail(connected.error());
    }
    std::span<const std::byte> unsent = std::as_bytes(std::span(request));
    while (!unsent.empty()) {
        result<std::size_t> sent = co_await io::send(r, fd.get(), unsent, options);
        if (!sent) {
            co_return spate::fail(sent.error());
        }
        unsent = unsent.subspan(*sent);
    }
    std::string answer;
    std::array<std::byte, 2048> chunk{};
    for (int reads = 0; reads < 1000; ++reads) {
        result<std::size_t> got = co_await io::recv(r, fd.get(), chunk, options);
        if (!got) {
            co_return spate::fail(got.error());
        }
        if (*got == 0) {
            break;
        }
        answer.append(reinterpret_cast<const char*>(chunk.data()), *got);
    }
    co_return answer;
}

// The GET request for an announce to `to` ("GET /announce?info_hash=... HTTP/1.1").
std::string announce_get(endpoint to, const tracker::announce_request& request) {
    const std::string base = "http://" + to.to_string();
    auto url = http::build_announce_url(base + "/announce", request);
    EXPECT_TRUE(url);
    return "GET " + url.value_or(base).substr(base.size()) +
           " HTTP/1.1\r\nHost: " + to.to_string() + "\r\nUser-Agent: test\r\n\r\n";
}

struct http_answer {
    std::string status_line;
    std::string headers;
    std::string body;
};

http_answer split_answer(const std::string& answer) {
    http_answer out;
    const std::size_t line_end = answer.find("\r\n");
    const std::size_t head_end = answer.find("\r\n\r\n");
    if (line_end == std::string::npos || head_end == std::string::npos) {
        out.status_line = answer;
        return out;
    }
    out.status_line = answer.substr(0, line_end);
    out.headers = answer.substr(line_end + 2, head_end - line_end);
    out.body = answer.substr(head_end + 4);
    return out;
}

struct http_announce_outcome {
    result<tracker::announce_response> udp_peer = not_run();
    result<std::string> http = not_run();
    result<std::string> scrape = not_run();
};

io::task<http_announce_outcome> http_announce(io::ring& r, endpoint udp_to, endpoint http_to) {
    http_announce_outcome out;
    io::unique_fd a = udp_client();
    out.udp_peer =
        co_await udp_connect_announce(r, a.get(), udp_to, request_for(hash_of(6), 7007, 100));
    tracker::announce_request request = request_for(hash_of(6), 7008, 0);
    out.http = co_await http_exchange(r, http_to, announce_get(http_to, request));
    out.scrape = co_await http_exchange(r, http_to,
                                        "GET /scrape?info_hash=%06%06%06%06%06%06%06%06%06%06"
                                        "%06%06%06%06%06%06%06%06%06%06 HTTP/1.0\r\n\r\n");
    co_return out;
}

TEST(builtin_tracker, http_announce_returns_compact_peers_and_scrape_counts) {
    RING_OR_SKIP(r);
    auto t = start_tracker(r);
    ASSERT_TRUE(t && t->http_endpoint());
    EXPECT_NE(t->http_endpoint()->port(), 0);
    const http_announce_outcome out =
        r.run(with_tracker(*t, http_announce(r, *t->udp_endpoint(), *t->http_endpoint())));
    ASSERT_TRUE(out.udp_peer) << out.udp_peer.error().message();
    ASSERT_TRUE(out.http) << out.http.error().message();

    const http_answer answer = split_answer(*out.http);
    EXPECT_EQ(answer.status_line, "HTTP/1.1 200 OK");
    EXPECT_NE(answer.headers.find("Content-Type: text/plain\r\n"), std::string::npos);
    EXPECT_NE(answer.headers.find("Connection: close\r\n"), std::string::npos);
    EXPECT_NE(answer.headers.find("Content-Length: " + std::to_string(answer.body.size()) + "\r\n"),
              std::string::npos);
    // Compact: "peers" is a 6-byte string, not a list.
    EXPECT_NE(answer.body.find("5:peers6:"), std::string::npos) << answer.body;
    auto parsed = http::parse_announce_response(std::as_bytes(std::span(answer.body)));
    ASSERT_TRUE(parsed) << parsed.error().message();
    EXPECT_FALSE(parsed->failure);
    EXPECT_EQ(parsed->peers, std::vector{*endpoint::parse("127.0.0.1:7007")});
    EXPECT_EQ(parsed->complete, 1U);
    EXPECT_EQ(parsed->incomplete, 1U);
    EXPECT_EQ(parsed->interval, 60s);

    ASSERT_TRUE(out.scrape) << out.scrape.error().message();
    const http_answer scrape = split_answer(*out.scrape);
    EXPECT_EQ(scrape.status_line, "HTTP/1.1 200 OK");
    auto scraped = http::parse_scrape_response(std::as_bytes(std::span(scrape.body)));
    ASSERT_TRUE(scraped) << scraped.error().message();
    ASSERT_EQ(scraped->entries.size(), 1U);
    EXPECT_EQ(scraped->entries[0],
              (tracker::scrape_entry{
                  .info_hash = hash_of(6), .complete = 1, .downloaded = 0, .incomplete = 1}));
}

struct http_errors_outcome {
    result<std::string> malformed = not_run();
    result<std::string> wrong_version = not_run();
    result<std::string> unknown_path = not_run();
    result<std::string> post = not_run();
    result<std::string> missing_hash = not_run();
    result<std::string> too_large = not_run();
};

io::task<http_errors_outcome> http_errors(io::ring& r, endpoint to) {
    http_errors_outcome out;
    out.malformed = co_await http_exchange(r, to, "this is not http\r\n\r\n");
    out.wrong_version = co_await http_exchange(r, to, "GET /announce HTTP/2\r\n\r\n");
    out.unknown_path = co_await http_exchange(r, to, "GET /index.html HTTP/1.1\r\n\r\n");
    out.post = co_await http_exchange(r, to, "POST /announce HTTP/1.1\r\n\r\n");
    out.missing_hash = co_await http_exchange(
        r, to, "GET /announce?peer_id=abcdefghijklmnopqrst&port=1 HTTP/1.1\r\n\r\n");
    out.too_large = co_await http_exchange(
        r, to, "GET /announce HTTP/1.1\r\nX-Filler: " + std::string(9000, 'a') + "\r\n\r\n");
    co_return out;
}

std::string status_of(const result<std::string>& answer) {
    return answer ? split_answer(*answer).status_line : "error: " + answer.error().message();
}

TEST(builtin_tracker, http_refuses_malformed_and_unknown_requests) {
    RING_OR_SKIP(r);
    auto t = start_tracker(r);
    ASSERT_TRUE(t);
    const http_errors_outcome out = r.run(with_tracker(*t, http_errors(r, *t->http_endpoint())));
    EXPECT_EQ(status_of(out.malformed), "HTTP/1.1 400 Bad Request");
    EXPECT_EQ(status_of(out.wrong_version), "HTTP/1.1 400 Bad Request");
    EXPECT_EQ(status_of(out.unknown_path), "HTTP/1.1 404 Not Found");
    EXPECT_EQ(status_of(out.post), "HTTP/1.1 405 Method Not Allowed");
    EXPECT_EQ(status_of(out.too_large), "HTTP/1.1 431 Request Header Fields Too Large");
    // A bad announce query is answered the tracker way: 200 and a bencoded failure reason.
    ASSERT_TRUE(out.missing_hash);
    const http_answer missing = split_answer(*out.missing_hash);
    EXPECT_EQ(missing.status_line, "HTTP/1.1 200 OK");
    auto parsed = http::parse_announce_response(std::as_bytes(std::span(missing.body)));
    ASSERT_TRUE(parsed) << parsed.error().message();
    ASSERT_TRUE(parsed->failure);
    EXPECT_NE(parsed->failure->find("info_hash"), std::string::npos) << *parsed->failure;
    EXPECT_EQ(t->registry().torrent_count(), 0U);
}

// The body of an HTTP answer made by handle_http_request, parsed as an announce reply.
result<tracker::announce_response> announce_body(const std::string& answer) {
    const http_answer split = split_answer(answer);
    return http::parse_announce_response(std::as_bytes(std::span(split.body)));
}

TEST(builtin_tracker, claimed_ip_is_honoured_only_between_loopback_addresses) {
    RING_OR_SKIP(r);
    auto t = start_tracker(r);
    ASSERT_TRUE(t);
    const endpoint from = *endpoint::parse("127.0.0.1:40000");
    const auto now = std::chrono::steady_clock::now();
    const endpoint http_to = *t->http_endpoint();
    auto target = [&](std::uint16_t port, std::string_view ip) {
        std::string get = announce_get(http_to, request_for(hash_of(9), port, 1));
        const std::size_t space = get.find(' ', 4);
        get.insert(space, ip.empty() ? std::string() : "&ip=" + std::string(ip));
        return get;
    };
    // A loopback claim from loopback: recorded under the claimed address.
    (void)t->handle_http_request(target(7201, "127.0.0.9"), from, now);
    // A claim of someone else's address: ignored, the source address is used.
    (void)t->handle_http_request(target(7202, "10.1.2.3"), from, now);
    auto seen = announce_body(t->handle_http_request(target(7203, ""), from, now));
    ASSERT_TRUE(seen) << seen.error().message();
    std::vector<endpoint> peers = seen->peers;
    std::sort(peers.begin(), peers.end());
    EXPECT_EQ(peers, (std::vector{*endpoint::parse("127.0.0.1:7202"),
                                  *endpoint::parse("127.0.0.9:7201")}));

    // From a non-loopback source even a loopback claim is ignored.
    const endpoint remote = *endpoint::parse("192.0.2.7:40000");
    EXPECT_EQ(tracker::announced_address(remote, endpoint::parse("127.0.0.1:1"), 7300),
              *endpoint::parse("192.0.2.7:7300"));
    EXPECT_EQ(tracker::announced_address(from, endpoint::parse("[::1]:1"), 7300),
              *endpoint::parse("127.0.0.1:7300"));
}

// A client that connects and never sends a request must not keep the tracker from stopping.
// Returns the client's socket, open, so the stop (not an EOF) is what ends the connection.
io::task<io::unique_fd> idle_connection(io::ring& r, const tracker::builtin_tracker& t,
                                        endpoint to) {
    io::unique_fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_storage address{};
    const socklen_t length = to.to_sockaddr(address);
    const io::op_options options{.stop = {}, .timeout = reply_wait, .deadline = std::nullopt};
    result<void> connected = co_await io::connect(
        r, fd.get(), reinterpret_cast<const sockaddr*>(&address), length, options);
    EXPECT_TRUE(connected);
    // Until the tracker accepted it, so the stop finds a connection coroutine in recv.
    for (int polls = 0; polls < 500 && t.stats().http_accepted == 0; ++polls) {
        result<void> slept = co_await io::sleep_for(r, 10ms);
        EXPECT_TRUE(slept);
    }
    co_return fd;
}

TEST(builtin_tracker, stop_ends_idle_connections_and_all_loops) {
    RING_OR_SKIP(r);
    auto t = start_tracker(r);
    ASSERT_TRUE(t);
    const io::unique_fd client =
        r.run(with_tracker(*t, idle_connection(r, *t, *t->http_endpoint())));
    EXPECT_TRUE(client);
    EXPECT_EQ(r.in_flight(), 0U);
    EXPECT_EQ(t->stats().http_accepted, 1U);
    EXPECT_EQ(t->stats().http_abandoned, 1U);
    EXPECT_EQ(t->stats().http_requests, 0U);
}

} // namespace
