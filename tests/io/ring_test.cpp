#include "test_support.hpp"

#include <chrono>
#include <cstdio>
#include <gtest/gtest.h>
#include <spate/io/ring.hpp>
#include <spate/io/scope.hpp>
#include <spate/io/timer_ops.hpp>
#include <stop_token>

namespace {

using namespace std::chrono_literals;
using spate::result;
using spate::io::ring;
using spate::io::scope;
using spate::io::task;

task<int> one_nop(ring& r) {
    result<int> got = co_await spate::io::nop(r);
    co_return got ? *got : -1;
}

task<void> count_nop(ring& r, int& done) {
    result<int> got = co_await spate::io::nop(r);
    if (got && *got == 0) {
        ++done;
    }
}

task<void> count_sleep(ring& r, int& done) {
    result<void> slept = co_await spate::io::sleep_for(r, 1ms);
    if (slept) {
        ++done;
    }
}

task<int> many(ring& r, int count, bool sleep) {
    int done = 0;
    scope s;
    for (int i = 0; i < count; ++i) {
        if (sleep) {
            s.spawn(count_sleep(r, done));
        } else {
            s.spawn(count_nop(r, done));
        }
    }
    co_await s.join();
    co_return done;
}

task<int> chain_of_nops(ring& r, int count) {
    int done = 0;
    for (int i = 0; i < count; ++i) {
        result<int> got = co_await spate::io::nop(r);
        if (got) {
            ++done;
        }
    }
    co_return done;
}

task<bool> nop_after_stop(ring& r) {
    std::stop_source stop;
    stop.request_stop();
    spate::io::op_options options;
    options.stop = stop.get_token();
    result<int> got = co_await spate::io::nop(r, options);
    co_return !got && got.error() == std::errc::operation_canceled;
}

TEST(ring, creates_with_the_newest_flags_the_kernel_takes) {
    SPATE_RING_OR_SKIP(r);
    // Reported so a run shows which set-up the kernel accepted.
    RecordProperty("setup_flags", static_cast<int>(r.setup_flags()));
    std::printf("io_uring setup flags: %#x%s\n", r.setup_flags(),
                (r.setup_flags() & IORING_SETUP_DEFER_TASKRUN) != 0 ? " (DEFER_TASKRUN)" : "");
    EXPECT_EQ(r.in_flight(), 0u);
}

TEST(ring, nop_round_trip) {
    SPATE_RING_OR_SKIP(r);
    EXPECT_EQ(r.run(one_nop(r)), 0);
    EXPECT_EQ(r.in_flight(), 0u);
}

TEST(ring, sequential_nops_complete) {
    SPATE_RING_OR_SKIP(r);
    EXPECT_EQ(r.run(chain_of_nops(r, 5000)), 5000);
}

TEST(ring, ten_thousand_concurrent_coroutines) {
    SPATE_RING_OR_SKIP(r);
    EXPECT_EQ(r.run(many(r, 10'000, false)), 10'000);
    EXPECT_EQ(r.in_flight(), 0u);
}

TEST(ring, ten_thousand_concurrent_timers) {
    SPATE_RING_OR_SKIP(r);
    EXPECT_EQ(r.run(many(r, 10'000, true)), 10'000);
}

// An 8-entry queue with 1,000 operations in flight: get_sqe() must flush a full queue,
// and the completion queue (16 entries) overflows into the kernel's list.
TEST(ring, submission_queue_overflow_still_completes_everything) {
    SPATE_RING_OR_SKIP(r, spate::io::ring_options{.entries = 8, .cq_entries = 0});
    EXPECT_EQ(r.run(many(r, 1000, true)), 1000);
    EXPECT_EQ(r.run(many(r, 1000, false)), 1000);
    EXPECT_EQ(r.in_flight(), 0u);
}

TEST(ring, stop_before_start_completes_without_submitting) {
    SPATE_RING_OR_SKIP(r);
    EXPECT_TRUE(r.run(nop_after_stop(r)));
    EXPECT_EQ(r.in_flight(), 0u);
}

TEST(ring, run_once_without_work_returns_at_once) {
    SPATE_RING_OR_SKIP(r);
    EXPECT_EQ(r.run_once(true), 0u);
}

} // namespace
