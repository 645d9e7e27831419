#include "wire_test_support.hpp"

#include <spate/peer/error.hpp>
#include <spate/peer/message.hpp>

#include <gtest/gtest.h>

#include <array>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace spate::peer;
using spate::peer::test::bytes_builder;
using spate::peer::test::hex;
using spate::peer::test::sample_geometry;
using spate::peer::test::text;

constexpr std::uint32_t mib = 1024 * 1024;

// --- check_frame ------------------------------------------------------------------------

struct frame_row {
    const char* what;
    std::uint32_t length;
    std::optional<std::uint8_t> id;
    std::optional<errc> error; // nullopt: accepted
};

void expect_frame_rows(const std::vector<frame_row>& rows, const wire_geometry& g,
                       const wire_limits& limits) {
    for (const frame_row& row : rows) {
        const auto r = check_frame(frame{row.length, row.id}, g, limits);
        if (row.error) {
            ASSERT_FALSE(r) << row.what;
            EXPECT_EQ(r.error(), *row.error) << row.what << ": " << r.error().message();
        } else {
            EXPECT_TRUE(r) << row.what << ": " << r.error().message();
        }
    }
}

TEST(check_frame, size_rules_of_every_id) {
    const std::vector<frame_row> rows = {
        {"keep-alive", 0, std::nullopt, std::nullopt},
        {"prefix only, at the limit", mib, std::nullopt, std::nullopt},
        {"prefix only, past every limit", mib + 1, std::nullopt, errc::message_too_long},
        {"prefix only, 4 GiB", 0xFFFFFFFFU, std::nullopt, errc::message_too_long},
        {"id without length", 0, 0, errc::frame_mismatch},
        {"choke", 1, 0, std::nullopt},
        {"unchoke", 1, 1, std::nullopt},
        {"interested", 1, 2, std::nullopt},
        {"not interested", 1, 3, std::nullopt},
        {"choke with payload", 2, 0, errc::bad_message_length},
        {"unchoke with payload", 2, 1, errc::bad_message_length},
        {"interested with payload", 5, 2, errc::bad_message_length},
        {"not interested with payload", 13, 3, errc::bad_message_length},
        {"choke past the limit", mib + 1, 0, errc::message_too_long},
        {"have", 5, 4, std::nullopt},
        {"have short", 4, 4, errc::bad_message_length},
        {"have id only", 1, 4, errc::bad_message_length},
        {"have long", 6, 4, errc::bad_message_length},
        {"have past the limit", 0xFFFFFFFFU, 4, errc::message_too_long},
        {"bitfield", 3, 5, std::nullopt},
        {"bitfield empty", 1, 5, errc::bitfield_wrong_size},
        {"bitfield short", 2, 5, errc::bitfield_wrong_size},
        {"bitfield long", 4, 5, errc::bitfield_wrong_size},
        {"bitfield huge", 0xFFFFFFFFU, 5, errc::bitfield_wrong_size},
        {"request", 13, 6, std::nullopt},
        {"request short", 12, 6, errc::bad_message_length},
        {"request long", 14, 6, errc::bad_message_length},
        {"piece one byte", 10, 7, std::nullopt},
        {"piece whole block", 9 + block_size, 7, std::nullopt},
        {"piece without data", 9, 7, errc::bad_message_length},
        {"piece id only", 1, 7, errc::bad_message_length},
        {"piece past 16 KiB", 9 + block_size + 1, 7, errc::message_too_long},
        {"piece 4 GiB", 0xFFFFFFFFU, 7, errc::message_too_long},
        {"cancel", 13, 8, std::nullopt},
        {"cancel short", 12, 8, errc::bad_message_length},
        {"cancel long", 17, 8, errc::bad_message_length},
        {"port", 3, 9, std::nullopt},
        {"port short", 2, 9, errc::bad_message_length},
        {"port long", 4, 9, errc::bad_message_length},
        {"unknown id only", 1, 10, std::nullopt},
        {"extended at the limit", mib, 20, std::nullopt},
        {"extended past the limit", mib + 1, 20, errc::message_too_long},
        {"id 255", 2, 255, std::nullopt},
    };
    expect_frame_rows(rows, sample_geometry(), wire_limits{});
}

