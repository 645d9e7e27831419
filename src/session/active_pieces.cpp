#include <spate/picker/block_request.hpp>
#include <spate/session/active_pieces.hpp>

namespace spate::session {

active_piece* active_pieces::find(piece_index piece) {
    auto it = m_pieces.find(piece);
    return it == m_pieces.end() ? nullptr : &it->second;
}

active_piece* active_pieces::start(piece_index piece, std::uint32_t size) {
    if (active_piece* existing = find(piece)) {
        return existing;
    }
    std::optional<io::buffer_slot> slot = m_pool.acquire();
    if (!slot) {
        return nullptr;
    }
    active_piece& entry = m_pieces[piece];
    entry.slot = std::move(*slot);
    entry.size = size;
    const std::uint32_t blocks = (size + picker::block_size - 1) / picker::block_size;
    entry.blocks.assign(blocks, block_status::missing);
    entry.senders.assign(blocks, 0);
    return &entry;
}

void active_pieces::release(piece_index piece) { m_pieces.erase(piece); }

} // namespace spate::session
