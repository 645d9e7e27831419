#include <spate/peer/error.hpp>
#include <spate/peer/wire_geometry.hpp>

#include <cassert>

namespace spate::peer {

std::uint32_t wire_geometry::piece_size(std::uint32_t piece) const noexcept {
    assert(piece < piece_count);
    const std::uint64_t start = std::uint64_t{piece} * piece_length;
    const std::uint64_t rest = total_size > start ? total_size - start : 0;
    return rest < piece_length ? static_cast<std::uint32_t>(rest) : piece_length;
}

result<wire_geometry> wire_geometry::create(std::uint32_t piece_count, std::uint64_t piece_length,
                                            std::uint64_t total_size) {
    if (piece_length == 0 || piece_length > max_piece_length) {
        return fail(errc::piece_length_out_of_range);
    }
    // piece_count < 2^32 and piece_length <= 2^29: the products below fit in 64 bits.
    const std::uint64_t full = std::uint64_t{piece_count} * piece_length;
    if (piece_count == 0 || total_size > full ||
        total_size <= (std::uint64_t{piece_count} - 1) * piece_length) {
        return fail(errc::inconsistent_sizes);
    }
    return wire_geometry{piece_count, static_cast<std::uint32_t>(piece_length), total_size};
}

std::uint32_t block_count(const wire_geometry& g, std::uint32_t piece) noexcept {
    return (g.piece_size(piece) + (block_size - 1)) / block_size;
}

std::uint32_t block_length(const wire_geometry& g, std::uint32_t piece,
                           std::uint32_t block) noexcept {
    assert(block < block_count(g, piece));
    const std::uint32_t size = g.piece_size(piece);
    const std::uint64_t start = std::uint64_t{block} * block_size;
    const std::uint64_t rest = size > start ? size - start : 0;
    return rest < block_size ? static_cast<std::uint32_t>(rest) : block_size;
}

} // namespace spate::peer
