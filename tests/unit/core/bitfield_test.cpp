#include <gtest/gtest.h>
#include <spate/core/bitfield.hpp>

using spate::bitfield;

TEST(bitfield, high_bit_of_first_byte_is_piece_zero) {
    bitfield b(10);
    b.set(0U);
    b.set(9U);
    ASSERT_EQ(b.bytes().size(), 2U);
    EXPECT_EQ(b.bytes()[0], std::byte{0x80});
    EXPECT_EQ(b.bytes()[1], std::byte{0x40});
    EXPECT_EQ(b.count(), 2U);
}

TEST(bitfield, set_and_clear_keep_the_count) {
    bitfield b(20);
    b.set(3U);
    b.set(3U);
    EXPECT_EQ(b.count(), 1U);
    b.clear(3U);
    b.clear(3U);
    EXPECT_EQ(b.count(), 0U);
    EXPECT_TRUE(b.none());
}

TEST(bitfield, set_all_leaves_spare_bits_clear) {
    bitfield b(11, true);
    EXPECT_TRUE(b.all());
    EXPECT_EQ(b.count(), 11U);
    EXPECT_EQ(b.bytes()[1], std::byte{0xE0});
}

TEST(bitfield, from_bytes_drops_spare_bits) {
    std::byte raw[2] = {std::byte{0xFF}, std::byte{0xFF}};
    EXPECT_FALSE(bitfield::spare_bits_clear(raw, 12));
    bitfield b = bitfield::from_bytes(raw, 12);
    EXPECT_EQ(b.count(), 12U);
    EXPECT_TRUE(b.all());
    EXPECT_TRUE(bitfield::spare_bits_clear(b.bytes(), 12));
}

TEST(bitfield, byte_size_rounds_up) {
    EXPECT_EQ(bitfield::byte_size(0), 0U);
    EXPECT_EQ(bitfield::byte_size(1), 1U);
    EXPECT_EQ(bitfield::byte_size(8), 1U);
    EXPECT_EQ(bitfield::byte_size(9), 2U);
}
