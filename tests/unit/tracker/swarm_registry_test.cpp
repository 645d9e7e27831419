#include <spate/tracker/swarm_registry.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

namespace {

using namespace spate;
using namespace spate::tracker;
using namespace std::chrono_literals;
using time_point = std::chrono::steady_clock::time_point;

const time_point t0{std::chrono::hours(1000)};

sha1_digest hash_of(unsigned char fill) {
    sha1_digest d;
    d.bytes.fill(static_cast<std::byte>(fill));
    return d;
}

endpoint at(std::string_view text) {
    auto e = endpoint::parse(text);
    EXPECT_TRUE(e.has_value()) << text;
    return e.value_or(endpoint{});
}

// A peer at 127.0.0.1:<port> whose peer id is the port repeated.
swarm_announce peer(std::uint16_t port, std::uint64_t left = 100,
                    announce_event event = announce_event::none) {
    swarm_announce a;
    a.address = at("127.0.0.1:" + std::to_string(port));
    a.id.fill(static_cast<std::byte>(port & 0xff));
    a.left = left;
    a.event = event;
    return a;
}

swarm_settings small_settings() {
    swarm_settings s;
    s.announce_interval = 10s;
    return s;
}

TEST(swarm_registry, first_announce_records_the_peer) {
    swarm_registry r(small_settings());
    auto result = r.announce(hash_of(1), peer(6881), t0);
    EXPECT_EQ(result.status, swarm_status::recorded);
    EXPECT_EQ(result.counts, (swarm_counts{.seeders = 0, .leechers = 1, .downloaded = 0}));
    EXPECT_EQ(r.torrent_count(), 1U);
    EXPECT_EQ(r.peer_count(), 1U);
}

TEST(swarm_registry, left_zero_makes_a_seed_and_reannounce_updates_it) {
    swarm_registry r(small_settings());
    r.announce(hash_of(1), peer(1), t0);
    r.announce(hash_of(1), peer(2, 0), t0);
    EXPECT_EQ(r.counts(hash_of(1)), (swarm_counts{.seeders = 1, .leechers = 1, .downloaded = 0}));
    // Peer 1 finishes: one seeder more, one leecher less, one download counted.
    auto done = r.announce(hash_of(1), peer(1, 0, announce_event::completed), t0 + 1s);
    EXPECT_EQ(done.counts, (swarm_counts{.seeders = 2, .leechers = 0, .downloaded = 1}));
    // A seed going back to leeching (a recheck found damage) is counted as a leecher.
    auto back = r.announce(hash_of(1), peer(2, 5), t0 + 2s);
    EXPECT_EQ(back.counts, (swarm_counts{.seeders = 1, .leechers = 1, .downloaded = 1}));
    EXPECT_EQ(r.peer_count(), 2U);
}

TEST(swarm_registry, leechers_lists_the_peers_that_are_not_seeds) {
    swarm_registry r(small_settings());
    r.announce(hash_of(1), peer(1), t0);
    r.announce(hash_of(1), peer(2, 0), t0);
    r.announce(hash_of(1), peer(3), t0);
    r.announce(hash_of(2), peer(4), t0);
    std::vector<endpoint> got = r.leechers(hash_of(1));
    std::set<std::uint16_t> ports;
    for (const endpoint& e : got) {
        ports.insert(e.port());
    }
    EXPECT_EQ(ports, (std::set<std::uint16_t>{1, 3}));
    EXPECT_TRUE(r.leechers(hash_of(9)).empty());
}

TEST(swarm_registry, repeated_completed_event_counts_once) {
    swarm_registry r(small_settings());
    r.announce(hash_of(1), peer(1, 0, announce_event::completed), t0);
    r.announce(hash_of(1), peer(1, 0, announce_event::completed), t0 + 1s);
    EXPECT_EQ(r.counts(hash_of(1)).downloaded, 1U);
    r.announce(hash_of(1), peer(2, 0, announce_event::completed), t0 + 1s);
    EXPECT_EQ(r.counts(hash_of(1)).downloaded, 2U);
}

TEST(swarm_registry, stopped_removes_the_peer_and_empty_torrents) {
    swarm_registry r(small_settings());
    r.announce(hash_of(1), peer(1), t0);
    r.announce(hash_of(1), peer(2, 0), t0);
    auto after = r.announce(hash_of(1), peer(1, 100, announce_event::stopped), t0 + 1s);
    EXPECT_EQ(after.status, swarm_status::recorded);
    EXPECT_EQ(after.counts, (swarm_counts{.seeders = 1, .leechers = 0, .downloaded = 0}));
    EXPECT_EQ(r.peer_count(), 1U);
    r.announce(hash_of(1), peer(2, 0, announce_event::stopped), t0 + 1s);
    EXPECT_EQ(r.peer_count(), 0U);
    EXPECT_EQ(r.torrent_count(), 0U);
}

TEST(swarm_registry, stopped_for_an_unknown_torrent_adds_nothing) {
    swarm_registry r(small_settings());
    r.announce(hash_of(9), peer(1, 100, announce_event::stopped), t0);
    EXPECT_EQ(r.torrent_count(), 0U);
    EXPECT_EQ(r.peer_count(), 0U);
}

TEST(swarm_registry, peers_for_excludes_the_requester) {
    swarm_registry r(small_settings());
    for (std::uint16_t port = 1; port <= 5; ++port) {
        r.announce(hash_of(1), peer(port), t0);
    }
    for (int round = 0; round < 20; ++round) {
        auto peers = r.peers_for(hash_of(1), peer(3), 50, address_family::v4);
        EXPECT_EQ(peers.size(), 4U);
        EXPECT_EQ(std::count(peers.begin(), peers.end(), peer(3).address), 0);
        std::set<endpoint> distinct(peers.begin(), peers.end());
        EXPECT_EQ(distinct.size(), peers.size());
    }
}

TEST(swarm_registry, peers_for_excludes_the_requesters_peer_id_at_another_address) {
    swarm_registry r(small_settings());
    swarm_announce v4 = peer(1);
    swarm_announce v6 = v4;
    v6.address = at("[::1]:1");
    swarm_announce also_v4 = v4;
    also_v4.address = at("127.0.0.2:1"); // same client, another address
    r.announce(hash_of(1), v4, t0);
    r.announce(hash_of(1), also_v4, t0);
    r.announce(hash_of(1), peer(2), t0);
    auto peers = r.peers_for(hash_of(1), v6, 50, address_family::v4);
    ASSERT_EQ(peers.size(), 1U);
    EXPECT_EQ(peers[0], peer(2).address);
}

TEST(swarm_registry, peers_for_respects_numwant_and_varies_the_sample) {
    swarm_registry r(small_settings());
    for (std::uint16_t port = 1; port <= 100; ++port) {
        r.announce(hash_of(1), peer(port), t0);
    }
    std::set<endpoint> seen;
    for (int round = 0; round < 50; ++round) {
        auto peers = r.peers_for(hash_of(1), peer(1000), 7, address_family::v4);
        EXPECT_EQ(peers.size(), 7U);
        seen.insert(peers.begin(), peers.end());
    }
    // Fifty random starting points over a hundred peers reach far beyond the first seven.
    EXPECT_GT(seen.size(), 50U);
    EXPECT_TRUE(r.peers_for(hash_of(1), peer(1000), 0, address_family::v4).empty());
}

TEST(swarm_registry, peers_for_returns_only_the_family_asked_for) {
    swarm_registry r(small_settings());
    swarm_announce v6 = peer(7);
    v6.address = at("[::1]:7");
    r.announce(hash_of(1), v6, t0);
    r.announce(hash_of(1), peer(8), t0);
    auto only_v6 = r.peers_for(hash_of(1), peer(9), 50, address_family::v6);
    ASSERT_EQ(only_v6.size(), 1U);
    EXPECT_EQ(only_v6[0], v6.address);
    auto only_v4 = r.peers_for(hash_of(1), peer(9), 50, address_family::v4);
    ASSERT_EQ(only_v4.size(), 1U);
    EXPECT_EQ(only_v4[0], peer(8).address);
}

TEST(swarm_registry, peers_for_an_unknown_torrent_is_empty) {
    swarm_registry r(small_settings());
    EXPECT_TRUE(r.peers_for(hash_of(1), peer(1), 50, address_family::v4).empty());
    EXPECT_EQ(r.counts(hash_of(1)), swarm_counts{});
}

TEST(swarm_registry, same_address_with_new_peer_id_replaces_the_record) {
    swarm_registry r(small_settings());
    r.announce(hash_of(1), peer(1), t0);
    swarm_announce restarted = peer(1);
    restarted.id.fill(std::byte{0x77});
    r.announce(hash_of(1), restarted, t0 + 1s);
    EXPECT_EQ(r.peer_count(), 1U);
    // The record carries the new id: the old id elsewhere no longer excludes it, and the
    // new id elsewhere does.
    swarm_announce old_id_elsewhere = peer(1);
    old_id_elsewhere.address = at("127.0.0.5:1");
    EXPECT_EQ(r.peers_for(hash_of(1), old_id_elsewhere, 50, address_family::v4).size(), 1U);
    swarm_announce new_id_elsewhere = restarted;
    new_id_elsewhere.address = at("127.0.0.5:1");
    EXPECT_TRUE(r.peers_for(hash_of(1), new_id_elsewhere, 50, address_family::v4).empty());
}

TEST(swarm_registry, expire_drops_peers_after_one_and_a_half_intervals) {
    swarm_registry r(small_settings()); // interval 10 s: timeout 15 s
    r.announce(hash_of(1), peer(1), t0);
    r.announce(hash_of(1), peer(2), t0 + 5s);
    r.announce(hash_of(2), peer(3), t0);

    EXPECT_EQ(r.expire(t0 + 15s), 0U); // exactly the timeout: still there
    EXPECT_EQ(r.peer_count(), 3U);
    EXPECT_EQ(r.expire(t0 + 15s + 1ns), 2U);
    EXPECT_EQ(r.peer_count(), 1U);
    EXPECT_EQ(r.torrent_count(), 1U); // torrent 2 had nobody left
    EXPECT_EQ(r.counts(hash_of(1)).leechers, 1U);

    // A re-announce refreshes the last-seen time.
    r.announce(hash_of(1), peer(2), t0 + 19s);
    EXPECT_EQ(r.expire(t0 + 30s), 0U);
    EXPECT_EQ(r.expire(t0 + 35s), 1U);
    EXPECT_EQ(r.torrent_count(), 0U);
}

TEST(swarm_registry, expire_keeps_the_index_consistent_when_many_go) {
    swarm_registry r(small_settings());
    for (std::uint16_t port = 1; port <= 50; ++port) {
        // Every third peer announces late and survives.
        r.announce(hash_of(1), peer(port), port % 3 == 0 ? t0 + 10s : t0);
    }
    EXPECT_EQ(r.expire(t0 + 20s), 34U);
    auto left = r.peers_for(hash_of(1), peer(1000), 100, address_family::v4);
    EXPECT_EQ(left.size(), 16U);
    for (const endpoint& e : left) {
        EXPECT_EQ(e.port() % 3, 0);
        // Each survivor can still be found and removed by address.
        r.announce(hash_of(1), peer(e.port(), 100, announce_event::stopped), t0 + 20s);
    }
    EXPECT_EQ(r.peer_count(), 0U);
}

TEST(swarm_registry, bounds_torrents) {
    swarm_settings settings = small_settings();
    settings.max_torrents = 2;
    swarm_registry r(settings);
    EXPECT_EQ(r.announce(hash_of(1), peer(1), t0).status, swarm_status::recorded);
    EXPECT_EQ(r.announce(hash_of(2), peer(1), t0).status, swarm_status::recorded);
    EXPECT_EQ(r.announce(hash_of(3), peer(1), t0).status, swarm_status::too_many_torrents);
    EXPECT_EQ(r.torrent_count(), 2U);
    // Known torrents still take announces, and room freed by expiry is usable again.
    EXPECT_EQ(r.announce(hash_of(2), peer(2), t0).status, swarm_status::recorded);
    r.expire(t0 + 1h);
    EXPECT_EQ(r.announce(hash_of(3), peer(1), t0 + 1h).status, swarm_status::recorded);
}

TEST(swarm_registry, bounds_peers_per_torrent_and_total) {
    swarm_settings settings = small_settings();
    settings.max_peers_per_torrent = 3;
    settings.max_peers_total = 4;
    swarm_registry r(settings);
    for (std::uint16_t port = 1; port <= 3; ++port) {
        EXPECT_EQ(r.announce(hash_of(1), peer(port), t0).status, swarm_status::recorded);
    }
    auto full = r.announce(hash_of(1), peer(4), t0);
    EXPECT_EQ(full.status, swarm_status::too_many_peers);
    EXPECT_EQ(full.counts.leechers, 3U);
    // A peer already known still refreshes.
    EXPECT_EQ(r.announce(hash_of(1), peer(2, 0), t0).status, swarm_status::recorded);
    // The total bound: one more peer in another torrent, then no more.
    EXPECT_EQ(r.announce(hash_of(2), peer(5), t0).status, swarm_status::recorded);
    EXPECT_EQ(r.announce(hash_of(2), peer(6), t0).status, swarm_status::too_many_peers);
    EXPECT_EQ(r.announce(hash_of(3), peer(6), t0).status, swarm_status::too_many_peers);
    EXPECT_EQ(r.torrent_count(), 2U);
    EXPECT_EQ(r.peer_count(), 4U);
    // A refused peer can still be given the swarm.
    EXPECT_EQ(r.peers_for(hash_of(1), peer(4), 50, address_family::v4).size(), 3U);
}

TEST(swarm_registry, scrape_reports_counts_and_all_torrents_up_to_a_limit) {
    swarm_registry r(small_settings());
    r.announce(hash_of(1), peer(1, 0, announce_event::completed), t0);
    r.announce(hash_of(1), peer(2), t0);
    r.announce(hash_of(2), peer(3), t0);
    EXPECT_EQ(
        r.scrape(hash_of(1)),
        (scrape_entry{.info_hash = hash_of(1), .complete = 1, .downloaded = 1, .incomplete = 1}));
    EXPECT_EQ(r.scrape(hash_of(7)), (scrape_entry{.info_hash = hash_of(7)}));
    EXPECT_EQ(r.scrape_all(10).size(), 2U);
    EXPECT_EQ(r.scrape_all(1).size(), 1U);
}

} // namespace
