// Fuzz target for the UDP tracker codec (BEP 15, BEP 41): the bytes go to every decoder,
// client side and server side. Whatever decodes must encode back to an equal message:
// byte for byte where the encoding is unique, value for value where decoding normalises
// (peers deduplicated, interval clamped, BEP 41 options re-split). Violations abort.

#include <spate/tracker/udp_codec.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

namespace {

namespace udp = spate::tracker::udp;

void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "udp_tracker round trip failed: %s\n", what);
        std::abort();
    }
}

bool same_prefix(std::span<const std::byte> encoded, std::span<const std::byte> input) {
    return encoded.size() <= input.size() &&
           std::equal(encoded.begin(), encoded.end(), input.begin());
}

void client_side(std::span<const std::byte> packet) {
    const auto header = udp::decode_reply_header(packet);
    if (!header) {
        return;
    }
    const std::uint32_t txn = header->transaction_id;

    if (const auto id = udp::decode_connect_reply(packet)) {
        check(same_prefix(udp::encode_connect_reply(txn, *id), packet), "connect reply");
    }

    for (auto family : {spate::address_family::v4, spate::address_family::v6}) {
        const auto reply = udp::decode_announce_reply(packet, family);
        if (!reply) {
            continue;
        }
        const auto again_bytes =
            udp::encode_announce_reply(txn, reply->interval, reply->incomplete.value_or(0),
                                       reply->complete.value_or(0), family, reply->peers);
        const auto again = udp::decode_announce_reply(again_bytes, family);
        check(again.has_value() && *again == *reply, "announce reply");
    }

    if (packet.size() >= udp::reply_header_size) {
        // Ask for as many hashes as the packet has entries, so well-sized replies decode.
        const std::size_t count =
            (packet.size() - udp::reply_header_size) / udp::scrape_reply_entry_size;
        std::vector<spate::sha1_digest> hashes(count);
        for (std::size_t i = 0; i < count; ++i) {
            hashes[i].bytes[0] = static_cast<std::byte>(i);
        }
        if (const auto entries = udp::decode_scrape_reply(packet, hashes)) {
            check(entries->size() == count, "scrape reply count");
            const auto again = udp::encode_scrape_reply(txn, *entries);
            check(same_prefix(again, packet) && again.size() == packet.size(), "scrape reply");
        }
    }

    if (const auto message = udp::decode_error_reply(packet)) {
        const auto again = udp::decode_error_reply(udp::encode_error_reply(txn, *message));
        check(again.has_value() && *again == *message, "error reply");
    }
}

void server_side(std::span<const std::byte> packet) {
    const auto request = udp::decode_request(packet);
    if (!request) {
        return;
    }
    switch (request->action()) {
    case udp::action::connect:
        check(same_prefix(udp::encode_connect_request(request->transaction_id), packet),
              "connect request");
        break;
    case udp::action::announce: {
        const auto& body = std::get<udp::announce_body>(request->body);
        const auto bytes = udp::encode_announce_request(
            request->connection_id, request->transaction_id, body.request, body.url_data);
        check(bytes.has_value(), "announce request re-encodes");
        const auto again = udp::decode_request(*bytes);
        check(again.has_value(), "announce request decodes");
        const auto& again_body = std::get<udp::announce_body>(again->body);
        check(again_body.request == body.request && again_body.url_data == body.url_data &&
                  again->connection_id == request->connection_id &&
                  again->transaction_id == request->transaction_id,
              "announce request");
        check(same_prefix(std::span(*bytes).first(udp::announce_request_size - 14),
                          packet.first(udp::announce_request_size - 14)),
              "announce request bytes before ip");
        break;
    }
    case udp::action::scrape: {
        const auto& body = std::get<udp::scrape_body>(request->body);
        const auto bytes = udp::encode_scrape_request(request->connection_id,
                                                      request->transaction_id, body.info_hashes);
        check(bytes.has_value() && same_prefix(*bytes, packet) && bytes->size() == packet.size(),
              "scrape request");
        break;
    }
    case udp::action::error:
        check(false, "decode_request accepted an error action");
        break;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto packet = std::as_bytes(std::span(data, size));
    client_side(packet);
    server_side(packet);
    return 0;
}
