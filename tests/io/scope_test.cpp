#include "test_support.hpp"

#include <chrono>
#include <gtest/gtest.h>
#include <spate/io/scope.hpp>
#include <spate/io/timer_ops.hpp>
#include <vector>

namespace {

using namespace std::chrono_literals;
using spate::result;
using spate::io::ring;
using spate::io::scope;
using spate::io::task;
using spate::io::testing::counted;

task<void> sleep_then_record(ring& r, std::chrono::milliseconds delay, int id,
                             std::vector<int>& finished, counted probe) {
    (void)probe;
    result<void> slept = co_await spate::io::sleep_for(r, delay);
    if (slept) {
        finished.push_back(id);
    }
}

task<void> immediate(int& runs) {
    ++runs;
    co_return;
}

task<std::size_t> spawn_and_join(ring& r, std::vector<int>& finished) {
    scope s;
    s.spawn(sleep_then_record(r, 20ms, 3, finished, counted{}));
    s.spawn(sleep_then_record(r, 1ms, 1, finished, counted{}));
    s.spawn(sleep_then_record(r, 10ms, 2, finished, counted{}));
    std::size_t live = s.size();
    co_await s.join();
    co_return live;
}

task<int> join_empty_and_immediate() {
    scope s;
    co_await s.join(); // nothing spawned: completes at once
    int runs = 0;
    s.spawn(immediate(runs));
    s.spawn(immediate(runs));
    co_await s.join();
    co_return runs;
}

task<void> sleep_until_stopped(ring& r, std::stop_token stop, int& cancelled) {
    result<void> slept = co_await spate::io::sleep_for(r, 1h, stop);
    if (!slept && slept.error() == std::errc::operation_canceled) {
        ++cancelled;
    }
}

task<int> stop_then_join(ring& r) {
    scope s;
    int cancelled = 0;
    for (int i = 0; i < 50; ++i) {
        s.spawn(sleep_until_stopped(r, s.token(), cancelled));
    }
    result<void> slept = co_await spate::io::sleep_for(r, 1ms);
    (void)slept;
    s.request_stop();
    co_await s.join();
    co_return cancelled;
}

TEST(scope, join_waits_for_every_spawned_task) {
    SPATE_RING_OR_SKIP(r);
    counted::reset();
    std::vector<int> finished;
    EXPECT_EQ(r.run(spawn_and_join(r, finished)), 3u);
    EXPECT_EQ(finished.size(), 3u);
    EXPECT_EQ(counted::alive(), 0);
}

TEST(scope, join_with_nothing_or_finished_tasks_completes_at_once) {
    SPATE_RING_OR_SKIP(r);
    EXPECT_EQ(r.run(join_empty_and_immediate()), 2);
}

TEST(scope, request_stop_then_join_is_a_clean_shutdown) {
    SPATE_RING_OR_SKIP(r);
    EXPECT_EQ(r.run(stop_then_join(r)), 50);
    EXPECT_EQ(r.in_flight(), 0u);
}

} // namespace
