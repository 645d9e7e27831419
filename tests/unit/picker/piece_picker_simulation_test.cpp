// A seeded swarm in miniature: peers connect and leave, send haves, serve, reject and lose
// requests, pieces fail their hash, priorities change; the picker's invariants are checked
// after every step and the download must finish with every wanted piece had.

#include <spate/picker/piece_picker.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

namespace {

using spate::bitfield;
using spate::piece_index;
using spate::picker::block_request;
using spate::picker::peer_key;
using spate::picker::picker_options;
using spate::picker::piece_picker;
using spate::picker::priority;

struct sim_peer {
    peer_key key = 0;
    bool connected = false;
    bitfield has;
    std::vector<block_request> outstanding;
};

class swarm {
public:
    swarm(std::uint32_t pieces, std::uint64_t piece_length, std::uint64_t total,
          picker_options options, std::uint64_t seed)
        : m_picker(pieces, piece_length, total, options), m_rng(seed), m_pieces(pieces) {}

    void add_peers(std::size_t n, bool first_is_seed) {
        for (std::size_t i = 0; i < n; ++i) {
            sim_peer p;
            p.key = static_cast<peer_key>(100 + i);
            m_peers.push_back(std::move(p));
            connect(m_peers.back(), first_is_seed && i == 0);
        }
    }

    piece_picker& picker() { return m_picker; }

    // One random action of one random peer.
    void step() {
        sim_peer& peer = m_peers[m_rng() % m_peers.size()];
        std::uint32_t action = m_rng() % 100;
        if (!peer.connected) {
            if (action < 30) {
                connect(peer, m_rng() % 4 == 0);
            }
            return;
        }
        if (action < 40) {
            pick(peer);
        } else if (action < 80) {
            deliver(peer);
        } else if (action < 85) {
            reject(peer);
        } else if (action < 92) {
            send_have(peer);
        } else if (action < 94) {
            disconnect(peer);
        } else if (action < 96) {
            change_priority();
        } else {
            pick(peer);
        }
    }

    std::uint64_t failures() const { return m_failures; }
    std::uint64_t endgame_blocks() const { return m_endgame_blocks; }

private:
    void connect(sim_peer& peer, bool seed) {
        peer.has = bitfield(m_pieces);
        for (std::uint32_t i = 0; i < m_pieces; ++i) {
            if (seed || m_rng() % 3 == 0) {
                peer.has.set(i);
            }
        }
        peer.connected = true;
        m_picker.add_peer(peer.has);
    }

    void disconnect(sim_peer& peer) {
        EXPECT_EQ(m_picker.on_peer_gone(peer.key), peer.outstanding.size());
        for (const auto& b : peer.outstanding) {
            EXPECT_FALSE(m_picker.is_requested_from(b, peer.key));
        }
        peer.outstanding.clear();
        m_picker.remove_peer(peer.has);
        peer.connected = false;
    }

    void pick(sim_peer& peer) {
        std::vector<block_request> got;
        std::size_t max = 1 + m_rng() % 24;
        bool endgame_before = m_picker.in_endgame();
        std::size_t n = m_picker.pick(peer.has, peer.key, max, got);
        ASSERT_EQ(n, got.size());
        m_endgame_blocks += endgame_before ? n : 0;
        ASSERT_LE(n, max);
        for (const auto& b : got) {
            ASSERT_TRUE(peer.has[b.piece]) << "picked a piece the peer lacks";
            ASSERT_FALSE(m_picker.have(b.piece)) << "picked a piece we have";
            ASSERT_TRUE(m_picker.is_wanted(b.piece));
            ASSERT_TRUE(m_picker.geometry().is_valid_block(b));
            ASSERT_EQ(std::count(peer.outstanding.begin(), peer.outstanding.end(), b), 0)
                << "the same block twice to one peer";
            ASSERT_TRUE(m_picker.is_requested_from(b, peer.key));
            peer.outstanding.push_back(b);
        }
        // A peer with something wanted to give always gets work outside endgame.
        if (!endgame_before && n == 0 && m_picker.is_interesting(peer.has)) {
            ASSERT_TRUE(m_picker.in_endgame() || !has_open_work(peer))
                << "interesting peer got nothing outside endgame";
        }
    }

    // Any wanted block the peer could serve that nobody has requested?
    bool has_open_work(const sim_peer& peer) const {
        for (std::uint32_t i = 0; i < m_pieces; ++i) {
            piece_index p(i);
            if (!peer.has[p] || !m_picker.is_wanted(p)) {
                continue;
            }
            const auto* st = m_picker.progress(p);
            if (st == nullptr || st->open_count() > 0) {
                return true;
            }
        }
        return false;
    }

