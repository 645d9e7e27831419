#pragma once
/// event: wakes one waiting coroutine from ordinary code on the same thread (a writer
/// waiting for queued bytes, a requester waiting for a free piece buffer).

#include <spate/io/ring.hpp>
#include <spate/io/task.hpp>

#include <stop_token>

namespace spate::io {

/// An auto-reset event for one waiter at a time. notify() never resumes the waiter inline:
/// the wake-up goes through the ring (it cancels the waiter's sleep), so the notifier's
/// stack never runs into the waiter's code. Borrows the ring; must outlive wait().
class event {
public:
    explicit event(ring& owner) noexcept : m_ring(owner) {}
    event(const event&) = delete;
    event& operator=(const event&) = delete;
    ~event() = default;

    /// Sets the event; wakes the waiter if there is one. Several notifies before the
    /// waiter runs count as one.
    void notify() noexcept {
        m_set = true;
        if (m_waiting) {
            m_wake.request_stop();
        }
    }

    /// Completes when the event is set (and clears it): true, or when `stop` is requested
    /// first: false.
    [[nodiscard]] task<bool> wait(std::stop_token stop);

    [[nodiscard]] bool is_set() const noexcept { return m_set; }

private:
    ring& m_ring;
    std::stop_source m_wake{std::nostopstate};
    bool m_set = false;
    bool m_waiting = false;
};

} // namespace spate::io
