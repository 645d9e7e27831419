#pragma once
// Helpers shared by the UDP tracker client's integration tests: settings with a short
// retransmit base, a request, a harness that runs a test body with the fake tracker serving
// in the background, and coroutines that store what the client returned.

#include "fake_udp_tracker.hpp"

#include <spate/io/ring.hpp>
#include <spate/io/scope.hpp>
#include <spate/io/task.hpp>
#include <spate/tracker/udp_tracker_client.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

namespace udp_client_test {

using namespace std::chrono_literals;
using spate::endpoint;
using spate::result;
using spate::sha1_digest;
namespace io = spate::io;
namespace tracker = spate::tracker;
namespace udp = spate::tracker::udp;
using tracker::testing::fake_udp_tracker;
using tracker::testing::reply_mode;
using tracker::testing::seen_request;
using tracker::testing::step;

using time_point = std::chrono::steady_clock::time_point;

// A clock the test moves by hand (connection id ages).
struct manual_clock {
    time_point now{std::chrono::hours(1000)};
};

inline tracker::udp_client_settings settings_with_base(std::chrono::nanoseconds base,
                                                       bool ipv6 = false) {
    tracker::udp_client_settings settings;
    settings.retry.retry_base = base;
    settings.bind_v4 = *endpoint::parse("127.0.0.1:0");
    if (ipv6) {
        settings.bind_v6 = *endpoint::parse("[::1]:0");
    }
    return settings;
}

inline tracker::announce_request make_request(unsigned char first_hash_byte) {
    tracker::announce_request request;
    request.info_hash.bytes.fill(std::byte{0x11});
    request.info_hash.bytes[0] = std::byte{first_hash_byte};
    request.peer.fill(std::byte{0x22});
    request.port = 51413;
    request.left = 1000;
    request.event = tracker::announce_event::started;
    request.key = 0xABCDEF01;
    return request;
}

inline std::vector<endpoint> some_peers() {
    return {*endpoint::parse("127.0.0.2:6881"), *endpoint::parse("127.0.0.3:6882")};
}

inline std::chrono::nanoseconds gap(const std::vector<seen_request>& seen, std::size_t i) {
    return seen[i + 1].received - seen[i].received;
}

// Runs `body` with the fake serving in the background, then closes the client and stops
// the fake, all on `ring`.
inline io::task<void> with_fake(fake_udp_tracker& fake, tracker::udp_tracker_client& client,
                                io::task<void> body) {
    io::scope background;
    background.spawn(fake.run(background.token()));
    co_await std::move(body);
    co_await client.close();
    background.request_stop();
    co_await background.join();
}

inline io::task<void> announce_into(tracker::udp_tracker_client& client, endpoint to,
                                    std::string url, tracker::announce_request request,
                                    std::stop_token stop,
                                    std::optional<result<tracker::announce_response>>& out) {
    auto got = co_await client.announce(to, std::move(url), std::move(request), std::move(stop));
    out = std::move(got);
}

inline io::task<void> announce_n(tracker::udp_tracker_client& client, endpoint to, int count,
                                 std::vector<result<tracker::announce_response>>& out) {
    for (int i = 0; i < count; ++i) {
        auto got = co_await client.announce(to, "/announce", make_request(1), {});
        out.push_back(std::move(got));
    }
}

// Declares `io::ring& NAME`; main() already skipped the program when io_uring is refused.
#define TEST_RING(NAME)                                                                            \
    auto NAME##_created = io::ring::create();                                                      \
    ASSERT_TRUE(NAME##_created) << NAME##_created.error().message();                               \
    io::ring& NAME = *NAME##_created

// Declares `fake_udp_tracker& NAME` on ADDRESS.
#define TEST_FAKE(NAME, RING, ADDRESS)                                                             \
    auto NAME##_created = fake_udp_tracker::create(RING, ADDRESS);                                 \
    ASSERT_TRUE(NAME##_created) << NAME##_created.error().message();                               \
    fake_udp_tracker& NAME = **NAME##_created

inline io::task<void> announce_long_url(tracker::udp_tracker_client& client, endpoint to,
                                        std::string url,
                                        std::optional<result<tracker::announce_response>>& out) {
    auto got = co_await client.announce(to, std::move(url), make_request(1), {});
    out = std::move(got);
}

inline io::task<void> scrape_into(tracker::udp_tracker_client& client, endpoint to,
                                  std::vector<sha1_digest> hashes,
                                  std::vector<result<tracker::http::scrape_response>>& out) {
    auto got = co_await client.scrape(to, std::move(hashes), {});
    out.push_back(std::move(got));
}

} // namespace udp_client_test
