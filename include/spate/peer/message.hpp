#pragma once
/// Peer wire messages (BEP 3): framing, validation, decoding and encoding, over spans.
///
/// Every message but keep-alive is a big-endian length prefix, an id byte and a payload:
///
///   +--------+----+-----------------------------+
///   | length | id | payload (length - 1 bytes)  |     keep-alive: length 0, nothing else
///   +--------+----+-----------------------------+
///     4 bytes  1
///
///   id  name            payload
///   0-3 choke .. not_interested  (none)
///   4   have            piece u32
///   5   bitfield        (piece_count + 7) / 8 bytes, high bit of the first byte = piece 0
///   6   request         piece u32, begin u32, length u32
///   7   piece           piece u32, begin u32, block data (length - 9 bytes)
///   8   cancel          piece u32, begin u32, length u32
///   9   port            DHT port u16
///
/// A reader takes the prefix and id first (a `frame`), checks it with check_frame() before
/// reading any payload, then decodes. Nothing here allocates on the decode path or trusts a
/// length read from the input: every length is checked against the torrent's geometry and
/// the limits before it sizes a read.

#include <spate/core/bitfield.hpp>
#include <spate/core/result.hpp>
#include <spate/peer/wire_geometry.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

namespace spate::peer {

/// The ids BEP 3 defines; other ids arrive as unknown_message and are skipped.
enum class message_id : std::uint8_t {
    choke = 0,
    unchoke = 1,
    interested = 2,
    not_interested = 3,
    have = 4,
    bitfield = 5,
    request = 6,
    piece = 7,
    cancel = 8,
    port = 9,
};

/// The name of a message id for logs ("have", "piece", ...); "unknown" for other ids.
[[nodiscard]] std::string_view message_name(std::uint8_t id) noexcept;

/// Length limits a connection applies; settings, not constants (DESIGN.md default limits).
struct wire_limits {
    /// Longest message accepted for every id but piece (fixed at 9 + 16 KiB) and bitfield
    /// (fixed by the piece count): in practice the limit for unknown and extension ids.
    std::uint32_t max_message = 1024 * 1024;
};

/// Bytes of the length prefix.
inline constexpr std::size_t prefix_size = 4;
/// Bytes of a piece message before its block data: 4 length + 1 id + 4 index + 4 begin.
inline constexpr std::size_t piece_header_size = 13;
/// Bytes of a piece message's body before its block data: id + index + begin.
inline constexpr std::size_t piece_body_header_size = piece_header_size - prefix_size;
/// Longest message with a fixed size (request and cancel), prefix included; callers keep
/// std::array<std::byte, max_fixed_message> buffers for every encoder but the bitfield's.
inline constexpr std::size_t max_fixed_message = 17;

/// What a length prefix plus the following id byte announce; decided before any payload is
/// read.
struct frame {
    /// Bytes after the prefix, id included; 0 is a keep-alive.
    std::uint32_t length = 0;
    /// The raw id byte, also for unknown ids; nullopt for a keep-alive, or while only the
    /// prefix has been read.
    std::optional<std::uint8_t> id;

