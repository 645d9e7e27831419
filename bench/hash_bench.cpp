// SHA-1 and SHA-256 throughput over piece-sized buffers, as the piece verifier hashes them.

#include <spate/core/hash.hpp>

#include <benchmark/benchmark.h>

#include <vector>

namespace {

std::vector<std::byte> make_piece(std::size_t size) {
    std::vector<std::byte> piece(size);
    for (std::size_t i = 0; i < size; ++i) {
        piece[i] = static_cast<std::byte>(i * 2654435761u >> 24);
    }
    return piece;
}

void sha1_piece(benchmark::State& state) {
    auto piece = make_piece(static_cast<std::size_t>(state.range(0)));
    spate::sha1_hasher hasher;
    for (auto _ : state) {
        hasher.update(piece);
        benchmark::DoNotOptimize(hasher.final());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(sha1_piece)->Arg(16 << 10)->Arg(256 << 10)->Arg(1 << 20);

void sha256_piece(benchmark::State& state) {
    auto piece = make_piece(static_cast<std::size_t>(state.range(0)));
    spate::sha256_hasher hasher;
    for (auto _ : state) {
        hasher.update(piece);
        benchmark::DoNotOptimize(hasher.final());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(sha256_piece)->Arg(1 << 20);

} // namespace

BENCHMARK_MAIN();
