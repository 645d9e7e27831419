#pragma once
/// piece_geometry: how a torrent's bytes divide into pieces and 16 KiB blocks. The one place
/// that knows the last piece and the last block are shorter, and that validates a block
/// request a peer sends or answers.

#include <spate/core/result.hpp>
#include <spate/core/strong_index.hpp>
#include <spate/picker/block_request.hpp>

#include <cstdint>

namespace spate::picker {

/// An immutable value: piece count, piece length and total size, checked to agree.
class piece_geometry {
public:
    /// Refuses a geometry whose last piece would be empty or longer than the others
    /// (errc::total_size_mismatch), no pieces, a zero piece length, or pieces of more than
    /// 2^31 bytes (errc::piece_too_large: block offsets must fit 32 bits).
    [[nodiscard]] static result<piece_geometry>
    create(std::uint32_t piece_count, std::uint64_t piece_length, std::uint64_t total_size);

    /// An empty geometry (no pieces); only useful as a moved-from or default state.
    piece_geometry() = default;

    [[nodiscard]] std::uint32_t piece_count() const noexcept { return m_piece_count; }
    [[nodiscard]] std::uint64_t piece_length() const noexcept { return m_piece_length; }
    [[nodiscard]] std::uint64_t total_size() const noexcept { return m_total_size; }

    /// Bytes in piece `p`: piece_length, or the rest of the total for the last piece; 0 when
    /// `p` is out of range.
    [[nodiscard]] std::uint32_t piece_size(piece_index p) const noexcept;
    /// Blocks in piece `p` (0 when out of range).
    [[nodiscard]] std::uint32_t block_count(piece_index p) const noexcept;
    /// Blocks in a full-length piece (the largest block count of any piece).
    [[nodiscard]] std::uint32_t blocks_per_piece() const noexcept { return m_blocks_per_piece; }
    /// Block `b` of piece `p` as a request (offset and length); b must be < block_count(p).
    [[nodiscard]] block_request block(piece_index p, std::uint32_t b) const noexcept;
    /// True when `r` is exactly one of the torrent's blocks: piece in range, offset a multiple
    /// of block_size inside the piece, length that block's length. Never trusts the peer.
    [[nodiscard]] bool is_valid_block(const block_request& r) const noexcept;

    friend bool operator==(const piece_geometry&, const piece_geometry&) = default;

private:
    std::uint32_t m_piece_count = 0;
    std::uint64_t m_piece_length = 0;
    std::uint64_t m_total_size = 0;
    std::uint32_t m_last_piece_size = 0;
    std::uint32_t m_blocks_per_piece = 0;
};

} // namespace spate::picker