    friend bool operator==(const frame&, const frame&) = default;
};

/// Validates a frame's length against its id: 1 for choke..not_interested, 5 for have, 13
/// for request and cancel, 3 for port (errc::bad_message_length); bitfield exactly
/// 1 + byte_size(piece_count) (errc::bitfield_wrong_size); piece 9 < length <= 9 + 16 KiB
/// (errc::bad_message_length when it carries no data, errc::message_too_long past 16 KiB);
/// unknown ids up to limits.max_message (errc::message_too_long; the caller skips them).
/// A length over limits.max_message is errc::message_too_long for every id but piece and
/// bitfield. A frame without an id (only the prefix read so far) passes when its length is
/// 0 or no longer than the longest message any id may have.
[[nodiscard]] result<void> check_frame(const frame& f, const wire_geometry& g,
                                       const wire_limits& limits);

struct keep_alive {
    friend bool operator==(const keep_alive&, const keep_alive&) = default;
};
struct choke {
    friend bool operator==(const choke&, const choke&) = default;
};
struct unchoke {
    friend bool operator==(const unchoke&, const unchoke&) = default;
};
struct interested {
    friend bool operator==(const interested&, const interested&) = default;
};
struct not_interested {
    friend bool operator==(const not_interested&, const not_interested&) = default;
};
struct have {
    std::uint32_t piece = 0;
    friend bool operator==(const have&, const have&) = default;
};
/// The bitfield's wire bytes, borrowed from the body passed to decode_message(): valid as
/// long as that buffer is. Turn it into a spate::bitfield with bitfield::from_bytes().
struct bitfield_message {
    std::span<const std::byte> bits;
};
struct request {
    std::uint32_t piece = 0;
    std::uint32_t begin = 0;
    std::uint32_t length = 0;
    friend bool operator==(const request&, const request&) = default;
};
struct cancel {
    std::uint32_t piece = 0;
    std::uint32_t begin = 0;
    std::uint32_t length = 0;
    friend bool operator==(const cancel&, const cancel&) = default;
};
/// A piece message's header; its block data (`length` bytes = frame length - 9) follows
/// the 9 body bytes on the wire and is read by the caller straight into its buffer.
struct piece_message {
    std::uint32_t piece = 0;
    std::uint32_t begin = 0;
    std::uint32_t length = 0;
    friend bool operator==(const piece_message&, const piece_message&) = default;
};
struct port {
    std::uint16_t value = 0;
    friend bool operator==(const port&, const port&) = default;
};
/// A message with an id BEP 3 does not define; its payload is skipped by the caller.
struct unknown_message {
    std::uint8_t id = 0;
    friend bool operator==(const unknown_message&, const unknown_message&) = default;
};

/// One decoded message. Only bitfield_message borrows memory (from the decoded body).
using message =
    std::variant<keep_alive, choke, unchoke, interested, not_interested, have, bitfield_message,
                 request, piece_message, cancel, port, unknown_message>;

/// Decodes a frame that passed check_frame(). `body` holds the bytes after the prefix,
/// starting with the id byte: the whole message, except for piece, where the first 9 bytes
/// are enough (the block length comes from f.length). Checks the sizes again, so a body
/// shorter than the frame needs or with another id byte is errc::frame_mismatch and is
/// never read past. Range checks against g: have index < piece_count
/// (errc::index_out_of_range); request, cancel and piece: index in range, length <= 16 KiB
/// (errc::request_too_long), length > 0 and begin + length <= piece_size (errc::bad_block);
/// bitfield: spare bits clear (errc::bitfield_spare_bits). Unknown ids decode to
/// unknown_message without reading their payload.
[[nodiscard]] result<message> decode_message(const frame& f, std::span<const std::byte> body,
                                             const wire_geometry& g);

/// Encoders write whole messages, prefix included, at the start of `out` and return the
/// bytes written; `out` must be large enough (debug builds assert it).

/// 4 bytes.
std::size_t encode_keep_alive(std::span<std::byte> out) noexcept;
/// choke, unchoke, interested or not_interested (asserted): 5 bytes.
std::size_t encode_simple(message_id id, std::span<std::byte> out) noexcept;
/// 9 bytes.
std::size_t encode_have(std::uint32_t piece, std::span<std::byte> out) noexcept;
/// 17 bytes.
std::size_t encode_request(const request& r, std::span<std::byte> out) noexcept;
/// 17 bytes.
std::size_t encode_cancel(const cancel& c, std::span<std::byte> out) noexcept;
/// The 13 bytes before a block of `length` bytes; the caller sends the block after them
/// (a gather send), so piece data is never copied into a message buffer.
std::size_t encode_piece_header(std::uint32_t piece, std::uint32_t begin, std::uint32_t length,
                                std::span<std::byte> out) noexcept;
/// 7 bytes.
std::size_t encode_port(std::uint16_t value, std::span<std::byte> out) noexcept;
/// Appends prefix, id and the bitfield's bytes (5 + byte_size(bits.size()) bytes) to `out`.
void encode_bitfield(const bitfield& bits, std::vector<std::byte>& out);

/// A whole message found at the start of a buffer.
struct framed {
    frame f;
    /// Bytes the message takes, prefix included: prefix_size + f.length.
    std::size_t total = 0;
};

/// Finds the message at the start of `bytes`, a buffer of whole messages back to back (the
/// body is bytes.subspan(prefix_size, f.length)). Returns nullopt while more bytes are
/// needed to hold the whole message, and the check_frame() error as soon as the prefix and
/// id show the frame is bad, without waiting for its payload.
[[nodiscard]] result<std::optional<framed>>
peek_frame(std::span<const std::byte> bytes, const wire_geometry& g, const wire_limits& limits);

} // namespace spate::peer
