#pragma once
/// The machinery every ring operation shares: options (stop token, deadline), the
/// completion record, the linked timeout, and cancellation through ASYNC_CANCEL.

#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <liburing.h>
#include <optional>
#include <spate/core/result.hpp>
#include <spate/io/completion.hpp>
#include <spate/io/ring.hpp>
#include <stop_token>

namespace spate::io {

/// How an operation may end early. Copied into the operation.
struct op_options {
    /// A stop request while the operation is pending submits IORING_OP_ASYNC_CANCEL; the
    /// operation then completes with std::errc::operation_canceled (unless it finished
    /// first, in which case its real result is kept: bytes moved are never dropped).
    /// A stop requested before the operation starts completes it at once, unsubmitted.
    std::stop_token stop;
    /// Relative deadline through a linked IORING_OP_LINK_TIMEOUT, counted from submission;
    /// zero or negative expires at once. When it fires the operation completes with
    /// std::errc::timed_out.
    std::optional<std::chrono::nanoseconds> timeout;
    /// Absolute deadline on the monotonic clock (steady_clock); used instead of
    /// `timeout` when set.
    std::optional<std::chrono::steady_clock::time_point> deadline;
};

/// A kernel timespec for a duration (relative) or a steady_clock time point (absolute,
/// CLOCK_MONOTONIC, which is what steady_clock reads on Linux).
[[nodiscard]] __kernel_timespec to_timespec(std::chrono::nanoseconds duration) noexcept;

namespace detail {

/// State and logic shared by all operation awaiters; not used directly.
///
/// An operation is immovable: the kernel holds its address (user_data) and pointers
/// into it (timespecs, iovecs, msghdr, sockaddr) until its last CQE arrived, and the
/// awaiting coroutine resumes only then: after the operation's own CQE, its linked
/// timeout's, and the CQE of any cancel a stop request sent for it.
class op_base : public completion {
public:
    op_base(const op_base&) = delete;
    op_base& operator=(const op_base&) = delete;
    op_base(op_base&&) = delete;
    op_base& operator=(op_base&&) = delete;

protected:
    op_base(ring& owner, const op_options& options) noexcept;
    ~op_base() = default;

    /// await_ready: true (and the outcome is operation_canceled) when stop was already
    /// requested, so nothing is submitted.
    [[nodiscard]] bool stopped_before_start() noexcept;
    /// Room for the operation's entries (two with a deadline) in one submission.
    [[nodiscard]] io_uring_sqe* first_sqe() noexcept;
    /// After the operation's entry is prepared: track it, link the deadline, watch the
    /// stop token, remember who to resume.
    void arm(io_uring_sqe* sqe, std::coroutine_handle<> waiter) noexcept;
    /// The result of the operation: cqe->res, except that an operation cut short by
    /// our own cancel reads -ECANCELED and one cut short by its deadline -ETIMEDOUT.
    [[nodiscard]] int outcome() const noexcept;
    /// The flags of the operation's CQE (IORING_CQE_F_*).
    [[nodiscard]] std::uint32_t cqe_flags() const noexcept { return m_cqe_flags; }

    ring& m_ring;

private:
    struct stop_handler {
        op_base* self;
        void operator()() const noexcept { self->on_stop(); }
    };

    static void on_cqe(completion& self, cqe_role role, int res, std::uint32_t flags) noexcept;
    void on_stop() noexcept;
    [[nodiscard]] bool has_deadline() const noexcept {
        return m_deadline.has_value() || m_timeout.has_value();
    }

    std::stop_token m_stop;
    std::optional<std::chrono::nanoseconds> m_timeout;
    std::optional<std::chrono::steady_clock::time_point> m_deadline;
    std::optional<std::stop_callback<stop_handler>> m_on_stop;
    std::coroutine_handle<> m_waiter;
    __kernel_timespec m_deadline_ts{}; // read by the kernel when the link timeout is issued
    int m_res = 0;
    std::uint32_t m_cqe_flags = 0;
    std::uint8_t m_pending = 0;  // CQEs still to come
    bool m_main_done = false;    // the operation's own (final) CQE arrived
    bool m_cancel_sent = false;  // stopped: a cancel was submitted, or nothing was
    bool m_deadline_hit = false; // the linked timeout fired
};

/// CRTP base giving an operation its await_ready/await_suspend. `Derived` provides
/// `void prepare(io_uring_sqe*) noexcept` (an io_uring_prep_* call) and await_resume.
template <typename Derived> class op : public op_base {
public:
    [[nodiscard]] bool await_ready() noexcept { return stopped_before_start(); }
    void await_suspend(std::coroutine_handle<> waiter) noexcept {
        io_uring_sqe* sqe = first_sqe();
        static_cast<Derived*>(this)->prepare(sqe);
        arm(sqe, waiter);
    }

protected:
    using op_base::op_base;
};

/// Outcome conversions shared by the operations.
[[nodiscard]] inline result<std::size_t> to_size(int res) {
    if (res < 0) {
        return fail(errno_code(-res));
    }
    return static_cast<std::size_t>(res);
}
[[nodiscard]] inline result<int> to_int(int res) {
    if (res < 0) {
        return fail(errno_code(-res));
    }
    return res;
}
[[nodiscard]] inline result<void> to_void(int res) {
    if (res < 0) {
        return fail(errno_code(-res));
    }
    return {};
}

} // namespace detail

} // namespace spate::io
