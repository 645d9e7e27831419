#include <spate/picker/availability.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <vector>

namespace {

using spate::piece_index;
using spate::picker::availability;

std::vector<std::uint32_t> counts_in_order(const availability& a, std::uint8_t level) {
    std::vector<std::uint32_t> out;
    for (piece_index p : a.order(level)) {
        out.push_back(a.count(p));
    }
    return out;
}

TEST(availability, order_stays_sorted_rarest_first) {
    availability a(6);
    for (std::uint32_t i = 0; i < 6; ++i) {
        a.insert(piece_index(i), 4);
    }
    // Counts 3, 0, 2, 1, 0, 5.
    std::vector<std::uint32_t> want{3, 0, 2, 1, 0, 5};
    for (std::uint32_t i = 0; i < 6; ++i) {
        for (std::uint32_t k = 0; k < want[i]; ++k) {
            a.increment(piece_index(i));
            a.check_invariants();
        }
    }
    EXPECT_EQ(counts_in_order(a, 4), (std::vector<std::uint32_t>{0, 0, 1, 2, 3, 5}));
    a.decrement(piece_index(5));
    a.decrement(piece_index(5));
    a.decrement(piece_index(5));
    a.decrement(piece_index(5));
    a.check_invariants();
    EXPECT_EQ(a.count(piece_index(5)), 1u);
    EXPECT_EQ(counts_in_order(a, 4), (std::vector<std::uint32_t>{0, 0, 1, 1, 2, 3}));
}

TEST(availability, decrement_at_zero_stays_zero) {
    availability a(2);
    a.insert(piece_index(0), 1);
    a.decrement(piece_index(0));
    a.decrement(piece_index(1));
    EXPECT_EQ(a.count(piece_index(0)), 0u);
    EXPECT_EQ(a.count(piece_index(1)), 0u);
    a.check_invariants();
}

TEST(availability, counts_change_while_not_free_and_insert_finds_the_right_group) {
    availability a(4);
    a.insert(piece_index(0), 4);
    a.insert(piece_index(1), 4);
    a.increment(piece_index(0));
    a.increment(piece_index(0));
    a.increment(piece_index(3));
    a.increment(piece_index(3));
    a.increment(piece_index(3));
    a.insert(piece_index(3), 4);
    a.increment(piece_index(2));
    a.insert(piece_index(2), 4);
    a.check_invariants();
    auto order = a.order(4);
    ASSERT_EQ(order.size(), 4u);
    EXPECT_EQ(order[0], piece_index(1));
    EXPECT_EQ(order[1], piece_index(2));
    EXPECT_EQ(order[2], piece_index(0));
    EXPECT_EQ(order[3], piece_index(3));
    a.erase(piece_index(2));
    a.check_invariants();
    EXPECT_EQ(counts_in_order(a, 4), (std::vector<std::uint32_t>{0, 2, 3}));
    EXPECT_FALSE(a.is_free(piece_index(2)));
    EXPECT_EQ(a.free_count(), 3u);
}

TEST(availability, random_operations_match_a_naive_model) {
    constexpr std::uint32_t pieces = 64;
    availability a(pieces);
    std::vector<std::uint32_t> count(pieces, 0);
    std::vector<std::uint8_t> level(pieces, 0);
    std::mt19937 rng(12345);
    for (int step = 0; step < 20000; ++step) {
        piece_index p(static_cast<std::uint32_t>(rng() % pieces));
        switch (rng() % 4) {
        case 0:
            a.increment(p);
            ++count[p.value()];
            break;
        case 1:
            a.decrement(p);
            count[p.value()] -= count[p.value()] > 0 ? 1 : 0;
            break;
        case 2:
            if (level[p.value()] == 0) {
                auto l = static_cast<std::uint8_t>(1 + rng() % availability::level_count);
                a.insert(p, l);
                level[p.value()] = l;
            }
            break;
        default:
            a.erase(p);
            level[p.value()] = 0;
            break;
        }
        a.check_invariants();
        ASSERT_EQ(a.count(p), count[p.value()]);
        ASSERT_EQ(a.level(p), level[p.value()]);
    }
    for (std::uint8_t l = 1; l <= availability::level_count; ++l) {
        auto c = counts_in_order(a, l);
        EXPECT_TRUE(std::is_sorted(c.begin(), c.end()));
        std::set<std::uint32_t> in_order;
        for (piece_index p : a.order(l)) {
            in_order.insert(p.value());
        }
        std::set<std::uint32_t> expected;
        for (std::uint32_t i = 0; i < pieces; ++i) {
            if (level[i] == l) {
                expected.insert(i);
            }
        }
        EXPECT_EQ(in_order, expected);
    }
}

TEST(availability, shuffle_ties_reorders_only_within_a_group) {
    auto build = [](std::uint64_t seed) {
        availability a(100);
        for (std::uint32_t i = 0; i < 100; ++i) {
            a.insert(piece_index(i), 4);
            if (i % 2 == 0) {
                a.increment(piece_index(i));
            }
        }
        std::mt19937_64 rng(seed);
        a.shuffle_ties([&rng] { return rng(); });
        a.check_invariants();
        return std::vector<piece_index>(a.order(4).begin(), a.order(4).end());
    };
    auto one = build(1);
    EXPECT_EQ(one, build(1));
    EXPECT_NE(one, build(2));
    // The 50 pieces of availability 0 (odd indices) still come first.
    for (std::size_t i = 0; i < 50; ++i) {
        EXPECT_EQ(one[i].value() % 2, 1u);
    }
}

} // namespace
