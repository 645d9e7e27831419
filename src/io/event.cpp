#include <spate/io/event.hpp>
#include <spate/io/timer_ops.hpp>

#include <chrono>

namespace spate::io {

task<bool> event::wait(std::stop_token stop) {
    while (!m_set) {
        if (stop.stop_requested()) {
            co_return false;
        }
        // A long sleep that notify() or the caller's stop cuts short: the wake-up then
        // arrives as the sleep's cancellation completion, through the ring.
        m_wake = std::stop_source{};
        std::stop_source wake = m_wake;
        std::stop_callback forward(stop, [&wake] { wake.request_stop(); });
        m_waiting = true;
        result<void> slept = co_await sleep_for(m_ring, std::chrono::hours(24), wake.get_token());
        static_cast<void>(slept);
        m_waiting = false;
    }
    m_set = false;
    co_return true;
}

} // namespace spate::io
