#pragma once
/// task<T>: a lazy, move-only coroutine that produces one T for the one coroutine that
/// awaits it. Errors travel inside T by convention (`task<result<U>>`); an exception
/// escaping a task terminates the process.

#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace spate::io {

template <typename T = void> class task;

namespace detail {

/// What every task promise shares: the continuation (who awaits this task) and the
/// final suspend that transfers to it without growing the stack.
class task_promise_base {
public:
    struct final_awaiter {
        [[nodiscard]] bool await_ready() const noexcept { return false; }
        template <typename Promise>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> self) noexcept {
            task_promise_base& promise = self.promise();
            if (promise.m_start == start_state::starting) {
                // Finished before its first suspension: the awaiter is still on the stack
                // in await_suspend and continues from there (see task::awaiter).
                promise.m_start = start_state::finished_inline;
                return std::noop_coroutine();
            }
            // Finished after suspending: symmetric transfer to the awaiter.
            return promise.m_continuation;
        }
        void await_resume() const noexcept {}
    };

    [[nodiscard]] std::suspend_always initial_suspend() const noexcept { return {}; }
    [[nodiscard]] final_awaiter final_suspend() const noexcept { return {}; }
    [[noreturn]] void unhandled_exception() const noexcept { std::terminate(); }

    /// Starts the task for `awaiter`. Returns false when it already finished (the
    /// awaiter goes on without suspending), true when it suspended and will transfer to
    /// `awaiter` when it finishes.
    ///
    /// Why not plain symmetric transfer from await_suspend: g++ turns the transfer into a
    /// real tail call only at -O2 without sanitizers, so a loop awaiting tasks that finish
    /// at once would grow the stack by a frame per iteration in debug and ASan builds.
    /// Starting the child here and noticing that it finished keeps the stack flat in
    /// every build; a child that suspends still returns through symmetric transfer.
    [[nodiscard]] bool start(std::coroutine_handle<> self,
                             std::coroutine_handle<> awaiter) noexcept {
        m_continuation = awaiter;
        m_start = start_state::starting;
        self.resume();
        if (m_start == start_state::finished_inline) {
            return false;
        }
        m_start = start_state::suspended;
        return true;
    }

private:
    enum class start_state : unsigned char { idle, starting, suspended, finished_inline };

    // noop until awaited, so a root task started by ring::run() simply stops at the end.
    std::coroutine_handle<> m_continuation = std::noop_coroutine();
    start_state m_start = start_state::idle;
};

template <typename T> class task_promise final : public task_promise_base {
public:
    task<T> get_return_object() noexcept;

    template <typename U>
    requires std::is_convertible_v<U&&, T>
    void return_value(U&& value) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
        m_value.emplace(std::forward<U>(value));
    }

    [[nodiscard]] T take() noexcept(std::is_nothrow_move_constructible_v<T>) {
        return std::move(*m_value);
    }

private:
    std::optional<T> m_value;
};

template <> class task_promise<void> final : public task_promise_base {
public:
    task<void> get_return_object() noexcept;
    void return_void() const noexcept {}
    void take() const noexcept {}
};

} // namespace detail

/// A lazy coroutine: nothing runs until it is awaited (or handed to scope::spawn or
/// ring::run). The task object owns the coroutine frame and destroys it with itself;
/// a started task must be awaited to completion before it is destroyed, since the
/// frame may hold memory the kernel is using.
template <typename T> class [[nodiscard]] task {
    static_assert(!std::is_reference_v<T>, "task<T&> would dangle; return a value or a pointer");

public:
    using promise_type = detail::task_promise<T>;
    using value_type = T;

    task() noexcept = default;
    explicit task(std::coroutine_handle<promise_type> frame) noexcept : m_frame(frame) {}
    task(task&& other) noexcept : m_frame(std::exchange(other.m_frame, {})) {}
    task& operator=(task&& other) noexcept {
        if (this != &other) {
            destroy();
            m_frame = std::exchange(other.m_frame, {});
        }
        return *this;
    }
    task(const task&) = delete;
    task& operator=(const task&) = delete;
    ~task() { destroy(); }

    /// True when this object holds a coroutine (it was not moved from).
    [[nodiscard]] bool valid() const noexcept { return static_cast<bool>(m_frame); }

    /// Awaiting starts the task and resumes the awaiter with its value when it finishes.
    /// The value is moved out: a task is awaited once.
    class awaiter {
    public:
        explicit awaiter(std::coroutine_handle<promise_type> frame) noexcept : m_frame(frame) {}
        [[nodiscard]] bool await_ready() const noexcept { return false; }
        bool await_suspend(std::coroutine_handle<> caller) noexcept {
            return m_frame.promise().start(m_frame, caller);
        }
        T await_resume() noexcept(std::is_nothrow_move_constructible_v<T> || std::is_void_v<T>) {
            return m_frame.promise().take();
        }

    private:
        std::coroutine_handle<promise_type> m_frame;
    };

    awaiter operator co_await() && noexcept { return awaiter(m_frame); }
    awaiter operator co_await() & noexcept { return awaiter(m_frame); }

    /// For ring::run and scope: the frame, still owned by this task.
    [[nodiscard]] std::coroutine_handle<promise_type> handle() const noexcept { return m_frame; }

private:
    void destroy() noexcept {
        if (m_frame) {
            m_frame.destroy();
            m_frame = {};
        }
    }

    std::coroutine_handle<promise_type> m_frame;
};

namespace detail {

template <typename T> task<T> task_promise<T>::get_return_object() noexcept {
    return task<T>(std::coroutine_handle<task_promise<T>>::from_promise(*this));
}

inline task<void> task_promise<void>::get_return_object() noexcept {
    return task<void>(std::coroutine_handle<task_promise<void>>::from_promise(*this));
}

} // namespace detail

} // namespace spate::io
