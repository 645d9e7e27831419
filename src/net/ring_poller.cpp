#include "ring_poller.hpp"

#include <spate/io/poll_ops.hpp>
#include <spate/io/timer_ops.hpp>

#include <poll.h>

#include <cstdio>
#include <cstdlib>
#include <system_error>
#include <utility>

namespace spate::net::detail {

namespace {

// A poll that fails for another reason than our own cancel (EBADF after a library closed
// a descriptor without saying so, say) is reported as POLLERR; after this many failures
// in a row the descriptor is dropped rather than polled in a busy loop.
constexpr int max_poll_failures = 3;

// How long settle() sleeps per round before looking again; a round normally ends much
// sooner, when the last winding-down frame notifies.
constexpr std::chrono::seconds settle_round{5};
constexpr int max_settle_rounds = 24;

io::op_options stoppable(std::stop_token stop) {
    io::op_options options;
    options.stop = std::move(stop);
    return options;
}

} // namespace

ring_poller::ring_poller(io::ring& ring, void* context, ready_fn on_ready,
                         timer_fn on_timer) noexcept
    : m_ring(ring), m_context(context), m_on_ready(on_ready), m_on_timer(on_timer) {}

ring_poller::~ring_poller() {
    if (m_frames != 0) {
        // A live frame would resume into freed memory when its poll completes.
        std::fprintf(stderr,
                     "spate::net: socket poller destroyed with %zu live watcher(s); "
                     "finish every lookup and request first\n",
                     m_frames);
        std::abort();
    }
}

void ring_poller::watch(int fd, unsigned events) {
    if (auto it = m_fds.find(fd); it != m_fds.end()) {
        watch_entry& entry = *it->second;
        if (entry.events == events) {
            return;
        }
        entry.events = events;
        if (entry.polling) {
            entry.stop.request_stop(); // the frame re-arms with the new interest
        }
        return;
    }
    ++m_frames;
    m_scope.spawn(run_watch(*this, fd, events));
}

void ring_poller::unwatch(int fd) noexcept {
    auto it = m_fds.find(fd);
    if (it == m_fds.end()) {
        return;
    }
    watch_entry& entry = *it->second;
    m_fds.erase(it);
    entry.removed = true;
    if (entry.polling) {
        entry.stop.request_stop();
    }
}

io::task<void> ring_poller::run_watch(ring_poller& self, int fd, unsigned events) {
    watch_entry entry;
    entry.fd = fd;
    entry.events = events;
    self.m_fds[fd] = &entry;
    int failures = 0;
    while (!entry.removed) {
        // A fresh stop source per poll: a stopped one would cancel the next poll at once.
        entry.stop = std::stop_source{};
        entry.polling = true;
        // Operands of co_await are built in statements of their own: g++ 12 may destroy
        // temporaries of a co_await expression twice.
        const io::op_options poll_options = stoppable(entry.stop.get_token());
        result<unsigned> ready = co_await io::poll_add(self.m_ring, fd, entry.events, poll_options);
        entry.polling = false;
        if (entry.removed) {
            break;
        }
        if (ready) {
            failures = 0;
            self.m_on_ready(self.m_context, fd, *ready);
            continue;
        }
        if (ready.error() == std::errc::operation_canceled) {
            continue; // the interest changed: poll again with the new one
        }
        if (++failures >= max_poll_failures) {
            if (auto it = self.m_fds.find(fd); it != self.m_fds.end() && it->second == &entry) {
                self.m_fds.erase(it);
            }
            break;
        }
        self.m_on_ready(self.m_context, fd, POLLERR);
    }
    self.frame_ended();
}

void ring_poller::set_timer(std::chrono::steady_clock::time_point when) {
    m_timer_when = when;
    m_timer_armed = true;
    if (!m_timer_frame) {
        m_timer_frame = true;
        ++m_frames;
        m_scope.spawn(run_timer(*this));
    } else if (m_timer_sleeping) {
        m_timer_stop.request_stop(); // sleep again until the new deadline
    }
}

void ring_poller::clear_timer() noexcept {
    m_timer_armed = false;
    if (m_timer_sleeping) {
        m_timer_stop.request_stop();
    }
}

io::task<void> ring_poller::run_timer(ring_poller& self) {
    while (self.m_timer_armed) {
        self.m_timer_stop = std::stop_source{};
        self.m_timer_sleeping = true;
        const std::stop_token stop = self.m_timer_stop.get_token();
        result<void> slept = co_await io::sleep_until(self.m_ring, self.m_timer_when, stop);
        self.m_timer_sleeping = false;
        if (!slept || !self.m_timer_armed) {
            continue; // moved or cleared: the loop condition decides
        }
        // Disarmed before the call: the callback sets a new deadline if it wants one.
        self.m_timer_armed = false;
        self.m_on_timer(self.m_context);
    }
    self.m_timer_frame = false;
    self.frame_ended();
}

bool ring_poller::settled() const noexcept {
    const std::size_t wanted = m_fds.size() + (m_timer_frame && m_timer_armed ? 1U : 0U);
    return m_frames == wanted;
}

void ring_poller::frame_ended() noexcept {
    --m_frames;
    if (m_settle_waiters != 0 && settled()) {
        // Wakes the waiters through the ring: this frame is freed before any of them runs.
        m_settled.notify();
        m_settled.reset();
    }
}

io::task<void> ring_poller::settle() {
    for (int round = 0; round < max_settle_rounds && !settled(); ++round) {
        ++m_settle_waiters;
        result<void> slept =
            co_await m_settled.wait_until(m_ring, std::chrono::steady_clock::now() + settle_round);
        --m_settle_waiters;
        (void)slept; // woken or timed out, the loop looks again
    }
}

} // namespace spate::net::detail