    void deliver(sim_peer& peer) {
        if (peer.outstanding.empty()) {
            return;
        }
        std::size_t i = m_rng() % peer.outstanding.size();
        block_request b = peer.outstanding[i];
        peer.outstanding.erase(peer.outstanding.begin() + static_cast<std::ptrdiff_t>(i));
        // Who else has it outstanding in our model: they must be the cancel list.
        std::vector<peer_key> others;
        for (const auto& o : m_peers) {
            if (o.key != peer.key &&
                std::find(o.outstanding.begin(), o.outstanding.end(), b) != o.outstanding.end()) {
                others.push_back(o.key);
            }
        }
        ASSERT_TRUE(m_picker.is_requested_from(b, peer.key));
        auto r = m_picker.on_block_received(b, peer.key);
        ASSERT_TRUE(r.expected);
        std::sort(others.begin(), others.end());
        std::sort(r.cancel_from.begin(), r.cancel_from.end());
        ASSERT_EQ(r.cancel_from, others);
        for (peer_key k : r.cancel_from) {
            for (auto& o : m_peers) {
                if (o.key == k) {
                    std::erase(o.outstanding, b);
                }
            }
        }
        ASSERT_FALSE(m_picker.on_block_received(b, peer.key).expected) << "duplicate";
        if (r.piece_complete) {
            // One piece in ten fails its hash.
            if (m_rng() % 10 == 0) {
                ++m_failures;
                m_picker.on_piece_failed(b.piece);
                ASSERT_EQ(m_picker.progress(b.piece), nullptr);
            } else {
                m_picker.mark_have(b.piece);
            }
        }
    }

    void reject(sim_peer& peer) {
        if (peer.outstanding.empty()) {
            return;
        }
        std::size_t i = m_rng() % peer.outstanding.size();
        block_request b = peer.outstanding[i];
        peer.outstanding.erase(peer.outstanding.begin() + static_cast<std::ptrdiff_t>(i));
        m_picker.on_request_dropped(b, peer.key);
        ASSERT_FALSE(m_picker.is_requested_from(b, peer.key));
    }

    void send_have(sim_peer& peer) {
        piece_index p(static_cast<std::uint32_t>(m_rng() % m_pieces));
        if (!peer.has[p]) {
            peer.has.set(p);
            m_picker.add_have(p);
        }
    }

    void change_priority() {
        piece_index p(static_cast<std::uint32_t>(m_rng() % m_pieces));
        static constexpr priority levels[] = {priority::skip, priority::low, priority::normal,
                                              priority::high};
        m_picker.set_priority(p, levels[m_rng() % 4]);
    }

    piece_picker m_picker;
    std::mt19937_64 m_rng;
    std::uint32_t m_pieces;
    std::vector<sim_peer> m_peers;
    std::uint64_t m_failures = 0;
    std::uint64_t m_endgame_blocks = 0;
};

struct sim_stats {
    std::uint64_t failures = 0;
    std::uint64_t endgame_blocks = 0;
};

void run_to_completion(std::uint32_t pieces, std::uint64_t piece_length, std::uint64_t total,
                       picker_options options, std::uint64_t seed, sim_stats& stats) {
    swarm s(pieces, piece_length, total, options, seed);
    s.add_peers(6, true);
    s.picker().check_invariants();
    // Bounded: far more steps than a download of this size needs.
    constexpr int max_steps = 200000;
    int steps = 0;
    while (!s.picker().finished() && steps < max_steps) {
        s.step();
        if (::testing::Test::HasFatalFailure()) {
            return;
        }
        s.picker().check_invariants();
        ++steps;
    }
    EXPECT_TRUE(s.picker().finished()) << "after " << steps << " steps";
    for (std::uint32_t i = 0; i < pieces; ++i) {
        piece_index p(i);
        EXPECT_TRUE(s.picker().have(p) || s.picker().piece_priority(p) == priority::skip);
    }
    EXPECT_FALSE(s.picker().in_endgame());
    stats.failures += s.failures();
    stats.endgame_blocks += s.endgame_blocks();
}

TEST(piece_picker_simulation, rarest_first_swarm_downloads_everything) {
    sim_stats stats;
    for (std::uint64_t seed = 1; seed <= 4; ++seed) {
        SCOPED_TRACE(seed);
        run_to_completion(37, 3 * 16384 + 100, 36 * (3 * 16384 + 100) + 777,
                          {.sequential = false, .random_first_pieces = 4, .seed = seed}, seed,
                          stats);
    }
    // The runs went through hash failures and endgame, not around them.
    EXPECT_GT(stats.failures, 0u);
    EXPECT_GT(stats.endgame_blocks, 0u);
}

TEST(piece_picker_simulation, sequential_swarm_downloads_everything) {
    sim_stats stats;
    for (std::uint64_t seed = 11; seed <= 13; ++seed) {
        SCOPED_TRACE(seed);
        run_to_completion(25, 2 * 16384, 24 * 2 * 16384 + 1,
                          {.sequential = true, .random_first_pieces = 0, .seed = seed}, seed,
                          stats);
    }
    // The runs went through hash failures and endgame, not around them.
    EXPECT_GT(stats.failures, 0u);
    EXPECT_GT(stats.endgame_blocks, 0u);
}

TEST(piece_picker_simulation, single_block_pieces_reach_endgame_and_finish) {
    sim_stats stats;
    for (std::uint64_t seed = 21; seed <= 23; ++seed) {
        SCOPED_TRACE(seed);
        run_to_completion(12, 16384, 11 * 16384 + 5,
                          {.sequential = false, .random_first_pieces = 2, .seed = seed}, seed,
                          stats);
    }
    // The runs went through hash failures and endgame, not around them.
    EXPECT_GT(stats.failures, 0u);
    EXPECT_GT(stats.endgame_blocks, 0u);
}

} // namespace
