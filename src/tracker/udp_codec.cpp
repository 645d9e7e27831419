#include "big_endian.hpp"

#include <spate/tracker/error.hpp>
#include <spate/tracker/udp_codec.hpp>

#include <algorithm>
#include <cstring>

namespace spate::tracker::udp {

namespace {

using detail::append_be;
using detail::load_be;
using detail::store_be;

// BEP 41 option types.
constexpr std::byte option_end{0x0};
constexpr std::byte option_nop{0x1};
constexpr std::byte option_url_data{0x2};

constexpr std::uint32_t action_number(action a) {
    return static_cast<std::uint32_t>(a);
}

void append_bytes(std::vector<std::byte>& out, std::span<const std::byte> bytes) {
    out.insert(out.end(), bytes.begin(), bytes.end());
}

void append_request_header(std::vector<std::byte>& out, std::uint64_t connection_id, action a,
                           std::uint32_t transaction_id) {
    append_be<std::uint64_t>(out, connection_id);
    append_be<std::uint32_t>(out, action_number(a));
    append_be<std::uint32_t>(out, transaction_id);
}

void append_reply_header(std::vector<std::byte>& out, action a, std::uint32_t transaction_id) {
    append_be<std::uint32_t>(out, action_number(a));
    append_be<std::uint32_t>(out, transaction_id);
}

// Reads the header of a reply and checks its action; the shared first step of every
// client-side decoder.
result<reply_header> expect_reply(std::span<const std::byte> packet, action expected,
                                  std::size_t minimum_size) {
    auto header = decode_reply_header(packet);
    if (!header) {
        return header;
    }
    if (header->action != expected) {
        return fail(errc::wrong_action);
    }
    if (packet.size() < minimum_size) {
        return fail(errc::packet_too_short);
    }
    return header;
}

std::chrono::seconds clamp_interval(std::chrono::seconds interval) {
    return std::clamp(interval, std::chrono::seconds{1}, max_interval);
}

result<announce_body> decode_announce_body(std::span<const std::byte> packet) {
    if (packet.size() < announce_request_size) {
        return fail(errc::packet_too_short);
    }
    announce_body body;
    announce_request& r = body.request;
    std::memcpy(r.info_hash.bytes.data(), packet.data() + 16, 20);
    std::memcpy(r.peer.data(), packet.data() + 36, 20);
    r.downloaded = load_be<std::uint64_t>(packet, 56);
    r.left = load_be<std::uint64_t>(packet, 64);
    r.uploaded = load_be<std::uint64_t>(packet, 72);
    const auto event = load_be<std::uint32_t>(packet, 80);
    if (event > static_cast<std::uint32_t>(announce_event::stopped)) {
        return fail(errc::bad_event);
    }
    r.event = static_cast<announce_event>(event);
    std::memcpy(body.ip.data(), packet.data() + 84, 4);
    r.key = load_be<std::uint32_t>(packet, 88);
    r.numwant = static_cast<std::int32_t>(load_be<std::uint32_t>(packet, 92));
    r.port = load_be<std::uint16_t>(packet, 96);

    // BEP 41 options: NOP is one byte, end-of-options stops, URLData is type, length, data.
    std::size_t at = announce_request_size;
    while (at < packet.size()) {
        const std::byte type = packet[at];
        if (type == option_end) {
            break;
        }
        if (type == option_nop) {
            ++at;
            continue;
        }
        if (type != option_url_data) {
            break; // BEP 41: an unknown option ends parsing, its length being unknown
        }
        if (at + 2 > packet.size()) {
            return fail(errc::bad_option);
        }
        const auto length = static_cast<std::size_t>(packet[at + 1]);
        if (at + 2 + length > packet.size()) {
            return fail(errc::bad_option);
        }
        if (body.url_data.size() + length > max_url_data) {
            return fail(errc::url_data_too_long);
        }
        const auto* chars = reinterpret_cast<const char*>(packet.data() + at + 2);
        body.url_data.append(chars, length);
        at += 2 + length;
    }
    return body;
}

result<scrape_body> decode_scrape_body(std::span<const std::byte> packet) {
    const std::size_t hash_bytes = packet.size() - scrape_request_header_size;
    if (hash_bytes % sha1_digest::size != 0) {
        return fail(errc::bad_packet_size);
    }
    const std::size_t count = hash_bytes / sha1_digest::size;
    if (count == 0) {
        return fail(errc::no_info_hashes);
    }
    if (count > max_scrape_hashes) {
        return fail(errc::too_many_info_hashes);
    }
    scrape_body body;
    body.info_hashes.resize(count);
    for (std::size_t i = 0; i < count; ++i) {
        std::memcpy(body.info_hashes[i].bytes.data(),
                    packet.data() + scrape_request_header_size + i * sha1_digest::size,
                    sha1_digest::size);
    }
    return body;
}

} // namespace

// ---------------------------------------------------------------------------------------
// Client side
// ---------------------------------------------------------------------------------------

std::array<std::byte, connect_request_size> encode_connect_request(std::uint32_t transaction_id) {
    std::array<std::byte, connect_request_size> out{};
    store_be<std::uint64_t>(out, 0, protocol_id);
    store_be<std::uint32_t>(out, 8, action_number(action::connect));
    store_be<std::uint32_t>(out, 12, transaction_id);
    return out;
}

result<std::vector<std::byte>> encode_announce_request(std::uint64_t connection_id,
                                                       std::uint32_t transaction_id,
                                                       const announce_request& request,
                                                       std::string_view url_path_and_query) {
    if (url_path_and_query.size() > max_url_data) {
        return fail(errc::url_data_too_long);
    }
    const std::size_t chunks =
        (url_path_and_query.size() + max_url_data_chunk - 1) / max_url_data_chunk;
    std::vector<std::byte> out;
    out.reserve(announce_request_size + chunks * (2 + max_url_data_chunk) + 1);
    append_request_header(out, connection_id, action::announce, transaction_id);
    append_bytes(out, request.info_hash.bytes);
    append_bytes(out, request.peer);
    append_be<std::uint64_t>(out, request.downloaded);
    append_be<std::uint64_t>(out, request.left);
    append_be<std::uint64_t>(out, request.uploaded);
    append_be<std::uint32_t>(out, static_cast<std::uint32_t>(request.event));
    append_be<std::uint32_t>(out, 0); // ip: the tracker takes the packet's source address
    append_be<std::uint32_t>(out, request.key);
    append_be<std::uint32_t>(out, static_cast<std::uint32_t>(request.numwant));
    append_be<std::uint16_t>(out, request.port);

    if (!url_path_and_query.empty()) {
        const auto url = std::as_bytes(std::span(url_path_and_query));
        for (std::size_t at = 0; at < url.size(); at += max_url_data_chunk) {
            const auto piece = url.subspan(at, std::min(max_url_data_chunk, url.size() - at));
            out.push_back(option_url_data);
            out.push_back(static_cast<std::byte>(piece.size()));
            append_bytes(out, piece);
        }
        out.push_back(option_end);
    }
    return out;
}

result<std::vector<std::byte>> encode_scrape_request(std::uint64_t connection_id,
                                                     std::uint32_t transaction_id,
                                                     std::span<const sha1_digest> info_hashes) {
    if (info_hashes.empty()) {
        return fail(errc::no_info_hashes);
    }
    if (info_hashes.size() > max_scrape_hashes) {
        return fail(errc::too_many_info_hashes);
    }
    std::vector<std::byte> out;
    out.reserve(scrape_request_header_size + info_hashes.size() * sha1_digest::size);
    append_request_header(out, connection_id, action::scrape, transaction_id);
    for (const sha1_digest& hash : info_hashes) {
        append_bytes(out, hash.bytes);
    }
    return out;
}

result<reply_header> decode_reply_header(std::span<const std::byte> packet) {
    if (packet.size() < reply_header_size) {
        return fail(errc::packet_too_short);
    }
    const auto number = load_be<std::uint32_t>(packet, 0);
    if (number > action_number(action::error)) {
        return fail(errc::unknown_action);
    }
    return reply_header{static_cast<action>(number), load_be<std::uint32_t>(packet, 4)};
}

result<std::uint64_t> decode_connect_reply(std::span<const std::byte> packet) {
    auto header = expect_reply(packet, action::connect, connect_reply_size);
    if (!header) {
        return fail(header.error());
    }
    return load_be<std::uint64_t>(packet, 8);
}

result<announce_response> decode_announce_reply(std::span<const std::byte> packet,
                                                address_family family) {
    auto header = expect_reply(packet, action::announce, announce_reply_header_size);
    if (!header) {
        return fail(header.error());
    }
    const auto interval = load_be<std::uint32_t>(packet, 8);
    if (interval == 0) {
        return fail(errc::bad_interval);
    }
    auto peers = decode_compact_peers(packet.subspan(announce_reply_header_size), family);
    if (!peers) {
        return fail(peers.error());
    }
    announce_response response;
    response.interval = std::min(std::chrono::seconds{interval}, max_interval);
    response.incomplete = load_be<std::uint32_t>(packet, 12);
    response.complete = load_be<std::uint32_t>(packet, 16);
    response.peers = std::move(*peers);
    return response;
}

result<std::vector<scrape_entry>> decode_scrape_reply(std::span<const std::byte> packet,
                                                      std::span<const sha1_digest> info_hashes) {
    auto header = expect_reply(packet, action::scrape, reply_header_size);
    if (!header) {
        return fail(header.error());
    }
    const std::size_t entry_bytes = packet.size() - reply_header_size;
    if (entry_bytes % scrape_reply_entry_size != 0) {
        return fail(errc::bad_packet_size);
    }
    if (entry_bytes / scrape_reply_entry_size != info_hashes.size()) {
        return fail(errc::scrape_count_mismatch);
    }
    std::vector<scrape_entry> entries(info_hashes.size());
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const std::size_t at = reply_header_size + i * scrape_reply_entry_size;
        entries[i].info_hash = info_hashes[i];
        entries[i].complete = load_be<std::uint32_t>(packet, at);
        entries[i].downloaded = load_be<std::uint32_t>(packet, at + 4);
        entries[i].incomplete = load_be<std::uint32_t>(packet, at + 8);
    }
    return entries;
}

