#include <spate/peer/error.hpp>
#include <spate/peer/wire_geometry.hpp>

#include <gtest/gtest.h>

#include <cstdint>

namespace {

using namespace spate::peer;

TEST(wire_geometry, last_piece_is_shorter) {
    const auto g = wire_geometry::create(3, 40000, 2 * 40000 + 123);
    ASSERT_TRUE(g) << g.error().message();
    EXPECT_EQ(g->piece_size(0), 40000U);
    EXPECT_EQ(g->piece_size(1), 40000U);
    EXPECT_EQ(g->piece_size(2), 123U);
}

TEST(wire_geometry, exact_multiple_keeps_a_full_last_piece) {
    const auto g = wire_geometry::create(4, 16384, 4 * 16384);
    ASSERT_TRUE(g);
    EXPECT_EQ(g->piece_size(3), 16384U);
}

TEST(wire_geometry, single_one_byte_piece) {
    const auto g = wire_geometry::create(1, 1, 1);
    ASSERT_TRUE(g);
    EXPECT_EQ(g->piece_size(0), 1U);
    EXPECT_EQ(block_count(*g, 0), 1U);
    EXPECT_EQ(block_length(*g, 0, 0), 1U);
}

TEST(wire_geometry, refuses_bad_piece_length) {
    EXPECT_EQ(wire_geometry::create(1, 0, 1).error(), errc::piece_length_out_of_range);
    EXPECT_EQ(wire_geometry::create(1, max_piece_length + 1, 1).error(),
              errc::piece_length_out_of_range);
    // Larger than 32 bits must not wrap into a small length.
    EXPECT_EQ(wire_geometry::create(1, (std::uint64_t{1} << 32) + 16384, 16384).error(),
              errc::piece_length_out_of_range);
    const auto largest = wire_geometry::create(1, max_piece_length, max_piece_length);
    ASSERT_TRUE(largest);
    EXPECT_EQ(largest->piece_size(0), max_piece_length);
}

TEST(wire_geometry, refuses_inconsistent_sizes) {
    struct row {
        std::uint32_t count;
        std::uint64_t length;
        std::uint64_t total;
    };
    const row rows[] = {
        {0, 16384, 0},                      // no pieces
        {0, 16384, 1},                      // data without pieces
        {1, 16384, 0},                      // a piece without data
        {2, 16384, 16384},                  // last piece empty
        {2, 16384, 2 * 16384 + 1},          // one byte too many
        {3, 16384, 16384},                  // two pieces too many
        {0xFFFFFFFFU, max_piece_length, 1}, // huge count, products must not overflow
    };
    for (const row& r : rows) {
        const auto g = wire_geometry::create(r.count, r.length, r.total);
        ASSERT_FALSE(g) << r.count << " " << r.length << " " << r.total;
        EXPECT_EQ(g.error(), errc::inconsistent_sizes);
    }
}

TEST(wire_geometry, largest_counts_fit) {
    const std::uint64_t total = std::uint64_t{0xFFFFFFFEU} * max_piece_length + 7;
    const auto g = wire_geometry::create(0xFFFFFFFFU, max_piece_length, total);
    ASSERT_TRUE(g);
    EXPECT_EQ(g->piece_size(0xFFFFFFFEU), 7U);
    EXPECT_EQ(g->piece_size(0), max_piece_length);
}

TEST(wire_geometry, blocks_of_16_kib_last_one_shorter) {
    const auto g = wire_geometry::create(2, 40000, 40000 + 16384);
    ASSERT_TRUE(g);
    EXPECT_EQ(block_count(*g, 0), 3U);
    EXPECT_EQ(block_length(*g, 0, 0), block_size);
    EXPECT_EQ(block_length(*g, 0, 1), block_size);
    EXPECT_EQ(block_length(*g, 0, 2), 40000U - 2 * block_size);
    EXPECT_EQ(block_count(*g, 1), 1U);
    EXPECT_EQ(block_length(*g, 1, 0), block_size);
}

TEST(wire_geometry, blocks_cover_the_piece_exactly) {
    for (std::uint64_t length : {1ULL, 16383ULL, 16384ULL, 16385ULL, 65536ULL, 1000000ULL}) {
        const auto g = wire_geometry::create(2, length, length + length / 2 + 1);
        ASSERT_TRUE(g) << length;
        for (std::uint32_t piece = 0; piece < 2; ++piece) {
            std::uint64_t sum = 0;
            const std::uint32_t n = block_count(*g, piece);
            for (std::uint32_t b = 0; b < n; ++b) {
                const std::uint32_t len = block_length(*g, piece, b);
                EXPECT_GT(len, 0U);
                EXPECT_LE(len, block_size);
                sum += len;
            }
            EXPECT_EQ(sum, g->piece_size(piece)) << length << " piece " << piece;
        }
    }
}

} // namespace
