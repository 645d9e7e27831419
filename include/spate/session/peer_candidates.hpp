#pragma once
/// peer_candidates: every peer address a torrent has heard of, and what it may do with each
/// next: dial it, wait out a backoff, or never touch it again (banned, or ourselves).
/// Pure bookkeeping on an injected clock; the torrent does the dialling.

#include <spate/core/endpoint.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <unordered_map>

namespace spate::session {

struct candidate_settings {
    /// First wait after a failed attempt; doubles with each failure in a row.
    std::chrono::seconds first_backoff{5};
    std::chrono::seconds max_backoff{300};
    /// Failures in a row after which an address is forgotten.
    std::uint32_t max_failures = 6;
    /// Most addresses remembered; new ones beyond it are ignored.
    std::size_t max_known = 10'000;
};

class peer_candidates {
public:
    using clock = std::chrono::steady_clock;

    explicit peer_candidates(candidate_settings settings = {}) : m_settings(settings) {}

    /// Learns an address (from a tracker or the command line). Known ones are ignored, so
    /// a peer is never dialled twice at once.
    void add(const endpoint& peer);
    /// The next address due for a dial, now marked as connecting; nullopt when none is due.
    [[nodiscard]] std::optional<endpoint> next(clock::time_point now);
    /// A dial or handshake failed, or an established connection ended.
    void on_failed(const endpoint& peer, clock::time_point now);
    void on_connected(const endpoint& peer);
    /// An established connection ended normally: the peer may be dialled again after the
    /// first backoff.
    void on_closed(const endpoint& peer, clock::time_point now);
    /// Never dial it again, and refuse it if it dials us.
    void ban(const endpoint& peer);
    [[nodiscard]] bool is_banned(const endpoint& peer) const;
    /// Connected or being connected.
    [[nodiscard]] bool is_busy(const endpoint& peer) const;

    [[nodiscard]] std::size_t known() const noexcept { return m_peers.size(); }
    [[nodiscard]] std::size_t connecting() const noexcept { return m_connecting; }
    [[nodiscard]] std::size_t connected() const noexcept { return m_connected; }

private:
    enum class state : std::uint8_t { idle, connecting, connected, banned };
    struct entry {
        state current = state::idle;
        std::uint32_t failures = 0;
        clock::time_point due{};
    };
    void leave(entry& e);

    candidate_settings m_settings;
    std::unordered_map<endpoint, entry> m_peers;
    // Addresses that may be due, in the order they became so; stale ones are skipped.
    std::deque<endpoint> m_queue;
    std::size_t m_connecting = 0;
    std::size_t m_connected = 0;
};

} // namespace spate::session
