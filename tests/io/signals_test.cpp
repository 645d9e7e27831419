#include "test_support.hpp"

#include <chrono>
#include <csignal>
#include <gtest/gtest.h>
#include <spate/io/scope.hpp>
#include <spate/io/signals.hpp>
#include <spate/io/timer_ops.hpp>

namespace {

using namespace std::chrono_literals;
using spate::result;
using spate::io::ring;
using spate::io::scope;
using spate::io::signal_set;
using spate::io::task;

task<int> wait_one(ring& r, signal_set& signals) {
    result<int> got = co_await signals.wait(r);
    co_return got ? *got : -1;
}

task<void> raise_later(ring& r, int signal) {
    result<void> slept = co_await spate::io::sleep_for(r, 1ms);
    (void)slept;
    std::raise(signal);
}

// A worker that runs until its scope is stopped, as a download would.
task<void> worker(ring& r, std::stop_token stop, bool& stopped) {
    result<void> slept = co_await spate::io::sleep_for(r, 1h, stop);
    stopped = !slept && slept.error() == std::errc::operation_canceled;
}

task<bool> ctrl_c_stops_the_scope(ring& r, signal_set& signals) {
    scope s;
    bool stopped = false;
    s.spawn(worker(r, s.token(), stopped));
    s.spawn(spate::io::stop_on_signal(r, signals, s.stop_source()));
    s.spawn(raise_later(r, SIGUSR2));
    // Nobody else stops the scope: only the signal can end this join.
    co_await s.join();
    co_return stopped;
}

task<std::error_code> wait_then_stop(ring& r, signal_set& signals) {
    std::stop_source stop;
    stop.request_stop();
    result<int> got = co_await signals.wait(r, stop.get_token());
    co_return got ? std::error_code{} : got.error();
}

TEST(signals, raised_signal_is_read_on_the_ring) {
    SPATE_RING_OR_SKIP(r);
    auto signals = signal_set::create({SIGUSR1});
    ASSERT_TRUE(signals) << signals.error().message();
    ASSERT_EQ(std::raise(SIGUSR1), 0); // blocked, so it waits in the signalfd
    EXPECT_EQ(r.run(wait_one(r, *signals)), SIGUSR1);
}

TEST(signals, signal_arriving_while_waiting_wakes_the_waiter) {
    SPATE_RING_OR_SKIP(r);
    auto signals = signal_set::create({SIGUSR2});
    ASSERT_TRUE(signals);
    EXPECT_TRUE(r.run(ctrl_c_stops_the_scope(r, *signals)));
}

TEST(signals, wait_honours_stop) {
    SPATE_RING_OR_SKIP(r);
    auto signals = signal_set::create({SIGUSR1});
    ASSERT_TRUE(signals);
    EXPECT_EQ(r.run(wait_then_stop(r, *signals)), std::errc::operation_canceled);
}

} // namespace
