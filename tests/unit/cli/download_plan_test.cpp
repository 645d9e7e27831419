#include "cli/download_plan.hpp"

#include <gtest/gtest.h>
#include <spate/metainfo/torrent_writer.hpp>

namespace spate::cli {
namespace {

// Three files of 40, 10 and 30 KiB around a pad file, in 16 KiB pieces:
//   a.bin [0, 40K)  pad [40K, 48K)  b.bin [48K, 58K)  c.bin [58K, 88K)
metainfo::torrent_info three_files() {
    metainfo::torrent_spec spec;
    spec.name = "set";
    spec.files = {{{"a.bin"}, 40 * 1024, false},
                  {{".pad", "8192"}, 8 * 1024, true},
                  {{"b.bin"}, 10 * 1024, false},
                  {{"c.bin"}, 30 * 1024, false}};
    spec.piece_length = 16 * 1024;
    spec.piece_hashes.assign(6 * 20, std::byte{0});
    auto bytes = metainfo::write_torrent(spec);
    EXPECT_TRUE(bytes) << bytes.error().message();
    auto parsed = metainfo::parse_torrent(*bytes);
    EXPECT_TRUE(parsed) << parsed.error().message();
    return *parsed;
}

TEST(download_plan, selection_takes_lists_and_ranges) {
    auto files = parse_file_selection("3,0-1,1", 4);
    ASSERT_TRUE(files);
    EXPECT_EQ(*files, (std::vector<std::size_t>{0, 1, 3}));
    EXPECT_TRUE(parse_file_selection("", 4)->empty());
}

TEST(download_plan, selection_refuses_what_is_not_there) {
    EXPECT_FALSE(parse_file_selection("4", 4));
    EXPECT_FALSE(parse_file_selection("2-1", 4));
    EXPECT_FALSE(parse_file_selection("x", 4));
    EXPECT_FALSE(parse_file_selection("1,", 4));
    EXPECT_FALSE(parse_file_selection("-3", 4));
    auto error = parse_file_selection("9", 4);
    ASSERT_FALSE(error);
    EXPECT_NE(error.error().find("file 9"), std::string::npos);
}

TEST(download_plan, wanted_pieces_cover_every_byte_of_the_selected_files) {
    const metainfo::torrent_info t = three_files();
    ASSERT_EQ(t.piece_count(), 6U);
    bitfield all = wanted_pieces(t, {});
    EXPECT_TRUE(all.all());
    bitfield b = wanted_pieces(t, {2}); // b.bin: [48K, 58K) is piece 3
    EXPECT_EQ(b.count(), 1U);
    EXPECT_TRUE(b.test(3));
    bitfield c = wanted_pieces(t, {3}); // c.bin: [58K, 88K) is pieces 3, 4, 5
    EXPECT_EQ(c.count(), 3U);
    EXPECT_TRUE(c.test(3) && c.test(4) && c.test(5));
    bitfield pad = wanted_pieces(t, {1});
    EXPECT_TRUE(pad.none());
}

TEST(download_plan, pool_holds_the_budget_in_whole_pieces) {
    pool_shape shape = plan_piece_pool(1 << 20, 10'000, 256ULL << 20);
    EXPECT_EQ(shape.slot_size, 1U << 20);
    EXPECT_EQ(shape.slots, 256U);
}

TEST(download_plan, pool_never_holds_more_slots_than_pieces_need) {
    pool_shape shape = plan_piece_pool(65536, 10, 256ULL << 20);
    EXPECT_EQ(shape.slots, 11U);
}

TEST(download_plan, pool_has_two_slots_even_when_a_piece_exceeds_the_budget) {
    pool_shape shape = plan_piece_pool(64ULL << 20, 100, 16ULL << 20);
    EXPECT_EQ(shape.slots, 2U);
    EXPECT_EQ(shape.slot_size, 64U << 20);
}

TEST(download_plan, pool_slots_are_whole_pages) {
    pool_shape shape = plan_piece_pool(100'000, 100, 1ULL << 20);
    EXPECT_EQ(shape.slot_size % 4096, 0U);
    EXPECT_GE(shape.slot_size, 100'000U);
    EXPECT_EQ(shape.slots, (1U << 20) / shape.slot_size);
}

TEST(download_plan, pool_stays_within_what_the_kernel_registers) {
    pool_shape shape = plan_piece_pool(16384, 1'000'000, 1ULL << 40);
    EXPECT_EQ(shape.slots, 16384U);
}

} // namespace
} // namespace spate::cli
