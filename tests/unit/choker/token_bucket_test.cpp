#include <spate/choker/error.hpp>
#include <spate/choker/token_bucket.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>

namespace {

using namespace std::chrono_literals;
using spate::choker::errc;
using spate::choker::token_bucket;
using clock_type = token_bucket::clock;

const clock_type::time_point t0 = clock_type::time_point{} + 24h;
constexpr std::uint64_t max_u64 = std::numeric_limits<std::uint64_t>::max();

token_bucket make(std::uint64_t rate, std::uint64_t burst) {
    auto b = token_bucket::create(rate, burst);
    EXPECT_TRUE(b.has_value());
    return *b;
}

TEST(token_bucket, create_refuses_a_rate_without_burst) {
    EXPECT_EQ(token_bucket::create(1000, 0).error(), errc::burst_zero);
    const auto unlimited = token_bucket::create(0, 0);
    ASSERT_TRUE(unlimited.has_value());
    EXPECT_TRUE(unlimited->unlimited());
}

TEST(token_bucket, starts_full_and_grants_at_most_what_it_holds) {
    token_bucket b = make(1000, 1500);
    EXPECT_EQ(b.available(t0), 1500U);
    EXPECT_EQ(b.take(t0, 1000), 1000U);
    EXPECT_EQ(b.take(t0, 1000), 500U);
    EXPECT_EQ(b.take(t0, 1000), 0U);
    EXPECT_EQ(b.take(t0, 0), 0U);
}

TEST(token_bucket, refills_at_a_steady_rate) {
    token_bucket b = make(1000, 1000);
    EXPECT_EQ(b.take(t0, 1000), 1000U);
    EXPECT_EQ(b.available(t0 + 100ms), 100U);
    EXPECT_EQ(b.available(t0 + 999999us), 999U);
    // One byte per millisecond, taken every millisecond for ten seconds: exact.
    std::uint64_t total = 0;
    for (int ms = 1; ms <= 10'000; ++ms) {
        total += b.take(t0 + std::chrono::milliseconds(ms), 5);
    }
    EXPECT_EQ(total, 10'000U);
}

TEST(token_bucket, keeps_fractions_of_a_byte_between_takes) {
    // 3 bytes per second polled every 100 ms: each poll adds 0.3 byte, nothing is lost.
    token_bucket b = make(3, 3);
    EXPECT_EQ(b.take(t0, 3), 3U);
    std::uint64_t total = 0;
    for (int step = 1; step <= 100; ++step) {
        total += b.take(t0 + step * 100ms, 1);
    }
    EXPECT_EQ(total, 30U);
}

TEST(token_bucket, never_saves_more_than_the_burst) {
    token_bucket b = make(1000, 2500);
    EXPECT_EQ(b.take(t0, 2500), 2500U);
    EXPECT_EQ(b.available(t0 + 1h), 2500U);
    EXPECT_EQ(b.take(t0 + 1h, 10'000), 2500U);
    b.give_back(10'000);
    EXPECT_EQ(b.available(t0 + 1h), 2500U);
}

TEST(token_bucket, give_back_returns_unused_grant) {
    token_bucket b = make(1000, 1000);
    EXPECT_EQ(b.take(t0, 800), 800U);
    b.give_back(300);
    EXPECT_EQ(b.available(t0), 500U);
}

TEST(token_bucket, unlimited_grants_everything_without_waiting) {
    token_bucket b;
    EXPECT_TRUE(b.unlimited());
    EXPECT_EQ(b.take(t0, max_u64), max_u64);
    EXPECT_EQ(b.take(t0, 123), 123U);
    EXPECT_EQ(b.available(t0), token_bucket::unlimited_bytes);
    EXPECT_EQ(b.wait_time(t0, max_u64), 0ns);
}

TEST(token_bucket, wait_time_says_when_bytes_are_there) {
    token_bucket b = make(1000, 1000);
    EXPECT_EQ(b.wait_time(t0, 1000), 0ns);
    EXPECT_EQ(b.take(t0, 1000), 1000U);
    EXPECT_EQ(b.wait_time(t0, 500), 500ms);
    EXPECT_EQ(b.wait_time(t0 + 200ms, 500), 300ms);
    const auto wait = b.wait_time(t0, 333);
    EXPECT_EQ(b.take(t0 + wait, 333), 333U);
    // A request above the burst waits for a full bucket, then gets the burst.
    EXPECT_EQ(b.wait_time(t0 + wait, 5000), 1000ms);
    EXPECT_EQ(b.take(t0 + wait + 1000ms, 5000), 1000U);
}

TEST(token_bucket, wait_time_rounds_up_to_whole_nanoseconds) {
    // 3 bytes per second: one byte takes 333333333.3 ns, so the wait is 333333334 ns.
    token_bucket b = make(3, 3);
    EXPECT_EQ(b.take(t0, 3), 3U);
    const auto wait = b.wait_time(t0, 1);
    EXPECT_EQ(wait, 333'333'334ns);
    EXPECT_EQ(b.available(t0 + wait - 1ns), 0U);
    EXPECT_EQ(b.available(t0 + wait), 1U);
}

TEST(token_bucket, clock_going_back_adds_nothing) {
    token_bucket b = make(1000, 1000);
    EXPECT_EQ(b.take(t0 + 1s, 1000), 1000U);
    EXPECT_EQ(b.take(t0, 1000), 0U);
    EXPECT_EQ(b.available(t0), 0U);
    EXPECT_EQ(b.available(t0 + 1s + 10ms), 10U);
}

TEST(token_bucket, huge_rates_do_not_overflow) {
    token_bucket b = make(max_u64, max_u64);
    EXPECT_EQ(b.take(t0, max_u64), max_u64);
    EXPECT_EQ(b.available(t0), 0U);
    // 2^64 - 1 bytes per second is about 18.4 GB per nanosecond.
    EXPECT_EQ(b.available(t0 + 1ns), max_u64 / 1'000'000'000);
    EXPECT_EQ(b.wait_time(t0, max_u64), 1s);
    // One nanosecond short of full: the last part-byte missing rounds the count down.
    EXPECT_EQ(b.available(t0 + 1s - 1ns), max_u64 - max_u64 / 1'000'000'000 - 1);
    EXPECT_EQ(b.take(t0 + 1s, max_u64), max_u64);
}

TEST(token_bucket, long_idle_gaps_do_not_overflow) {
    // The whole range of the clock, at the highest rate: the largest product there is.
    token_bucket b = make(max_u64, max_u64);
    EXPECT_EQ(b.take(clock_type::time_point::min(), max_u64), max_u64);
    EXPECT_EQ(b.available(clock_type::time_point::max()), max_u64);
    EXPECT_EQ(b.take(clock_type::time_point::max(), max_u64), max_u64);

    token_bucket slow = make(1, 10);
    EXPECT_EQ(slow.take(t0, 10), 10U);
    EXPECT_EQ(slow.available(t0 + std::chrono::hours(24 * 365 * 200)), 10U);
}

TEST(token_bucket, wait_time_saturates) {
    token_bucket b = make(1, max_u64);
    EXPECT_EQ(b.take(t0, max_u64), max_u64);
    EXPECT_EQ(b.wait_time(t0, max_u64), std::chrono::nanoseconds::max());
    EXPECT_EQ(b.wait_time(t0, 2), 2s);
}

TEST(token_bucket, set_limits_changes_rate_from_now_on) {
    token_bucket b = make(1000, 1000);
    EXPECT_EQ(b.take(t0, 1000), 1000U);
    // Half a second at the old rate, then the new rate.
    ASSERT_TRUE(b.set_limits(t0 + 500ms, 100, 2000).has_value());
    EXPECT_EQ(b.available(t0 + 500ms), 500U);
    EXPECT_EQ(b.available(t0 + 1500ms), 600U);
    // A smaller burst trims what was saved.
    ASSERT_TRUE(b.set_limits(t0 + 1500ms, 100, 50).has_value());
    EXPECT_EQ(b.available(t0 + 1500ms), 50U);
    // Refused limits leave the bucket as it was.
    EXPECT_EQ(b.set_limits(t0 + 1500ms, 100, 0).error(), errc::burst_zero);
    EXPECT_EQ(b.rate(), 100U);
    EXPECT_EQ(b.burst(), 50U);
    // Unlimited, then limited again: starts full.
    ASSERT_TRUE(b.set_limits(t0 + 2s, 0, 0).has_value());
    EXPECT_EQ(b.take(t0 + 2s, 1'000'000), 1'000'000U);
    ASSERT_TRUE(b.set_limits(t0 + 3s, 10, 70).has_value());
    EXPECT_EQ(b.take(t0 + 3s, 100), 70U);
    EXPECT_EQ(b.available(t0 + 4s), 10U);
}

TEST(token_bucket, two_levels_grant_the_smaller_and_charge_both) {
    token_bucket global = make(1000, 1000);
    token_bucket torrent_a = make(300, 300);
    token_bucket torrent_b;
    EXPECT_EQ(take_both(global, torrent_a, t0, 1000), 300U);
    EXPECT_EQ(global.available(t0), 700U);
    EXPECT_EQ(torrent_a.available(t0), 0U);
    // An unlimited torrent is held by the global limit alone, which a already charged.
    EXPECT_EQ(take_both(global, torrent_b, t0, 1000), 700U);
    EXPECT_EQ(global.available(t0), 0U);
    EXPECT_EQ(take_both(global, torrent_a, t0, 10), 0U);
    // The wait is the longer of the two: the torrent refills slower.
    EXPECT_EQ(wait_time_both(global, torrent_a, t0, 300), 1s);
    EXPECT_EQ(wait_time_both(global, torrent_b, t0, 300), 300ms);
    EXPECT_EQ(take_both(global, torrent_a, t0 + 1s, 1000), 300U);
    EXPECT_EQ(global.available(t0 + 1s), 700U);
}

TEST(token_bucket, two_levels_both_unlimited) {
    token_bucket global;
    token_bucket torrent;
    EXPECT_EQ(take_both(global, torrent, t0, max_u64), max_u64);
    EXPECT_EQ(wait_time_both(global, torrent, t0, max_u64), 0ns);
}

} // namespace
