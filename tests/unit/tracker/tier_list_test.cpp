#include <spate/tracker/announce_schedule.hpp>
#include <spate/tracker/tier_list.hpp>

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace {

using spate::tracker::announce_schedule;
using spate::tracker::tier_list;
using namespace std::chrono_literals;

tier_list make(std::vector<std::vector<std::string>> tiers, unsigned seed = 1) {
    std::mt19937 random(seed);
    return tier_list(std::move(tiers), random);
}

TEST(tier_list, drops_empty_tiers_and_urls) {
    auto list = make({{}, {"", "udp://a"}, {""}});
    ASSERT_EQ(list.tiers().size(), 1u);
    EXPECT_EQ(list.tiers()[0], std::vector<std::string>{"udp://a"});
}

TEST(tier_list, shuffles_within_tiers_but_keeps_tier_order) {
    std::set<std::string> firsts;
    for (unsigned seed = 0; seed < 50; ++seed) {
        auto list = make({{"a", "b", "c", "d"}, {"z"}}, seed);
        firsts.insert(list.tiers()[0][0]);
        EXPECT_EQ(list.tiers()[1][0], "z");
        EXPECT_EQ(list.tiers()[0].size(), 4u);
    }
    EXPECT_GT(firsts.size(), 1u); // the shuffle really reorders
}

TEST(tier_list, tries_every_tracker_tier_by_tier_then_ends_the_round) {
    auto list = make({{"a", "b"}, {"c"}});
    std::vector<std::string> tried;
    while (auto at = list.current()) {
        tried.push_back(list.url(*at));
        list.failed(*at);
    }
    ASSERT_EQ(tried.size(), 3u);
    EXPECT_EQ(tried[2], "c");
    EXPECT_EQ(std::set<std::string>(tried.begin(), tried.begin() + 2),
              (std::set<std::string>{"a", "b"}));
    list.start_round();
    EXPECT_EQ(list.current(), (tier_list::position{0, 0}));
}

TEST(tier_list, a_tracker_that_answers_moves_to_the_front_of_its_tier) {
    auto list = make({{"a", "b", "c"}});
    const std::string second = list.tiers()[0][1];
    const std::string third = list.tiers()[0][2];
    const std::string first = list.tiers()[0][0];
    list.failed(*list.current());
    list.failed(*list.current());
    auto at = list.current();
    ASSERT_TRUE(at);
    EXPECT_EQ(list.url(*at), third);
    list.succeeded(*at);
    EXPECT_EQ(list.tiers()[0], (std::vector<std::string>{third, first, second}));
    EXPECT_EQ(list.current(), (tier_list::position{0, 0}));
}

TEST(tier_list, a_stale_failure_report_does_not_skip_a_tracker) {
    auto list = make({{"a", "b", "c"}});
    auto first = *list.current();
    list.failed(first);
    list.failed(first); // reported twice
    EXPECT_EQ(list.current(), (tier_list::position{0, 1}));
}

TEST(announce_schedule, waits_the_interval_but_never_less_than_min_interval) {
    announce_schedule schedule;
    const auto t0 = announce_schedule::clock::time_point{} + 1000s;
    schedule.answered(t0, 1800s, std::nullopt);
    EXPECT_EQ(schedule.next(), t0 + 1800s);
    schedule.answered(t0, 60s, 300s);
    EXPECT_EQ(schedule.next(), t0 + 300s);
    EXPECT_EQ(schedule.earliest(), t0 + 300s);
}

TEST(announce_schedule, clamps_hostile_intervals) {
    announce_schedule schedule;
    const auto t0 = announce_schedule::clock::time_point{} + 5s;
    schedule.answered(t0, 0s, std::nullopt);
    EXPECT_EQ(schedule.next(), t0 + 30s);
    schedule.answered(t0, std::chrono::seconds{1'000'000'000}, std::nullopt);
    EXPECT_EQ(schedule.next(), t0 + 24h);
}

TEST(announce_schedule, backs_off_exponentially_up_to_the_maximum_and_resets_on_answer) {
    announce_schedule schedule;
    const auto t0 = announce_schedule::clock::time_point{} + 5s;
    std::vector<std::chrono::seconds> waits;
    for (int i = 0; i < 10; ++i) {
        schedule.failed(t0);
        waits.push_back(std::chrono::duration_cast<std::chrono::seconds>(schedule.next() - t0));
    }
    EXPECT_EQ(waits[0], 15s);
    EXPECT_EQ(waits[1], 30s);
    EXPECT_EQ(waits[2], 60s);
    EXPECT_EQ(waits[6], 960s);
    EXPECT_EQ(waits[7], 1800s);
    EXPECT_EQ(waits[9], 1800s);
    EXPECT_EQ(schedule.consecutive_failures(), 10u);
    schedule.answered(t0, 900s, std::nullopt);
    EXPECT_EQ(schedule.consecutive_failures(), 0u);
    schedule.failed(t0);
    EXPECT_EQ(schedule.next(), t0 + 15s);
}

} // namespace
