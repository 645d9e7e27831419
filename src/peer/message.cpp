#include <spate/core/big_endian.hpp>
#include <spate/peer/error.hpp>
#include <spate/peer/message.hpp>

#include <algorithm>
#include <cassert>

namespace spate::peer {

namespace {

/// Longest piece message body: id, index, begin and a whole block.
constexpr std::uint32_t longest_piece_body = piece_body_header_size + block_size;

constexpr std::uint32_t simple_length = 1;
constexpr std::uint32_t have_length = 5;
constexpr std::uint32_t block_triple_length = 13; // request and cancel
constexpr std::uint32_t port_length = 3;

/// The body length a bitfield must have; below 2^30 for any 32-bit piece count.
std::uint32_t bitfield_length(const wire_geometry& g) noexcept {
    return static_cast<std::uint32_t>(1 + bitfield::byte_size(g.piece_count));
}

/// The fixed body length of an id BEP 3 defines, or 0 for piece, bitfield and unknown ids.
std::uint32_t fixed_length(std::uint8_t id) noexcept {
    switch (static_cast<message_id>(id)) {
    case message_id::choke:
    case message_id::unchoke:
    case message_id::interested:
    case message_id::not_interested:
        return simple_length;
    case message_id::have:
        return have_length;
    case message_id::request:
    case message_id::cancel:
        return block_triple_length;
    case message_id::port:
        return port_length;
    case message_id::bitfield:
    case message_id::piece:
        break;
    }
    return 0;
}

bool is_known(std::uint8_t id) noexcept {
    return id <= static_cast<std::uint8_t>(message_id::port);
}

/// The size rules that hold whatever the limits: fixed sizes, the bitfield's size, a piece
/// message's bounds. Unknown ids pass (their limit is a setting).
result<void> check_known_length(std::uint8_t id, std::uint32_t length, const wire_geometry& g) {
    if (const std::uint32_t fixed = fixed_length(id); fixed != 0) {
        if (length != fixed) {
            return fail(errc::bad_message_length);
        }
        return {};
    }
    if (id == static_cast<std::uint8_t>(message_id::bitfield)) {
        if (length != bitfield_length(g)) {
            return fail(errc::bitfield_wrong_size);
        }
    } else if (id == static_cast<std::uint8_t>(message_id::piece)) {
        if (length > longest_piece_body) {
            return fail(errc::message_too_long);
        }
        if (length <= piece_body_header_size) {
            // A piece without data would complete nothing; peers that send it are broken.
            return fail(errc::bad_message_length);
        }
    }
    return {};
}

/// A block named by request, cancel or piece lies within its piece and within 16 KiB.
result<void> check_block(const wire_geometry& g, std::uint32_t piece, std::uint32_t begin,
                         std::uint32_t length) {
    if (piece >= g.piece_count) {
        return fail(errc::index_out_of_range);
    }
    if (length > block_size) {
        return fail(errc::request_too_long);
    }
    if (length == 0 || std::uint64_t{begin} + length > g.piece_size(piece)) {
        return fail(errc::bad_block);
    }
    return {};
}

std::size_t write_header(std::span<std::byte> out, std::uint32_t length, message_id id) {
    store_u32(out, length);
    out[prefix_size] = static_cast<std::byte>(id);
    return prefix_size + 1;
}

std::size_t encode_block_triple(message_id id, std::uint32_t piece, std::uint32_t begin,
                                std::uint32_t length, std::span<std::byte> out) {
    assert(out.size() >= prefix_size + block_triple_length);
    std::size_t at = write_header(out, block_triple_length, id);
    store_u32(out.subspan(at), piece);
    store_u32(out.subspan(at + 4), begin);
    store_u32(out.subspan(at + 8), length);
    return prefix_size + block_triple_length;
}

struct triple {
    std::uint32_t piece;
    std::uint32_t begin;
    std::uint32_t length;
};

/// Reads index, begin and length after the id byte; the caller has checked that body
/// holds them.
triple read_triple(std::span<const std::byte> body) {
    return {load_u32(body.subspan(1)), load_u32(body.subspan(5)), load_u32(body.subspan(9))};
}

} // namespace

std::string_view message_name(std::uint8_t id) noexcept {
    switch (static_cast<message_id>(id)) {
    case message_id::choke:
        return "choke";
    case message_id::unchoke:
        return "unchoke";
    case message_id::interested:
        return "interested";
    case message_id::not_interested:
        return "not interested";
    case message_id::have:
        return "have";
    case message_id::bitfield:
        return "bitfield";
    case message_id::request:
        return "request";
    case message_id::piece:
        return "piece";
    case message_id::cancel:
        return "cancel";
    case message_id::port:
        return "port";
    }
    return "unknown";
}

result<void> check_frame(const frame& f, const wire_geometry& g, const wire_limits& limits) {
    if (!f.id) {
        // Only the prefix so far: refuse at once what no id could make acceptable.
        const std::uint32_t longest =
            std::max({limits.max_message, longest_piece_body, bitfield_length(g)});
        if (f.length > longest) {
            return fail(errc::message_too_long);
        }
        return {};
    }
    if (f.length == 0) {
        // A keep-alive has no id byte; a caller that read one has lost the framing.
        return fail(errc::frame_mismatch);
    }
    const std::uint8_t id = *f.id;
    const bool own_limit = id == static_cast<std::uint8_t>(message_id::piece) ||
                           id == static_cast<std::uint8_t>(message_id::bitfield);
    if (!own_limit && f.length > limits.max_message) {
        return fail(errc::message_too_long);
    }
    return check_known_length(id, f.length, g);
}

result<message> decode_message(const frame& f, std::span<const std::byte> body,
                               const wire_geometry& g) {
    if (f.length == 0) {
        if (f.id) {
            return fail(errc::frame_mismatch);
        }
        return message{keep_alive{}};
    }
    if (!f.id || body.empty() || body[0] != static_cast<std::byte>(*f.id)) {
        return fail(errc::frame_mismatch);
    }
    const std::uint8_t id = *f.id;
    if (!is_known(id)) {
        return message{unknown_message{id}};
    }
    if (auto sized = check_known_length(id, f.length, g); !sized) {
        return fail(sized.error());
    }
    const bool is_piece = id == static_cast<std::uint8_t>(message_id::piece);
    const std::size_t needed = is_piece ? piece_body_header_size : f.length;
    if (body.size() < needed) {
        return fail(errc::frame_mismatch);
    }
    body = body.first(needed);

    switch (static_cast<message_id>(id)) {
    case message_id::choke:
        return message{choke{}};
    case message_id::unchoke:
        return message{unchoke{}};
    case message_id::interested:
        return message{interested{}};
    case message_id::not_interested:
        return message{not_interested{}};
    case message_id::have: {
        const std::uint32_t piece = load_u32(body.subspan(1));
        if (piece >= g.piece_count) {
            return fail(errc::index_out_of_range);
        }
        return message{have{piece}};
    }
    case message_id::bitfield: {
        const auto bits = body.subspan(1);
        if (!bitfield::spare_bits_clear(bits, g.piece_count)) {
            return fail(errc::bitfield_spare_bits);
        }
        return message{bitfield_message{bits}};
    }
    case message_id::request:
    case message_id::cancel: {
        const triple t = read_triple(body);
        if (auto ok = check_block(g, t.piece, t.begin, t.length); !ok) {
            return fail(ok.error());
        }
        if (id == static_cast<std::uint8_t>(message_id::request)) {
            return message{request{t.piece, t.begin, t.length}};
        }
        return message{cancel{t.piece, t.begin, t.length}};
    }
    case message_id::piece: {
        const std::uint32_t piece = load_u32(body.subspan(1));
        const std::uint32_t begin = load_u32(body.subspan(5));
        const std::uint32_t length = f.length - piece_body_header_size;
        if (auto ok = check_block(g, piece, begin, length); !ok) {
            return fail(ok.error());
        }
        return message{piece_message{piece, begin, length}};
    }
    case message_id::port:
        return message{port{load_u16(body.subspan(1))}};
    }
    return message{unknown_message{id}};
}

std::size_t encode_keep_alive(std::span<std::byte> out) noexcept {
    assert(out.size() >= prefix_size);
    store_u32(out, 0);
    return prefix_size;
}

std::size_t encode_simple(message_id id, std::span<std::byte> out) noexcept {
    assert(fixed_length(static_cast<std::uint8_t>(id)) == simple_length);
    assert(out.size() >= prefix_size + simple_length);
    return write_header(out, simple_length, id);
}

std::size_t encode_have(std::uint32_t piece, std::span<std::byte> out) noexcept {
    assert(out.size() >= prefix_size + have_length);
    const std::size_t at = write_header(out, have_length, message_id::have);
    store_u32(out.subspan(at), piece);
    return prefix_size + have_length;
}

std::size_t encode_request(const request& r, std::span<std::byte> out) noexcept {
    return encode_block_triple(message_id::request, r.piece, r.begin, r.length, out);
}

std::size_t encode_cancel(const cancel& c, std::span<std::byte> out) noexcept {
    return encode_block_triple(message_id::cancel, c.piece, c.begin, c.length, out);
}

std::size_t encode_piece_header(std::uint32_t piece, std::uint32_t begin, std::uint32_t length,
                                std::span<std::byte> out) noexcept {
    assert(out.size() >= piece_header_size);
    assert(length <= block_size);
    const std::size_t at = write_header(out, piece_body_header_size + length, message_id::piece);
    store_u32(out.subspan(at), piece);
    store_u32(out.subspan(at + 4), begin);
    return piece_header_size;
}

std::size_t encode_port(std::uint16_t value, std::span<std::byte> out) noexcept {
    assert(out.size() >= prefix_size + port_length);
    const std::size_t at = write_header(out, port_length, message_id::port);
    store_u16(out.subspan(at), value);
    return prefix_size + port_length;
}

void encode_bitfield(const bitfield& bits, std::vector<std::byte>& out) {
    const auto bytes = bits.bytes();
    const std::size_t at = out.size();
    out.resize(at + prefix_size + 1 + bytes.size());
    const std::span<std::byte> dest(out.data() + at, prefix_size + 1 + bytes.size());
    const std::size_t header =
        write_header(dest, static_cast<std::uint32_t>(1 + bytes.size()), message_id::bitfield);
    std::ranges::copy(bytes, dest.begin() + static_cast<std::ptrdiff_t>(header));
}

result<std::optional<framed>> peek_frame(std::span<const std::byte> bytes, const wire_geometry& g,
                                         const wire_limits& limits) {
    if (bytes.size() < prefix_size) {
        return std::optional<framed>{};
    }
    frame f{load_u32(bytes), std::nullopt};
    if (f.length != 0) {
        if (bytes.size() == prefix_size) {
            // The id has not arrived, but an absurd length is refused already.
            if (auto ok = check_frame(f, g, limits); !ok) {
                return fail(ok.error());
            }
            return std::optional<framed>{};
        }
        f.id = static_cast<std::uint8_t>(bytes[prefix_size]);
    }
    if (auto ok = check_frame(f, g, limits); !ok) {
        return fail(ok.error());
    }
    const std::size_t total = prefix_size + std::size_t{f.length};
    if (bytes.size() < total) {
        return std::optional<framed>{};
    }
    return std::optional<framed>{framed{f, total}};
}

} // namespace spate::peer
