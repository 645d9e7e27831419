// bencode decode throughput over a large synthetic .torrent: 50,000 pieces (a 1 MB
// `pieces` string) and a multi-file `files` list, the shape metainfo parsing sees.

#include <spate/bencode/document.hpp>
#include <spate/bencode/encoder.hpp>

#include <benchmark/benchmark.h>

#include <string>

namespace {

namespace bc = spate::bencode;

std::string make_torrent(std::size_t pieces, std::size_t files) {
    std::string pieces_bytes(pieces * 20, '\0');
    for (std::size_t i = 0; i < pieces_bytes.size(); ++i) {
        pieces_bytes[i] = static_cast<char>(i * 2654435761u >> 24);
    }
    std::string out;
    bc::encoder e(out);
    e.begin_dict();
    e.key("announce").string("http://127.0.0.1:6969/announce");
    e.key("creation date").integer(1'700'000'000);
    e.key("info").begin_dict();
    e.key("files").begin_list();
    for (std::size_t i = 0; i < files; ++i) {
        e.begin_dict();
        e.key("length").integer(static_cast<std::int64_t>(1'000'000 + i * 7919));
        e.key("path").begin_list();
        e.string("dir" + std::to_string(i % 50));
        e.string("sub" + std::to_string(i % 7));
        e.string("file-" + std::to_string(i) + ".bin");
        e.end_list();
        e.end_dict();
    }
    e.end_list();
    e.key("name").string("synthetic");
    e.key("piece length").integer(262'144);
    e.key("pieces").string(pieces_bytes);
    e.end_dict();
    e.end_dict();
    return out;
}

const std::string& torrent() {
    static const std::string t = make_torrent(50'000, 5'000);
    return t;
}

void decode_torrent(benchmark::State& state) {
    const std::string& input = torrent();
    for (auto _ : state) {
        auto doc = bc::decode(input);
        benchmark::DoNotOptimize(doc);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                            static_cast<std::int64_t>(input.size()));
}
BENCHMARK(decode_torrent);

// The same with one document reused, so the token array is allocated only once.
void decode_torrent_reused(benchmark::State& state) {
    const std::string& input = torrent();
    const auto bytes = std::as_bytes(std::span(input));
    bc::document doc;
    for (auto _ : state) {
        auto parsed = doc.parse(bytes);
        benchmark::DoNotOptimize(parsed);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                            static_cast<std::int64_t>(input.size()));
    state.counters["tokens"] = static_cast<double>(doc.token_count());
}
BENCHMARK(decode_torrent_reused);

// Decode, then read every file's length and path as a metainfo parser would.
void decode_and_walk_files(benchmark::State& state) {
    const std::string& input = torrent();
    const auto bytes = std::as_bytes(std::span(input));
    bc::document doc;
    for (auto _ : state) {
        if (!doc.parse(bytes)) {
            state.SkipWithError("decode failed");
            break;
        }
        std::int64_t total = 0;
        std::size_t path_bytes = 0;
        const bc::node info = doc.root().find_dict("info");
        for (const bc::node file : info.find_list("files").list_items()) {
            total += file.find_int("length").value_or(0);
            for (const bc::node part : file.find_list("path").list_items()) {
                path_bytes += part.as_string().size();
            }
        }
        benchmark::DoNotOptimize(total);
        benchmark::DoNotOptimize(path_bytes);
        benchmark::DoNotOptimize(info.find("pieces").as_bytes().size());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                            static_cast<std::int64_t>(input.size()));
}
BENCHMARK(decode_and_walk_files);

} // namespace

BENCHMARK_MAIN();
