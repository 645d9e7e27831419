#pragma once
/// wire_geometry: the sizes a peer connection checks every index and block against
/// (piece count, piece length, total size), and the 16 KiB block grid inside a piece.
///
///   piece 0              piece 1              ...  last piece (shorter)
///   |<- piece_length ->| |<- piece_length ->|      |<- total - (count-1)*length ->|
///   [16K][16K]...[rest]  per piece: block_count() blocks, the last one shorter

#include <spate/core/result.hpp>

#include <cstdint>

namespace spate::peer {

/// Every block spate requests is 16 KiB, except a piece's last one; peers asking for more
/// than this are refused (errc::request_too_long).
inline constexpr std::uint32_t block_size = 16 * 1024;

/// Largest piece length accepted (DESIGN.md default limits).
inline constexpr std::uint64_t max_piece_length = 512ULL * 1024 * 1024;

/// A torrent's sizes as a small value; build it with create(), which checks them, so a
/// wire_geometry from create() always has piece_count >= 1 and consistent sizes.
struct wire_geometry {
    std::uint32_t piece_count = 0;
    std::uint32_t piece_length = 0;
    std::uint64_t total_size = 0;

    /// Bytes in `piece`: piece_length, or what remains for the last piece.
    /// Requires piece < piece_count (debug builds assert it).
    [[nodiscard]] std::uint32_t piece_size(std::uint32_t piece) const noexcept;

    /// Checks that 1 <= piece_length <= 512 MiB (errc::piece_length_out_of_range) and that
    /// piece_count pieces of piece_length, the last one shorter but not empty, make exactly
    /// total_size bytes (errc::inconsistent_sizes; so piece_count and total_size are >= 1).
    [[nodiscard]] static result<wire_geometry>
    create(std::uint32_t piece_count, std::uint64_t piece_length, std::uint64_t total_size);

    friend bool operator==(const wire_geometry&, const wire_geometry&) = default;
};

/// Blocks of 16 KiB in `piece`, the last one shorter. Requires piece < g.piece_count.
[[nodiscard]] std::uint32_t block_count(const wire_geometry& g, std::uint32_t piece) noexcept;

/// Bytes in block `block` of `piece`: block_size, or what remains for the last block.
/// Requires piece < g.piece_count and block < block_count(g, piece).
[[nodiscard]] std::uint32_t block_length(const wire_geometry& g, std::uint32_t piece,
                                         std::uint32_t block) noexcept;

} // namespace spate::peer