TEST(check_frame, limits_are_settings_but_piece_and_bitfield_keep_their_own) {
    // 200000 pieces: a 25001-byte bitfield body, longer than the 100-byte limit set here and
    // than the longest piece message.
    const auto g = wire_geometry::create(200000, 16384, std::uint64_t{200000} * 16384);
    ASSERT_TRUE(g);
    const std::vector<frame_row> rows = {
        {"unknown at the limit", 100, 20, std::nullopt},
        {"unknown past the limit", 101, 20, errc::message_too_long},
        {"bitfield past the limit", 25001, 5, std::nullopt},
        {"piece past the limit", 9 + block_size, 7, std::nullopt},
        {"have under the limit", 5, 4, std::nullopt},
        {"prefix only: the bitfield is the longest", 25001, std::nullopt, std::nullopt},
        {"prefix only: past the bitfield", 25002, std::nullopt, errc::message_too_long},
    };
    expect_frame_rows(rows, *g, wire_limits{100});
    // A limit below a fixed size refuses it as too long rather than misread it.
    expect_frame_rows({{"have past a limit of 4", 5, 4, errc::message_too_long}}, *g,
                      wire_limits{4});
}

// --- decode_message ---------------------------------------------------------------------

struct decode_row {
    const char* what;
    std::vector<std::byte> body;
    std::string expected; // text of the message, or empty when `error` is set
    std::optional<errc> error = std::nullopt;
    std::optional<std::uint32_t> frame_length = std::nullopt; // default: body.size()
};

std::vector<std::byte> simple(std::uint8_t id) {
    return bytes_builder().u8(id).take();
}
std::vector<std::byte> have_body(std::uint32_t piece) {
    return bytes_builder().u8(4).u32(piece).take();
}
std::vector<std::byte> triple_body(std::uint8_t id, std::uint32_t piece, std::uint32_t begin,
                                   std::uint32_t length) {
    return bytes_builder().u8(id).u32(piece).u32(begin).u32(length).take();
}
std::vector<std::byte> piece_body(std::uint32_t piece, std::uint32_t begin, std::size_t data) {
    return bytes_builder().u8(7).u32(piece).u32(begin).fill(data, 0xAB).take();
}
std::vector<std::byte> bitfield_body(std::uint8_t b0, std::uint8_t b1) {
    return bytes_builder().u8(5).u8(b0).u8(b1).take();
}

void expect_decode_rows(const std::vector<decode_row>& rows) {
    const wire_geometry g = sample_geometry();
    for (const decode_row& row : rows) {
        ASSERT_FALSE(row.body.empty()) << row.what;
        const frame f{row.frame_length.value_or(static_cast<std::uint32_t>(row.body.size())),
                      static_cast<std::uint8_t>(row.body[0])};
        // An exact-size copy: the sanitizer sees any read past the body.
        const std::vector<std::byte> body = row.body;
        const auto m = decode_message(f, body, g);
        if (row.error) {
            ASSERT_FALSE(m) << row.what << " decoded as " << text(*m);
            EXPECT_EQ(m.error(), *row.error) << row.what << ": " << m.error().message();
        } else {
            ASSERT_TRUE(m) << row.what << ": " << m.error().message();
            EXPECT_EQ(text(*m), row.expected) << row.what;
        }
    }
}

TEST(decode_message, state_messages_have_and_port) {
    expect_decode_rows({
        {"choke", simple(0), "choke"},
        {"unchoke", simple(1), "unchoke"},
        {"interested", simple(2), "interested"},
        {"not interested", simple(3), "not interested"},
        {"have first", have_body(0), "have 0"},
        {"have last", have_body(9), "have 9"},
        {"have past the last", have_body(10), "", errc::index_out_of_range},
        {"have max", have_body(0xFFFFFFFFU), "", errc::index_out_of_range},
        {"port", bytes_builder().u8(9).u16(6881).take(), "port 6881"},
        {"port max", bytes_builder().u8(9).u16(0xFFFF).take(), "port 65535"},
        {"unknown", bytes_builder().u8(20).u8(0).fill(30, 0x64).take(), "unknown 20"},
        {"unknown id only", simple(0xFF), "unknown 255"},
    });
}

