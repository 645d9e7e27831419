// The announcer against the built-in tracker on loopback, on one ring with the session's
// services (resolver, HTTP client, UDP tracker client). Dead trackers are a UDP port
// nobody answers on and an HTTP port nobody listens on, with short request timeouts.
// Every scenario stops the announcer, closes the UDP client and stops the tracker, so a
// leaked frame or a stray operation shows up under ASan. Waits are bounded loops on
// observable state; no assertion is about how long anything took.

#include <spate/io/error.hpp>
#include <spate/io/ring.hpp>
#include <spate/io/scope.hpp>
#include <spate/io/task.hpp>
#include <spate/io/timer_ops.hpp>
#include <spate/net/http_client.hpp>
#include <spate/net/resolver.hpp>
#include <spate/tracker/announcer.hpp>
#include <spate/tracker/builtin_tracker.hpp>
#include <spate/tracker/udp_tracker_client.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using spate::endpoint;
using spate::sha1_digest;
namespace io = spate::io;
namespace net = spate::net;
namespace tracker = spate::tracker;

#define RING_OR_SKIP(NAME)                                                                         \
    auto NAME##_created = io::ring::create();                                                      \
    if (!NAME##_created && NAME##_created.error() == io::errc::ring_unavailable) {                 \
        GTEST_SKIP() << NAME##_created.error().message();                                          \
    }                                                                                              \
    ASSERT_TRUE(NAME##_created) << NAME##_created.error().message();                               \
    io::ring& NAME = *NAME##_created

constexpr std::uint16_t our_port = 7001;
constexpr std::uint16_t other_port = 7002;
// Nobody answers UDP on port 1 of loopback, and nothing listens for TCP there either.
constexpr const char* dead_udp = "udp://127.0.0.1:1/announce";
constexpr const char* dead_http = "http://127.0.0.1:1/announce";

sha1_digest torrent_hash() {
    sha1_digest d;
    d.bytes.fill(std::byte{0xa5});
    return d;
}

// The tracker and the session services, made on the test's thread; destroyed in reverse
// order (the HTTP client before the resolver it borrows).
struct harness {
    std::unique_ptr<tracker::builtin_tracker> tracker;
    std::unique_ptr<net::resolver> names;
    std::unique_ptr<net::http_client> http;
    std::unique_ptr<tracker::udp_tracker_client> udp;

    [[nodiscard]] bool ready() const { return tracker && names && http && udp; }
    [[nodiscard]] std::string udp_url() const {
        return "udp://" + tracker->udp_endpoint()->to_string() + "/announce";
    }
    [[nodiscard]] std::string http_url() const {
        return "http://" + tracker->http_endpoint()->to_string() + "/announce";
    }
    [[nodiscard]] tracker::tracker_services services(io::ring& r) const {
        return tracker::tracker_services{r, *names, *http, *udp};
    }
};

harness make_harness(io::ring& r, std::chrono::seconds interval) {
    harness h;
    tracker::builtin_tracker_settings settings;
    settings.udp = endpoint::parse("127.0.0.1:0");
    settings.http = endpoint::parse("127.0.0.1:0");
    settings.swarm.announce_interval = interval;
    settings.http_timeout = 5s;
    auto created = tracker::builtin_tracker::create(r, std::move(settings));
    EXPECT_TRUE(created) << created.error().message();
    if (created) {
        h.tracker = std::move(*created);
    }
    auto names = net::resolver::create(r);
    EXPECT_TRUE(names) << names.error().message();
    if (names) {
        h.names = std::move(*names);
        auto http = net::http_client::create(r, *h.names);
        EXPECT_TRUE(http) << http.error().message();
        if (http) {
            h.http = std::move(*http);
        }
    }
    h.udp = std::make_unique<tracker::udp_tracker_client>(r);
    return h;
}

tracker::announcer_settings quick_settings() {
    tracker::announcer_settings settings;
    settings.request_timeout = 300ms;
    settings.stopped_timeout = 2s;
    // Whole seconds are the schedule's unit: no floor, a one-second backoff.
    settings.schedule.min_interval_floor = 0s;
    settings.schedule.retry_base = 1s;
    settings.schedule.retry_max = 2s;
    return settings;
}

tracker::announce_identity our_identity() {
    tracker::announce_identity identity;
    identity.info_hash = torrent_hash();
    identity.peer.fill(std::byte{0x11});
    identity.port = our_port;
    identity.key = 0x1234;
    return identity;
}

// Announces a second peer (127.0.0.1:7002) into the swarm through the UDP client.
io::task<bool> announce_other_peer(tracker::udp_tracker_client& udp, endpoint to,
                                   std::uint16_t port) {
    tracker::announce_request request;
    request.info_hash = torrent_hash();
    request.peer.fill(std::byte{0x22});
    request.port = port;
    request.left = 1000;
    request.event = tracker::announce_event::started;
    auto answer = co_await udp.announce(to, "/announce", request);
    EXPECT_TRUE(answer && !answer->failure);
    co_return answer && !answer->failure;
}

// Polls `done` every 10 ms, at most 10 s: true once it holds.
io::task<bool> eventually(io::ring& r, std::function<bool()> done) {
    for (int i = 0; i < 1000 && !done(); ++i) {
        auto slept = co_await io::sleep_for(r, 10ms);
        static_cast<void>(slept);
    }
    co_return done();
}

// What a scenario saw, checked on the test's thread once the ring is idle again.
struct outcome {
    std::vector<endpoint> delivered;
    tracker::announcer_stats stats;
    std::string last_error;
    std::vector<std::string> reported; // what the failure callback was told
    std::string current_tracker;
    bool reached = false; // the scenario's condition came true within its bound
    std::size_t peers_while_running = 0;
    std::size_t peers_after_stop = 0;
    tracker::swarm_counts counts_after;
};

enum class scenario {
    fall_through,
    announced_twice,
    stop_sends_stopped,
    completed_sends_completed,
    privileged_peer,
};

io::task<outcome> play(io::ring& r, harness& h, scenario which) {
    io::scope serving;
    serving.spawn(h.tracker->run(serving.token()));
    outcome out;
    // The other peer claims port 25 (a mail server's) in the privileged_peer scenario.
    const std::uint16_t claimed = which == scenario::privileged_peer ? 25 : other_port;
    const bool seeded =
        co_await announce_other_peer(*h.udp, *h.tracker->udp_endpoint(), claimed);

    std::vector<std::vector<std::string>> tiers;
    if (which == scenario::fall_through) {
        // Two dead trackers in the first tier, the live one alone in the second.
        tiers = {{dead_udp, dead_http}, {h.http_url()}};
    } else {
        tiers = {{h.udp_url()}};
    }
    std::uint64_t left = 1000;
    tracker::announcer a(
        tiers, our_identity(), h.services(r), quick_settings(),
        [&left] { return tracker::announce_numbers{.uploaded = 0, .downloaded = 0, .left = left}; },
        [&out](std::span<const endpoint> peers) {
            out.delivered.insert(out.delivered.end(), peers.begin(), peers.end());
        });

    io::scope announcing;
    announcing.spawn(a.run(announcing.token()));
    const spate::tracker::swarm_registry& registry = h.tracker->registry();
    const sha1_digest hash = torrent_hash();

    if (seeded) {
        switch (which) {
        case scenario::fall_through:
            out.reached = co_await eventually(r, [&] { return !out.delivered.empty(); });
            break;
        case scenario::announced_twice:
        case scenario::privileged_peer:
            out.reached = co_await eventually(r, [&] { return a.stats().answered >= 3; });
            break;
        case scenario::stop_sends_stopped:
            out.reached = co_await eventually(r, [&] { return a.stats().started_sent; });
            out.peers_while_running = registry.peer_count();
            break;
        case scenario::completed_sends_completed:
            out.reached = co_await eventually(r, [&] { return a.stats().started_sent; });
            // The tracker's interval is long: only completed() can bring the announce on.
            left = 0;
            a.completed();
            out.reached =
                out.reached && co_await eventually(r, [&] { return a.stats().completed_sent; });
            break;
        }
    }

    announcing.request_stop();
    co_await announcing.join();
    out.stats = a.stats();
    out.last_error = a.last_error();
    out.current_tracker = a.current_tracker();
    out.peers_after_stop = registry.peer_count();
    out.counts_after = registry.counts(hash);

    co_await h.udp->close();
    serving.request_stop();
    co_await serving.join();
    co_return out;
}

std::size_t times_seen(const std::vector<endpoint>& peers, const endpoint& which) {
    return static_cast<std::size_t>(std::count(peers.begin(), peers.end(), which));
}

TEST(announcer, dead_first_tier_falls_through_to_live_second_tier) {
    RING_OR_SKIP(r);
    harness h = make_harness(r, 60s);
    ASSERT_TRUE(h.ready());
    const outcome out = r.run(play(r, h, scenario::fall_through));

    ASSERT_TRUE(out.reached);
    EXPECT_EQ(times_seen(out.delivered, *endpoint::parse("127.0.0.1:7002")), 1U);
    EXPECT_TRUE(out.stats.started_sent);
    EXPECT_EQ(out.stats.failed, 2U); // both trackers of the dead tier
    EXPECT_EQ(out.stats.failed_rounds, 0U);
    EXPECT_EQ(out.current_tracker, h.http_url());
    EXPECT_FALSE(out.last_error.empty());
    EXPECT_TRUE(out.last_error.find("127.0.0.1:1") != std::string::npos) << out.last_error;
}

TEST(announcer, peers_are_delivered_once_though_announced_again) {
    RING_OR_SKIP(r);
    harness h = make_harness(r, 1s); // the tracker asks for an announce every second
    ASSERT_TRUE(h.ready());
    const outcome out = r.run(play(r, h, scenario::announced_twice));

    ASSERT_TRUE(out.reached);
    EXPECT_GE(out.stats.answered, 3U);
    EXPECT_EQ(out.delivered.size(), 1U);
    EXPECT_EQ(times_seen(out.delivered, *endpoint::parse("127.0.0.1:7002")), 1U);
    EXPECT_EQ(out.stats.peers_delivered, 1U);
}

TEST(announcer, peers_on_privileged_ports_are_not_delivered) {
    RING_OR_SKIP(r);
    harness h = make_harness(r, 1s);
    ASSERT_TRUE(h.ready());
    const outcome out = r.run(play(r, h, scenario::privileged_peer));

    ASSERT_TRUE(out.reached);
    EXPECT_TRUE(out.delivered.empty());
    EXPECT_EQ(out.stats.peers_delivered, 0U);
    EXPECT_GE(out.stats.peers_refused, 1U);
}

TEST(announcer, stop_sends_stopped_to_the_tracker) {
    RING_OR_SKIP(r);
    harness h = make_harness(r, 60s);
    ASSERT_TRUE(h.ready());
    const outcome out = r.run(play(r, h, scenario::stop_sends_stopped));

    ASSERT_TRUE(out.reached);
    EXPECT_EQ(out.peers_while_running, 2U); // the other peer and us
    EXPECT_TRUE(out.stats.stopped_sent) << out.last_error;
    EXPECT_EQ(out.peers_after_stop, 1U); // only the other peer is left
    EXPECT_EQ(out.counts_after.leechers, 1U);
}

TEST(announcer, completed_sends_completed_to_the_tracker) {
    RING_OR_SKIP(r);
    harness h = make_harness(r, 60s);
    ASSERT_TRUE(h.ready());
    const outcome out = r.run(play(r, h, scenario::completed_sends_completed));

    ASSERT_TRUE(out.reached) << out.last_error;
    EXPECT_TRUE(out.stats.completed_sent);
    // "completed" counted once; after our stopped only the other (leeching) peer is left.
    EXPECT_EQ(out.counts_after.downloaded, 1U);
    EXPECT_TRUE(out.stats.stopped_sent);
}

TEST(announcer, refusal_counts_as_a_failure_and_is_reported) {
    RING_OR_SKIP(r);
    harness h = make_harness(r, 60s);
    ASSERT_TRUE(h.ready());
    // The built-in tracker refuses an HTTP path it does not serve with 404, and an
    // announce missing fields with a bencoded failure reason; a tracker URL whose query
    // breaks the announce gives the latter.
    auto refused = [](io::ring& ring, harness& hh) -> io::task<outcome> {
        io::scope serving;
        serving.spawn(hh.tracker->run(serving.token()));
        outcome out;
        std::vector<std::vector<std::string>> tiers = {
            {hh.http_url() + "?port=0&passkey=SECRETKEY"}};
        tracker::announcer a(tiers, our_identity(), hh.services(ring), quick_settings(), {}, {});
        a.on_failure([&out](const std::string& text) { out.reported.push_back(text); });
        io::scope announcing;
        announcing.spawn(a.run(announcing.token()));
        out.reached = co_await eventually(ring, [&] { return a.stats().failed_rounds >= 2; });
        announcing.request_stop();
        co_await announcing.join();
        out.stats = a.stats();
        out.last_error = a.last_error();
        co_await hh.udp->close();
        serving.request_stop();
        co_await serving.join();
        co_return out;
    };
    const outcome out = r.run(refused(r, h));
    ASSERT_TRUE(out.reached);
    EXPECT_FALSE(out.stats.started_sent);
    EXPECT_FALSE(out.stats.stopped_sent); // nobody answered, so nobody is told we stop
    EXPECT_TRUE(out.last_error.find("refused") != std::string::npos) << out.last_error;
    // The same refusal twice is told once, and the passkey never appears.
    ASSERT_EQ(out.reported.size(), 1U);
    EXPECT_EQ(out.reported[0], out.last_error);
    EXPECT_TRUE(out.last_error.find("passkey=***") != std::string::npos) << out.last_error;
    EXPECT_EQ(out.last_error.find("SECRETKEY"), std::string::npos) << out.last_error;
}

} // namespace
