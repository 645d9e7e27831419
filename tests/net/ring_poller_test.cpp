#include "../io/test_support.hpp"
#include "net/ring_poller.hpp"

#include <spate/io/timer_ops.hpp>

#include <gtest/gtest.h>

#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <vector>

namespace {

using namespace std::chrono_literals;
using spate::result;
using spate::io::ring;
using spate::io::task;
using spate::io::testing::socket_pair;
using spate::net::detail::ring_poller;

// What the callbacks saw; the ready callback drains the socket like a library would.
struct probe {
    std::vector<unsigned> ready;
    int timers = 0;
    int drain_fd = -1;

    static void on_ready(void* context, int fd, unsigned revents) noexcept {
        auto& self = *static_cast<probe*>(context);
        self.ready.push_back(revents);
        char buffer[16];
        if (fd == self.drain_fd) {
            (void)::read(fd, buffer, sizeof(buffer));
        }
    }
    static void on_timer(void* context) noexcept { ++static_cast<probe*>(context)->timers; }
};

task<void> watch_and_write(ring& r, ring_poller& poller, probe& seen, int read_fd, int write_fd) {
    poller.watch(read_fd, POLLIN);
    EXPECT_EQ(poller.watched(), 1U);
    (void)::write(write_fd, "x", 1);
    for (int round = 0; round < 200 && seen.ready.empty(); ++round) {
        result<void> slept = co_await spate::io::sleep_for(r, 1ms);
        (void)slept;
    }
    // A second write: the poll was re-armed after the first event.
    (void)::write(write_fd, "y", 1);
    for (int round = 0; round < 200 && seen.ready.size() < 2; ++round) {
        result<void> slept = co_await spate::io::sleep_for(r, 1ms);
        (void)slept;
    }
    poller.unwatch(read_fd);
    EXPECT_FALSE(poller.settled()); // its frame is winding down
    co_await poller.settle();
    EXPECT_TRUE(poller.settled());
    EXPECT_EQ(poller.frames(), 0U);
}

TEST(ring_poller, reports_readiness_and_rearms_until_unwatched) {
    SPATE_RING_OR_SKIP(r);
    socket_pair pair;
    probe seen;
    seen.drain_fd = pair.fds[0];
    ring_poller poller(r, &seen, &probe::on_ready, &probe::on_timer);
    r.run(watch_and_write(r, poller, seen, pair.fds[0], pair.fds[1]));
    ASSERT_EQ(seen.ready.size(), 2U);
    EXPECT_NE(seen.ready[0] & POLLIN, 0U);
    EXPECT_NE(seen.ready[1] & POLLIN, 0U);
}

task<void> change_interest(ring& r, ring_poller& poller, probe& seen, int fd) {
    // Nothing to read on a fresh socket: the POLLIN poll stays pending until the
    // interest becomes POLLOUT, which is ready at once.
    poller.watch(fd, POLLIN);
    result<void> slept = co_await spate::io::sleep_for(r, 2ms);
    (void)slept;
    EXPECT_TRUE(seen.ready.empty());
    poller.watch(fd, POLLOUT);
    for (int round = 0; round < 200 && seen.ready.empty(); ++round) {
        result<void> waited = co_await spate::io::sleep_for(r, 1ms);
        (void)waited;
    }
    poller.unwatch(fd);
    co_await poller.settle();
}

TEST(ring_poller, changed_interest_rearms_the_poll) {
    SPATE_RING_OR_SKIP(r);
    socket_pair pair;
    probe seen;
    ring_poller poller(r, &seen, &probe::on_ready, &probe::on_timer);
    r.run(change_interest(r, poller, seen, pair.fds[0]));
    ASSERT_FALSE(seen.ready.empty());
    EXPECT_NE(seen.ready[0] & POLLOUT, 0U);
    EXPECT_EQ(poller.frames(), 0U);
}

task<void> timers(ring& r, ring_poller& poller, probe& seen) {
    poller.set_timer(std::chrono::steady_clock::now() + 1ms);
    for (int round = 0; round < 200 && seen.timers == 0; ++round) {
        result<void> slept = co_await spate::io::sleep_for(r, 1ms);
        (void)slept;
    }
    EXPECT_EQ(seen.timers, 1);
    // A timer moved far away and then cleared never fires.
    poller.set_timer(std::chrono::steady_clock::now() + 1h);
    poller.set_timer(std::chrono::steady_clock::now() + 2h);
    poller.clear_timer();
    co_await poller.settle();
    EXPECT_EQ(poller.frames(), 0U);
}

TEST(ring_poller, timer_fires_once_and_can_be_cleared) {
    SPATE_RING_OR_SKIP(r);
    probe seen;
    ring_poller poller(r, &seen, &probe::on_ready, &probe::on_timer);
    r.run(timers(r, poller, seen));
    EXPECT_EQ(seen.timers, 1);
}

} // namespace
