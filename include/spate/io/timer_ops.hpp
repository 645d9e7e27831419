#pragma once
/// Timers and the no-op on the ring: nop, sleep_for, sleep_until (IORING_OP_TIMEOUT).
/// Deadlines on other operations are op_options::timeout / op_options::deadline.

#include <cerrno>
#include <chrono>
#include <spate/io/operation.hpp>

namespace spate::io {

/// io_uring_prep_nop(3): a round trip through the ring that does nothing. Result: 0.
class nop_op final : public detail::op<nop_op> {
public:
    nop_op(ring& owner, const op_options& options) noexcept : op(owner, options) {}
    void prepare(io_uring_sqe* sqe) noexcept { io_uring_prep_nop(sqe); }
    [[nodiscard]] result<int> await_resume() const { return detail::to_int(outcome()); }
};

[[nodiscard]] inline nop_op nop(ring& owner, const op_options& options = {}) noexcept {
    return nop_op(owner, options);
}

/// io_uring_prep_timeout(3) with no completion count: completes when the time passes
/// (success) or when `stop` is requested (operation_canceled). Relative sleeps use
/// CLOCK_MONOTONIC; so do absolute ones, which is steady_clock's clock on Linux.
class sleep_op final : public detail::op<sleep_op> {
public:
    sleep_op(ring& owner, __kernel_timespec when, bool absolute, std::stop_token stop) noexcept
        : op(owner, op_options{.stop = std::move(stop),
                               .timeout = std::nullopt,
                               .deadline = std::nullopt}),
          m_when(when), m_absolute(absolute) {}
    void prepare(io_uring_sqe* sqe) noexcept {
        io_uring_prep_timeout(sqe, &m_when, 0, m_absolute ? IORING_TIMEOUT_ABS : 0U);
    }
    [[nodiscard]] result<void> await_resume() const {
        int res = outcome();
        // -ETIME is how a timeout says "the time has come".
        return detail::to_void(res == -ETIME ? 0 : res);
    }

private:
    __kernel_timespec m_when; // read by the kernel when the timeout is issued
    bool m_absolute;
};

/// Suspends for `duration` (rounded to the kernel's timer precision).
[[nodiscard]] inline sleep_op sleep_for(ring& owner, std::chrono::nanoseconds duration,
                                        std::stop_token stop = {}) noexcept {
    return sleep_op(owner, to_timespec(duration), false, std::move(stop));
}

/// Suspends until `when` on the monotonic clock.
[[nodiscard]] inline sleep_op sleep_until(ring& owner, std::chrono::steady_clock::time_point when,
                                          std::stop_token stop = {}) noexcept {
    return sleep_op(owner, to_timespec(when.time_since_epoch()), true, std::move(stop));
}

} // namespace spate::io
