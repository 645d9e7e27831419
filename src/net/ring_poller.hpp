#pragma once
// ring_poller: drives a C library that does its own socket I/O (c-ares, libcurl) from the
// ring. The library says which descriptors it wants watched and for what, and when its
// timer is due. For each descriptor a watcher frame keeps one one-shot poll
// (io_uring_prep_poll_add(3)) armed, re-armed after each event with the interest of the
// moment; a timer frame sleeps until the library's deadline. Readiness and timer expiry
// are handed to the library through two callbacks.
//
// Lifetime: the poller owns its frames, and each frame owns its poll or sleep operation
// and ends only after the operation's last completion arrived. unwatch() and
// clear_timer() cancel through the ring, so a frame winds down a turn or two later;
// settle() waits for that. The poller must outlive its frames: its destructor aborts when
// one is still alive. The callbacks must not resume other coroutines inline (they use a
// wake_signal), so nothing can destroy the poller while one of its frames runs.

#include "wake_signal.hpp"

#include <spate/io/ring.hpp>
#include <spate/io/scope.hpp>
#include <spate/io/task.hpp>

#include <chrono>
#include <cstddef>
#include <stop_token>
#include <unordered_map>

namespace spate::net::detail {

class ring_poller {
public:
    /// Readiness of a watched descriptor: the poll events that fired (POLLIN, POLLOUT,
    /// POLLERR, POLLHUP, POLLNVAL).
    using ready_fn = void (*)(void* context, int fd, unsigned revents) noexcept;
    /// The timer set with set_timer() is due.
    using timer_fn = void (*)(void* context) noexcept;

    /// `context` is passed back to the callbacks; all three are borrowed for the poller's
    /// life.
    ring_poller(io::ring& ring, void* context, ready_fn on_ready, timer_fn on_timer) noexcept;
    ring_poller(const ring_poller&) = delete;
    ring_poller& operator=(const ring_poller&) = delete;
    ring_poller(ring_poller&&) = delete;
    ring_poller& operator=(ring_poller&&) = delete;
    /// Aborts when a watcher or timer frame is still alive (see settle()).
    ~ring_poller();

    /// Watches `fd` for `events` (POLLIN and/or POLLOUT), or changes what it is watched
    /// for; a poll pending with the old interest is cancelled and re-armed.
    void watch(int fd, unsigned events);
    /// Stops watching `fd` (its pending poll is cancelled); unknown descriptors are ignored.
    /// Call it before the descriptor is closed.
    void unwatch(int fd) noexcept;
    /// Calls on_timer once at `when` (monotonic clock), replacing any earlier deadline.
    void set_timer(std::chrono::steady_clock::time_point when);
    /// Forgets the timer.
    void clear_timer() noexcept;

    /// True when no frame is winding down: every live frame watches a descriptor that is
    /// still wanted, or is the armed timer.
    [[nodiscard]] bool settled() const noexcept;
    /// Completes once settled() holds (at once if it does). Several may wait.
    [[nodiscard]] io::task<void> settle();

    /// Live frames, winding down or not.
    [[nodiscard]] std::size_t frames() const noexcept { return m_frames; }
    /// Descriptors being watched.
    [[nodiscard]] std::size_t watched() const noexcept { return m_fds.size(); }

private:
    struct watch_entry {
        int fd = -1;
        unsigned events = 0;
        std::stop_source stop; // cancels the pending poll (interest changed or unwatched)
        bool polling = false;
        bool removed = false;
    };

    static io::task<void> run_watch(ring_poller& self, int fd, unsigned events);
    static io::task<void> run_timer(ring_poller& self);
    void frame_ended() noexcept;

    io::ring& m_ring;
    void* m_context;
    ready_fn m_on_ready;
    timer_fn m_on_timer;

    std::unordered_map<int, watch_entry*> m_fds; // entries live in their watcher frames
    std::size_t m_frames = 0; // counts down in a frame's last statement, before it is freed

    std::chrono::steady_clock::time_point m_timer_when{};
    std::stop_source m_timer_stop;
    bool m_timer_frame = false; // a timer frame is alive
    bool m_timer_armed = false; // the library wants the timer
    bool m_timer_sleeping = false;

    wake_signal m_settled;
    std::size_t m_settle_waiters = 0;

    // Owns the watcher and timer frames. Last member: destroyed first, and it aborts
    // while a frame is alive, before the state the frames use is gone.
    io::scope m_scope;
};

} // namespace spate::net::detail
