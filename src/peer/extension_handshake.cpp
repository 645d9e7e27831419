#include <spate/bencode/document.hpp>
#include <spate/bencode/encoder.hpp>
#include <spate/peer/error.hpp>
#include <spate/peer/extension_handshake.hpp>

#include <algorithm>
#include <limits>

namespace spate::peer {
namespace {

void read_messages(const bencode::node& m, extension_handshake& out) {
    if (!m.is_dict()) {
        return;
    }
    for (const auto& [name, id] : m.dict_items()) {
        if (out.messages.size() >= max_extension_names) {
            break;
        }
        if (name.empty() || name.size() > max_extension_name || !id.is_int()) {
            continue;
        }
        const std::int64_t value = id.as_int();
        if (value >= 1 && value <= 255) {
            out.messages[std::string(name)] = static_cast<std::uint8_t>(value);
        }
    }
}

} // namespace

result<extension_handshake> decode_extension_handshake(std::span<const std::byte> payload) {
    if (payload.size() > max_extension_handshake) {
        return fail(errc::bad_extension_handshake);
    }
    bencode::limits limits;
    limits.strict = false; // real clients send keys out of order
    limits.max_depth = 8;
    limits.max_tokens = 4096;
    auto doc = bencode::decode(payload, limits);
    if (!doc || !doc->root().is_dict()) {
        return fail(errc::bad_extension_handshake);
    }
    const bencode::node root = doc->root();
    extension_handshake out;
    read_messages(root.find("m"), out);
    if (auto port = root.find_int("p"); port && *port >= 1 && *port <= 65535) {
        out.listen_port = static_cast<std::uint16_t>(*port);
    }
    if (auto client = root.find_string("v")) {
        out.client = std::string(client->substr(0, max_client_name));
    }
    if (auto reqq = root.find_int("reqq");
        reqq && *reqq >= 1 && *reqq <= std::numeric_limits<std::uint32_t>::max()) {
        out.request_queue = static_cast<std::uint32_t>(*reqq);
    }
    if (const bencode::node ip = root.find("yourip");
        ip.is_string() && (ip.as_bytes().size() == 4 || ip.as_bytes().size() == 16)) {
        out.your_ip.assign(ip.as_bytes().begin(), ip.as_bytes().end());
    }
    if (auto size = root.find_int("metadata_size"); size && *size > 0) {
        out.metadata_size = static_cast<std::uint64_t>(*size);
    }
    return out;
}

std::vector<std::byte> encode_extension_handshake(const extension_handshake& h) {
    std::vector<std::byte> out;
    bencode::byte_encoder e(out);
    e.begin_dict();
    e.key("m").begin_dict();
    for (const auto& [name, id] : h.messages) { // std::map: names in byte order
        e.key(name).integer(id);
    }
    e.end_dict();
    if (h.metadata_size) {
        e.key("metadata_size").integer(static_cast<std::int64_t>(
            std::min<std::uint64_t>(*h.metadata_size, std::numeric_limits<std::int64_t>::max())));
    }
    if (h.listen_port) {
        e.key("p").integer(*h.listen_port);
    }
    if (h.request_queue) {
        e.key("reqq").integer(*h.request_queue);
    }
    if (!h.client.empty()) {
        e.key("v").string(h.client);
    }
    if (!h.your_ip.empty()) {
        e.key("yourip").string(std::span<const std::byte>(h.your_ip));
    }
    e.end_dict();
    return out;
}

} // namespace spate::peer
