#include <cstdio>
#include <cstdlib>
#include <spate/io/scope.hpp>
#include <utility>

namespace spate::io {

namespace detail {
struct scope_access {
    static std::coroutine_handle<> task_done(scope& owner) noexcept { return owner.on_task_done(); }
};
} // namespace detail

namespace {

// The frame that holds a spawned task while it runs: it awaits the task, then at its
// final suspend frees itself and tells the scope. Eager start is done by spawn().
class spawned {
public:
    class promise_type {
    public:
        explicit promise_type(scope& owner, task<void>& /*work*/) noexcept : m_scope(owner) {}

        spawned get_return_object() noexcept {
            return spawned(std::coroutine_handle<promise_type>::from_promise(*this));
        }
        [[nodiscard]] std::suspend_always initial_suspend() const noexcept { return {}; }

        struct final_awaiter {
            [[nodiscard]] bool await_ready() const noexcept { return false; }
            std::coroutine_handle<>
            await_suspend(std::coroutine_handle<promise_type> self) noexcept {
                scope& owner = self.promise().m_scope;
                // The frame is suspended here, so it may free itself; nothing of it is
                // touched afterwards.
                self.destroy();
                return detail::scope_access::task_done(owner);
            }
            void await_resume() const noexcept {}
        };
        [[nodiscard]] final_awaiter final_suspend() const noexcept { return {}; }
        void return_void() const noexcept {}
        [[noreturn]] void unhandled_exception() const noexcept { std::terminate(); }

    private:
        scope& m_scope;
    };

    explicit spawned(std::coroutine_handle<promise_type> frame) noexcept : m_frame(frame) {}
    [[nodiscard]] std::coroutine_handle<promise_type> release() noexcept {
        return std::exchange(m_frame, {});
    }

private:
    std::coroutine_handle<promise_type> m_frame;
};

spawned run_spawned(scope& /*owner*/, task<void> work) {
    co_await std::move(work);
}

} // namespace

scope::~scope() {
    if (m_live != 0) {
        // Continuing would let live frames resume into a freed scope: fail loudly.
        std::fprintf(stderr, "spate::io::scope destroyed with %zu live task(s); join() first\n",
                     m_live);
        std::abort();
    }
}

void scope::spawn(task<void> work) {
    std::coroutine_handle<> frame = run_spawned(*this, std::move(work)).release();
    ++m_live;
    frame.resume();
}

void scope::join_awaiter::await_suspend(std::coroutine_handle<> joiner) noexcept {
    if (m_scope.m_joiner) {
        std::fprintf(stderr, "spate::io::scope::join awaited by two coroutines at once\n");
        std::abort();
    }
    m_scope.m_joiner = joiner;
}

std::coroutine_handle<> scope::on_task_done() noexcept {
    --m_live;
    if (m_live == 0 && m_joiner) {
        return std::exchange(m_joiner, {});
    }
    return std::noop_coroutine();
}

} // namespace spate::io
