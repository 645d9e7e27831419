#pragma once
/// Readiness and cancellation on the ring: poll_add (one-shot, for descriptors that other
/// libraries read and write themselves: c-ares, libcurl, signalfd) and cancel_fd.

#include <poll.h>
#include <spate/io/operation.hpp>

namespace spate::io {

/// io_uring_prep_poll_add(3), one-shot. Result: the ready events (POLLIN, POLLOUT,
/// POLLERR, POLLHUP, ...). Poll again for the next readiness.
class poll_op final : public detail::op<poll_op> {
public:
    poll_op(ring& owner, int fd, unsigned events, const op_options& options) noexcept
        : op(owner, options), m_fd(fd), m_events(events) {}
    void prepare(io_uring_sqe* sqe) noexcept { io_uring_prep_poll_add(sqe, m_fd, m_events); }
    [[nodiscard]] result<unsigned> await_resume() const {
        int res = outcome();
        if (res < 0) {
            return fail(errno_code(-res));
        }
        return static_cast<unsigned>(res);
    }

private:
    int m_fd;
    unsigned m_events;
};

[[nodiscard]] inline poll_op poll_add(ring& owner, int fd, unsigned events,
                                      const op_options& options = {}) noexcept {
    return poll_op(owner, fd, events, options);
}

/// io_uring_prep_cancel_fd(3) with IORING_ASYNC_CANCEL_ALL: cancels every operation
/// pending on `fd` (say before closing a peer's socket). Result: how many were cancelled
/// (each completes with operation_canceled for its own awaiter); ENOENT when none was.
class cancel_fd_op final : public detail::op<cancel_fd_op> {
public:
    cancel_fd_op(ring& owner, int fd) noexcept : op(owner, op_options{}), m_fd(fd) {}
    void prepare(io_uring_sqe* sqe) noexcept {
        io_uring_prep_cancel_fd(sqe, m_fd, IORING_ASYNC_CANCEL_ALL);
    }
    [[nodiscard]] result<int> await_resume() const { return detail::to_int(outcome()); }

private:
    int m_fd;
};

[[nodiscard]] inline cancel_fd_op cancel_fd(ring& owner, int fd) noexcept {
    return cancel_fd_op(owner, fd);
}

} // namespace spate::io
