#include <spate/core/hash.hpp>

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace {

std::span<const std::byte> bytes_of(std::string_view s) { return std::as_bytes(std::span(s)); }

TEST(hash, sha1_matches_fips_180_vectors) {
    EXPECT_EQ(spate::sha1(bytes_of("")).hex(), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    EXPECT_EQ(spate::sha1(bytes_of("abc")).hex(), "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST(hash, sha256_matches_fips_180_vectors) {
    EXPECT_EQ(spate::sha256(bytes_of("abc")).hex(),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(hash, incremental_equals_one_shot_and_final_resets) {
    std::string data(100'000, 'x');
    for (std::size_t i = 0; i < data.size(); ++i) {
        data[i] = static_cast<char>(i * 7);
    }
    spate::sha1_hasher h;
    h.update(std::string_view(data).substr(0, 1));
    h.update(std::string_view(data).substr(1, 50'000));
    h.update(std::string_view(data).substr(50'001));
    EXPECT_EQ(h.final(), spate::sha1(bytes_of(data)));
    h.update("abc");
    EXPECT_EQ(h.final().hex(), "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST(hash, hex_round_trip_accepts_either_case) {
    auto d = spate::sha1_digest::from_hex("A9993E364706816ABA3E25717850C26C9CD0D89D");
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->hex(), "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST(hash, from_hex_rejects_wrong_length_and_non_hex) {
    EXPECT_FALSE(spate::sha1_digest::from_hex("abc").has_value());
    EXPECT_FALSE(spate::sha1_digest::from_hex(std::string(40, 'g')).has_value());
    EXPECT_FALSE(spate::sha1_digest::from_hex(std::string(42, 'a')).has_value());
}

TEST(hash, from_bytes_requires_exact_size) {
    std::array<std::byte, 20> raw{};
    raw[3] = std::byte{0xab};
    auto d = spate::sha1_digest::from_bytes(raw);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->bytes[3], std::byte{0xab});
    EXPECT_FALSE(spate::sha1_digest::from_bytes(std::span(raw).first(19)).has_value());
}

} // namespace
