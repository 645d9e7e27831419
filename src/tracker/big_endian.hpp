#pragma once
// Big-endian loads and stores for the tracker codecs. Private to src/tracker/. Callers
// check sizes first: these read and write exactly sizeof(T) bytes at the given position.

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>
#include <vector>

namespace spate::tracker::detail {

template <typename T>
requires std::is_unsigned_v<T>
[[nodiscard]] inline T load_be(std::span<const std::byte> bytes, std::size_t at) {
    T value = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) {
        value = static_cast<T>((value << 8) | static_cast<T>(bytes[at + i]));
    }
    return value;
}

template <typename T>
requires std::is_unsigned_v<T>
inline void store_be(std::span<std::byte> bytes, std::size_t at, T value) {
    for (std::size_t i = 0; i < sizeof(T); ++i) {
        bytes[at + sizeof(T) - 1 - i] = static_cast<std::byte>(value & 0xff);
        value = static_cast<T>(value >> 8);
    }
}

/// Appends `value` big-endian to a growing packet.
template <typename T>
requires std::is_unsigned_v<T>
inline void append_be(std::vector<std::byte>& out, T value) {
    const std::size_t at = out.size();
    out.resize(at + sizeof(T));
    store_be<T>(out, at, value);
}

} // namespace spate::tracker::detail
