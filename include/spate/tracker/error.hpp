#pragma once
/// Error codes of the tracker module: malformed UDP packets (BEP 15, BEP 41), malformed HTTP
/// tracker replies and queries (BEP 3, 7, 23, 48), and a tracker's refusal. Each code's
/// message names the one problem it stands for.

#include <system_error>

namespace spate::tracker {

/// Why a tracker message was refused. The tracker client, announcer and built-in tracker
/// append their own codes (timeouts, no reply, ...) at the end of this list.
enum class errc {
    /// The tracker refused the request; its own text is in announce_response::failure (or
    /// the UDP error reply's message).
    tracker_failure = 1,

    // UDP (BEP 15, BEP 41)
    /// A packet shorter than its fixed part.
    packet_too_short,
    /// A packet longer than its message allows (e.g. a scrape with a partial info-hash).
    bad_packet_size,
    /// An action number BEP 15 does not define, or one not valid in this direction.
    unknown_action,
    /// A reply whose action is not the one the caller decodes (a scrape reply passed to
    /// decode_announce_reply, say).
    wrong_action,
    /// A connect request whose connection id is not the protocol id 0x41727101980.
    bad_protocol_id,
    /// A scrape with no info-hash.
    no_info_hashes,
    /// A scrape with more info-hashes than a packet may hold (74 for UDP).
    too_many_info_hashes,
    /// A scrape reply whose entry count differs from the number of info-hashes asked for.
    scrape_count_mismatch,
    /// An announce event number other than 0..3.
    bad_event,
    /// A BEP 41 option that runs past the end of the packet.
    bad_option,
    /// BEP 41 URL data (a tracker URL's path and query) longer than max_url_data.
    url_data_too_long,

    // peers (both)
    /// Compact peers whose size is not a multiple of 6 (IPv4) or 18 (IPv6).
    bad_compact_peers,

    // HTTP replies (client side)
    /// Not an http:// or https:// URL with a host.
    bad_url,
    /// The announce URL's last path component does not start with "announce" (BEP 48).
    scrape_not_supported,
    /// The reply body is not valid bencode.
    bad_bencode,
    /// The reply body is bencode but not a dictionary.
    not_a_dictionary,
    /// An announce reply without an integer "interval".
    missing_interval,
    /// An "interval" below one second.
    bad_interval,
    /// "peers" that is neither a compact string nor a list, or "peers6" not a string.
    bad_peers,
    /// A scrape reply without a "files" dictionary.
    missing_files,
    /// A reply body larger than the limit (max_body_size).
    body_too_large,

    // HTTP queries (built-in tracker side)
    /// A '%' not followed by two hexadecimal digits.
    bad_escape,
    /// An announce without "info_hash".
    missing_info_hash,
    /// An "info_hash" that does not decode to exactly 20 bytes.
    bad_info_hash,
    /// An announce without "peer_id".
    missing_peer_id,
    /// A "peer_id" that does not decode to exactly 20 bytes.
    bad_peer_id,
    /// An announce without "port".
    missing_port,
    /// A "port" outside 1..65535 or not a number.
    bad_port,
    /// "uploaded", "downloaded", "left", "numwant" or "compact" that is not a number in range.
    bad_number,
};

/// The category of every tracker error; its name is "spate.tracker".
[[nodiscard]] const std::error_category& tracker_category() noexcept;

/// Lets `std::error_code ec = errc::bad_url;` and `fail(errc::...)` work.
[[nodiscard]] std::error_code make_error_code(errc e) noexcept;

} // namespace spate::tracker

template <> struct std::is_error_code_enum<spate::tracker::errc> : std::true_type {};