result<std::string> decode_error_reply(std::span<const std::byte> packet) {
    auto header = expect_reply(packet, action::error, reply_header_size);
    if (!header) {
        return fail(header.error());
    }
    const auto rest = packet.subspan(reply_header_size);
    const std::string_view text(reinterpret_cast<const char*>(rest.data()), rest.size());
    return sanitize_tracker_text(text);
}

// ---------------------------------------------------------------------------------------
// Server side
// ---------------------------------------------------------------------------------------

result<request> decode_request(std::span<const std::byte> packet) {
    if (packet.size() < connect_request_size) {
        return fail(errc::packet_too_short);
    }
    request out;
    out.connection_id = load_be<std::uint64_t>(packet, 0);
    out.transaction_id = load_be<std::uint32_t>(packet, 12);
    switch (load_be<std::uint32_t>(packet, 8)) {
    case action_number(action::connect):
        if (out.connection_id != protocol_id) {
            return fail(errc::bad_protocol_id);
        }
        out.body = connect_body{};
        return out;
    case action_number(action::announce): {
        auto body = decode_announce_body(packet);
        if (!body) {
            return fail(body.error());
        }
        out.body = std::move(*body);
        return out;
    }
    case action_number(action::scrape): {
        auto body = decode_scrape_body(packet);
        if (!body) {
            return fail(body.error());
        }
        out.body = std::move(*body);
        return out;
    }
    default:
        return fail(errc::unknown_action);
    }
}

