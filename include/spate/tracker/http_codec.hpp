#pragma once
/// The HTTP tracker protocol (BEP 3, compact peers BEP 23, IPv6 peers BEP 7, scrape
/// convention BEP 48): announce and scrape URLs and bencoded replies, for the client and for
/// the built-in tracker. Pure: no sockets; the HTTP transfer itself is net/'s job.

#include <spate/core/endpoint.hpp>
#include <spate/core/hash.hpp>
#include <spate/core/result.hpp>
#include <spate/tracker/announce.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace spate::tracker::http {

/// Largest reply body the parsers accept (errc::body_too_large): DESIGN.md's default cap.
inline constexpr std::size_t max_body_size = 1024 * 1024;
/// Most info-hashes parse_scrape_query accepts (errc::too_many_info_hashes).
inline constexpr std::size_t max_scrape_query_hashes = 256;

// ---------------------------------------------------------------------------------------
// Client side
// ---------------------------------------------------------------------------------------

/// The announce URL with the request's query appended: after the URL's own query when it
/// has one ('&' joins them), otherwise after a new '?'; a '#fragment' is dropped. In order:
/// info_hash and peer_id percent-encoded byte by byte (only [A-Za-z0-9-._~] left as they
/// are, "%XX" upper-case otherwise), port, uploaded, downloaded, left, compact=1, event
/// (left out for none), numwant (left out when negative), key (8 lower-case hex digits),
/// trackerid (percent-encoded, when set). Errors: errc::bad_url unless http:// or https://
/// with a host.
[[nodiscard]] result<std::string> build_announce_url(std::string_view announce_url,
                                                     const announce_request& request);

/// The scrape URL by the BEP 48 convention: the last path component must start with
/// "announce", which becomes "scrape" ("/x/announce.php?k=1" -> "/x/scrape.php?k=1").
/// Errors: errc::bad_url, errc::scrape_not_supported.
[[nodiscard]] result<std::string> scrape_url_for(std::string_view announce_url);

/// `scrape_url` with one percent-encoded info_hash parameter per hash appended (none: the
/// URL as is, which asks for every torrent). Errors: errc::bad_url.
[[nodiscard]] result<std::string> build_scrape_url(std::string_view scrape_url,
                                                   std::span<const sha1_digest> info_hashes);

/// Parses an announce reply body (read only during the call). Dictionary keys may come in
/// any order. "failure reason": a response with only `failure` set (made printable, cut).
/// Otherwise "interval" is required (errc::missing_interval), below 1 s is
/// errc::bad_interval, above max_interval is clamped; "min interval" likewise but optional
/// (ignored when out of range). "peers" is a compact string (a multiple of 6 bytes, else
/// errc::bad_compact_peers) or a list of dictionaries {ip, port, peer id} whose ip is a
/// numeric IPv4 or IPv6 address (host names and bad entries are dropped); "peers6" is a
/// compact string of 18-byte entries. "peers" of another type is errc::bad_peers. Peers
/// with port 0 are dropped, duplicates removed. "complete", "incomplete" outside 0..2^32-1
/// and "tracker id" over 1 KiB are ignored. Errors also: errc::body_too_large,
/// errc::bad_bencode, errc::not_a_dictionary.
[[nodiscard]] result<announce_response> parse_announce_response(std::span<const std::byte> body);

/// A scrape reply: the entries of its "files" dictionary, in reply order; keys that are not
/// 20 bytes and values that are not dictionaries are skipped, missing counts read as 0 and
/// counts outside 0..2^32-1 clamp. `failure` set when the tracker refused.
struct scrape_response {
    std::vector<scrape_entry> entries;
    std::optional<std::string> failure;

    friend bool operator==(const scrape_response&, const scrape_response&) = default;
};

/// Parses a scrape reply body (read only during the call). Errors: errc::body_too_large,
/// errc::bad_bencode, errc::not_a_dictionary, errc::missing_files.
[[nodiscard]] result<scrape_response> parse_scrape_response(std::span<const std::byte> body);

// ---------------------------------------------------------------------------------------
// Server side (the built-in tracker)
// ---------------------------------------------------------------------------------------

/// An announce query as received.
struct http_announce_query {
    /// tracker_id is set when the query had "trackerid". Missing uploaded/downloaded/left
    /// read as 0, a missing or negative numwant as -1, and key is the "key" parameter read
    /// as 1..8 hex digits (0 when absent or not hex).
    announce_request request;
    /// False only for "compact=0".
    bool compact = true;
    /// The "ip" parameter as sent (a client's claim; the tracker decides whether to use it).
    std::optional<std::string> ip;

    friend bool operator==(const http_announce_query&, const http_announce_query&) = default;
};

/// Parses the query string of an announce (the part after '?', read only during the call).
/// Parameters are percent-decoded ('+' stays '+'); the first of a repeated name counts.
/// Errors: errc::bad_escape, errc::missing_info_hash, errc::bad_info_hash,
/// errc::missing_peer_id, errc::bad_peer_id, errc::missing_port, errc::bad_port (outside
/// 1..65535), errc::bad_number, errc::bad_event (not "started", "completed", "stopped",
/// "paused", "empty" or empty).
[[nodiscard]] result<http_announce_query> parse_announce_query(std::string_view query);

/// The info-hashes of a scrape query, one per "info_hash" parameter, in order (none means
/// every torrent). Errors: errc::bad_escape, errc::bad_info_hash,
/// errc::too_many_info_hashes past max_scrape_query_hashes.
[[nodiscard]] result<std::vector<sha1_digest>> parse_scrape_query(std::string_view query);

/// A bencoded announce reply. compact: IPv4 peers in "peers" (6 bytes each) and IPv6 peers
/// in "peers6" (18 bytes each); otherwise "peers" is a list of {ip, port} dictionaries.
/// "min interval" is left out when nullopt.
[[nodiscard]] std::string encode_announce_response(std::chrono::seconds interval,
                                                   std::optional<std::chrono::seconds> min_interval,
                                                   std::uint32_t complete, std::uint32_t incomplete,
                                                   std::span<const endpoint> peers, bool compact);

/// A bencoded refusal: {"failure reason": reason}.
[[nodiscard]] std::string encode_failure(std::string_view reason);

/// A bencoded scrape reply: {"files": {info_hash: {complete, downloaded, incomplete}}}.
/// Entries with the same info-hash are written once (the first).
[[nodiscard]] std::string encode_scrape_response(std::span<const scrape_entry> entries);

} // namespace spate::tracker::http
