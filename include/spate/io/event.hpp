#pragma once
/// event: wakes one waiting coroutine from ordinary code on the same thread (a writer
/// waiting for queued bytes, a requester waiting for a free piece buffer).

#include <spate/io/completion.hpp>
#include <spate/io/ring.hpp>

#include <coroutine>
#include <optional>
#include <stop_token>

namespace spate::io {

/// An auto-reset event for one waiter at a time. notify() never resumes the waiter inline:
/// it submits one IORING_OP_NOP whose completion resumes it, so the notifier's stack never
/// runs into the waiter's code, and a burst of notifies costs one submission. The ring is
/// borrowed. The event must outlive any wait(); a NOP is only ever in flight while a
/// waiter is suspended on it, so once no wait() is pending the event may be destroyed.
class event : private detail::completion {
public:
    explicit event(ring& owner) noexcept : completion(&event::on_cqe), m_ring(owner) {}
    event(const event&) = delete;
    event& operator=(const event&) = delete;
    event(event&&) = delete;
    event& operator=(event&&) = delete;
    ~event() = default;

    /// Sets the event; wakes the waiter if there is one. Several notifies before the
    /// waiter runs count as one.
    void notify() noexcept {
        m_set = true;
        wake();
    }

    class wait_awaiter {
    public:
        wait_awaiter(event& owner, std::stop_token stop) noexcept
            : m_event(owner), m_stop(std::move(stop)) {}
        [[nodiscard]] bool await_ready() const noexcept {
            return m_event.m_set || m_stop.stop_requested();
        }
        void await_suspend(std::coroutine_handle<> waiter) noexcept {
            m_event.m_waiter = waiter;
            m_on_stop.emplace(m_stop, stop_handler{&m_event});
        }
        /// True when the event was set (and is now clear); false when stopped first.
        bool await_resume() noexcept {
            m_on_stop.reset();
            if (m_event.m_set) {
                m_event.m_set = false;
                return true;
            }
            return false;
        }

    private:
        struct stop_handler {
            event* target;
            void operator()() const noexcept { target->wake(); }
        };
        event& m_event;
        std::stop_token m_stop;
        std::optional<std::stop_callback<stop_handler>> m_on_stop;
    };

    /// `co_await ev.wait(stop)`: completes when the event is set (and clears it): true, or
    /// when `stop` is requested first: false.
    [[nodiscard]] wait_awaiter wait(std::stop_token stop = {}) noexcept {
        return wait_awaiter(*this, std::move(stop));
    }

    [[nodiscard]] bool is_set() const noexcept { return m_set; }

private:
    void wake() noexcept;
    static void on_cqe(completion& self, detail::cqe_role role, int res,
                       std::uint32_t flags) noexcept;

    ring& m_ring;
    std::coroutine_handle<> m_waiter;
    bool m_set = false;
    bool m_nop_pending = false;
};

} // namespace spate::io