TEST(decode_message, bitfield_spare_bits_must_be_clear) {
    expect_decode_rows({
        {"all pieces", bitfield_body(0xFF, 0xC0), "bitfield ffc0"},
        {"no pieces", bitfield_body(0x00, 0x00), "bitfield 0000"},
        {"first and last", bitfield_body(0x80, 0x40), "bitfield 8040"},
        {"first spare bit", bitfield_body(0xFF, 0xE0), "", errc::bitfield_spare_bits},
        {"last spare bit", bitfield_body(0x00, 0x01), "", errc::bitfield_spare_bits},
        {"wrong size", bytes_builder().u8(5).u8(0xFF).take(), "", errc::bitfield_wrong_size},
    });
}

TEST(decode_message, bitfield_without_spare_bits_and_borrowed_bytes) {
    const auto g = wire_geometry::create(16, 16384, 16 * 16384);
    ASSERT_TRUE(g);
    const std::vector<std::byte> body = bitfield_body(0xFF, 0xFF);
    const auto m = decode_message(frame{3, 5}, body, *g);
    ASSERT_TRUE(m);
    const auto& b = std::get<bitfield_message>(*m);
    EXPECT_EQ(b.bits.data(), body.data() + 1);
    EXPECT_EQ(b.bits.size(), 2U);
}

TEST(decode_message, request_and_cancel_ranges) {
    for (const std::uint8_t id : {std::uint8_t{6}, std::uint8_t{8}}) {
        const std::string name = id == 6 ? "request" : "cancel";
        const auto ok = [&](std::uint32_t p, std::uint32_t b, std::uint32_t l) {
            return name + " " + std::to_string(p) + " " + std::to_string(b) + " " +
                   std::to_string(l);
        };
        SCOPED_TRACE(name);
        expect_decode_rows({
            {"first block", triple_body(id, 0, 0, 16384), ok(0, 0, 16384)},
            {"last short block", triple_body(id, 0, 32768, 7232), ok(0, 32768, 7232)},
            {"one byte at the end", triple_body(id, 0, 39999, 1), ok(0, 39999, 1)},
            {"odd offset", triple_body(id, 3, 5, 100), ok(3, 5, 100)},
            {"last piece whole", triple_body(id, 9, 0, 1000), ok(9, 0, 1000)},
            {"past the piece end", triple_body(id, 0, 32768, 7233), "", errc::bad_block},
            {"begin at the piece end", triple_body(id, 0, 40000, 1), "", errc::bad_block},
            {"past the last piece end", triple_body(id, 9, 0, 1001), "", errc::bad_block},
            {"last piece offset", triple_body(id, 9, 1000, 1), "", errc::bad_block},
            {"empty", triple_body(id, 0, 0, 0), "", errc::bad_block},
            {"longer than 16 KiB", triple_body(id, 0, 0, 16385), "", errc::request_too_long},
            {"4 GiB", triple_body(id, 0, 0, 0xFFFFFFFFU), "", errc::request_too_long},
            {"index past the last", triple_body(id, 10, 0, 16384), "", errc::index_out_of_range},
            {"index max", triple_body(id, 0xFFFFFFFFU, 0, 1), "", errc::index_out_of_range},
            {"begin max", triple_body(id, 0, 0xFFFFFFFFU, 1), "", errc::bad_block},
            // begin + length wraps to 0 in 32 bits; it must not pass as in range.
            {"begin wraps", triple_body(id, 0, 0xFFFFC000U, 16384), "", errc::bad_block},
        });
    }
}

TEST(decode_message, piece_ranges_come_from_the_frame_length) {
    expect_decode_rows({
        {"whole block", piece_body(0, 0, 16384), "piece 0 0 16384"},
        {"short last block", piece_body(0, 32768, 7232), "piece 0 32768 7232"},
        {"one byte", piece_body(0, 39999, 1), "piece 0 39999 1"},
        {"last piece", piece_body(9, 0, 1000), "piece 9 0 1000"},
        {"past the piece end", piece_body(0, 39999, 2), "", errc::bad_block},
        {"past the last piece end", piece_body(9, 0, 1001), "", errc::bad_block},
        {"begin wraps", piece_body(0, 0xFFFFFFFFU, 1), "", errc::bad_block},
        {"index past the last", piece_body(10, 0, 1), "", errc::index_out_of_range},
        {"no data", piece_body(0, 0, 0), "", errc::bad_message_length},
        {"longer than 16 KiB", piece_body(0, 0, 16385), "", errc::message_too_long},
        // Only the 9 header bytes are given; the data stays on the socket.
        {"header only", piece_body(2, 16384, 0), "piece 2 16384 16384", std::nullopt, 9 + 16384},
        {"header only, too long for the piece", piece_body(2, 32768, 0), "", errc::bad_block,
         9 + 16384},
    });
}

