#include "choker_test_support.hpp"

#include <spate/choker/choker.hpp>
#include <spate/choker/error.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <set>
#include <vector>

namespace {

using namespace choker_test;
using spate::choker::errc;

TEST(choker, create_refuses_settings_that_cannot_work) {
    EXPECT_EQ(choker::create({.upload_slots = 0}).error(), errc::no_upload_slots);
    EXPECT_EQ(choker::create({.optimistic_interval = 0s}).error(),
              errc::optimistic_interval_not_positive);
    EXPECT_EQ(choker::create({.optimistic_interval = -5s}).error(),
              errc::optimistic_interval_not_positive);
    EXPECT_EQ(choker::create({.new_peer_weight = 0}).error(), errc::new_peer_weight_zero);
    EXPECT_EQ(choker::create({.new_peer_window = -1s}).error(), errc::new_peer_window_negative);
    const auto ok = choker::create({});
    ASSERT_TRUE(ok.has_value());
    EXPECT_EQ(ok->settings().upload_slots, 8U);
    EXPECT_EQ(ok->settings().optimistic_interval, clock::duration(30s));
}

TEST(choker, downloader_unchokes_the_fastest_uploaders_to_us) {
    choker c = make(4);
    std::vector<peer_record> peers;
    // Recorded rates, deliberately out of id order; upload rates would pick others.
    const double rates[] = {5e3, 80e3, 1e3, 120e3, 0.0, 64e3, 2e3, 90e3, 10e3, 300.0};
    for (peer_key id = 0; id < 10; ++id) {
        peers.push_back(peer(id, rates[id], 1e6 - rates[id]));
    }
    const choke_decision d = c.rechoke(t0, peers, role::downloading);
    expect_well_formed(d, peers);
    EXPECT_EQ(regular(d), (std::vector<peer_key>{1, 3, 5, 7}));
    ASSERT_TRUE(d.optimistic.has_value());
    EXPECT_EQ(d.unchoke.size(), 5U);
    EXPECT_EQ(d.choke.size(), 5U);
}

TEST(choker, snubbed_peer_gets_no_regular_slot) {
    choker c = make(2);
    std::vector<peer_record> peers = {peer(1, 900e3), peer(2, 10e3), peer(3, 20e3), peer(4, 5e3)};
    peers[0].is_snubbed = true;
    const choke_decision d = c.rechoke(t0, peers, role::downloading);
    expect_well_formed(d, peers);
    EXPECT_EQ(regular(d), (std::vector<peer_key>{2, 3}));
}

TEST(choker, uninterested_peers_take_no_slot) {
    choker c = make(2);
    std::vector<peer_record> peers = {peer(1, 50e3), peer(2, 40e3), peer(3, 30e3),
                                      peer(4, 90e3), peer(5, 35e3), peer(6, 0.0)};
    // 4 sends faster than every downloader, 5 slower than the slowest regular one,
    // 6 sends nothing: only 4 is unchoked, and both slots still go to interested peers.
    for (std::size_t i : {3U, 4U, 5U}) {
        peers[i].interested = false;
    }
    const choke_decision d = c.rechoke(t0, peers, role::downloading);
    expect_well_formed(d, peers);
    EXPECT_EQ(regular(d), (std::vector<peer_key>{1, 2, 4}));
    // The optimistic unchoke is drawn among interested peers only.
    EXPECT_EQ(d.optimistic, std::optional<peer_key>(3));
}

TEST(choker, uninterested_fast_peer_unchoked_while_slots_are_free) {
    choker c = make(4);
    std::vector<peer_record> peers = {peer(1, 10e3), peer(2, 20e3)};
    peers[1].interested = false;
    const choke_decision d = c.rechoke(t0, peers, role::downloading);
    EXPECT_EQ(d.unchoke, (std::vector<peer_key>{1, 2}));
    EXPECT_FALSE(d.optimistic.has_value());
}

TEST(choker, seed_ranks_by_upload_rate_to_them) {
    choker c = make(3);
    std::vector<peer_record> peers;
    for (peer_key id = 1; id <= 8; ++id) {
        // Download rates rank the ids the other way round: a seed must ignore them.
        peers.push_back(peer(id, 1000.0 * id, 100e3 - 1000.0 * id));
    }
    peers[2].is_snubbed = true; // irrelevant to a seed
    const choke_decision d = c.rechoke(t0, peers, role::seeding);
    expect_well_formed(d, peers);
    EXPECT_EQ(regular(d), (std::vector<peer_key>{1, 2, 3}));
    ASSERT_TRUE(d.optimistic.has_value());
    EXPECT_GT(*d.optimistic, 3U);
}

TEST(choker, seed_keeps_uninterested_peers_choked) {
    choker c = make(3);
    std::vector<peer_record> peers = {peer(1, 0.0, 50e3), peer(2, 0.0, 10e3)};
    peers[0].interested = false;
    const choke_decision d = c.rechoke(t0, peers, role::seeding);
    EXPECT_EQ(d.unchoke, (std::vector<peer_key>{2}));
    EXPECT_EQ(d.choke, (std::vector<peer_key>{1}));
}

TEST(choker, seed_round_robin_when_rates_tie) {
    choker c = make(2);
    std::vector<peer_record> peers;
    for (peer_key id = 1; id <= 6; ++id) {
        peers.push_back(peer(id, 0.0, 0.0));
        // Connected longest first gives the first turn.
        peers.back().connected_since = t0 - std::chrono::minutes(10 - id);
    }
    std::set<peer_key> had_turn;
    std::vector<peer_key> previous_regular;
    for (int round = 0; round < 3; ++round) {
        const choke_decision d = c.rechoke(t0 + round * 10s, peers, role::seeding);
        expect_well_formed(d, peers);
        const std::vector<peer_key> now_regular = regular(d);
        EXPECT_EQ(now_regular.size(), 2U);
        if (round == 0) {
            EXPECT_EQ(now_regular, (std::vector<peer_key>{1, 2}));
        }
        for (peer_key id : now_regular) {
            EXPECT_EQ(std::count(previous_regular.begin(), previous_regular.end(), id), 0)
                << "peer " << id << " kept its slot although others of equal rate waited";
        }
        had_turn.insert(d.unchoke.begin(), d.unchoke.end());
        previous_regular = now_regular;
        apply(d, peers);
    }
    EXPECT_EQ(had_turn.size(), peers.size()) << "every tied peer got a turn in 3 rechokes";
}

TEST(choker, slots_respected_and_lists_well_formed_on_random_swarms) {
    std::mt19937 random(12345);
    for (std::uint32_t slots : {1U, 3U, 8U}) {
        choker c = make(slots, slots);
        std::vector<peer_record> peers;
        for (int round = 0; round < 300; ++round) {
            // Peers come and go, change interest and rates; ids repeat across rounds.
            if (peers.size() < 40 && random() % 3 != 0) {
                peer_record p = peer(random() % 60, static_cast<double>(random() % 5) * 1e3,
                                     static_cast<double>(random() % 5) * 1e3);
                p.interested = random() % 4 != 0;
                p.is_snubbed = random() % 7 == 0;
                p.connected_since = t0 + round * 10s;
                peers.push_back(p);
            }
            if (!peers.empty() && random() % 4 == 0) {
                peers.erase(peers.begin() + static_cast<std::ptrdiff_t>(random() % peers.size()));
            }
            for (peer_record& p : peers) {
                if (random() % 5 == 0) {
                    p.interested = !p.interested;
                }
            }
            const role as = round % 2 == 0 ? role::downloading : role::seeding;
            const choke_decision d = c.rechoke(t0 + round * 10s, peers, as);
            // Duplicate ids in the input are ignored after the first: dedupe to compare.
            std::vector<peer_record> first_of_each;
            for (const peer_record& p : peers) {
                if (std::none_of(first_of_each.begin(), first_of_each.end(),
                                 [&](const peer_record& q) { return q.id == p.id; })) {
                    first_of_each.push_back(p);
                }
            }
            expect_well_formed(d, first_of_each);
            std::uint32_t interested_regular = 0;
            for (const peer_record& p : first_of_each) {
                const bool is_regular = d.unchoked(p.id) && d.optimistic != p.id;
                interested_regular += is_regular && p.interested ? 1 : 0;
                if (is_regular && as == role::downloading) {
                    EXPECT_FALSE(p.is_snubbed);
                }
                if (d.unchoked(p.id) && as == role::seeding) {
                    EXPECT_TRUE(p.interested);
                }
            }
            EXPECT_LE(interested_regular, slots);
            apply(d, peers);
        }
    }
}

TEST(choker, repeated_id_counts_once_with_its_first_record) {
    choker c = make(1);
    std::vector<peer_record> peers = {peer(1, 10e3), peer(2, 20e3), peer(1, 90e3)};
    const choke_decision d = c.rechoke(t0, peers, role::downloading);
    EXPECT_EQ(regular(d), (std::vector<peer_key>{2}));
    EXPECT_EQ(d.unchoke.size() + d.choke.size(), 2U);
}

TEST(choker, garbage_rates_count_as_zero) {
    choker c = make(1);
    std::vector<peer_record> peers = {peer(1, std::numeric_limits<double>::quiet_NaN()),
                                      peer(2, std::numeric_limits<double>::infinity()),
                                      peer(3, -5e6), peer(4, 1.0)};
    const choke_decision d = c.rechoke(t0, peers, role::downloading);
    EXPECT_EQ(regular(d), (std::vector<peer_key>{4}));
}

TEST(choker, peers_that_left_are_forgotten) {
    choker c = make(2);
    std::vector<peer_record> peers = {peer(1, 0.0), peer(2, 0.0), peer(3, 0.0), peer(4, 0.0)};
    peers[2].connected_since = t0 - 2h; // ranks first among equals
    const choke_decision first = c.rechoke(t0, peers, role::downloading);
    EXPECT_EQ(c.remembered_peers(), 3U);
    EXPECT_TRUE(first.unchoked(3));
    apply(first, peers);
    // Everybody but 3 leaves; then they come back as new connections with the same ids.
    const choke_decision alone = c.rechoke(t0 + 10s, {&peers[2], 1}, role::downloading);
    EXPECT_EQ(alone.unchoke, (std::vector<peer_key>{3}));
    EXPECT_EQ(c.remembered_peers(), 1U);
    EXPECT_FALSE(c.optimistic().has_value());
    // 3 was just unchoked, the others are unknown again: they win the tie.
    for (peer_record& p : peers) {
        p.am_choking = p.id != 3;
    }
    const choke_decision back = c.rechoke(t0 + 20s, peers, role::downloading);
    EXPECT_EQ(regular(back), (std::vector<peer_key>{1, 2}));
    EXPECT_EQ(back.optimistic, std::optional<peer_key>(4));
    (void)c.rechoke(t0 + 30s, {}, role::downloading);
    EXPECT_EQ(c.remembered_peers(), 0U);
    EXPECT_FALSE(c.optimistic().has_value());
}

} // namespace
