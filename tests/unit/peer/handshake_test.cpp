#include <spate/peer/error.hpp>
#include <spate/peer/handshake.hpp>

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <string_view>

namespace {

using namespace spate::peer;

handshake sample() {
    handshake h;
    for (std::size_t i = 0; i < h.reserved.size(); ++i) {
        h.reserved[i] = static_cast<std::byte>(0x10 + i);
    }
    for (std::size_t i = 0; i < h.info_hash.bytes.size(); ++i) {
        h.info_hash.bytes[i] = static_cast<std::byte>(0x40 + i);
    }
    for (std::size_t i = 0; i < h.id.size(); ++i) {
        h.id[i] = static_cast<std::byte>(0x80 + i);
    }
    return h;
}

std::array<std::byte, handshake_size> encoded(const handshake& h) {
    std::array<std::byte, handshake_size> out{};
    encode_handshake(h, out);
    return out;
}

TEST(handshake, layout_follows_bep_3) {
    const auto bytes = encoded(sample());
    EXPECT_EQ(bytes[0], std::byte{19});
    EXPECT_EQ(std::memcmp(bytes.data() + 1, "BitTorrent protocol", 19), 0);
    EXPECT_EQ(bytes[20], std::byte{0x10});
    EXPECT_EQ(bytes[27], std::byte{0x17});
    EXPECT_EQ(bytes[28], std::byte{0x40});
    EXPECT_EQ(bytes[47], std::byte{0x53});
    EXPECT_EQ(bytes[48], std::byte{0x80});
    EXPECT_EQ(bytes[67], std::byte{0x93});
}

TEST(handshake, round_trip) {
    const handshake h = sample();
    const auto bytes = encoded(h);
    const auto back = decode_handshake(bytes);
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(*back, h);
}

TEST(handshake, refuses_bad_protocol_string) {
    const auto good = encoded(sample());
    // Every byte of the length and the string matters.
    for (std::size_t i = 0; i < 20; ++i) {
        auto bad = good;
        bad[i] ^= std::byte{0x20};
        const auto r = decode_handshake(bad);
        ASSERT_FALSE(r) << "byte " << i;
        EXPECT_EQ(r.error(), errc::bad_protocol_string);
    }
    // Bytes after the string are not the codec's business.
    auto other = good;
    other[20] = std::byte{0xFF};
    other[67] = std::byte{0};
    EXPECT_TRUE(decode_handshake(other));
}

TEST(handshake, refuses_other_protocols) {
    std::array<std::byte, handshake_size> http{};
    const std::string_view text = "GET / HTTP/1.1\r\nHost: example\r\n\r\n";
    std::memcpy(http.data(), text.data(), text.size());
    EXPECT_EQ(decode_handshake(http).error(), errc::bad_protocol_string);
    const std::array<std::byte, handshake_size> zeros{};
    EXPECT_EQ(decode_handshake(zeros).error(), errc::bad_protocol_string);
}

TEST(handshake, prefix_check_needs_twenty_good_bytes) {
    const auto good = encoded(sample());
    EXPECT_TRUE(check_protocol_prefix(std::span(good).first(20)));
    EXPECT_EQ(check_protocol_prefix(std::span(good).first(19)).error(), errc::bad_protocol_string);
    EXPECT_EQ(check_protocol_prefix({}).error(), errc::bad_protocol_string);
    auto bad = good;
    bad[19] = std::byte{'x'};
    EXPECT_EQ(check_protocol_prefix(std::span(bad).first(20)).error(), errc::bad_protocol_string);
}

TEST(handshake, peer_id_is_azureus_style) {
    std::array<std::byte, 12> random{};
    for (std::size_t i = 0; i < random.size(); ++i) {
        random[i] = static_cast<std::byte>(0xA0 + i);
    }
    const peer_id id = make_peer_id(random);
    EXPECT_EQ(std::memcmp(id.data(), "-SP0100-", 8), 0);
    for (std::size_t i = 0; i < random.size(); ++i) {
        EXPECT_EQ(id[8 + i], random[i]) << i;
    }
}

} // namespace
