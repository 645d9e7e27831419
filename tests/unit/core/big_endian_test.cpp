#include <spate/core/big_endian.hpp>

#include <gtest/gtest.h>

#include <array>
#include <cstddef>

namespace {

TEST(big_endian, stores_most_significant_byte_first) {
    std::array<std::byte, 6> out{};
    spate::store_u32(out, 0x01020304U);
    spate::store_u16(std::span(out).subspan(4), 0xA0B0);
    const std::array<std::byte, 6> expected = {std::byte{1}, std::byte{2},    std::byte{3},
                                               std::byte{4}, std::byte{0xA0}, std::byte{0xB0}};
    EXPECT_EQ(out, expected);
}

TEST(big_endian, loads_what_was_stored) {
    std::array<std::byte, 4> buf{};
    for (std::uint32_t v :
         {0U, 1U, 0x80U, 0xFFU, 0x100U, 0x7FFFFFFFU, 0x80000000U, 0xFFFFFFFFU, 0xDEADBEEFU}) {
        spate::store_u32(buf, v);
        EXPECT_EQ(spate::load_u32(buf), v);
    }
    for (std::uint16_t v : {std::uint16_t{0}, std::uint16_t{0x00FF}, std::uint16_t{0xFF00},
                            std::uint16_t{0xFFFF}, std::uint16_t{0x1234}}) {
        spate::store_u16(buf, v);
        EXPECT_EQ(spate::load_u16(buf), v);
    }
}

TEST(big_endian, reads_only_the_first_bytes) {
    const std::array<std::byte, 5> in = {std::byte{0xFF}, std::byte{0xFE}, std::byte{0},
                                         std::byte{1}, std::byte{0x99}};
    EXPECT_EQ(spate::load_u32(in), 0xFFFE0001U);
    EXPECT_EQ(spate::load_u16(in), 0xFFFEU);
}

static_assert(spate::load_u16(std::array<std::byte, 2>{std::byte{1}, std::byte{2}}) == 0x0102);

} // namespace
