#pragma once
/// handshake_gate: a bound on accepted connections that have not finished their handshake.
///
/// Only a connection whose handshake names one of our torrents counts against max_peers,
/// so without this bound anyone can hold a descriptor per connection for the handshake
/// timeout just by connecting and saying nothing (and a flood of them runs spate out of
/// descriptors, so accept fails for good peers too). When the gate is full, the oldest
/// pending connection is shut down to make room: a flood then only evicts itself, and a
/// good peer arriving after it gets in at once.

#include <cstddef>
#include <cstdint>
#include <map>

namespace spate::session {

class handshake_gate {
public:
    explicit handshake_gate(std::size_t capacity) : m_capacity(capacity == 0 ? 1 : capacity) {}
    handshake_gate(const handshake_gate&) = delete;
    handshake_gate& operator=(const handshake_gate&) = delete;

    /// Held while one handshake runs; leaving the gate on destruction or release().
    class ticket {
    public:
        ticket() = default;
        ticket(ticket&& other) noexcept;
        ticket& operator=(ticket&& other) noexcept;
        ticket(const ticket&) = delete;
        ticket& operator=(const ticket&) = delete;
        ~ticket() { release(); }
        /// The handshake is over (the connection went to a torrent, or ended).
        void release() noexcept;

    private:
        friend class handshake_gate;
        ticket(handshake_gate* gate, std::uint64_t number) noexcept
            : m_gate(gate), m_number(number) {}
        handshake_gate* m_gate = nullptr;
        std::uint64_t m_number = 0;
    };

    /// Admits the socket `fd` (borrowed: it must stay open while the ticket is held). When
    /// the gate is full, the oldest pending socket is shut down first (its handshake fails
    /// at once and its owner closes it) and leaves the gate.
    [[nodiscard]] ticket admit(int fd);

    [[nodiscard]] std::size_t pending() const noexcept { return m_pending.size(); }
    [[nodiscard]] std::size_t capacity() const noexcept { return m_capacity; }
    /// Pending handshakes shut down to make room, since the gate was made.
    [[nodiscard]] std::uint64_t evicted() const noexcept { return m_evicted; }

private:
    std::size_t m_capacity;
    std::uint64_t m_next = 1;
    std::uint64_t m_evicted = 0;
    std::map<std::uint64_t, int> m_pending; // admission number -> socket, oldest first
};

} // namespace spate::session
