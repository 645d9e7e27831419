#include <spate/session/piece_cache.hpp>

#include <algorithm>

namespace spate::session {

std::span<const std::byte> piece_cache::find(piece_index piece, clock::time_point now) {
    for (entry& e : m_entries) {
        if (e.piece == piece) {
            e.used = now;
            return e.slot.span().first(e.size);
        }
    }
    return {};
}

std::vector<piece_cache::entry>::iterator piece_cache::oldest() {
    return std::min_element(m_entries.begin(), m_entries.end(),
                            [](const entry& a, const entry& b) { return a.used < b.used; });
}

void piece_cache::insert(piece_index piece, io::buffer_slot slot, std::uint32_t size,
                         clock::time_point now) {
    if (m_capacity == 0) {
        return; // `slot` goes back to its pool here
    }
    std::erase_if(m_entries, [piece](const entry& e) { return e.piece == piece; });
    if (m_entries.size() >= m_capacity) {
        m_entries.erase(oldest());
    }
    m_entries.push_back(entry{piece, std::move(slot), size, now});
}

io::buffer_slot piece_cache::take_oldest() {
    if (m_entries.empty()) {
        return {};
    }
    auto it = oldest();
    io::buffer_slot slot = std::move(it->slot);
    m_entries.erase(it);
    return slot;
}

void piece_cache::release_idle(clock::time_point before) {
    std::erase_if(m_entries, [before](const entry& e) { return e.used < before; });
}

} // namespace spate::session
