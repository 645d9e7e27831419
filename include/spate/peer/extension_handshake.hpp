#pragma once
/// extension_handshake: the BEP 10 extension protocol's handshake, the bencoded dictionary
/// sent as extended message 0 by peers that set reserved bit 20 (byte 5, 0x10).
///
/// Read from a stranger, so bounded: the payload is at most max_extension_handshake bytes,
/// at most max_extension_names names are kept, a name is 1-64 bytes, an id 1-255 (0 means
/// "disabled" and drops the name), the client name is cut to 64 bytes. Keys of the wrong
/// type are ignored, as BEP 10 says of unknown ones: only a payload that is not a bencoded
/// dictionary is an error (errc::bad_extension_handshake).

#include <spate/core/result.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace spate::peer {

/// The extended message id (BEP 10) and the sub-id of its handshake.
inline constexpr std::uint8_t extended_message_id = 20;
inline constexpr std::uint8_t extension_handshake_id = 0;
/// Reserved byte and bit a client sets to speak BEP 10.
inline constexpr std::size_t extension_reserved_byte = 5;
inline constexpr std::byte extension_reserved_bit{0x10};

inline constexpr std::size_t max_extension_handshake = 64 * 1024;
inline constexpr std::size_t max_extension_names = 64;
inline constexpr std::size_t max_extension_name = 64;
inline constexpr std::size_t max_client_name = 64;

struct extension_handshake {
    /// "m": extension name -> the id the sender wants to receive it as.
    std::map<std::string, std::uint8_t> messages;
    /// "p": the sender's listen port (1-65535).
    std::optional<std::uint16_t> listen_port;
    /// "v": client name and version, for display only.
    std::string client;
    /// "reqq": how many outstanding requests the sender keeps before dropping (>= 1).
    std::optional<std::uint32_t> request_queue;
    /// "yourip": our address as the sender sees it (4 or 16 bytes).
    std::vector<std::byte> your_ip;
    /// "metadata_size" (BEP 9): bytes of the info dictionary, when the sender has it.
    std::optional<std::uint64_t> metadata_size;

    friend bool operator==(const extension_handshake&, const extension_handshake&) = default;
};

/// Parses the payload after the extended id and the sub-id 0.
[[nodiscard]] result<extension_handshake>
decode_extension_handshake(std::span<const std::byte> payload);

/// The payload for `h` (bencoded, keys sorted); decode() of it gives `h` back when `h`
/// keeps the bounds above.
[[nodiscard]] std::vector<std::byte> encode_extension_handshake(const extension_handshake& h);

} // namespace spate::peer
