#include <spate/metainfo/error.hpp>
#include <spate/metainfo/file_layout.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

namespace {

using spate::file_index;
using spate::piece_index;
using spate::metainfo::errc;
using spate::metainfo::file_layout;
using spate::metainfo::file_slice;
using spate::metainfo::layout_file;
using spate::metainfo::piece_range;

file_layout make(std::vector<layout_file> files, std::uint64_t piece_length) {
    auto r = file_layout::create(files, piece_length);
    EXPECT_TRUE(r.has_value());
    return r ? *r : file_layout{};
}

TEST(file_layout, single_file_with_short_last_piece) {
    auto l = make({{10, false}}, 4);
    EXPECT_EQ(l.piece_count(), 3u);
    EXPECT_EQ(l.total_size(), 10u);
    EXPECT_EQ(l.piece_size(piece_index(0)), 4u);
    EXPECT_EQ(l.piece_size(piece_index(2)), 2u);
    EXPECT_EQ(l.piece_size(piece_index(3)), 0u);
    auto last = l.map_piece(piece_index(2));
    ASSERT_TRUE(last.has_value());
    EXPECT_EQ(*last, (std::vector<file_slice>{{file_index(0), 8, 2, false}}));
}

TEST(file_layout, piece_spanning_files_skips_empty_ones_and_flags_pads) {
    // stream: a a a | (empty) | p p | b b b b b
    auto l = make({{3, false}, {0, false}, {2, true}, {5, false}}, 4);
    auto p0 = l.map_piece(piece_index(0));
    ASSERT_TRUE(p0.has_value());
    EXPECT_EQ(*p0,
              (std::vector<file_slice>{{file_index(0), 0, 3, false}, {file_index(2), 0, 1, true}}));
    auto p1 = l.map_piece(piece_index(1));
    ASSERT_TRUE(p1.has_value());
    EXPECT_EQ(*p1,
              (std::vector<file_slice>{{file_index(2), 1, 1, true}, {file_index(3), 0, 3, false}}));
    EXPECT_EQ(l.file_pieces(file_index(0)), (piece_range{piece_index(0), piece_index(0)}));
    EXPECT_EQ(l.file_pieces(file_index(1)), std::nullopt);
    EXPECT_EQ(l.file_pieces(file_index(3)), (piece_range{piece_index(1), piece_index(2)}));
    EXPECT_TRUE(l.is_pad(file_index(2)));
    EXPECT_EQ(l.file_offset(file_index(3)), 5u);
}

TEST(file_layout, sub_range_of_a_piece) {
    auto l = make({{3, false}, {3, false}, {3, false}}, 9);
    auto r = l.map_range(piece_index(0), 2, 5);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(*r, (std::vector<file_slice>{{file_index(0), 2, 1, false},
                                           {file_index(1), 0, 3, false},
                                           {file_index(2), 0, 1, false}}));
    auto empty = l.map_range(piece_index(0), 9, 0);
    ASSERT_TRUE(empty.has_value());
    EXPECT_TRUE(empty->empty());
}

TEST(file_layout, rejects_ranges_outside_the_piece) {
    auto l = make({{10, false}}, 4);
    EXPECT_EQ(l.map_range(piece_index(3), 0, 1).error(), make_error_code(errc::piece_out_of_range));
    EXPECT_EQ(l.map_range(piece_index(2), 1, 2).error(), make_error_code(errc::range_out_of_piece));
    EXPECT_EQ(l.map_range(piece_index(0), 5, 0).error(), make_error_code(errc::range_out_of_piece));
    const auto huge = std::numeric_limits<std::uint64_t>::max();
    EXPECT_EQ(l.map_range(piece_index(0), 1, huge).error(),
              make_error_code(errc::range_out_of_piece));
    EXPECT_EQ(l.map_range(piece_index(0), huge, 2).error(),
              make_error_code(errc::range_out_of_piece));
    EXPECT_EQ(l.map_piece(piece_index(99)).error(), make_error_code(errc::piece_out_of_range));
}

TEST(file_layout, create_rejects_zero_piece_length_overflow_and_too_many_pieces) {
    std::vector<layout_file> one{{1, false}};
    EXPECT_EQ(file_layout::create(one, 0).error(), make_error_code(errc::piece_length_zero));
    const auto max = std::numeric_limits<std::uint64_t>::max();
    std::vector<layout_file> overflow{{max, false}, {1, false}};
    EXPECT_EQ(file_layout::create(overflow, 1 << 20).error(),
              make_error_code(errc::total_size_overflow));
    std::vector<layout_file> huge{{max, false}};
    EXPECT_EQ(file_layout::create(huge, 1).error(), make_error_code(errc::too_many_pieces));
    // The largest total still divides without overflow.
    auto ok = file_layout::create(huge, std::uint64_t{1} << 40);
    ASSERT_TRUE(ok.has_value());
    EXPECT_EQ(ok->piece_count(), 1u << 24);
    EXPECT_EQ(ok->piece_size(piece_index((1u << 24) - 1)), (std::uint64_t{1} << 40) - 1);
}

TEST(file_layout, empty_and_all_zero_layouts_have_no_pieces) {
    auto l = make({{0, false}, {0, false}}, 3);
    EXPECT_EQ(l.piece_count(), 0u);
    EXPECT_FALSE(l.contains(piece_index(0)));
    EXPECT_EQ(file_layout{}.piece_count(), 0u);
}

// Checks every piece and every sub-range of a layout against a byte-by-byte model of the
// stream: the slices of each piece tile it exactly, in order, and together the pieces
// visit every byte of every non-empty file exactly once, in stream order.
void check_layout(const std::vector<layout_file>& files, std::uint64_t piece_length) {
    auto made = file_layout::create(files, piece_length);
    ASSERT_TRUE(made.has_value());
    const auto& l = *made;

    // The model: for each stream byte, the (file, offset in file) it belongs to.
    std::vector<std::pair<std::uint32_t, std::uint64_t>> model;
    for (std::uint32_t f = 0; f < files.size(); ++f) {
        for (std::uint64_t b = 0; b < files[f].length; ++b) {
            model.emplace_back(f, b);
        }
    }
    ASSERT_EQ(l.total_size(), model.size());
    ASSERT_EQ(l.piece_count(), (model.size() + piece_length - 1) / piece_length);

    std::vector<std::pair<std::uint32_t, std::uint64_t>> visited;
    std::vector<piece_range> seen(files.size(), piece_range{piece_index(~0u), piece_index(0)});
    for (piece_index p(0); l.contains(p); ++p) {
        const std::uint64_t size = l.piece_size(p);
        ASSERT_EQ(size,
                  std::min<std::uint64_t>(piece_length, model.size() - p.value() * piece_length));
        for (std::uint64_t off = 0; off <= size; ++off) {
            for (std::uint64_t len = 0; off + len <= size; ++len) {
                auto slices = l.map_range(p, off, len);
                ASSERT_TRUE(slices.has_value());
                std::uint64_t pos = p.value() * piece_length + off;
                for (const auto& s : *slices) {
                    ASSERT_GT(s.length, 0u);
                    ASSERT_EQ(s.pad, files[s.file.value()].pad);
                    ASSERT_LE(s.offset + s.length, files[s.file.value()].length);
                    for (std::uint64_t b = 0; b < s.length; ++b, ++pos) {
                        ASSERT_EQ(model[pos], std::make_pair(s.file.value(), s.offset + b));
                    }
                    if (off == 0 && len == size) {
                        for (std::uint64_t b = 0; b < s.length; ++b) {
                            visited.emplace_back(s.file.value(), s.offset + b);
                        }
                        auto& r = seen[s.file.value()];
                        r.first = std::min(r.first, p);
                        r.last = std::max(r.last, p);
                    }
                }
                ASSERT_EQ(pos, p.value() * piece_length + off + len);
            }
        }
        ASSERT_EQ(*l.map_piece(p), *l.map_range(p, 0, size));
    }
    ASSERT_EQ(visited, model);
    for (std::uint32_t f = 0; f < files.size(); ++f) {
        auto r = l.file_pieces(file_index(f));
        if (files[f].length == 0) {
            ASSERT_FALSE(r.has_value());
        } else {
            ASSERT_TRUE(r.has_value());
            ASSERT_EQ(*r, seen[f]);
        }
    }
}

TEST(file_layout, exhaustive_small_geometries_tile_every_piece_and_cover_every_byte) {
    // Up to 4 files of 0..5 bytes (every second one a pad file), piece lengths 1..7.
    int layouts = 0;
    for (std::size_t n = 1; n <= 4; ++n) {
        std::size_t combos = 1;
        for (std::size_t i = 0; i < n; ++i) {
            combos *= 6;
        }
        for (std::size_t c = 0; c < combos; ++c) {
            std::vector<layout_file> files;
            std::size_t rest = c;
            for (std::size_t i = 0; i < n; ++i) {
                files.push_back({rest % 6, (c + i) % 2 == 1});
                rest /= 6;
            }
            for (std::uint64_t pl = 1; pl <= 7; ++pl) {
                check_layout(files, pl);
                if (testing::Test::HasFatalFailure()) {
                    ADD_FAILURE() << "files=" << n << " combo=" << c << " piece_length=" << pl;
                    return;
                }
                ++layouts;
            }
        }
    }
    EXPECT_EQ(layouts, (6 + 36 + 216 + 1296) * 7);
}

} // namespace