TEST(decode_message, body_must_hold_what_the_frame_announces) {
    expect_decode_rows({
        {"request body short", bytes_builder().u8(6).u32(0).u32(0).u16(0).take(), "",
         errc::frame_mismatch, 13},
        {"have body short", bytes_builder().u8(4).u16(0).take(), "", errc::frame_mismatch, 5},
        {"port body short", bytes_builder().u8(9).u8(1).take(), "", errc::frame_mismatch, 3},
        {"bitfield body short", bytes_builder().u8(5).u8(0).take(), "", errc::frame_mismatch, 3},
        {"piece header short", bytes_builder().u8(7).u32(0).u16(0).take(), "", errc::frame_mismatch,
         100},
        // decode_message checks sizes again: an unchecked frame cannot make it misread.
        {"have frame too short", have_body(1), "", errc::bad_message_length, 4},
        {"request frame too long", triple_body(6, 0, 0, 1), "", errc::bad_message_length, 17},
        {"bitfield frame wrong", bitfield_body(0, 0), "", errc::bitfield_wrong_size, 2},
    });
}

TEST(decode_message, extra_body_bytes_are_not_read) {
    const wire_geometry g = sample_geometry();
    const std::vector<std::byte> body =
        bytes_builder().u8(5).u8(0xFF).u8(0xC0).u8(4).u32(0).take(); // a have follows
    const auto m = decode_message(frame{3, 5}, body, g);
    ASSERT_TRUE(m);
    EXPECT_EQ(text(*m), "bitfield ffc0");
}

TEST(decode_message, frame_and_body_must_agree) {
    const wire_geometry g = sample_geometry();
    const std::vector<std::byte> have_bytes = have_body(1);
    EXPECT_EQ(decode_message(frame{5, 6}, have_bytes, g).error(), errc::frame_mismatch);
    EXPECT_EQ(decode_message(frame{5, 4}, {}, g).error(), errc::frame_mismatch);
    EXPECT_EQ(decode_message(frame{5, std::nullopt}, have_bytes, g).error(), errc::frame_mismatch);
    EXPECT_EQ(decode_message(frame{0, 4}, have_bytes, g).error(), errc::frame_mismatch);
    const auto alive = decode_message(frame{0, std::nullopt}, {}, g);
    ASSERT_TRUE(alive);
    EXPECT_EQ(text(*alive), "keep-alive");
}

// --- encoders ---------------------------------------------------------------------------

// Encodes into an exact-size buffer (the sanitizer catches a write past it), checks the
// returned size, then frames and decodes the bytes back.
template <typename Encode>
std::string round_trip(std::size_t size, Encode encode, std::string* bytes_hex = nullptr) {
    std::vector<std::byte> out(size);
    const std::size_t used = encode(std::span<std::byte>(out));
    EXPECT_EQ(used, size);
    if (bytes_hex != nullptr) {
        *bytes_hex = hex(out);
    }
    const wire_geometry g = sample_geometry();
    const auto peeked = peek_frame(out, g, wire_limits{});
    if (!peeked || !*peeked) {
        return "does not frame";
    }
    EXPECT_EQ((*peeked)->total, size);
    const auto m = decode_message((*peeked)->f, std::span(out).subspan(prefix_size), g);
    return m ? text(*m) : "does not decode: " + m.error().message();
}

