#pragma once
/// block_request: one 16 KiB (or shorter, at the very end) block of a piece, as asked of a
/// peer in a `request` message; peer_key: the caller's opaque name for a connection.

#include <spate/core/strong_index.hpp>

#include <cstdint>

namespace spate::picker {

/// Every block is this long, except the last block of the last piece (BEP 3 practice; the
/// peer wire refuses requests above it).
inline constexpr std::uint32_t block_size = 16 * 1024;

/// An opaque id the caller gives each connection; the picker only compares them.
using peer_key = std::uint32_t;

/// A block of piece `piece` starting `begin` bytes into it, `length` bytes long.
struct block_request {
    piece_index piece;
    std::uint32_t begin = 0;
    std::uint32_t length = 0;

    friend bool operator==(const block_request&, const block_request&) = default;
};

} // namespace spate::picker
