#pragma once
/// bitfield: one bit per piece, in the peer-wire byte order (BEP 3: the high bit of the
/// first byte is piece 0), so the bytes can be sent and received as they are.
#include <cstddef>
#include <cstdint>
#include <span>
#include <spate/core/strong_index.hpp>
#include <vector>

namespace spate {

class bitfield {
public:
    bitfield() = default;
    /// `size` bits, all clear (or all set).
    explicit bitfield(std::uint32_t size, bool value = false);

    /// The bits of a peer-wire bitfield payload; nullopt-like failure is the caller's: use
    /// `wire_size_matches` and `spare_bits_clear` first. Copies the bytes.
    static bitfield from_bytes(std::span<const std::byte> bytes, std::uint32_t size);

    [[nodiscard]] std::uint32_t size() const noexcept { return m_size; }
    [[nodiscard]] bool empty() const noexcept { return m_size == 0; }
    [[nodiscard]] bool operator[](piece_index i) const noexcept { return test(i.value()); }
    [[nodiscard]] bool test(std::uint32_t i) const noexcept {
        return (static_cast<unsigned>(m_bytes[i >> 3]) >> (7 - (i & 7)) & 1U) != 0;
    }
    void set(piece_index i) noexcept { set(i.value()); }
    void set(std::uint32_t i) noexcept;
    void clear(piece_index i) noexcept { clear(i.value()); }
    void clear(std::uint32_t i) noexcept;
    void set_all() noexcept;
    void clear_all() noexcept;

    /// Number of set bits (kept up to date, O(1)).
    [[nodiscard]] std::uint32_t count() const noexcept { return m_count; }
    [[nodiscard]] bool all() const noexcept { return m_count == m_size; }
    [[nodiscard]] bool none() const noexcept { return m_count == 0; }

    /// The wire bytes: (size + 7) / 8 bytes, spare bits clear.
    [[nodiscard]] std::span<const std::byte> bytes() const noexcept { return m_bytes; }

    /// Bytes a bitfield of `size` bits takes on the wire.
    [[nodiscard]] static constexpr std::size_t byte_size(std::uint32_t size) noexcept {
        return (static_cast<std::size_t>(size) + 7) / 8;
    }
    /// True when the spare bits after `size` in the last byte of `bytes` are all clear.
    [[nodiscard]] static bool spare_bits_clear(std::span<const std::byte> bytes,
                                               std::uint32_t size) noexcept;

    friend bool operator==(const bitfield&, const bitfield&) = default;

private:
    std::vector<std::byte> m_bytes;
    std::uint32_t m_size = 0;
    std::uint32_t m_count = 0;
};

} // namespace spate