std::array<std::byte, connect_reply_size> encode_connect_reply(std::uint32_t transaction_id,
                                                               std::uint64_t connection_id) {
    std::array<std::byte, connect_reply_size> out{};
    store_be<std::uint32_t>(out, 0, action_number(action::connect));
    store_be<std::uint32_t>(out, 4, transaction_id);
    store_be<std::uint64_t>(out, 8, connection_id);
    return out;
}

std::vector<std::byte> encode_announce_reply(std::uint32_t transaction_id,
                                             std::chrono::seconds interval, std::uint32_t leechers,
                                             std::uint32_t seeders, address_family family,
                                             std::span<const endpoint> peers) {
    std::vector<std::byte> out;
    out.reserve(announce_reply_header_size + peers.size() * compact_peer_size(family));
    append_reply_header(out, action::announce, transaction_id);
    append_be<std::uint32_t>(out, static_cast<std::uint32_t>(clamp_interval(interval).count()));
    append_be<std::uint32_t>(out, leechers);
    append_be<std::uint32_t>(out, seeders);
    append_bytes(out, encode_compact_peers(peers, family));
    return out;
}

std::vector<std::byte> encode_scrape_reply(std::uint32_t transaction_id,
                                           std::span<const scrape_entry> entries) {
    std::vector<std::byte> out;
    out.reserve(reply_header_size + entries.size() * scrape_reply_entry_size);
    append_reply_header(out, action::scrape, transaction_id);
    for (const scrape_entry& entry : entries) {
        append_be<std::uint32_t>(out, entry.complete);
        append_be<std::uint32_t>(out, entry.downloaded);
        append_be<std::uint32_t>(out, entry.incomplete);
    }
    return out;
}

std::vector<std::byte> encode_error_reply(std::uint32_t transaction_id, std::string_view message) {
    const auto text = std::as_bytes(std::span(message.substr(0, max_tracker_text)));
    std::vector<std::byte> out;
    out.reserve(reply_header_size + text.size());
    append_reply_header(out, action::error, transaction_id);
    append_bytes(out, text);
    return out;
}

} // namespace spate::tracker::udp
