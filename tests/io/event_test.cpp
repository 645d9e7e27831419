#include "test_support.hpp"

#include <gtest/gtest.h>
#include <spate/io/event.hpp>
#include <spate/io/scope.hpp>
#include <spate/io/timer_ops.hpp>

#include <chrono>
#include <vector>

namespace {

using namespace std::chrono_literals;
using spate::result;
using spate::io::event;
using spate::io::ring;
using spate::io::scope;
using spate::io::task;

task<void> wait_and_record(event& ev, std::stop_token stop, std::vector<int>& log, int id) {
    bool woken = co_await ev.wait(stop);
    log.push_back(woken ? id : -id);
}

task<void> notify_later(ring& r, event& ev, std::vector<int>& log) {
    result<void> slept = co_await spate::io::sleep_for(r, 1ms);
    static_cast<void>(slept);
    log.push_back(0);
    ev.notify();
    // The waiter must not have run inside notify().
    log.push_back(100);
}

task<void> waiter_and_notifier(ring& r, std::vector<int>& log) {
    event ev(r);
    scope s;
    s.spawn(wait_and_record(ev, s.token(), log, 1));
    s.spawn(notify_later(r, ev, log));
    co_await s.join();
}

task<void> notified_before_wait(ring& r, std::vector<int>& log) {
    event ev(r);
    ev.notify();
    ev.notify();
    co_await wait_and_record(ev, {}, log, 7);
    EXPECT_FALSE(ev.is_set());
}

task<void> stopped_waiter(ring& r, std::vector<int>& log) {
    event ev(r);
    scope s;
    s.spawn(wait_and_record(ev, s.token(), log, 3));
    result<void> slept = co_await spate::io::sleep_for(r, 1ms);
    static_cast<void>(slept);
    s.request_stop();
    co_await s.join();
}

} // namespace

namespace spate {

TEST(event, notify_wakes_the_waiter_through_the_ring) {
    SPATE_RING_OR_SKIP(r);
    std::vector<int> log;
    r.run(waiter_and_notifier(r, log));
    EXPECT_EQ(log, (std::vector<int>{0, 100, 1}));
}

TEST(event, a_set_event_completes_the_wait_at_once_and_resets) {
    SPATE_RING_OR_SKIP(r);
    std::vector<int> log;
    r.run(notified_before_wait(r, log));
    EXPECT_EQ(log, (std::vector<int>{7}));
}

TEST(event, stop_ends_the_wait_with_false) {
    SPATE_RING_OR_SKIP(r);
    std::vector<int> log;
    r.run(stopped_waiter(r, log));
    EXPECT_EQ(log, (std::vector<int>{-3}));
}

} // namespace spate
