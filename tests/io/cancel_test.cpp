// Deadlines and stop requests: every outcome, and that nothing the kernel can see is
// freed before all of an operation's completions arrived (ASan watches that).

#include "test_support.hpp"

#include <array>
#include <chrono>
#include <gtest/gtest.h>
#include <memory>
#include <optional>
#include <spate/io/scope.hpp>
#include <spate/io/socket_ops.hpp>
#include <spate/io/timer_ops.hpp>
#include <vector>

namespace {

using namespace std::chrono_literals;
using spate::result;
using spate::io::op_options;
using spate::io::ring;
using spate::io::scope;
using spate::io::task;
using spate::io::testing::counted;
using spate::io::testing::socket_pair;

task<std::error_code> recv_with_timeout(ring& r, int fd) {
    std::array<std::byte, 64> buffer{};
    op_options options;
    options.timeout = 5ms;
    result<std::size_t> got = co_await spate::io::recv(r, fd, buffer, options);
    co_return got ? std::error_code{} : got.error();
}

task<std::error_code> recv_with_deadline(ring& r, int fd) {
    std::array<std::byte, 64> buffer{};
    op_options options;
    options.deadline = std::chrono::steady_clock::now() + 5ms;
    result<std::size_t> got = co_await spate::io::recv(r, fd, buffer, options);
    co_return got ? std::error_code{} : got.error();
}

task<std::size_t> recv_ready_with_long_timeout(ring& r, int fd) {
    std::array<std::byte, 64> buffer{};
    op_options options;
    options.timeout = 10s;
    result<std::size_t> got = co_await spate::io::recv(r, fd, buffer, options);
    co_return got ? *got : 0;
}

task<void> sleep_ok(ring& r, bool& ok) {
    result<void> slept = co_await spate::io::sleep_for(r, 2ms);
    ok = slept.has_value();
    co_return;
}

task<bool> sleep_until_past_and_future(ring& r) {
    result<void> past = co_await spate::io::sleep_until(r, std::chrono::steady_clock::now() - 1s);
    result<void> soon = co_await spate::io::sleep_until(r, std::chrono::steady_clock::now() + 2ms);
    co_return past.has_value() && soon.has_value();
}

// The receive buffer lives on the heap and is owned by this frame, so ASan reports any
// kernel-visible write or user access after the frame is gone.
task<void> pending_recv(ring& r, int fd, std::stop_token stop,
                        std::optional<std::chrono::nanoseconds> timeout, std::error_code& outcome,
                        counted probe) {
    (void)probe;
    auto buffer = std::make_unique<std::array<std::byte, 4096>>();
    op_options options;
    options.stop = stop;
    options.timeout = timeout;
    result<std::size_t> got = co_await spate::io::recv(r, fd, *buffer, options);
    outcome = got ? std::error_code{} : got.error();
}

task<void> stop_pending_recvs(ring& r, int fd, std::vector<std::error_code>& outcomes) {
    scope s;
    for (auto& outcome : outcomes) {
        s.spawn(pending_recv(r, fd, s.token(), std::nullopt, outcome, counted{}));
    }
    // Let the receives reach the kernel first.
    result<void> slept = co_await spate::io::sleep_for(r, 2ms);
    (void)slept;
    s.request_stop();
    co_await s.join();
}

task<void> stop_racing_timeout(ring& r, int fd, std::error_code& outcome) {
    std::stop_source stop;
    std::array<std::byte, 16> buffer{};
    op_options options;
    options.stop = stop.get_token();
    options.timeout = 1h;
    scope s;
    // Issue the receive (with its linked timeout), then stop it from a sibling.
    s.spawn(pending_recv(r, fd, stop.get_token(), 1h, outcome, counted{}));
    result<int> nop = co_await spate::io::nop(r);
    (void)nop;
    stop.request_stop();
    result<std::size_t> late = co_await spate::io::recv(r, fd, buffer, options);
    co_await s.join();
    if (late || late.error() != std::errc::operation_canceled) {
        outcome = std::make_error_code(std::errc::invalid_argument);
    }
}

task<std::error_code> recv_stopped_with_deadline(ring& r, int fd) {
    std::stop_source stop;
    scope s;
    std::error_code outcome;
    s.spawn(pending_recv(r, fd, stop.get_token(), 10s, outcome, counted{}));
    result<void> slept = co_await spate::io::sleep_for(r, 1ms);
    (void)slept;
    stop.request_stop();
    co_await s.join();
    co_return outcome;
}

// The stop arrives while the receive still sits in the submission queue: the cancel is
// queued behind it and finds it in the kernel.
task<std::error_code> stop_before_submission(ring& r, int fd) {
    scope s;
    std::error_code outcome;
    s.spawn(pending_recv(r, fd, s.token(), 1h, outcome, counted{}));
    s.request_stop();
    co_await s.join();
    co_return outcome;
}

TEST(cancel, stop_while_still_in_the_submission_queue) {
    SPATE_RING_OR_SKIP(r);
    socket_pair pair;
    counted::reset();
    EXPECT_EQ(r.run(stop_before_submission(r, pair.fds[0])), std::errc::operation_canceled);
    EXPECT_EQ(counted::alive(), 0);
    EXPECT_EQ(r.in_flight(), 0u);
}

TEST(cancel, deadline_fires_with_timed_out) {
    SPATE_RING_OR_SKIP(r);
    socket_pair pair;
    EXPECT_EQ(r.run(recv_with_timeout(r, pair.fds[0])), std::errc::timed_out);
    EXPECT_EQ(r.run(recv_with_deadline(r, pair.fds[0])), std::errc::timed_out);
    EXPECT_EQ(r.in_flight(), 0u);
}

TEST(cancel, operation_that_finishes_first_keeps_its_result) {
    SPATE_RING_OR_SKIP(r);
    socket_pair pair;
    ASSERT_EQ(::write(pair.fds[1], "abc", 3), 3);
    EXPECT_EQ(r.run(recv_ready_with_long_timeout(r, pair.fds[0])), 3u);
    EXPECT_EQ(r.in_flight(), 0u);
}

TEST(cancel, sleeps_complete_successfully) {
    SPATE_RING_OR_SKIP(r);
    bool ok = false;
    r.run(sleep_ok(r, ok));
    EXPECT_TRUE(ok);
    EXPECT_TRUE(r.run(sleep_until_past_and_future(r)));
}

TEST(cancel, stop_cancels_pending_receives_and_frees_nothing_early) {
    SPATE_RING_OR_SKIP(r);
    socket_pair pair;
    counted::reset();
    std::vector<std::error_code> outcomes(100);
    r.run(stop_pending_recvs(r, pair.fds[0], outcomes));
    for (const auto& outcome : outcomes) {
        EXPECT_EQ(outcome, std::errc::operation_canceled);
    }
    EXPECT_EQ(counted::alive(), 0);
    EXPECT_EQ(r.in_flight(), 0u);
}

TEST(cancel, stop_is_operation_canceled_even_with_a_deadline_armed) {
    SPATE_RING_OR_SKIP(r);
    socket_pair pair;
    std::error_code outcome;
    r.run(stop_racing_timeout(r, pair.fds[0], outcome));
    EXPECT_EQ(outcome, std::errc::operation_canceled);
    EXPECT_EQ(r.run(recv_stopped_with_deadline(r, pair.fds[0])), std::errc::operation_canceled);
    EXPECT_EQ(r.in_flight(), 0u);
}

} // namespace
