#pragma once
/// scope: owns every background coroutine. spawn() starts a task now; join() completes
/// when all of them finished. Nothing is ever detached.

#include <coroutine>
#include <cstddef>
#include <spate/io/task.hpp>
#include <stop_token>

namespace spate::io {

namespace detail {
struct scope_access;
} // namespace detail

/// A nursery for background tasks, with a stop source they can watch.
///
/// Shutdown is `request_stop()` then `co_await join()`. The scope must outlive every
/// task spawned into it: destroying a scope with live tasks is a bug and aborts, since
/// those frames would run on into freed memory. A scope does not move.
class scope {
public:
    scope() = default;
    scope(const scope&) = delete;
    scope& operator=(const scope&) = delete;
    ~scope();

    /// Starts `work` at once, on this thread, until its first suspension; the scope
    /// owns its frame from then on and frees it when it finishes.
    void spawn(task<void> work);

    /// Awaitable that completes when no spawned task is left (at once if none is).
    /// One coroutine at a time may await it.
    class join_awaiter {
    public:
        explicit join_awaiter(scope& owner) noexcept : m_scope(owner) {}
        [[nodiscard]] bool await_ready() const noexcept { return m_scope.m_live == 0; }
        void await_suspend(std::coroutine_handle<> joiner) noexcept;
        void await_resume() const noexcept {}

    private:
        scope& m_scope;
    };

    /// `co_await s.join()`; the awaiter borrows the scope.
    [[nodiscard]] join_awaiter join() noexcept { return join_awaiter(*this); }

    /// Spawned tasks that have not finished yet.
    [[nodiscard]] std::size_t size() const noexcept { return m_live; }

    /// The stop token tasks of this scope are expected to watch (passed in explicitly).
    [[nodiscard]] std::stop_token token() const noexcept { return m_stop.get_token(); }
    /// The scope's stop source (a handle sharing its state), for helpers that request stop
    /// themselves, such as stop_on_signal.
    [[nodiscard]] std::stop_source stop_source() const noexcept { return m_stop; }
    /// Requests stop on the scope's stop source; true when this call made the request.
    bool request_stop() noexcept { return m_stop.request_stop(); }
    [[nodiscard]] bool stop_requested() const noexcept { return m_stop.stop_requested(); }

private:
    friend struct detail::scope_access;
    // Called by the final suspend of a spawned task: what to resume next.
    [[nodiscard]] std::coroutine_handle<> on_task_done() noexcept;

    std::size_t m_live = 0;
    std::coroutine_handle<> m_joiner;
    std::stop_source m_stop;
};

} // namespace spate::io
