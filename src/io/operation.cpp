#include <cerrno>
#include <spate/io/operation.hpp>

namespace spate::io {

__kernel_timespec to_timespec(std::chrono::nanoseconds duration) noexcept {
    using std::chrono::duration_cast;
    using std::chrono::nanoseconds;
    using std::chrono::seconds;
    if (duration.count() < 0) {
        duration = nanoseconds(0);
    }
    auto secs = duration_cast<seconds>(duration);
    __kernel_timespec ts{};
    ts.tv_sec = secs.count();
    ts.tv_nsec = (duration - secs).count();
    return ts;
}

namespace detail {

op_base::op_base(ring& owner, const op_options& options) noexcept
    : completion(&op_base::on_cqe), m_ring(owner), m_stop(options.stop), m_timeout(options.timeout),
      m_deadline(options.deadline) {}

bool op_base::stopped_before_start() noexcept {
    if (m_stop.stop_requested()) {
        m_res = -ECANCELED;
        m_cancel_sent = true;
        m_main_done = true;
        return true;
    }
    return false;
}

io_uring_sqe* op_base::first_sqe() noexcept {
    // The operation and its link timeout must reach the kernel in the same submission,
    // or the link would be cut at the batch boundary.
    m_ring.reserve(has_deadline() ? 2U : 1U);
    return m_ring.get_sqe();
}

void op_base::arm(io_uring_sqe* sqe, std::coroutine_handle<> waiter) noexcept {
    m_waiter = waiter;
    m_ring.track(sqe, *this, cqe_role::main);
    m_pending = 1;
    if (has_deadline()) {
        unsigned flags = 0;
        if (m_deadline) {
            m_deadline_ts = to_timespec(m_deadline->time_since_epoch());
            flags = IORING_TIMEOUT_ABS;
        } else {
            m_deadline_ts = to_timespec(*m_timeout);
        }
        sqe->flags |= IOSQE_IO_LINK;
        io_uring_sqe* timeout = m_ring.get_sqe();
        // io_uring_prep_link_timeout(3)
        io_uring_prep_link_timeout(timeout, &m_deadline_ts, flags);
        m_ring.track(timeout, *this, cqe_role::link_timeout);
        ++m_pending;
    }
    if (m_stop.stop_possible()) {
        m_on_stop.emplace(m_stop, stop_handler{this});
    }
}

void op_base::on_stop() noexcept {
    if (m_main_done || m_cancel_sent) {
        return;
    }
    m_cancel_sent = true;
    io_uring_sqe* sqe = m_ring.get_sqe();
    // io_uring_prep_cancel64(3): matches the first request with our user_data; it is
    // in the kernel already, or earlier in this same submission queue.
    io_uring_prep_cancel64(sqe, user_data(cqe_role::main), 0);
    m_ring.track(sqe, *this, cqe_role::cancel);
    ++m_pending;
}

void op_base::on_cqe(completion& record, cqe_role role, int res, std::uint32_t flags) noexcept {
    auto& self = static_cast<op_base&>(record);
    switch (role) {
    case cqe_role::main:
        if ((flags & IORING_CQE_F_NOTIF) == 0) {
            self.m_res = res;
            self.m_cqe_flags = flags;
            self.m_main_done = true;
            // Done: later stop requests have nothing to cancel.
            self.m_on_stop.reset();
        }
        if ((flags & IORING_CQE_F_MORE) != 0) {
            return; // another CQE for this submission follows
        }
        break;
    case cqe_role::link_timeout:
        // -ECANCELED: the operation finished first and took its timeout down with it.
        // Anything else (-ETIME, or -EALREADY when the operation could not be stopped
        // at once) means the deadline passed.
        self.m_deadline_hit = res != -ECANCELED;
        break;
    case cqe_role::cancel:
        // -ENOENT / -EALREADY: the operation finished or is finishing; its own CQE
        // still comes and decides the outcome.
        break;
    }
    if (--self.m_pending == 0) {
        // Nothing of this operation is touched after this point: the coroutine may
        // destroy it before resume() returns.
        self.m_waiter.resume();
    }
}

int op_base::outcome() const noexcept {
    const bool cut_short =
        m_res == -ECANCELED || (m_res == -EINTR && (m_cancel_sent || m_deadline_hit));
    if (!cut_short) {
        return m_res;
    }
    if (m_cancel_sent) {
        return -ECANCELED;
    }
    if (m_deadline_hit) {
        return -ETIMEDOUT;
    }
    return -ECANCELED;
}

} // namespace detail
} // namespace spate::io
