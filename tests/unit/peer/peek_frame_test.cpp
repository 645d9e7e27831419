#include "wire_test_support.hpp"

#include <spate/peer/error.hpp>
#include <spate/peer/message.hpp>

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

namespace {

using namespace spate::peer;
using spate::peer::test::bytes_builder;
using spate::peer::test::sample_geometry;
using spate::peer::test::text;

// One message of every kind back to back, with where each ends and what it decodes to.
struct stream {
    std::vector<std::byte> bytes;
    std::vector<std::size_t> ends;
    std::vector<std::string> texts;

    template <typename Encode> void add(std::string expected, Encode encode) {
        std::array<std::byte, max_fixed_message> buffer{};
        const std::size_t n = encode(std::span<std::byte>(buffer));
        bytes.insert(bytes.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n));
        ends.push_back(bytes.size());
        texts.push_back(std::move(expected));
    }
};

stream every_kind() {
    stream s;
    spate::bitfield bits(10);
    bits.set(3U);
    encode_bitfield(bits, s.bytes);
    s.ends.push_back(s.bytes.size());
    s.texts.emplace_back("bitfield 1000");
    s.add("keep-alive", [](auto out) { return encode_keep_alive(out); });
    s.add("unchoke", [](auto out) { return encode_simple(message_id::unchoke, out); });
    s.add("have 7", [](auto out) { return encode_have(7, out); });
    s.add("request 0 0 16384", [](auto out) { return encode_request({0, 0, 16384}, out); });
    s.add("piece 9 10 20", [](auto out) { return encode_piece_header(9, 10, 20, out); });
    s.bytes.insert(s.bytes.end(), 20, std::byte{0xCC});
    s.ends.back() = s.bytes.size();
    s.add("keep-alive", [](auto out) { return encode_keep_alive(out); });
    s.add("cancel 0 0 16384", [](auto out) { return encode_cancel({0, 0, 16384}, out); });
    s.add("port 6881", [](auto out) { return encode_port(6881, out); });
    const auto unknown = bytes_builder().u32(4).u8(20).u8(0).u8(0x64).u8(0x65).take();
    s.bytes.insert(s.bytes.end(), unknown.begin(), unknown.end());
    s.ends.push_back(s.bytes.size());
    s.texts.emplace_back("unknown 20");
    s.add("choke", [](auto out) { return encode_simple(message_id::choke, out); });
    return s;
}

// Takes every whole message off the front of `bytes`; returns their texts and how many
// bytes they took. Fails the test on any error.
std::vector<std::string> consume(std::span<const std::byte> bytes, std::size_t& used) {
    const wire_geometry g = sample_geometry();
    std::vector<std::string> out;
    used = 0;
    // Bounded: every message takes at least 4 bytes.
    for (std::size_t guard = 0; guard <= bytes.size() / prefix_size; ++guard) {
        const auto rest = bytes.subspan(used);
        const auto peeked = peek_frame(rest, g, wire_limits{});
        EXPECT_TRUE(peeked) << "at " << used << ": " << peeked.error().message();
        if (!peeked || !*peeked) {
            break;
        }
        const framed fr = **peeked;
        EXPECT_GE(fr.total, prefix_size);
        EXPECT_LE(fr.total, rest.size());
        const auto m = decode_message(fr.f, rest.subspan(prefix_size, fr.f.length), g);
        EXPECT_TRUE(m) << "at " << used << ": " << m.error().message();
        if (!m) {
            break;
        }
        out.push_back(text(*m));
        used += fr.total;
    }
    return out;
}

TEST(peek_frame, whole_stream) {
    const stream s = every_kind();
    std::size_t used = 0;
    EXPECT_EQ(consume(s.bytes, used), s.texts);
    EXPECT_EQ(used, s.bytes.size());
}

