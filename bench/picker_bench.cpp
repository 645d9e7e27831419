// The piece picker on a large swarm: 10,000 pieces, 500 peers with random bitfields. Each
// iteration picks a pipeline's worth of blocks for one peer, as the coordinator does when a
// peer unchokes us or a block arrives, and returns them so the picker stays in steady state.

#include <spate/picker/piece_picker.hpp>

#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

namespace {

using spate::bitfield;
using spate::piece_index;
using spate::picker::block_request;
using spate::picker::peer_key;
using spate::picker::piece_picker;

constexpr std::uint32_t piece_count = 10000;
constexpr std::uint64_t piece_length = 256 * 1024;
constexpr std::size_t peer_count = 500;

std::vector<bitfield> random_bitfields(std::mt19937_64& rng) {
    std::vector<bitfield> peers;
    peers.reserve(peer_count);
    for (std::size_t i = 0; i < peer_count; ++i) {
        bitfield b(piece_count);
        // Peers from nearly empty to nearly complete.
        auto fill = static_cast<std::uint32_t>(rng() % 100);
        for (std::uint32_t p = 0; p < piece_count; ++p) {
            if (rng() % 100 < fill) {
                b.set(p);
            }
        }
        peers.push_back(std::move(b));
    }
    return peers;
}

piece_picker make_picker(const std::vector<bitfield>& peers) {
    piece_picker picker(piece_count, piece_length, piece_count * piece_length,
                        {.sequential = false, .random_first_pieces = 4, .seed = 7});
    for (const auto& b : peers) {
        picker.add_peer(b);
    }
    // Past the random-first phase, so the bench measures rarest first.
    for (std::uint32_t p = 0; p < 8; ++p) {
        picker.mark_have(piece_index(p * 1000));
    }
    return picker;
}

// Drop a peer's requests and pick `state.range(0)` blocks for it again, peer after peer: a
// steady state with every peer's pipeline in flight and many partial pieces.
void pick_and_drop(benchmark::State& state) {
    std::mt19937_64 rng(1);
    auto peers = random_bitfields(rng);
    auto picker = make_picker(peers);
    auto max_blocks = static_cast<std::size_t>(state.range(0));
    std::vector<std::vector<block_request>> inflight(peer_count);
    for (std::size_t i = 0; i < peer_count; ++i) {
        picker.pick(peers[i], static_cast<peer_key>(i), max_blocks, inflight[i]);
    }
    std::size_t next = 0;
    std::size_t picked = 0;
    for (auto _ : state) {
        auto who = static_cast<peer_key>(next);
        auto& mine = inflight[next];
        for (const auto& b : mine) {
            picker.on_request_dropped(b, who);
        }
        mine.clear();
        picked += picker.pick(peers[next], who, max_blocks, mine);
        benchmark::DoNotOptimize(mine.data());
        next = (next + 1) % peer_count;
    }
    state.counters["blocks_per_pick"] =
        static_cast<double>(picked) / static_cast<double>(state.iterations());
    state.counters["in_progress"] = static_cast<double>(picker.in_progress_count());
}
BENCHMARK(pick_and_drop)->Arg(16)->Arg(64)->Arg(256);

// A peer connects (bitfield added) and leaves (bitfield removed): the availability update.
void peer_join_and_leave(benchmark::State& state) {
    std::mt19937_64 rng(2);
    auto peers = random_bitfields(rng);
    auto picker = make_picker(peers);
    std::size_t next = 0;
    for (auto _ : state) {
        picker.remove_peer(peers[next]);
        picker.add_peer(peers[next]);
        next = (next + 1) % peer_count;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(peer_join_and_leave);

// Receive a whole download's worth of blocks from one seed-like peer per step: pick, receive,
// mark had, until finished; measures the full bookkeeping cost per block.
void download_all(benchmark::State& state) {
    std::mt19937_64 rng(3);
    auto peers = random_bitfields(rng);
    bitfield all(piece_count, true);
    std::vector<block_request> out;
    std::size_t blocks = 0;
    for (auto _ : state) {
        state.PauseTiming();
        auto picker = make_picker(peers);
        state.ResumeTiming();
        while (!picker.finished()) {
            out.clear();
            picker.pick(all, 1, 64, out);
            for (const auto& b : out) {
                auto r = picker.on_block_received(b, 1);
                if (r.piece_complete) {
                    picker.mark_have(b.piece);
                }
            }
            blocks += out.size();
        }
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(blocks));
}
BENCHMARK(download_all)->Unit(benchmark::kMillisecond)->Iterations(3);

} // namespace

BENCHMARK_MAIN();
