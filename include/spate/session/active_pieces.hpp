#pragma once
/// active_pieces: the pieces being downloaded, each with its piece buffer (a registered pool
/// slot) and the state of every block in it, so the receive path knows where a block goes
/// and the hash check knows who sent what.

#include <spate/core/strong_index.hpp>
#include <spate/io/buffer_pool.hpp>
#include <spate/picker/block_request.hpp>

#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

namespace spate::session {

enum class block_status : std::uint8_t {
    missing,   ///< not in the buffer
    receiving, ///< a connection is receiving it into the buffer now
    reserved,  ///< a connection's read may put it there, should the peer send it next
    received,  ///< in the buffer
};

/// One piece in progress. Its slot stays held until the piece was hashed and written (or
/// failed): the kernel may be reading it for the write.
struct active_piece {
    io::buffer_slot slot;
    std::uint32_t size = 0;
    std::vector<block_status> blocks;
    std::vector<picker::peer_key> senders; ///< who sent each received block
    std::uint32_t received = 0;
    /// Hashing or writing: nothing may be received into the buffer any more.
    bool finishing = false;

    [[nodiscard]] bool complete() const noexcept { return received == blocks.size(); }
    /// The block's bytes in the piece buffer.
    [[nodiscard]] std::span<std::byte> block_memory(std::uint32_t begin, std::uint32_t length) {
        return slot.span().subspan(begin, length);
    }
};

/// The table of active pieces, bounded by the buffer pool (the piece-buffer memory budget).
class active_pieces {
public:
    /// The pool is borrowed and must outlive the table; its slots must hold a whole piece.
    explicit active_pieces(io::buffer_pool& pool) : m_pool(pool) {}

    [[nodiscard]] active_piece* find(piece_index piece);
    /// The piece's entry, made now with a fresh buffer if it had none; nullptr when the
    /// budget is spent (every slot is out).
    [[nodiscard]] active_piece* start(piece_index piece, std::uint32_t size);
    /// Forgets the piece and gives its buffer back.
    void release(piece_index piece);
    [[nodiscard]] std::size_t size() const noexcept { return m_pieces.size(); }
    /// Calls `visit(piece)` for every active piece (which must not start or release any).
    template <typename Visit> void for_each(Visit visit) const {
        for (const auto& [piece, entry] : m_pieces) {
            visit(piece);
        }
    }
    [[nodiscard]] bool budget_spent() const noexcept { return m_pool.available() == 0; }

private:
    io::buffer_pool& m_pool;
    std::unordered_map<piece_index, active_piece> m_pieces;
};

} // namespace spate::session