TEST(peek_frame, every_cut_position_yields_the_whole_messages_before_it) {
    const stream s = every_kind();
    for (std::size_t cut = 0; cut <= s.bytes.size(); ++cut) {
        SCOPED_TRACE("cut at " + std::to_string(cut));
        // Exact-size copy: the sanitizer sees any read past the cut.
        const std::vector<std::byte> head(s.bytes.begin(),
                                          s.bytes.begin() + static_cast<std::ptrdiff_t>(cut));
        std::size_t used = 0;
        const auto got = consume(head, used);
        std::size_t whole = 0;
        while (whole < s.ends.size() && s.ends[whole] <= cut) {
            ++whole;
        }
        ASSERT_EQ(got.size(), whole);
        EXPECT_TRUE(std::equal(got.begin(), got.end(), s.texts.begin()));
        EXPECT_EQ(used, whole == 0 ? 0 : s.ends[whole - 1]);

        // The rest, appended to what was left over, completes the stream.
        std::vector<std::byte> tail(head.begin() + static_cast<std::ptrdiff_t>(used), head.end());
        tail.insert(tail.end(), s.bytes.begin() + static_cast<std::ptrdiff_t>(cut), s.bytes.end());
        std::size_t used_tail = 0;
        const auto rest = consume(tail, used_tail);
        ASSERT_EQ(rest.size(), s.texts.size() - whole);
        EXPECT_TRUE(std::equal(rest.begin(), rest.end(),
                               s.texts.begin() + static_cast<std::ptrdiff_t>(whole)));
        EXPECT_EQ(used_tail, tail.size());
    }
}

TEST(peek_frame, byte_at_a_time) {
    const stream s = every_kind();
    std::vector<std::byte> buffer;
    std::vector<std::string> got;
    for (std::byte b : s.bytes) {
        buffer.push_back(b);
        std::size_t used = 0;
        const auto found = consume(buffer, used);
        got.insert(got.end(), found.begin(), found.end());
        buffer.erase(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(used));
    }
    EXPECT_EQ(got, s.texts);
    EXPECT_TRUE(buffer.empty());
}

TEST(peek_frame, needs_more_bytes) {
    const wire_geometry g = sample_geometry();
    for (const auto& bytes : {
             bytes_builder().take(),
             bytes_builder().u8(0).u8(0).u8(0).take(),
             bytes_builder().u32(5).take(),
             bytes_builder().u32(5).u8(4).u8(0).u8(0).u8(0).take(),
             bytes_builder().u32(9 + 16384).u8(7).fill(16384, 0).take(),
         }) {
        const auto r = peek_frame(bytes, g, wire_limits{});
        ASSERT_TRUE(r) << bytes.size() << ": " << r.error().message();
        EXPECT_FALSE(*r) << bytes.size();
    }
}

TEST(peek_frame, refuses_a_bad_frame_before_its_payload_arrives) {
    const wire_geometry g = sample_geometry();
    struct row {
        std::vector<std::byte> bytes;
        errc error;
    };
    const row rows[] = {
        {bytes_builder().u32(0x00100001).take(), errc::message_too_long},
        {bytes_builder().u32(0xFFFFFFFFU).take(), errc::message_too_long},
        {bytes_builder().u32(5).u8(6).take(), errc::bad_message_length},
        {bytes_builder().u32(2).u8(0).take(), errc::bad_message_length},
        {bytes_builder().u32(9).u8(7).take(), errc::bad_message_length},
        {bytes_builder().u32(9 + 16385).u8(7).take(), errc::message_too_long},
        {bytes_builder().u32(1000).u8(5).take(), errc::bitfield_wrong_size},
        {bytes_builder().u32(0x00100001).u8(20).take(), errc::message_too_long},
    };
    for (const row& r : rows) {
        const auto peeked = peek_frame(r.bytes, g, wire_limits{});
        ASSERT_FALSE(peeked) << spate::peer::test::hex(r.bytes);
        EXPECT_EQ(peeked.error(), r.error) << spate::peer::test::hex(r.bytes);
    }
}

TEST(peek_frame, reports_frame_and_total) {
    const wire_geometry g = sample_geometry();
    const auto bytes = bytes_builder().u32(5).u8(4).u32(2).u8(0xFF).take();
    const auto r = peek_frame(bytes, g, wire_limits{});
    ASSERT_TRUE(r && *r);
    EXPECT_EQ((*r)->f, (frame{5, 4}));
    EXPECT_EQ((*r)->total, 9U);
    const auto alive = peek_frame(bytes_builder().u32(0).u8(4).take(), g, wire_limits{});
    ASSERT_TRUE(alive && *alive);
    EXPECT_EQ((*alive)->f, (frame{0, std::nullopt}));
    EXPECT_EQ((*alive)->total, 4U);
}

} // namespace
