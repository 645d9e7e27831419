#include <spate/picker/error.hpp>
#include <spate/picker/geometry.hpp>

namespace spate::picker {

namespace {
constexpr std::uint64_t max_piece_length = std::uint64_t{1} << 31;

std::uint32_t blocks_in(std::uint64_t bytes) {
    return static_cast<std::uint32_t>((bytes + block_size - 1) / block_size);
}
} // namespace

result<piece_geometry> piece_geometry::create(std::uint32_t piece_count, std::uint64_t piece_length,
                                              std::uint64_t total_size) {
    if (piece_count == 0) {
        return fail(errc::no_pieces);
    }
    if (piece_length == 0) {
        return fail(errc::piece_length_zero);
    }
    if (piece_length > max_piece_length) {
        return fail(errc::piece_too_large);
    }
    // piece_count < 2^32 and piece_length <= 2^31: the products cannot overflow 64 bits.
    std::uint64_t full = std::uint64_t{piece_count - 1} * piece_length;
    if (total_size <= full || total_size - full > piece_length) {
        return fail(errc::total_size_mismatch);
    }
    piece_geometry g;
    g.m_piece_count = piece_count;
    g.m_piece_length = piece_length;
    g.m_total_size = total_size;
    g.m_last_piece_size = static_cast<std::uint32_t>(total_size - full);
    g.m_blocks_per_piece = blocks_in(piece_length);
    return g;
}

std::uint32_t piece_geometry::piece_size(piece_index p) const noexcept {
    if (p.value() >= m_piece_count) {
        return 0;
    }
    if (p.value() + 1 == m_piece_count) {
        return m_last_piece_size;
    }
    return static_cast<std::uint32_t>(m_piece_length);
}

std::uint32_t piece_geometry::block_count(piece_index p) const noexcept {
    if (p.value() + 1 == m_piece_count) {
        return blocks_in(m_last_piece_size);
    }
    return p.value() < m_piece_count ? m_blocks_per_piece : 0;
}

block_request piece_geometry::block(piece_index p, std::uint32_t b) const noexcept {
    std::uint32_t size = piece_size(p);
    std::uint32_t begin = b * block_size;
    std::uint32_t length = size - begin < block_size ? size - begin : block_size;
    return {p, begin, length};
}

bool piece_geometry::is_valid_block(const block_request& r) const noexcept {
    std::uint32_t size = piece_size(r.piece);
    if (size == 0 || r.begin % block_size != 0 || r.begin >= size) {
        return false;
    }
    std::uint32_t expected = size - r.begin < block_size ? size - r.begin : block_size;
    return r.length == expected;
}

} // namespace spate::picker
