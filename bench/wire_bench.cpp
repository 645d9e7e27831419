// The peer wire codec on its hot paths: a stream of request messages decoded as a seed reads
// them (peek_frame, check_frame, decode_message), the 13-byte piece header a leecher decodes
// before every block, and the encoders for requests and piece headers.

#include <spate/peer/message.hpp>
#include <spate/peer/wire_geometry.hpp>

#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <vector>

namespace {

using namespace spate::peer;

wire_geometry geometry() {
    // 1 GiB in 512 KiB pieces.
    auto g = wire_geometry::create(2048, 512 * 1024, 1ULL << 30);
    if (!g) {
        std::abort();
    }
    return *g;
}

// Decodes back-to-back requests from one buffer, as the reader of a seed does.
void decode_requests(benchmark::State& state) {
    const wire_geometry g = geometry();
    std::vector<std::byte> stream;
    for (std::uint32_t i = 0; i < 1024; ++i) {
        std::array<std::byte, max_fixed_message> one{};
        const std::size_t n = encode_request(request{i % 2048, (i % 32) * 16384, 16384}, one);
        stream.insert(stream.end(), one.begin(), one.begin() + static_cast<std::ptrdiff_t>(n));
    }
    const wire_limits limits;
    for (auto _ : state) {
        std::span<const std::byte> rest = stream;
        std::uint64_t sum = 0;
        while (!rest.empty()) {
            auto found = peek_frame(rest, g, limits);
            if (!found || !*found) {
                state.SkipWithError("stream did not frame");
                return;
            }
            auto m = decode_message((*found)->f, rest.subspan(prefix_size, (*found)->f.length), g);
            if (!m) {
                state.SkipWithError("request did not decode");
                return;
            }
            sum += std::get<request>(*m).begin;
            rest = rest.subspan((*found)->total);
        }
        benchmark::DoNotOptimize(sum);
    }
    state.SetItemsProcessed(state.iterations() * 1024);
}
BENCHMARK(decode_requests);

// The 13-byte header before each block: frame check and decode, once per 16 KiB received.
void decode_piece_header(benchmark::State& state) {
    const wire_geometry g = geometry();
    std::array<std::byte, piece_header_size> header{};
    encode_piece_header(77, 16384 * 3, 16384, header);
    const frame f{9 + 16384, static_cast<std::uint8_t>(message_id::piece)};
    const wire_limits limits;
    for (auto _ : state) {
        benchmark::DoNotOptimize(header);
        if (!check_frame(f, g, limits)) {
            state.SkipWithError("frame refused");
            return;
        }
        auto m = decode_message(f, std::span(header).subspan(prefix_size), g);
        benchmark::DoNotOptimize(m);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(decode_piece_header);

void encode_requests(benchmark::State& state) {
    std::array<std::byte, max_fixed_message> out{};
    std::uint32_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(encode_request(request{i % 2048, 0, 16384}, out));
        ++i;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(encode_requests);

} // namespace

BENCHMARK_MAIN();
