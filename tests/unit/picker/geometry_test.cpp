#include <spate/picker/error.hpp>
#include <spate/picker/geometry.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>

namespace {

using spate::piece_index;
using spate::picker::block_request;
using spate::picker::block_size;
using spate::picker::errc;
using spate::picker::piece_geometry;

piece_geometry make(std::uint32_t count, std::uint64_t length, std::uint64_t total) {
    auto g = piece_geometry::create(count, length, total);
    EXPECT_TRUE(g.has_value());
    return g ? *g : piece_geometry{};
}

TEST(piece_geometry, refuses_geometry_that_does_not_add_up) {
    EXPECT_EQ(piece_geometry::create(0, 16384, 0).error(), errc::no_pieces);
    EXPECT_EQ(piece_geometry::create(1, 0, 0).error(), errc::piece_length_zero);
    // The last piece would be empty.
    EXPECT_EQ(piece_geometry::create(3, 100, 200).error(), errc::total_size_mismatch);
    // The last piece would be longer than the others.
    EXPECT_EQ(piece_geometry::create(3, 100, 301).error(), errc::total_size_mismatch);
    EXPECT_EQ(piece_geometry::create(1, (std::uint64_t{1} << 31) + 1, 10).error(),
              errc::piece_too_large);
    EXPECT_TRUE(piece_geometry::create(3, 100, 201).has_value());
    EXPECT_TRUE(piece_geometry::create(3, 100, 300).has_value());
}

TEST(piece_geometry, single_piece_torrent_has_one_short_block) {
    auto g = make(1, 256 * 1024, 1000);
    EXPECT_EQ(g.piece_size(piece_index(0)), 1000u);
    EXPECT_EQ(g.block_count(piece_index(0)), 1u);
    EXPECT_EQ(g.block(piece_index(0), 0), (block_request{piece_index(0), 0, 1000}));
    EXPECT_EQ(g.piece_size(piece_index(1)), 0u);
    EXPECT_EQ(g.block_count(piece_index(1)), 0u);
}

TEST(piece_geometry, piece_length_not_a_multiple_of_block_size) {
    // 40000 = 2 * 16384 + 7232; the last piece holds 20000 = 16384 + 3616.
    auto g = make(3, 40000, 100000);
    EXPECT_EQ(g.blocks_per_piece(), 3u);
    EXPECT_EQ(g.piece_size(piece_index(1)), 40000u);
    EXPECT_EQ(g.piece_size(piece_index(2)), 20000u);
    EXPECT_EQ(g.block_count(piece_index(0)), 3u);
    EXPECT_EQ(g.block_count(piece_index(2)), 2u);
    EXPECT_EQ(g.block(piece_index(0), 2), (block_request{piece_index(0), 32768, 7232}));
    EXPECT_EQ(g.block(piece_index(2), 1), (block_request{piece_index(2), 16384, 3616}));
}

TEST(piece_geometry, exact_multiple_has_full_last_block) {
    auto g = make(2, 32768, 65536);
    EXPECT_EQ(g.block_count(piece_index(1)), 2u);
    EXPECT_EQ(g.block(piece_index(1), 1), (block_request{piece_index(1), 16384, block_size}));
}

TEST(piece_geometry, validates_every_field_of_a_block) {
    auto g = make(3, 40000, 100000);
    EXPECT_TRUE(g.is_valid_block({piece_index(0), 0, block_size}));
    EXPECT_TRUE(g.is_valid_block({piece_index(0), 32768, 7232}));
    EXPECT_TRUE(g.is_valid_block({piece_index(2), 16384, 3616}));
    EXPECT_FALSE(g.is_valid_block({piece_index(3), 0, block_size}));
    EXPECT_FALSE(g.is_valid_block({piece_index(0), 1, block_size}));
    EXPECT_FALSE(g.is_valid_block({piece_index(0), 0, block_size - 1}));
    EXPECT_FALSE(g.is_valid_block({piece_index(0), 0, 0}));
    EXPECT_FALSE(g.is_valid_block({piece_index(0), 32768, block_size}));
    EXPECT_FALSE(g.is_valid_block({piece_index(0), 49152, 0}));
    EXPECT_FALSE(g.is_valid_block({piece_index(2), 32768, 3616}));
    EXPECT_FALSE(g.is_valid_block({piece_index(0), 0xFFFFC000U, block_size}));
}

TEST(piece_geometry, error_messages_name_the_problem) {
    std::error_code ec = errc::total_size_mismatch;
    EXPECT_STREQ(ec.category().name(), "spate.picker");
    std::set<std::string> seen;
    for (errc e : {errc::no_pieces, errc::piece_length_zero, errc::total_size_mismatch,
                   errc::piece_too_large}) {
        std::string m = std::error_code(e).message();
        EXPECT_NE(m, "unknown picker error");
        EXPECT_TRUE(seen.insert(m).second) << m;
    }
}

} // namespace
