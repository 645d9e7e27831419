#pragma once
/// The BEP 3 handshake: the first 68 bytes each side sends.
///
///   0    1                     20         28          48        68
///   +----+---------------------+----------+-----------+---------+
///   | 19 | BitTorrent protocol | reserved | info-hash | peer id |
///   +----+---------------------+----------+-----------+---------+
///
/// The codec checks the protocol string only; the caller compares the info-hash with the
/// torrent it expects (errc::wrong_info_hash) and decides what the reserved bits mean.

#include <spate/core/hash.hpp>
#include <spate/core/result.hpp>

#include <array>
#include <cstddef>
#include <span>
#include <string_view>

namespace spate::peer {

/// Bytes of a whole handshake on the wire.
inline constexpr std::size_t handshake_size = 68;

/// The protocol string after its length byte.
inline constexpr std::string_view protocol_string = "BitTorrent protocol";

/// Offsets of the handshake's fields; a reader that wants the info-hash before the peer
/// id has arrived (to pick the torrent of an incoming connection) reads up to
/// `handshake_peer_id_offset` first.
inline constexpr std::size_t handshake_reserved_offset = 20;
inline constexpr std::size_t handshake_info_hash_offset = 28;
inline constexpr std::size_t handshake_peer_id_offset = 48;

/// A peer's 20-byte self-chosen id.
using peer_id = std::array<std::byte, 20>;

/// One decoded handshake, a plain value.
struct handshake {
    /// Extension bits (BEP 4 lists who uses which); spate sets only BEP 10's.
    std::array<std::byte, 8> reserved{};
    sha1_digest info_hash{};
    peer_id id{};

    friend bool operator==(const handshake&, const handshake&) = default;
};

/// Sets the BEP 10 extension protocol bit (reserved byte 5, 0x10) in `h`.
inline void advertise_extensions(handshake& h) noexcept {
    h.reserved[5] |= std::byte{0x10};
}
/// True when the peer set the BEP 10 bit: it takes and may send extended messages.
[[nodiscard]] inline bool supports_extensions(const handshake& h) noexcept {
    return (h.reserved[5] & std::byte{0x10}) != std::byte{0};
}

/// Writes the 68 bytes of `h` into `out`.
void encode_handshake(const handshake& h, std::span<std::byte, handshake_size> out) noexcept;

/// Decodes 68 bytes; fails with errc::bad_protocol_string unless they start with the length
/// byte 19 and "BitTorrent protocol". The info-hash is not compared here.
[[nodiscard]] result<handshake> decode_handshake(std::span<const std::byte, handshake_size> in);

/// Checks only the first 20 bytes (length byte and protocol string) of a handshake still
/// arriving, so a peer speaking another protocol is dropped before the rest is awaited.
/// Fewer than 20 bytes fail too: the caller waits for 20 before it asks.
[[nodiscard]] result<void> check_protocol_prefix(std::span<const std::byte> prefix);

/// spate's peer id, Azureus style: "-SP0100-" (spate 0.1.0) then 12 random bytes. Takes the
/// first 12 bytes of `random_12_bytes` (debug builds assert there are 12); missing bytes
/// stay zero.
[[nodiscard]] peer_id make_peer_id(std::span<const std::byte> random_12_bytes);

} // namespace spate::peer
