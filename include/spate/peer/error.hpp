#pragma once
/// Error codes of the peer module: the handshake, wire message framing and validation
/// (BEP 3), torrent geometry for range checks, and the protocol rules a connection
/// enforces. Each code's message names the one problem it stands for, so a dropped peer
/// can be logged with `ec.message()` alone.

#include <system_error>

namespace spate::peer {

/// Why a handshake, message or geometry was refused. Every one of these ends the
/// connection it came from (unknown message ids are not errors: they are skipped).
enum class errc {
    // handshake
    bad_protocol_string = 1,
    wrong_info_hash,
    unknown_info_hash,

    // framing
    message_too_long,
    bad_message_length,
    frame_mismatch,

    // bitfield
    bitfield_wrong_size,
    bitfield_spare_bits,
    bitfield_not_first,

    // ranges
    index_out_of_range,
    bad_block,
    request_too_long,
    unrequested_piece,

    // geometry
    piece_length_out_of_range,
    inconsistent_sizes,

    // liveness
    idle_timeout,
    send_stalled,

    // extension protocol (BEP 10)
    bad_extension_handshake,
    extended_message_too_long,
};

/// The category of every peer error; its name is "spate.peer".
[[nodiscard]] const std::error_category& peer_category() noexcept;

/// Lets `std::error_code ec = errc::bad_block;` and `fail(errc::...)` work.
[[nodiscard]] std::error_code make_error_code(errc e) noexcept;

} // namespace spate::peer

template <> struct std::is_error_code_enum<spate::peer::errc> : std::true_type {};
