#include <spate/picker/error.hpp>
#include <spate/picker/piece_picker.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <set>
#include <tuple>
#include <vector>

namespace {

using spate::bitfield;
using spate::piece_index;
using spate::picker::block_request;
using spate::picker::block_size;
using spate::picker::errc;
using spate::picker::peer_key;
using spate::picker::picker_options;
using spate::picker::piece_picker;
using spate::picker::priority;

constexpr std::uint64_t one_block = block_size;
constexpr std::uint64_t four_blocks = 4 * block_size;

bitfield bits(std::uint32_t size, std::initializer_list<std::uint32_t> set) {
    bitfield b(size);
    for (std::uint32_t i : set) {
        b.set(i);
    }
    return b;
}

picker_options rarest_only() {
    return {.sequential = false, .random_first_pieces = 0, .seed = 1};
}

std::vector<block_request> pick(piece_picker& p, const bitfield& has, peer_key who, std::size_t n) {
    std::vector<block_request> out;
    std::size_t got = p.pick(has, who, n, out);
    EXPECT_EQ(got, out.size());
    p.check_invariants();
    return out;
}

std::set<std::uint32_t> pieces_of(const std::vector<block_request>& v) {
    std::set<std::uint32_t> s;
    for (const auto& b : v) {
        s.insert(b.piece.value());
    }
    return s;
}

block_request blk(std::uint32_t piece, std::uint32_t block) {
    return {piece_index(piece), block * block_size, block_size};
}

TEST(piece_picker, prefers_rarest_piece) {
    piece_picker p(8, one_block, 8 * one_block, rarest_only());
    bitfield all(8, true);
    p.add_peer(all);
    p.add_peer(bits(8, {0, 1, 2, 3, 4, 6, 7}));
    p.add_peer(bits(8, {0, 1, 3, 4, 6, 7}));
    p.add_have(piece_index(2)); // the third peer, one have message later
    p.add_have(piece_index(2));
    p.remove_peer(bits(8, {0, 1, 3, 4, 6, 7}));
    EXPECT_EQ(p.piece_availability(piece_index(5)), 1u);
    EXPECT_EQ(p.piece_availability(piece_index(2)), 4u);
    EXPECT_EQ(p.piece_availability(piece_index(0)), 2u);
    p.check_invariants();

    EXPECT_EQ(pick(p, all, 1, 1), (std::vector<block_request>{blk(5, 0)}));
    auto next = pick(p, all, 1, 7);
    ASSERT_EQ(next.size(), 7u);
    EXPECT_EQ(next.back(), blk(2, 0)) << "the most common piece comes last";
    EXPECT_TRUE(p.in_endgame());
    EXPECT_EQ(pick(p, all, 1, 1).size(), 0u) << "endgame never duplicates to the same peer";
}

TEST(piece_picker, picks_highest_priority_bucket_first) {
    piece_picker p(6, one_block, 6 * one_block, rarest_only());
    bitfield all(6, true);
    p.add_peer(all);
    p.add_peer(all);
    p.remove_peer(bits(6, {0, 1, 2, 3, 4, 5}));
    p.add_peer(bits(6, {3, 4, 5}));
    // Pieces 0-2 are rarer, but 4 is high and 0 is low.
    p.set_priority(piece_index(4), priority::high);
    p.set_priority(piece_index(0), priority::low);
    p.check_invariants();
    auto got = pick(p, all, 1, 6);
    ASSERT_EQ(got.size(), 6u);
    EXPECT_EQ(got.front(), blk(4, 0));
    EXPECT_EQ(got.back(), blk(0, 0));
    EXPECT_EQ(pieces_of({got[1], got[2]}), (std::set<std::uint32_t>{1, 2}))
        << "rarest within the normal bucket";
    EXPECT_EQ(pieces_of({got[3], got[4]}), (std::set<std::uint32_t>{3, 5}));
}

TEST(piece_picker, skip_is_never_picked_nor_wanted) {
    piece_picker p(4, one_block, 4 * one_block, rarest_only());
    for (std::uint32_t i : {0U, 2U, 3U}) {
        p.set_priority(piece_index(i), priority::skip);
    }
    EXPECT_EQ(p.wanted_remaining(), 1u);
    EXPECT_FALSE(p.is_wanted(piece_index(0)));
    EXPECT_TRUE(p.is_wanted(piece_index(1)));
    EXPECT_FALSE(p.is_interesting(bits(4, {0, 2, 3})));
    EXPECT_TRUE(p.is_interesting(bits(4, {1})));
    bitfield all(4, true);
    p.add_peer(all);
    EXPECT_EQ(pick(p, all, 1, 10), (std::vector<block_request>{blk(1, 0)}));
    EXPECT_TRUE(p.on_block_received(blk(1, 0), 1).piece_complete);
    p.mark_have(piece_index(1));
    EXPECT_TRUE(p.finished());
    EXPECT_FALSE(p.is_interesting(all));
    EXPECT_TRUE(pick(p, all, 1, 10).empty());
    // Un-skipping makes it wanted again.
    p.set_priority(piece_index(3), priority::normal);
    EXPECT_EQ(p.wanted_remaining(), 1u);
    EXPECT_EQ(pick(p, all, 1, 10), (std::vector<block_request>{blk(3, 0)}));
}

TEST(piece_picker, skipping_a_piece_in_progress_stops_handing_out_its_blocks) {
    piece_picker p(2, four_blocks, 8 * one_block, rarest_only());
    bitfield only0 = bits(2, {0});
    ASSERT_EQ(pick(p, only0, 1, 2).size(), 2u);
    p.set_priority(piece_index(0), priority::skip);
    EXPECT_TRUE(pick(p, only0, 2, 4).empty());
    EXPECT_FALSE(p.in_endgame());
    // Its outstanding blocks still arrive normally.
    EXPECT_TRUE(p.on_block_received(blk(0, 0), 1).expected);
    p.check_invariants();
}

TEST(piece_picker, random_first_pieces_repeat_with_the_same_seed) {
    auto run = [](std::uint64_t seed) {
        piece_picker p(64, one_block, 64 * one_block,
                       {.sequential = false, .random_first_pieces = 4, .seed = seed});
        bitfield all(64, true);
        p.add_peer(all);
        // Rarity says piece 63 first; random first ignores it.
        for (std::uint32_t i = 0; i < 62; ++i) {
            p.add_have(piece_index(i));
        }
        p.add_have(piece_index(62));
        std::vector<std::uint32_t> order;
        for (int i = 0; i < 4; ++i) {
            auto got = pick(p, all, 1, 1);
            EXPECT_EQ(got.size(), 1u);
            if (got.empty()) {
                break;
            }
            order.push_back(got[0].piece.value());
            EXPECT_TRUE(p.on_block_received(got[0], 1).piece_complete);
            p.mark_have(got[0].piece);
        }
        // Four had: now rarest first.
        auto got = pick(p, all, 1, 1);
        EXPECT_EQ(got.size(), 1u);
        std::uint32_t min_avail = 1000;
        for (std::uint32_t i = 0; i < 64; ++i) {
            if (!p.have(piece_index(i))) {
                min_avail = std::min(min_avail, p.piece_availability(piece_index(i)));
            }
        }
        if (!got.empty()) {
            EXPECT_EQ(p.piece_availability(got[0].piece), min_avail);
        }
        return order;
    };
    auto a = run(42);
    EXPECT_EQ(a, run(42));
    EXPECT_EQ(std::set<std::uint32_t>(a.begin(), a.end()).size(), 4u);
    // Different seeds: with 64 pieces, ten seeds all giving the same four would be a bug.
    bool differs = false;
    for (std::uint64_t seed = 1; seed <= 10; ++seed) {
        differs = differs || run(seed) != a;
    }
    EXPECT_TRUE(differs);
}

TEST(piece_picker, finishes_partial_pieces_first_and_prefers_its_own) {
    piece_picker p(3, four_blocks, 12 * one_block, rarest_only());
    peer_key d = 4;
    peer_key a = 1;
    EXPECT_EQ(pick(p, bits(3, {0}), d, 2), (std::vector<block_request>{blk(0, 0), blk(0, 1)}));
    EXPECT_EQ(pick(p, bits(3, {2}), a, 2), (std::vector<block_request>{blk(2, 0), blk(2, 1)}));
    bitfield all(3, true);
    // Piece 0 has a lower index and is partial too, but `a` already works on piece 2.
    EXPECT_EQ(pick(p, all, a, 2), (std::vector<block_request>{blk(2, 2), blk(2, 3)}));
    // Then the other partial piece before any new one.
    EXPECT_EQ(pick(p, all, a, 2), (std::vector<block_request>{blk(0, 2), blk(0, 3)}));
    EXPECT_EQ(pieces_of(pick(p, all, a, 1)), (std::set<std::uint32_t>{1}));
}

TEST(piece_picker, endgame_only_at_the_tail) {
    piece_picker p(3, 2 * one_block, 6 * one_block, rarest_only());
    bitfield all(3, true);
    bitfield first_two = bits(3, {0, 1});
    p.add_peer(all);
    p.add_peer(first_two);
    auto a_blocks = pick(p, first_two, 1, 4);
    EXPECT_EQ(a_blocks.size(), 4u);
    // Piece 2 is still free: no duplicates yet, even for a peer that cannot serve it.
    EXPECT_FALSE(p.in_endgame());
    EXPECT_TRUE(pick(p, first_two, 2, 4).empty());

    auto b_blocks = pick(p, all, 2, 3);
    ASSERT_EQ(b_blocks.size(), 3u);
    EXPECT_EQ(b_blocks[0], blk(2, 0));
    EXPECT_EQ(b_blocks[1], blk(2, 1));
    EXPECT_TRUE(p.in_endgame());
    // The third is a duplicate of one of a's blocks.
    EXPECT_NE(std::find(a_blocks.begin(), a_blocks.end(), b_blocks[2]), a_blocks.end());
    EXPECT_TRUE(p.is_requested_from(b_blocks[2], 1));
    EXPECT_TRUE(p.is_requested_from(b_blocks[2], 2));

    // Never the same block twice to one peer.
    auto b_more = pick(p, all, 2, 10);
    EXPECT_EQ(b_more.size(), 3u);
    auto b_none = pick(p, all, 2, 10);
    EXPECT_TRUE(b_none.empty());
    // Every block of pieces 0 and 1 now has two requesters: a third peer gets nothing there.
    EXPECT_TRUE(pick(p, first_two, 3, 10).empty());
    // a can still duplicate piece 2's blocks, which only b has.
    EXPECT_EQ(pick(p, all, 1, 10), (std::vector<block_request>{blk(2, 0), blk(2, 1)}));
}

TEST(piece_picker, received_block_lists_the_other_requesters_for_cancel) {
    piece_picker p(1, 2 * one_block, 2 * one_block, rarest_only());
    bitfield all(1, true);
    ASSERT_EQ(pick(p, all, 1, 2).size(), 2u);
    ASSERT_EQ(pick(p, all, 2, 2).size(), 2u);
    auto r = p.on_block_received(blk(0, 1), 2);
    EXPECT_TRUE(r.expected);
    EXPECT_FALSE(r.piece_complete);
    EXPECT_EQ(r.cancel_from, std::vector<peer_key>{1});
    EXPECT_FALSE(p.is_requested_from(blk(0, 1), 1));
    auto late = p.on_block_received(blk(0, 1), 1);
    EXPECT_FALSE(late.expected) << "the loser's copy is discarded";
    EXPECT_TRUE(late.cancel_from.empty());
    auto last = p.on_block_received(blk(0, 0), 1);
    EXPECT_TRUE(last.expected);
    EXPECT_TRUE(last.piece_complete);
    EXPECT_EQ(last.cancel_from, std::vector<peer_key>{2});
    p.check_invariants();
}

TEST(piece_picker, dropped_request_makes_the_block_requestable) {
    piece_picker p(2, 2 * one_block, 4 * one_block, rarest_only());
    bitfield all(2, true);
    auto a = pick(p, all, 1, 2);
    ASSERT_EQ(a.size(), 2u);
    std::uint32_t piece = a[0].piece.value();
    p.on_request_dropped(blk(piece, 1), 1);
    EXPECT_FALSE(p.is_requested_from(blk(piece, 1), 1));
    EXPECT_TRUE(p.is_requested_from(blk(piece, 0), 1));
    p.check_invariants();
    EXPECT_EQ(pick(p, all, 2, 1), (std::vector<block_request>{blk(piece, 1)}));
    // Dropping a request that does not exist changes nothing.
    p.on_request_dropped(blk(piece, 1), 7);
    p.on_request_dropped({piece_index(piece), 5, 3}, 2);
    EXPECT_TRUE(p.is_requested_from(blk(piece, 1), 2));
    // All requests gone: the piece is free again, not a partial piece.
    p.on_request_dropped(blk(piece, 0), 1);
    p.on_request_dropped(blk(piece, 1), 2);
    EXPECT_EQ(p.progress(piece_index(piece)), nullptr);
    EXPECT_EQ(p.in_progress_count(), 0u);
    p.check_invariants();
    EXPECT_EQ(pick(p, all, 3, 4).size(), 4u);
}

TEST(piece_picker, peer_gone_drops_all_its_requests) {
    piece_picker p(4, 2 * one_block, 8 * one_block, rarest_only());
    bitfield all(4, true);
    ASSERT_EQ(pick(p, all, 1, 3).size(), 3u);
    ASSERT_EQ(pick(p, all, 2, 2).size(), 2u);
    EXPECT_EQ(p.on_peer_gone(1), 3u);
    EXPECT_EQ(p.on_peer_gone(1), 0u);
    p.check_invariants();
    // b's pieces remain; a's untouched piece went back to the free pieces.
    EXPECT_EQ(p.in_progress_count(), 2u);
    EXPECT_EQ(pick(p, all, 3, 6).size(), 6u);
    // That was the last open block: now endgame duplicates b's two blocks to this peer, and
    // this peer's six to a fourth.
    EXPECT_TRUE(p.in_endgame());
    EXPECT_EQ(pick(p, all, 3, 8).size(), 2u);
    EXPECT_EQ(pick(p, all, 4, 8).size(), 6u);
    EXPECT_EQ(pick(p, all, 5, 8).size(), 0u) << "two requesters per block at most";
}

TEST(piece_picker, failed_piece_is_picked_again_from_scratch) {
    piece_picker p(1, 2 * one_block, 2 * one_block, rarest_only());
    bitfield all(1, true);
    auto got = pick(p, all, 1, 2);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_FALSE(p.on_block_received(got[0], 1).piece_complete);
    EXPECT_TRUE(p.on_block_received(got[1], 1).piece_complete);
    EXPECT_TRUE(p.progress(piece_index(0))->complete());
    p.on_piece_failed(piece_index(0));
    EXPECT_EQ(p.progress(piece_index(0)), nullptr);
    EXPECT_EQ(p.wanted_remaining(), 1u);
    p.check_invariants();
    EXPECT_EQ(pick(p, all, 2, 5), got);
}

TEST(piece_picker, have_forgets_block_state) {
    piece_picker p(2, 2 * one_block, 4 * one_block, rarest_only());
    bitfield all(2, true);
    auto got = pick(p, all, 1, 1);
    ASSERT_EQ(got.size(), 1u);
    p.mark_have(got[0].piece);
    p.mark_have(got[0].piece);
    EXPECT_TRUE(p.have(got[0].piece));
    EXPECT_EQ(p.have_bits().count(), 1u);
    EXPECT_EQ(p.in_progress_count(), 0u);
    EXPECT_FALSE(p.on_block_received(got[0], 1).expected);
    EXPECT_FALSE(p.is_requested_from(got[0], 1));
    EXPECT_EQ(p.wanted_remaining(), 1u);
    p.check_invariants();
}

TEST(piece_picker, unexpected_blocks_are_refused) {
    piece_picker p(2, 40000, 60000, rarest_only());
    bitfield all(2, true);
    ASSERT_EQ(pick(p, bits(2, {0}), 1, 3).size(), 3u);
    EXPECT_FALSE(p.on_block_received({piece_index(0), 0, block_size}, 2).expected)
        << "not requested from this peer";
    EXPECT_FALSE(p.on_block_received({piece_index(0), 1, block_size}, 1).expected);
    EXPECT_FALSE(p.on_block_received({piece_index(0), 32768, block_size}, 1).expected)
        << "the third block of a 40000-byte piece is 7232 bytes";
    EXPECT_FALSE(p.on_block_received({piece_index(1), 0, 20000}, 1).expected);
    EXPECT_FALSE(p.on_block_received({piece_index(9), 0, block_size}, 1).expected);
    EXPECT_FALSE(p.on_block_received({piece_index(1), 0, block_size}, 1).expected);
    EXPECT_TRUE(p.on_block_received({piece_index(0), 32768, 7232}, 1).expected);
    EXPECT_FALSE(p.on_block_received({piece_index(0), 32768, 7232}, 1).expected) << "a duplicate";
    EXPECT_FALSE(p.is_requested_from({piece_index(0), 0xFFFFC000U, block_size}, 1));
    p.check_invariants();
}

TEST(piece_picker, last_piece_and_last_block_are_shorter) {
    // 3 pieces of 40000 bytes (not a multiple of 16 KiB); 100000 in all.
    piece_picker p(3, 40000, 100000, rarest_only());
    bitfield all(3, true);
    auto got = pick(p, all, 1, 100);
    ASSERT_EQ(got.size(), 8u);
    std::sort(got.begin(), got.end(), [](const block_request& x, const block_request& y) {
        return std::tie(x.piece, x.begin) < std::tie(y.piece, y.begin);
    });
    std::vector<block_request> want{
        {piece_index(0), 0, 16384}, {piece_index(0), 16384, 16384}, {piece_index(0), 32768, 7232},
        {piece_index(1), 0, 16384}, {piece_index(1), 16384, 16384}, {piece_index(1), 32768, 7232},
        {piece_index(2), 0, 16384}, {piece_index(2), 16384, 3616},
    };
    EXPECT_EQ(got, want);
    std::uint64_t sum = 0;
    for (const auto& b : got) {
        sum += b.length;
        EXPECT_TRUE(p.on_block_received(b, 1).expected);
    }
    EXPECT_EQ(sum, 100000u);
    p.check_invariants();
}

TEST(piece_picker, single_piece_torrent_with_one_short_block) {
    piece_picker p(1, 256 * 1024, 1000);
    bitfield all(1, true);
    EXPECT_TRUE(p.is_interesting(all));
    auto got = pick(p, all, 9, 4);
    EXPECT_EQ(got, (std::vector<block_request>{{piece_index(0), 0, 1000}}));
    auto r = p.on_block_received(got[0], 9);
    EXPECT_TRUE(r.piece_complete);
    p.mark_have(piece_index(0));
    EXPECT_TRUE(p.finished());
    EXPECT_FALSE(p.in_endgame());
    p.check_invariants();
}

TEST(piece_picker, sequential_mode_picks_lowest_index_first) {
    piece_picker p(10, one_block, 10 * one_block,
                   {.sequential = true, .random_first_pieces = 4, .seed = 3});
    bitfield all(10, true);
    p.add_peer(bits(10, {9})); // rarity does not matter in sequential mode
    p.mark_have(piece_index(0));
    EXPECT_EQ(pieces_of(pick(p, all, 1, 2)), (std::set<std::uint32_t>{1, 2}));
    p.set_priority(piece_index(7), priority::high);
    EXPECT_EQ(pick(p, all, 1, 2), (std::vector<block_request>{blk(7, 0), blk(3, 0)}));
    EXPECT_EQ(pick(p, bits(10, {5, 9}), 2, 5), (std::vector<block_request>{blk(5, 0), blk(9, 0)}));
}

TEST(piece_picker, interest_and_bitfields_of_the_wrong_size) {
    piece_picker p(10, one_block, 10 * one_block, rarest_only());
    EXPECT_FALSE(p.is_interesting(bitfield(10)));
    EXPECT_FALSE(p.is_interesting(bitfield(11, true)));
    EXPECT_TRUE(p.is_interesting(bits(10, {9})));
    p.mark_have(piece_index(9));
    EXPECT_FALSE(p.is_interesting(bits(10, {9})));
    std::vector<block_request> out;
    EXPECT_EQ(p.pick(bitfield(11, true), 1, 5, out), 0u);
    p.add_peer(bitfield(11, true));
    EXPECT_EQ(p.piece_availability(piece_index(0)), 0u);
    p.remove_peer(bitfield(10, true)); // more removals than additions must not wrap
    EXPECT_EQ(p.piece_availability(piece_index(0)), 0u);
    p.check_invariants();
}

TEST(piece_picker, create_refuses_a_bad_geometry) {
    auto bad = piece_picker::create(4, 100, 1000);
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error(), errc::total_size_mismatch);
    auto good = piece_picker::create(4, 100, 301);
    ASSERT_TRUE(good.has_value());
    EXPECT_EQ(good->geometry().piece_size(piece_index(3)), 1u);
    good->check_invariants();
}

TEST(piece_picker_death, constructor_aborts_on_a_bad_geometry) {
    EXPECT_DEATH(piece_picker(0, 100, 0), "no pieces");
}

} // namespace
