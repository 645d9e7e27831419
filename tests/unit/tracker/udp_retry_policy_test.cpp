#include <spate/tracker/udp_retry_policy.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <limits>

namespace {

using namespace std::chrono_literals;
using spate::endpoint;
using spate::tracker::udp_connection_cache;
using spate::tracker::udp_retry_policy;
using spate::tracker::udp_retry_settings;

endpoint at(const char* text) {
    return *endpoint::parse(text);
}

TEST(udp_retry_policy, follows_bep15_schedule_by_default) {
    udp_retry_policy policy;
    EXPECT_EQ(policy.max_attempts(), 9u);
    for (std::uint32_t n = 0; n <= 8; ++n) {
        auto wait = policy.timeout(n);
        ASSERT_TRUE(wait) << n;
        EXPECT_EQ(*wait, std::chrono::seconds(15) * (1 << n)) << n;
    }
    EXPECT_EQ(*policy.timeout(8), 3840s);
    EXPECT_FALSE(policy.timeout(9));
    EXPECT_FALSE(policy.timeout(std::numeric_limits<std::uint32_t>::max()));
    // 15 s * (2^9 - 1)
    EXPECT_EQ(policy.total_wait(), 7665s);
}

TEST(udp_retry_policy, takes_base_and_retries_from_settings) {
    udp_retry_policy policy(udp_retry_settings{.retry_base = 20ms, .max_retries = 3});
    EXPECT_EQ(policy.max_attempts(), 4u);
    EXPECT_EQ(*policy.timeout(0), 20ms);
    EXPECT_EQ(*policy.timeout(1), 40ms);
    EXPECT_EQ(*policy.timeout(3), 160ms);
    EXPECT_FALSE(policy.timeout(4));
    EXPECT_EQ(policy.total_wait(), 300ms);
}

TEST(udp_retry_policy, no_retries_means_one_send) {
    udp_retry_policy policy(udp_retry_settings{.retry_base = 1ms, .max_retries = 0});
    EXPECT_EQ(policy.max_attempts(), 1u);
    EXPECT_EQ(*policy.timeout(0), 1ms);
    EXPECT_FALSE(policy.timeout(1));
}

TEST(udp_retry_policy, saturates_instead_of_overflowing) {
    udp_retry_policy policy(
        udp_retry_settings{.retry_base = std::chrono::hours(24 * 365), .max_retries = 1000});
    EXPECT_EQ(policy.max_attempts(), udp_retry_policy::retries_limit + 1);
    auto last = policy.timeout(udp_retry_policy::retries_limit);
    ASSERT_TRUE(last);
    EXPECT_EQ(last->count(), std::numeric_limits<std::chrono::nanoseconds::rep>::max());
    EXPECT_EQ(policy.total_wait().count(),
              std::numeric_limits<std::chrono::nanoseconds::rep>::max());
    // Every timeout is positive and never shrinks.
    for (std::uint32_t n = 1; n <= udp_retry_policy::retries_limit; ++n) {
        EXPECT_GE(*policy.timeout(n), *policy.timeout(n - 1)) << n;
    }
}

TEST(udp_retry_policy, zero_base_still_waits) {
    udp_retry_policy policy(udp_retry_settings{.retry_base = 0ns, .max_retries = 2});
    EXPECT_GT(*policy.timeout(0), 0ns);
}

TEST(udp_connection_cache, reuses_an_id_for_less_than_its_lifetime) {
    udp_connection_cache cache(60s);
    const udp_connection_cache::time_point t0{std::chrono::hours(1)};
    const endpoint tracker = at("127.0.0.1:6969");
    EXPECT_FALSE(cache.find(tracker, t0));

    cache.store(tracker, 0x1234, t0);
    EXPECT_EQ(cache.find(tracker, t0), 0x1234u);
    EXPECT_EQ(cache.find(tracker, t0 + 59s), 0x1234u);
    EXPECT_EQ(cache.find(tracker, t0 + 60s - 1ns), 0x1234u);
    // At most 60 s: at exactly the lifetime a new connect is due.
    EXPECT_FALSE(cache.find(tracker, t0 + 60s));
    EXPECT_FALSE(cache.find(tracker, t0 + 61s));
}

TEST(udp_connection_cache, keys_by_endpoint_including_port_and_family) {
    udp_connection_cache cache(60s);
    const udp_connection_cache::time_point t0{};
    cache.store(at("127.0.0.1:6969"), 1, t0);
    cache.store(at("127.0.0.1:6970"), 2, t0);
    cache.store(at("[::1]:6969"), 3, t0);
    EXPECT_EQ(cache.find(at("127.0.0.1:6969"), t0), 1u);
    EXPECT_EQ(cache.find(at("127.0.0.1:6970"), t0), 2u);
    EXPECT_EQ(cache.find(at("[::1]:6969"), t0), 3u);
    EXPECT_FALSE(cache.find(at("127.0.0.2:6969"), t0));
}

TEST(udp_connection_cache, a_new_id_replaces_the_old_and_restarts_the_clock) {
    udp_connection_cache cache(60s);
    const udp_connection_cache::time_point t0{};
    const endpoint tracker = at("127.0.0.1:1");
    cache.store(tracker, 1, t0);
    cache.store(tracker, 2, t0 + 50s);
    EXPECT_EQ(cache.find(tracker, t0 + 100s), 2u);
    EXPECT_FALSE(cache.find(tracker, t0 + 110s));
}

TEST(udp_connection_cache, forget_drops_the_id) {
    udp_connection_cache cache(60s);
    const endpoint tracker = at("127.0.0.1:1");
    cache.store(tracker, 7, {});
    cache.forget(tracker);
    EXPECT_FALSE(cache.find(tracker, {}));
    cache.forget(tracker); // forgetting twice is harmless
    EXPECT_EQ(cache.size(), 0u);
}

TEST(udp_connection_cache, prunes_expired_ids_when_storing) {
    udp_connection_cache cache(60s);
    const udp_connection_cache::time_point t0{};
    cache.store(at("127.0.0.1:1"), 1, t0);
    cache.store(at("127.0.0.1:2"), 2, t0 + 30s);
    EXPECT_EQ(cache.size(), 2u);
    // At t0 + 70 s the first is expired, the second is not.
    cache.store(at("127.0.0.1:3"), 3, t0 + 70s);
    EXPECT_EQ(cache.size(), 2u);
    EXPECT_FALSE(cache.find(at("127.0.0.1:1"), t0 + 70s));
    EXPECT_EQ(cache.find(at("127.0.0.1:2"), t0 + 70s), 2u);
    EXPECT_EQ(cache.prune(t0 + 200s), 2u);
    EXPECT_EQ(cache.size(), 0u);
}

TEST(udp_connection_cache, zero_lifetime_never_reuses) {
    udp_connection_cache cache(0s);
    cache.store(at("127.0.0.1:1"), 1, {});
    EXPECT_FALSE(cache.find(at("127.0.0.1:1"), {}));
}

} // namespace
