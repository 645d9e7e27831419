// Fuzz target for the peer wire codec (BEP 3). The first 10 bytes choose a torrent
// geometry and the message limit; the rest is a stream of messages taken apart with
// peek_frame() and decode_message() until it runs out or a frame is refused.
//
//   0      2          5        7          10
//   | count-1 | length-1 | last-1 | max-1    | messages...
//     u16      u24        u16      u24       (last piece = 1 + last-1 % length)
//
// Invariants (violations abort): a frame never claims more bytes than the buffer holds,
// passes check_frame(), and is still awaited (not refused) when its last byte is missing;
// decode_message() reads nothing past its body (bodies are exact-size heap copies, so the
// sanitizer sees it), decodes a piece from its 9-byte header alone to the same message,
// keeps every index and block in range, and what it decodes encodes back to the same bytes.
// Inputs long enough for a handshake also go through decode_handshake().

#include <spate/core/big_endian.hpp>
#include <spate/core/bitfield.hpp>
#include <spate/peer/handshake.hpp>
#include <spate/peer/message.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <variant>
#include <vector>

namespace {

namespace peer = spate::peer;

void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "peer_message invariant failed: %s\n", what);
        std::abort();
    }
}

constexpr std::size_t header_size = 10;

std::uint32_t load_u24(std::span<const std::byte> from) {
    return (static_cast<std::uint32_t>(from[0]) << 16) |
           (static_cast<std::uint32_t>(from[1]) << 8) | static_cast<std::uint32_t>(from[2]);
}

bool same_bytes(std::span<const std::byte> a, std::span<const std::byte> b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

bool block_in_range(const peer::wire_geometry& g, std::uint32_t piece, std::uint32_t begin,
                    std::uint32_t length) {
    return piece < g.piece_count && length > 0 && length <= peer::block_size &&
           std::uint64_t{begin} + length <= g.piece_size(piece);
}

/// Re-encodes a decoded message and compares with the wire bytes it came from.
void check_message(const peer::message& m, const peer::wire_geometry& g,
                   std::span<const std::byte> wire, const std::vector<std::byte>& body) {
    std::array<std::byte, peer::max_fixed_message> out{};
    std::size_t n = 0;
    if (std::holds_alternative<peer::keep_alive>(m)) {
        n = peer::encode_keep_alive(out);
    } else if (std::holds_alternative<peer::choke>(m)) {
        n = peer::encode_simple(peer::message_id::choke, out);
    } else if (std::holds_alternative<peer::unchoke>(m)) {
        n = peer::encode_simple(peer::message_id::unchoke, out);
    } else if (std::holds_alternative<peer::interested>(m)) {
        n = peer::encode_simple(peer::message_id::interested, out);
    } else if (std::holds_alternative<peer::not_interested>(m)) {
        n = peer::encode_simple(peer::message_id::not_interested, out);
    } else if (const auto* h = std::get_if<peer::have>(&m)) {
        check(h->piece < g.piece_count, "have index in range");
        n = peer::encode_have(h->piece, out);
    } else if (const auto* r = std::get_if<peer::request>(&m)) {
        check(block_in_range(g, r->piece, r->begin, r->length), "request in range");
        n = peer::encode_request(*r, out);
    } else if (const auto* c = std::get_if<peer::cancel>(&m)) {
        check(block_in_range(g, c->piece, c->begin, c->length), "cancel in range");
        n = peer::encode_cancel(*c, out);
    } else if (const auto* p = std::get_if<peer::port>(&m)) {
        n = peer::encode_port(p->value, out);
    } else if (const auto* pm = std::get_if<peer::piece_message>(&m)) {
        check(block_in_range(g, pm->piece, pm->begin, pm->length), "piece in range");
        check(pm->length + peer::piece_header_size == wire.size(), "piece length from frame");
        n = peer::encode_piece_header(pm->piece, pm->begin, pm->length, out);
        check(same_bytes(std::span(out).first(n), wire.first(n)), "piece header re-encodes");
        return;
    } else if (const auto* b = std::get_if<peer::bitfield_message>(&m)) {
        check(b->bits.data() == body.data() + 1 && b->bits.size() + 1 == body.size(),
              "bitfield borrows exactly its body");
        std::vector<std::byte> again;
        peer::encode_bitfield(spate::bitfield::from_bytes(b->bits, g.piece_count), again);
        check(same_bytes(again, wire), "bitfield re-encodes");
        return;
    } else {
        const auto& u = std::get<peer::unknown_message>(m);
        check(u.id > static_cast<std::uint8_t>(peer::message_id::port), "unknown id is unknown");
        return;
    }
    check(same_bytes(std::span(out).first(n), wire), "message re-encodes");
}

void check_handshake(std::span<const std::byte> bytes) {
    if (bytes.size() < peer::handshake_size) {
        return;
    }
    const auto in = bytes.first<peer::handshake_size>();
    const auto h = peer::decode_handshake(in);
    check(h.has_value() == peer::check_protocol_prefix(in.first(20)).has_value(),
          "handshake and prefix check agree");
    if (h) {
        std::array<std::byte, peer::handshake_size> out{};
        peer::encode_handshake(*h, out);
        check(same_bytes(out, in), "handshake re-encodes");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto input = std::as_bytes(std::span(data, size));
    check_handshake(input);
    if (input.size() < header_size) {
        return 0;
    }
    const std::uint32_t count = 1U + spate::load_u16(input);
    const std::uint32_t length = 1U + load_u24(input.subspan(2));
    const std::uint32_t last = 1U + spate::load_u16(input.subspan(5)) % length;
    const peer::wire_limits limits{1U + load_u24(input.subspan(7))};
    const auto g =
        peer::wire_geometry::create(count, length, std::uint64_t{count - 1} * length + last);
    check(g.has_value(), "geometry from the header is valid");

    auto rest = input.subspan(header_size);
    // Bounded: every message takes at least the 4-byte prefix.
    while (!rest.empty()) {
        const auto peeked = peer::peek_frame(rest, *g, limits);
        if (!peeked || !*peeked) {
            break;
        }
        const peer::framed fr = **peeked;
        check(fr.total == peer::prefix_size + fr.f.length, "total is prefix plus length");
        check(fr.total <= rest.size(), "frame within the buffer");
        check(peer::check_frame(fr.f, *g, limits).has_value(), "peeked frame passes check_frame");
        const auto cut = peer::peek_frame(rest.first(fr.total - 1), *g, limits);
        check(cut.has_value() && !cut->has_value(), "a frame one byte short is awaited");

        const auto wire = rest.first(fr.total);
        const std::vector<std::byte> body(wire.begin() + peer::prefix_size, wire.end());
        const auto m = peer::decode_message(fr.f, body, *g);
        if (fr.f.id == static_cast<std::uint8_t>(peer::message_id::piece)) {
            const std::vector<std::byte> header(body.begin(),
                                                body.begin() + peer::piece_body_header_size);
            const auto from_header = peer::decode_message(fr.f, header, *g);
            check(m.has_value() == from_header.has_value(), "piece header alone decodes alike");
            if (m) {
                check(std::get<peer::piece_message>(*m) ==
                          std::get<peer::piece_message>(*from_header),
                      "piece header alone decodes the same");
            }
        }
        if (m) {
            check_message(*m, *g, wire, body);
        }
        rest = rest.subspan(fr.total);
    }
    return 0;
}
