#pragma once
// Helpers shared by the choker tests: peer records at a fixed time, a choker with test
// settings, and the checks every decision must pass.

#include <spate/choker/choker.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <vector>

namespace choker_test {

using namespace std::chrono_literals;
using spate::choker::choke_decision;
using spate::choker::choker;
using spate::choker::choker_settings;
using spate::choker::clock;
using spate::choker::peer_key;
using spate::choker::peer_record;
using spate::choker::role;

inline const clock::time_point t0 = clock::time_point{} + 24h;

/// An interested peer that we choke, connected an hour before t0 (so not new).
inline peer_record peer(peer_key id, double from_them, double to_them = 0.0) {
    return {.id = id,
            .interested = true,
            .am_choking = true,
            .download_rate_from_them = from_them,
            .upload_rate_to_them = to_them,
            .connected_since = t0 - 1h,
            .is_snubbed = false};
}

inline choker make(std::uint32_t slots, std::uint64_t seed = 7, std::uint32_t new_weight = 3) {
    auto c = choker::create({.upload_slots = slots,
                             .optimistic_interval = 30s,
                             .new_peer_weight = new_weight,
                             .new_peer_window = 1min,
                             .seed = seed});
    EXPECT_TRUE(c.has_value());
    return *c;
}

/// The unchokes that are not the optimistic one, ascending.
inline std::vector<peer_key> regular(const choke_decision& d) {
    std::vector<peer_key> out;
    for (peer_key id : d.unchoke) {
        if (!d.optimistic || id != *d.optimistic) {
            out.push_back(id);
        }
    }
    return out;
}

/// What the engine does between rechokes: sends the decided chokes and unchokes.
inline void apply(const choke_decision& d, std::vector<peer_record>& peers) {
    for (peer_record& p : peers) {
        p.am_choking = !d.unchoked(p.id);
    }
}

/// Every peer in exactly one list, both ascending, the optimistic one unchoked.
inline void expect_well_formed(const choke_decision& d, const std::vector<peer_record>& peers) {
    EXPECT_TRUE(std::is_sorted(d.unchoke.begin(), d.unchoke.end()));
    EXPECT_TRUE(std::is_sorted(d.choke.begin(), d.choke.end()));
    std::set<peer_key> all;
    for (const peer_record& p : peers) {
        all.insert(p.id);
    }
    std::set<peer_key> seen;
    for (peer_key id : d.unchoke) {
        EXPECT_TRUE(seen.insert(id).second) << "peer " << id << " listed twice";
    }
    for (peer_key id : d.choke) {
        EXPECT_TRUE(seen.insert(id).second) << "peer " << id << " both choked and unchoked";
    }
    EXPECT_EQ(seen, all);
    if (d.optimistic) {
        EXPECT_TRUE(d.unchoked(*d.optimistic));
    }
}

} // namespace choker_test
