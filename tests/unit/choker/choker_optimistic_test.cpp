#include "choker_test_support.hpp"

#include <spate/choker/choker.hpp>
#include <spate/choker/error.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

namespace {

using namespace choker_test;
TEST(choker, optimistic_unchoke_rotates_every_interval) {
    choker c = make(2);
    std::vector<peer_record> peers = {peer(1, 90e3), peer(2, 80e3), peer(3, 0.0),
                                      peer(4, 0.0),  peer(5, 0.0),  peer(6, 0.0)};
    const choke_decision first = c.rechoke(t0, peers, role::downloading);
    ASSERT_TRUE(first.optimistic.has_value());
    EXPECT_GE(*first.optimistic, 3U);
    apply(first, peers);
    for (auto at : {10s, 20s, 29s}) {
        const choke_decision d = c.rechoke(t0 + at, peers, role::downloading);
        EXPECT_EQ(d.optimistic, first.optimistic) << "rotated early, at " << at.count() << " s";
        apply(d, peers);
    }
    const choke_decision rotated = c.rechoke(t0 + 30s, peers, role::downloading);
    ASSERT_TRUE(rotated.optimistic.has_value());
    EXPECT_NE(rotated.optimistic, first.optimistic);
    EXPECT_FALSE(rotated.unchoked(*first.optimistic));
    EXPECT_EQ(c.optimistic(), rotated.optimistic);
    apply(rotated, peers);
    // The new one holds for a full interval from its own start.
    EXPECT_EQ(c.rechoke(t0 + 59s, peers, role::downloading).optimistic, rotated.optimistic);
    EXPECT_NE(c.rechoke(t0 + 60s, peers, role::downloading).optimistic, rotated.optimistic);
}

TEST(choker, optimistic_replaced_at_once_when_it_leaves_or_loses_interest) {
    choker c = make(1);
    std::vector<peer_record> peers = {peer(1, 90e3), peer(2, 0.0), peer(3, 0.0), peer(4, 0.0)};
    const choke_decision first = c.rechoke(t0, peers, role::downloading);
    ASSERT_TRUE(first.optimistic.has_value());
    apply(first, peers);
    std::erase_if(peers, [&](const peer_record& p) { return p.id == *first.optimistic; });
    const choke_decision after_leave = c.rechoke(t0 + 10s, peers, role::downloading);
    ASSERT_TRUE(after_leave.optimistic.has_value());
    EXPECT_NE(after_leave.optimistic, first.optimistic);
    apply(after_leave, peers);
    for (peer_record& p : peers) {
        if (p.id == *after_leave.optimistic) {
            p.interested = false;
        }
    }
    const choke_decision after_lost = c.rechoke(t0 + 20s, peers, role::downloading);
    expect_well_formed(after_lost, peers);
    ASSERT_TRUE(after_lost.optimistic.has_value());
    EXPECT_NE(after_lost.optimistic, after_leave.optimistic);
    EXPECT_FALSE(after_lost.unchoked(*after_leave.optimistic));
}

TEST(choker, optimistic_that_wins_a_regular_slot_frees_the_optimistic_one) {
    choker c = make(1);
    std::vector<peer_record> peers = {peer(1, 50e3), peer(2, 0.0), peer(3, 0.0)};
    const choke_decision first = c.rechoke(t0, peers, role::downloading);
    ASSERT_TRUE(first.optimistic.has_value());
    apply(first, peers);
    // The optimistic peer reciprocated: it now uploads fastest.
    for (peer_record& p : peers) {
        if (p.id == *first.optimistic) {
            p.download_rate_from_them = 200e3;
        }
    }
    const choke_decision d = c.rechoke(t0 + 10s, peers, role::downloading);
    expect_well_formed(d, peers);
    EXPECT_EQ(regular(d), (std::vector<peer_key>{*first.optimistic}));
    ASSERT_TRUE(d.optimistic.has_value());
    EXPECT_NE(d.optimistic, first.optimistic);
}

TEST(choker, optimistic_kept_when_nobody_else_is_eligible) {
    choker c = make(1);
    std::vector<peer_record> peers = {peer(1, 50e3), peer(2, 0.0)};
    for (auto at : {0s, 10s, 30s, 60s, 90s}) {
        const choke_decision d = c.rechoke(t0 + at, peers, role::downloading);
        EXPECT_EQ(d.unchoke, (std::vector<peer_key>{1, 2}));
        EXPECT_EQ(d.optimistic, std::optional<peer_key>(2));
        apply(d, peers);
    }
}

TEST(choker, no_optimistic_when_every_interested_peer_has_a_slot) {
    choker c = make(4);
    std::vector<peer_record> peers = {peer(1, 5e3), peer(2, 0.0), peer(3, 1e3)};
    peers[2].interested = false;
    peers[2].download_rate_from_them = 0.0;
    const choke_decision d = c.rechoke(t0, peers, role::downloading);
    EXPECT_EQ(d.unchoke, (std::vector<peer_key>{1, 2}));
    EXPECT_EQ(d.choke, (std::vector<peer_key>{3}));
    EXPECT_FALSE(d.optimistic.has_value());
    EXPECT_TRUE(c.rechoke(t0, {}, role::downloading).unchoke.empty());
}

TEST(choker, optimistic_does_not_rotate_when_the_clock_goes_back) {
    choker c = make(1);
    std::vector<peer_record> peers = {peer(1, 50e3), peer(2, 0.0), peer(3, 0.0)};
    const choke_decision first = c.rechoke(t0, peers, role::downloading);
    apply(first, peers);
    EXPECT_EQ(c.rechoke(t0 - 1h, peers, role::downloading).optimistic, first.optimistic);
}

/// Fraction of optimistic draws that went to a new peer, over `rounds` rotations with ten
/// old and ten new peers (new ones always connected 10 s before the draw).
double new_peer_share(std::uint32_t new_weight, int rounds) {
    choker c = make(1, 20240607, new_weight);
    std::vector<peer_record> peers = {peer(100, 1e6)};
    for (peer_key id = 1; id <= 20; ++id) {
        peers.push_back(peer(id, 0.0));
    }
    int new_picks = 0;
    clock::time_point now = t0;
    for (int round = 0; round < rounds; ++round) {
        for (peer_record& p : peers) {
            p.connected_since = p.id <= 10 ? now - 10s : now - 1h;
        }
        const choke_decision d = c.rechoke(now, peers, role::downloading);
        EXPECT_TRUE(d.optimistic.has_value());
        if (d.optimistic && *d.optimistic <= 10) {
            ++new_picks;
        }
        apply(d, peers);
        now += 30s;
    }
    return static_cast<double>(new_picks) / rounds;
}

TEST(choker, new_peers_are_favoured_for_the_optimistic_unchoke) {
    // Weight 3 against 1 with ten of each: about 3/4 of the draws go to new peers.
    const double favoured = new_peer_share(3, 4000);
    EXPECT_GT(favoured, 0.70);
    EXPECT_LT(favoured, 0.80);
    // Control: with no weighting the same setup splits about evenly.
    const double even = new_peer_share(1, 4000);
    EXPECT_GT(even, 0.45);
    EXPECT_LT(even, 0.55);
}

} // namespace
