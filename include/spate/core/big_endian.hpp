#pragma once
/// Big-endian (network order) loads and stores of 16- and 32-bit integers on byte spans.
/// Each reads or writes exactly the first 2 or 4 bytes of the span it is given; callers
/// check the size first (debug builds assert it), as every floor-1 codec checks a length
/// before it reads.

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <span>

namespace spate {

/// The first 2 bytes of `from`, most significant first.
[[nodiscard]] constexpr std::uint16_t load_u16(std::span<const std::byte> from) noexcept {
    assert(from.size() >= 2);
    return static_cast<std::uint16_t>((static_cast<unsigned>(from[0]) << 8) |
                                      static_cast<unsigned>(from[1]));
}

/// The first 4 bytes of `from`, most significant first.
[[nodiscard]] constexpr std::uint32_t load_u32(std::span<const std::byte> from) noexcept {
    assert(from.size() >= 4);
    return (static_cast<std::uint32_t>(from[0]) << 24) |
           (static_cast<std::uint32_t>(from[1]) << 16) |
           (static_cast<std::uint32_t>(from[2]) << 8) | static_cast<std::uint32_t>(from[3]);
}

/// Writes `value` into the first 2 bytes of `to`, most significant first.
constexpr void store_u16(std::span<std::byte> to, std::uint16_t value) noexcept {
    assert(to.size() >= 2);
    to[0] = static_cast<std::byte>(value >> 8);
    to[1] = static_cast<std::byte>(value & 0xFFU);
}

/// Writes `value` into the first 4 bytes of `to`, most significant first.
constexpr void store_u32(std::span<std::byte> to, std::uint32_t value) noexcept {
    assert(to.size() >= 4);
    to[0] = static_cast<std::byte>(value >> 24);
    to[1] = static_cast<std::byte>((value >> 16) & 0xFFU);
    to[2] = static_cast<std::byte>((value >> 8) & 0xFFU);
    to[3] = static_cast<std::byte>(value & 0xFFU);
}

} // namespace spate
