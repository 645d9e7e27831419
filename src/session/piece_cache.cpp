#include <spate/session/piece_cache.hpp>

#include <algorithm>

namespace spate::session {

std::span<const std::byte> piece_cache::find(piece_index piece, clock::time_point now) {
    auto it = m_entries.find(piece);
    if (it == m_entries.end()) {
        return {};
    }
    it->second.used = now;
    return it->second.slot.span().first(it->second.size);
}

piece_cache::entries::iterator piece_cache::oldest() {
    return std::min_element(m_entries.begin(), m_entries.end(),
                            [](const auto& a, const auto& b) {
                                return a.second.used < b.second.used;
                            });
}

void piece_cache::insert(piece_index piece, io::buffer_slot slot, std::uint32_t size,
                         clock::time_point now) {
    if (m_capacity == 0) {
        return; // `slot` goes back to its pool here
    }
    m_entries.erase(piece);
    if (m_entries.size() >= m_capacity) {
        m_entries.erase(oldest());
    }
    m_entries.emplace(piece, entry{std::move(slot), size, now});
}

io::buffer_slot piece_cache::take_oldest() {
    if (m_entries.empty()) {
        return {};
    }
    auto it = oldest();
    io::buffer_slot slot = std::move(it->second.slot);
    m_entries.erase(it);
    return slot;
}

void piece_cache::release_idle(clock::time_point before) {
    std::erase_if(m_entries, [before](const auto& e) { return e.second.used < before; });
}

} // namespace spate::session
