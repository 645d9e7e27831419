#pragma once
/// The UDP tracker protocol (BEP 15) with URL data options (BEP 41): packets to and from
/// bytes, for the client and for the built-in tracker. Pure: no sockets, no clocks.
///
/// Every integer is big-endian. Requests (client -> tracker):
///
///     connect    0 connection id = protocol_id (8) | 8 action 0 (4) | 12 transaction (4)  = 16
///     announce   0 connection id (8) | 8 action 1 (4) | 12 transaction (4)
///                16 info_hash (20) | 36 peer_id (20) | 56 downloaded (8) | 64 left (8)
///                72 uploaded (8) | 80 event (4) | 84 ip (4) | 88 key (4) | 92 num_want (4)
///                96 port (2) = 98, then BEP 41 options:
///                  0x2 len data  (URLData, len <= 255; repeated, the pieces concatenated)
///                  0x1           (NOP)     0x0 (end of options)
///     scrape     0 connection id (8) | 8 action 2 (4) | 12 transaction (4)
///                16 info_hash (20) x n, 1 <= n <= 74
///
/// Replies (tracker -> client):
///
///     connect    0 action 0 | 4 transaction | 8 connection id (8)                    = 16
///     announce   0 action 1 | 4 transaction | 8 interval | 12 leechers | 16 seeders  = 20
///                20 peers: 6 bytes (IPv4) or 18 bytes (IPv6) each, by the family of the
///                   address the reply came from
///     scrape     0 action 2 | 4 transaction | 8 (seeders, completed, leechers) x n  = 8 + 12n
///     error      0 action 3 | 4 transaction | 8 message (the rest of the packet)

#include <spate/core/endpoint.hpp>
#include <spate/core/hash.hpp>
#include <spate/core/result.hpp>
#include <spate/tracker/announce.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace spate::tracker::udp {

/// The magic connection id of a connect request.
inline constexpr std::uint64_t protocol_id = 0x41727101980;

/// BEP 15 action numbers.
enum class action : std::uint32_t { connect = 0, announce = 1, scrape = 2, error = 3 };

inline constexpr std::size_t connect_request_size = 16;
inline constexpr std::size_t connect_reply_size = 16;
/// The fixed part of an announce request, before BEP 41 options.
inline constexpr std::size_t announce_request_size = 98;
inline constexpr std::size_t announce_reply_header_size = 20;
inline constexpr std::size_t scrape_request_header_size = 16;
inline constexpr std::size_t scrape_reply_entry_size = 12;
/// Action and transaction id: the start of every reply.
inline constexpr std::size_t reply_header_size = 8;
/// Most info-hashes in one scrape request (BEP 15).
inline constexpr std::size_t max_scrape_hashes = 74;
/// Bytes of one BEP 41 URLData option's payload at most.
inline constexpr std::size_t max_url_data_chunk = 255;
/// Most URL data (path and query) sent or collected: 8 KiB keeps a packet far below 64 KiB.
inline constexpr std::size_t max_url_data = 8192;

// ---------------------------------------------------------------------------------------
// Client side
// ---------------------------------------------------------------------------------------

/// The first 8 bytes of every reply, read to route it by transaction id before decoding.
struct reply_header {
    udp::action action = action::connect;
    std::uint32_t transaction_id = 0;

    friend bool operator==(const reply_header&, const reply_header&) = default;
};

/// A connect request: 16 bytes.
[[nodiscard]] std::array<std::byte, connect_request_size>
encode_connect_request(std::uint32_t transaction_id);

/// An announce request: 98 bytes, then, when `url_path_and_query` is not empty, BEP 41
/// URLData options of up to 255 bytes each and an end-of-options byte. The IP field is 0
/// (the tracker uses the packet's source address). `url_path_and_query` is the tracker
/// URL's part from the path on ("/announce?passkey=..."), only read during the call.
/// Errors: errc::url_data_too_long past max_url_data bytes.
[[nodiscard]] result<std::vector<std::byte>>
encode_announce_request(std::uint64_t connection_id, std::uint32_t transaction_id,
                        const announce_request& request, std::string_view url_path_and_query);

/// A scrape request for 1..74 info-hashes (errc::no_info_hashes, errc::too_many_info_hashes).
[[nodiscard]] result<std::vector<std::byte>>
encode_scrape_request(std::uint64_t connection_id, std::uint32_t transaction_id,
                      std::span<const sha1_digest> info_hashes);

/// Action and transaction id of any reply (errc::packet_too_short under 8 bytes,
/// errc::unknown_action for an action number above 3).
[[nodiscard]] result<reply_header> decode_reply_header(std::span<const std::byte> packet);

