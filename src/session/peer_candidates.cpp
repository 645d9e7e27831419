#include <spate/session/peer_candidates.hpp>

#include <algorithm>

namespace spate::session {

void peer_candidates::add(const endpoint& peer) {
    if (m_peers.size() >= m_settings.max_known || m_peers.contains(peer)) {
        return;
    }
    m_peers.emplace(peer, entry{});
    m_queue.push_back(peer);
}

std::optional<endpoint> peer_candidates::next(clock::time_point now) {
    // Each queued address is looked at once per call at most, so a queue of peers in
    // backoff does not spin.
    for (std::size_t n = m_queue.size(); n > 0; --n) {
        endpoint peer = m_queue.front();
        m_queue.pop_front();
        auto it = m_peers.find(peer);
        if (it == m_peers.end() || it->second.current != state::idle) {
            continue; // stale: forgotten, banned or already busy
        }
        if (it->second.due > now) {
            m_queue.push_back(peer);
            continue;
        }
        it->second.current = state::connecting;
        ++m_connecting;
        return peer;
    }
    return std::nullopt;
}

void peer_candidates::leave(entry& e) {
    if (e.current == state::connecting) {
        --m_connecting;
    } else if (e.current == state::connected) {
        --m_connected;
    }
}

void peer_candidates::on_connected(const endpoint& peer) {
    auto it = m_peers.find(peer);
    if (it == m_peers.end() || it->second.current == state::banned) {
        return;
    }
    leave(it->second);
    it->second.current = state::connected;
    it->second.failures = 0;
    ++m_connected;
}

void peer_candidates::on_failed(const endpoint& peer, clock::time_point now) {
    auto it = m_peers.find(peer);
    if (it == m_peers.end() || it->second.current == state::banned) {
        return;
    }
    leave(it->second);
    entry& e = it->second;
    ++e.failures;
    if (e.failures >= m_settings.max_failures) {
        m_peers.erase(it);
        return;
    }
    auto wait = m_settings.first_backoff * (1U << std::min<std::uint32_t>(e.failures - 1, 16));
    e.current = state::idle;
    e.due = now + std::min<std::chrono::seconds>(wait, m_settings.max_backoff);
    m_queue.push_back(peer);
}

void peer_candidates::on_closed(const endpoint& peer, clock::time_point now) {
    auto it = m_peers.find(peer);
    if (it == m_peers.end() || it->second.current == state::banned) {
        return;
    }
    leave(it->second);
    it->second.current = state::idle;
    it->second.due = now + m_settings.first_backoff;
    m_queue.push_back(peer);
}

void peer_candidates::ban(const endpoint& peer) {
    auto [it, inserted] = m_peers.try_emplace(peer);
    if (!inserted) {
        leave(it->second);
    }
    it->second.current = state::banned;
}

bool peer_candidates::is_banned(const endpoint& peer) const {
    auto it = m_peers.find(peer);
    return it != m_peers.end() && it->second.current == state::banned;
}

bool peer_candidates::is_busy(const endpoint& peer) const {
    auto it = m_peers.find(peer);
    return it != m_peers.end() &&
           (it->second.current == state::connecting || it->second.current == state::connected);
}

} // namespace spate::session
