#pragma once
// wake_signal: how code running inside a c-ares or libcurl callback, or inside a socket
// watcher, wakes a coroutine that waits for it without resuming that coroutine there and
// then. notify() requests stop on a stop source watched by the waiters' ring sleeps; each
// sleep is cancelled through the ring, so the waiter resumes later from the loop, on a
// clean stack: never from inside a library callback (which must not re-enter the library)
// nor from inside a frame that the waiter might go on to destroy.

#include <spate/io/ring.hpp>
#include <spate/io/timer_ops.hpp>

#include <chrono>
#include <stop_token>

namespace spate::net::detail {

class wake_signal {
public:
    /// Marks the signal fired and wakes every current waiter (through the ring).
    void notify() noexcept {
        m_fired = true;
        m_source.request_stop();
    }

    [[nodiscard]] bool fired() const noexcept { return m_fired; }

    /// Makes the signal ready for another round. Waiters still sleeping on the old round
    /// keep its (already requested) stop state, so none is lost.
    void reset() noexcept {
        m_fired = false;
        m_source = std::stop_source{};
    }

    /// A ring sleep that ends at `deadline` or when notify() is called, whichever is
    /// first; look at fired() afterwards to tell which. Several may wait at once.
    [[nodiscard]] io::sleep_op wait_until(io::ring& ring,
                                          std::chrono::steady_clock::time_point deadline) noexcept {
        return io::sleep_until(ring, deadline, m_source.get_token());
    }

private:
    std::stop_source m_source;
    bool m_fired = false;
};

} // namespace spate::net::detail
