#include <spate/session/handshake_gate.hpp>

#include <sys/socket.h>

#include <utility>

namespace spate::session {

handshake_gate::ticket::ticket(ticket&& other) noexcept
    : m_gate(std::exchange(other.m_gate, nullptr)), m_number(other.m_number) {}

handshake_gate::ticket& handshake_gate::ticket::operator=(ticket&& other) noexcept {
    if (this != &other) {
        release();
        m_gate = std::exchange(other.m_gate, nullptr);
        m_number = other.m_number;
    }
    return *this;
}

void handshake_gate::ticket::release() noexcept {
    if (m_gate != nullptr) {
        m_gate->m_pending.erase(m_number);
        m_gate = nullptr;
    }
}

handshake_gate::ticket handshake_gate::admit(int fd) {
    while (m_pending.size() >= m_capacity) {
        auto oldest = m_pending.begin();
        // Its pending receive completes with end of stream; the handshake then fails and
        // the task that owns the socket closes it. Its ticket finds itself gone.
        ::shutdown(oldest->second, SHUT_RDWR);
        m_pending.erase(oldest);
        ++m_evicted;
    }
    const std::uint64_t number = m_next++;
    m_pending.emplace(number, fd);
    return ticket(this, number);
}

} // namespace spate::session
