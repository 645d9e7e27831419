#include <algorithm>
#include <bit>
#include <spate/core/bitfield.hpp>

namespace spate {

namespace {
std::uint32_t popcount_bytes(std::span<const std::byte> bytes) {
    std::uint32_t n = 0;
    for (std::byte b : bytes) {
        n += static_cast<std::uint32_t>(std::popcount(static_cast<unsigned char>(b)));
    }
    return n;
}
std::byte bit_mask(std::uint32_t i) { return static_cast<std::byte>(0x80U >> (i & 7)); }
} // namespace

bitfield::bitfield(std::uint32_t size, bool value) : m_bytes(byte_size(size)), m_size(size) {
    if (value) {
        set_all();
    }
}

bitfield bitfield::from_bytes(std::span<const std::byte> bytes, std::uint32_t size) {
    bitfield out(size);
    std::size_t n = std::min(bytes.size(), out.m_bytes.size());
    std::copy_n(bytes.begin(), n, out.m_bytes.begin());
    if (size % 8 != 0 && !out.m_bytes.empty()) {
        // Never trust spare bits: they would count as pieces that do not exist.
        out.m_bytes.back() &= static_cast<std::byte>(0xFFU << (8 - size % 8));
    }
    out.m_count = popcount_bytes(out.m_bytes);
    return out;
}

void bitfield::set(std::uint32_t i) noexcept {
    std::byte& b = m_bytes[i >> 3];
    if ((b & bit_mask(i)) == std::byte{0}) {
        b |= bit_mask(i);
        ++m_count;
    }
}

void bitfield::clear(std::uint32_t i) noexcept {
    std::byte& b = m_bytes[i >> 3];
    if ((b & bit_mask(i)) != std::byte{0}) {
        b &= ~bit_mask(i);
        --m_count;
    }
}

void bitfield::set_all() noexcept {
    std::fill(m_bytes.begin(), m_bytes.end(), std::byte{0xFF});
    if (m_size % 8 != 0) {
        m_bytes.back() = static_cast<std::byte>(0xFFU << (8 - m_size % 8));
    }
    m_count = m_size;
}

void bitfield::clear_all() noexcept {
    std::fill(m_bytes.begin(), m_bytes.end(), std::byte{0});
    m_count = 0;
}

bool bitfield::spare_bits_clear(std::span<const std::byte> bytes, std::uint32_t size) noexcept {
    if (size % 8 == 0 || bytes.size() < byte_size(size)) {
        return true;
    }
    auto spare = static_cast<std::byte>(0xFFU >> (size % 8));
    return (bytes[byte_size(size) - 1] & spare) == std::byte{0};
}

} // namespace spate