TEST(encode, fixed_messages_round_trip_byte_exact) {
    std::string bytes;
    EXPECT_EQ(round_trip(
                  4, [](auto out) { return encode_keep_alive(out); }, &bytes),
              "keep-alive");
    EXPECT_EQ(bytes, "00000000");
    const std::pair<message_id, const char*> simple_ids[] = {
        {message_id::choke, "choke"},
        {message_id::unchoke, "unchoke"},
        {message_id::interested, "interested"},
        {message_id::not_interested, "not interested"},
    };
    for (const auto& [id, name] : simple_ids) {
        EXPECT_EQ(round_trip(
                      5, [id = id](auto out) { return encode_simple(id, out); }, &bytes),
                  name);
        EXPECT_EQ(bytes, "00000001" + hex(simple(static_cast<std::uint8_t>(id))));
    }
    EXPECT_EQ(round_trip(
                  9, [](auto out) { return encode_have(9, out); }, &bytes),
              "have 9");
    EXPECT_EQ(bytes, "000000050400000009");
    EXPECT_EQ(round_trip(
                  17,
                  [](auto out) {
                      return encode_request({1, 16384, 16384}, out);
                  },
                  &bytes),
              "request 1 16384 16384");
    EXPECT_EQ(bytes, "0000000d06000000010000400000004000");
    EXPECT_EQ(round_trip(
                  17,
                  [](auto out) {
                      return encode_cancel({9, 0, 1000}, out);
                  },
                  &bytes),
              "cancel 9 0 1000");
    EXPECT_EQ(bytes, "0000000d080000000900000000000003e8");
    EXPECT_EQ(round_trip(
                  7, [](auto out) { return encode_port(0xBEEF, out); }, &bytes),
              "port 48879");
    EXPECT_EQ(bytes, "0000000309beef");
    EXPECT_LE(std::size_t{17}, max_fixed_message);
}

TEST(encode, piece_header_then_payload) {
    std::vector<std::byte> out(piece_header_size);
    ASSERT_EQ(encode_piece_header(3, 32768, 7232, out), piece_header_size);
    EXPECT_EQ(hex(out), "00001c49"
                        "07"
                        "00000003"
                        "00008000");
    out.resize(piece_header_size + 7232, std::byte{0x5A});
    const wire_geometry g = sample_geometry();
    const auto peeked = peek_frame(out, g, wire_limits{});
    ASSERT_TRUE(peeked && *peeked);
    EXPECT_EQ((*peeked)->total, out.size());
    const auto m = decode_message((*peeked)->f, std::span(out).subspan(prefix_size, 9), g);
    ASSERT_TRUE(m) << m.error().message();
    EXPECT_EQ(text(*m), "piece 3 32768 7232");
}

TEST(encode, bitfield_appends_and_round_trips) {
    spate::bitfield bits(10);
    bits.set(0U);
    bits.set(9U);
    std::vector<std::byte> out = bytes_builder().u8(0xEE).take();
    encode_bitfield(bits, out);
    EXPECT_EQ(hex(out), "ee"
                        "00000003"
                        "05"
                        "8040");
    const auto rest = std::span(out).subspan(1);
    const wire_geometry g = sample_geometry();
    const auto peeked = peek_frame(rest, g, wire_limits{});
    ASSERT_TRUE(peeked && *peeked);
    const auto m = decode_message((*peeked)->f, rest.subspan(prefix_size), g);
    ASSERT_TRUE(m);
    const auto& b = std::get<bitfield_message>(*m);
    EXPECT_EQ(spate::bitfield::from_bytes(b.bits, g.piece_count), bits);
}

TEST(encode, full_bitfield_round_trips_for_every_spare_count) {
    for (std::uint32_t count = 1; count <= 17; ++count) {
        const auto g = wire_geometry::create(count, 16384, std::uint64_t{count} * 16384);
        ASSERT_TRUE(g);
        std::vector<std::byte> out;
        encode_bitfield(spate::bitfield(count, true), out);
        const auto peeked = peek_frame(out, *g, wire_limits{});
        ASSERT_TRUE(peeked && *peeked) << count;
        const auto m = decode_message((*peeked)->f, std::span(out).subspan(prefix_size), *g);
        ASSERT_TRUE(m) << count << ": " << m.error().message();
        EXPECT_EQ(spate::bitfield::from_bytes(std::get<bitfield_message>(*m).bits, count).count(),
                  count);
    }
}

TEST(message_name, names_every_id) {
    EXPECT_EQ(message_name(0), "choke");
    EXPECT_EQ(message_name(3), "not interested");
    EXPECT_EQ(message_name(7), "piece");
    EXPECT_EQ(message_name(9), "port");
    EXPECT_EQ(message_name(10), "unknown");
    EXPECT_EQ(message_name(20), "unknown");
}

} // namespace