/// The connection id from a connect reply (at least 16 bytes; extra bytes ignored).
/// Errors: errc::packet_too_short, errc::wrong_action. The caller checks the transaction id.
[[nodiscard]] result<std::uint64_t> decode_connect_reply(std::span<const std::byte> packet);

/// An announce reply. `family` is the family of the address the packet came from: it
/// decides 6-byte (IPv4) or 18-byte (IPv6) peers. Peer bytes that are not a whole number
/// of peers make the whole reply an error (errc::bad_compact_peers): a mis-framed list
/// could only yield wrong peers. Peers with port 0 are dropped, duplicates removed.
/// complete = seeders, incomplete = leechers. Errors also: errc::packet_too_short,
/// errc::wrong_action, errc::bad_interval (interval 0; longer than max_interval is clamped).
[[nodiscard]] result<announce_response> decode_announce_reply(std::span<const std::byte> packet,
                                                              address_family family);

/// A scrape reply for the info-hashes the request asked for, in that order: entry i gets
/// info_hashes[i]. Errors: errc::packet_too_short, errc::wrong_action,
/// errc::bad_packet_size (not 8 + 12n bytes), errc::scrape_count_mismatch (n differs).
[[nodiscard]] result<std::vector<scrape_entry>>
decode_scrape_reply(std::span<const std::byte> packet, std::span<const sha1_digest> info_hashes);

/// The message of an error reply, made printable and cut to max_tracker_text bytes (an
/// empty message is allowed). Errors: errc::packet_too_short, errc::wrong_action.
[[nodiscard]] result<std::string> decode_error_reply(std::span<const std::byte> packet);

// ---------------------------------------------------------------------------------------
// Server side (the built-in tracker)
// ---------------------------------------------------------------------------------------

/// A connect request carries nothing beyond its header.
struct connect_body {
    friend bool operator==(const connect_body&, const connect_body&) = default;
};

/// An announce request as received.
struct announce_body {
    /// tracker_id is never set (UDP has no such field).
    announce_request request;
    /// The IP field in network order; 0 means "the packet's source address".
    std::array<std::byte, 4> ip{};
    /// The BEP 41 URLData pieces concatenated (the tracker URL's path and query); empty
    /// when the request had no options.
    std::string url_data;

    friend bool operator==(const announce_body&, const announce_body&) = default;
};

/// A scrape request's info-hashes, 1..74 of them.
struct scrape_body {
    std::vector<sha1_digest> info_hashes;

    friend bool operator==(const scrape_body&, const scrape_body&) = default;
};

/// Any request a client can send.
struct request {
    /// protocol_id for a connect request; otherwise the id the tracker handed out (which
    /// the tracker must check itself).
    std::uint64_t connection_id = 0;
    std::uint32_t transaction_id = 0;
    std::variant<connect_body, announce_body, scrape_body> body;

    [[nodiscard]] udp::action action() const { return static_cast<udp::action>(body.index()); }

    friend bool operator==(const request&, const request&) = default;
};

/// Decodes a request. Checks: at least 16 bytes (errc::packet_too_short); action 0..2
/// (errc::unknown_action); a connect's connection id is protocol_id (errc::bad_protocol_id;
/// bytes after 16 ignored); an announce has 98 bytes (errc::packet_too_short), event 0..3
/// (errc::bad_event), and well-formed BEP 41 options (errc::bad_option for one that runs
/// past the packet, errc::url_data_too_long past max_url_data; an unknown option type
/// ends option parsing, as BEP 41 asks); a scrape has 16 + 20n bytes (errc::bad_packet_size)
/// with 1 <= n <= 74 (errc::no_info_hashes, errc::too_many_info_hashes).
[[nodiscard]] result<request> decode_request(std::span<const std::byte> packet);

/// A connect reply: 16 bytes.
[[nodiscard]] std::array<std::byte, connect_reply_size>
encode_connect_reply(std::uint32_t transaction_id, std::uint64_t connection_id);

/// An announce reply carrying the peers of `family` in `peers` (others are skipped; the
/// family must be that of the address the reply goes to). The interval is clamped to
/// 1 s .. max_interval. The caller bounds the peer count (numwant) so the packet fits.
[[nodiscard]] std::vector<std::byte>
encode_announce_reply(std::uint32_t transaction_id, std::chrono::seconds interval,
                      std::uint32_t leechers, std::uint32_t seeders, address_family family,
                      std::span<const endpoint> peers);

/// A scrape reply: one (seeders, completed, leechers) entry per element, in order.
[[nodiscard]] std::vector<std::byte> encode_scrape_reply(std::uint32_t transaction_id,
                                                         std::span<const scrape_entry> entries);

/// An error reply; the message is cut to max_tracker_text bytes.
[[nodiscard]] std::vector<std::byte> encode_error_reply(std::uint32_t transaction_id,
                                                        std::string_view message);

} // namespace spate::tracker::udp
