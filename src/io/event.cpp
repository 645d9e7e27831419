#include <spate/io/event.hpp>

namespace spate::io {

void event::wake() noexcept {
    if (!m_waiter || m_nop_pending) {
        return;
    }
    io_uring_sqe* sqe = m_ring.get_sqe();
    io_uring_prep_nop(sqe);
    m_ring.track(sqe, *this, detail::cqe_role::main);
    m_nop_pending = true;
}

void event::on_cqe(completion& self, detail::cqe_role /*role*/, int /*res*/,
                   std::uint32_t /*flags*/) noexcept {
    auto& ev = static_cast<event&>(self);
    ev.m_nop_pending = false;
    std::coroutine_handle<> waiter = std::exchange(ev.m_waiter, nullptr);
    if (waiter) {
        waiter.resume();
    }
}

} // namespace spate::io
