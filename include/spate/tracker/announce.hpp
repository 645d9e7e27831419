#pragma once
/// Announce and scrape as values, shared by the UDP (BEP 15) and HTTP (BEP 3) codecs, the
/// tracker clients, the announcer and the built-in tracker. Plain data, no I/O.

#include <spate/core/endpoint.hpp>
#include <spate/core/hash.hpp>
#include <spate/core/result.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace spate::tracker {

/// The event of an announce. The numbers are BEP 15's (UDP sends them as they are).
enum class announce_event : std::uint32_t { none = 0, completed = 1, started = 2, stopped = 3 };

/// The name HTTP trackers use: "started", "completed", "stopped"; "none" for none (which
/// an HTTP announce leaves out of its query).
[[nodiscard]] std::string_view to_string(announce_event event);

/// A peer id: 20 opaque bytes chosen by the client.
using peer_id = std::array<std::byte, 20>;

/// What a client tells a tracker. The same value feeds both codecs.
struct announce_request {
    sha1_digest info_hash;
    peer_id peer{};
    /// The port this client accepts peer connections on.
    std::uint16_t port = 0;
    std::uint64_t uploaded = 0;
    std::uint64_t downloaded = 0;
    std::uint64_t left = 0;
    announce_event event = announce_event::none;
    /// Peers wanted; -1 lets the tracker choose (HTTP then leaves `numwant` out).
    std::int32_t numwant = 50;
    /// Fixed per session so a tracker can tell this client apart after an address change.
    std::uint32_t key = 0;
    /// Echoed back to HTTP trackers once one sent a "tracker id"; UDP has no such field.
    std::optional<std::string> tracker_id;

    friend bool operator==(const announce_request&, const announce_request&) = default;
};

/// What a tracker answered. A tracker that refused the request ("failure reason" over
/// HTTP, the error action over UDP) is a valid answer: `failure` then holds its text
/// (printable ASCII, capped at max_tracker_text bytes) and every other field is default.
/// Callers that carry only an error code use errc::tracker_failure for it.
struct announce_response {
    /// Seconds until the next regular announce; at least 1 s, at most max_interval.
    std::chrono::seconds interval{0};
    /// Announces must not come sooner than this (HTTP only); same range as interval.
    std::optional<std::chrono::seconds> min_interval;
    /// To echo in later HTTP announces (HTTP only).
    std::optional<std::string> tracker_id;
    /// Seeders and leechers, when the tracker said.
    std::optional<std::uint32_t> complete;
    std::optional<std::uint32_t> incomplete;
    /// Peers, with port 0 entries dropped and duplicates removed, in the tracker's order.
    std::vector<endpoint> peers;
    /// "warning message" (HTTP only), printable ASCII, capped; empty when none.
    std::string warning;
    /// The tracker's reason for refusing the request; nullopt when it answered.
    std::optional<std::string> failure;

    friend bool operator==(const announce_response&, const announce_response&) = default;
};

/// Counts for one torrent from a scrape.
struct scrape_entry {
    sha1_digest info_hash;
    /// Seeders.
    std::uint32_t complete = 0;
    /// Times the torrent was downloaded to the end.
    std::uint32_t downloaded = 0;
    /// Leechers.
    std::uint32_t incomplete = 0;

    friend bool operator==(const scrape_entry&, const scrape_entry&) = default;
};

/// Longest interval (and min interval) a response can set; longer ones are clamped.
inline constexpr std::chrono::seconds max_interval{7 * 24 * 3600};
/// Longest tracker text kept (failure reason, warning, UDP error message); the rest is cut.
inline constexpr std::size_t max_tracker_text = 512;

/// Bytes of one compact peer: 4 + 2 for IPv4 (BEP 23), 16 + 2 for IPv6 (BEP 7).
[[nodiscard]] constexpr std::size_t compact_peer_size(address_family family) {
    return family == address_family::v4 ? 6 : 18;
}

/// Decodes compact peers of one family: address bytes then a big-endian port, back to back.
/// Errors with errc::bad_compact_peers when the size is not a multiple of
/// compact_peer_size(family) (a cut or mis-framed list could only yield wrong peers).
/// Entries with port 0 are dropped and duplicates removed. `bytes` is only read during
/// the call.
[[nodiscard]] result<std::vector<endpoint>> decode_compact_peers(std::span<const std::byte> bytes,
                                                                 address_family family);

/// The compact form of every peer of `family` in `peers`, in order; peers of the other
/// family are skipped.
[[nodiscard]] std::vector<std::byte> encode_compact_peers(std::span<const endpoint> peers,
                                                          address_family family);

/// `peers` without port 0 entries and without repeats, first occurrences kept in order.
[[nodiscard]] std::vector<endpoint> unique_peers(std::vector<endpoint> peers);

/// Tracker text made safe to print and store: bytes outside printable ASCII become '?',
/// and only the first max_tracker_text bytes are kept.
[[nodiscard]] std::string sanitize_tracker_text(std::string_view text);

} // namespace spate::tracker
