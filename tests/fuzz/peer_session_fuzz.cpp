// Fuzz target for a whole peer session: the input is everything a peer sends after a
// valid handshake, in up to 8 segments separated by "WAIT" (each sent once spate had 5 ms
// to answer the one before, so requests can meet unchokes and blocks can meet requests),
// fed through a socketpair into the real torrent_download (picker, piece
// buffers, choker, upload cache, storage in a temporary folder). The torrent has 8 pieces
// of 16 KiB; spate has pieces 0-3 and wants 4-7, so the input can both feed the download
// and ask for uploads. After the input ends, spate must close the connection within 5 s,
// and then:
//   - every piece buffer is back in the pool (nothing leaked by odd, duplicate,
//     unrequested or cancelled blocks);
//   - every piece message spate sent carried a piece it has, inside it, with exactly the
//     torrent's bytes (never zeros, never data of a piece it lacks);
//   - pieces 0-3 are still had, and nothing unverified was written as had.
// A violated rule aborts, so libFuzzer and the replay program report it as a crash.

#include <spate/core/hash.hpp>
#include <spate/io/buffer_pool.hpp>
#include <spate/io/ring.hpp>
#include <spate/io/scope.hpp>
#include <spate/io/socket_ops.hpp>
#include <spate/io/timer_ops.hpp>
#include <spate/io/unique_fd.hpp>
#include <spate/metainfo/torrent_info.hpp>
#include <spate/metainfo/torrent_writer.hpp>
#include <spate/picker/piece_picker.hpp>
#include <spate/session/torrent_download.hpp>
#include <spate/storage/file_storage.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace io = spate::io;

constexpr std::uint32_t piece_size = 16 * 1024;
constexpr std::uint32_t piece_count = 8;
constexpr std::uint32_t pieces_had = 4;
constexpr std::size_t max_input = 64 * 1024;

void require(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "peer session invariant violated: %s\n", what);
        std::abort();
    }
}

// The torrent, its payload and a folder holding pieces 0-3 of it, made once per process.
struct fixture {
    std::vector<std::byte> payload;
    std::optional<spate::metainfo::torrent_info> torrent;
    std::string folder;

    fixture() {
        std::signal(SIGPIPE, SIG_IGN);
        payload.resize(std::size_t{piece_size} * piece_count);
        std::uint32_t x = 0x9e3779b9;
        for (std::byte& b : payload) {
            x = x * 1664525 + 1013904223;
            b = static_cast<std::byte>(x >> 24);
        }
        spate::metainfo::torrent_spec spec;
        spec.name = "session.bin";
        spec.files.push_back({{}, payload.size(), false});
        spec.piece_length = piece_size;
        for (std::uint32_t p = 0; p < piece_count; ++p) {
            const auto digest = spate::sha1(std::span(payload).subspan(p * piece_size, piece_size));
            spec.piece_hashes.insert(spec.piece_hashes.end(), digest.bytes.begin(),
                                     digest.bytes.end());
        }
        auto bytes = spate::metainfo::write_torrent(spec);
        require(bytes.has_value(), "fixture torrent cannot be written");
        auto parsed = spate::metainfo::parse_torrent(*bytes);
        require(parsed.has_value(), "fixture torrent cannot be parsed");
        torrent.emplace(std::move(*parsed));
        char pattern[] = "/tmp/spate-peer-session-fuzz-XXXXXX";
        require(::mkdtemp(pattern) != nullptr, "no temporary folder");
        folder = pattern;
        std::ofstream out(folder + "/session.bin", std::ios::binary);
        out.write(reinterpret_cast<const char*>(payload.data()),
                  static_cast<std::streamsize>(std::size_t{piece_size} * pieces_had));
    }
    ~fixture() {
        std::error_code ignored;
        std::filesystem::remove_all(folder, ignored);
    }
};

fixture& the_fixture() {
    static fixture f;
    return f;
}

std::uint32_t be32(const std::byte* p) {
    return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) |
           std::uint32_t(p[3]);
}

// Every piece message in what spate sent must be exact data of a piece it has.
void check_sent(const std::vector<std::byte>& sent, const fixture& f) {
    std::size_t at = 0;
    while (sent.size() - at >= 4) {
        const std::uint32_t length = be32(&sent[at]);
        if (sent.size() - at - 4 < length) {
            break; // cut off when the connection closed
        }
        if (length >= 9 && sent[at + 4] == std::byte{7}) {
            const std::uint32_t index = be32(&sent[at + 5]);
            const std::uint32_t begin = be32(&sent[at + 9]);
            const std::uint32_t size = length - 9;
            require(index < pieces_had, "sent a block of a piece spate does not have");
            require(begin <= piece_size && size <= piece_size - begin, "sent a block past its piece");
            const std::size_t offset = std::size_t{index} * piece_size + begin;
            require(std::memcmp(&sent[at + 13], &f.payload[offset], size) == 0,
                    "sent bytes that are not the torrent's");
        }
        at += 4 + length;
    }
}

struct nothing_observed final : spate::session::download_observer {};

// Reads everything spate sends until it closes its end (or 5 s pass), then stops the run.
io::task<void> drain(io::ring& ring, int fd, std::vector<std::byte>& sent, bool& closed,
                     std::stop_source& stop_download) {
    std::vector<std::byte> chunk(64 * 1024);
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    io::op_options bounded;
    bounded.timeout = 100ms;
    while (std::chrono::steady_clock::now() < deadline) {
        auto n = co_await io::recv(ring, fd, chunk, bounded);
        if (n && *n == 0) {
            closed = true;
            break;
        }
        if (n) {
            sent.insert(sent.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(*n));
        }
    }
    stop_download.request_stop();
}

// Sends the input's segments one by one, 5 ms apart, then ends the stream.
io::task<void> feed(io::ring& ring, int fd, std::span<const std::byte> input) {
    constexpr std::string_view separator = "WAIT";
    const auto* sep = reinterpret_cast<const std::byte*>(separator.data());
    for (int segment = 0; segment < 8 && !input.empty(); ++segment) {
        std::size_t end = input.size();
        if (segment < 7) {
            const auto found = std::search(input.begin(), input.end(), sep, sep + separator.size());
            end = static_cast<std::size_t>(found - input.begin());
        }
        std::span<const std::byte> part = input.first(end);
        while (!part.empty()) {
            auto n = co_await io::send(ring, fd, part);
            if (!n || *n == 0) {
                co_return; // spate closed the connection: the rest has no reader
            }
            part = part.subspan(*n);
        }
        input = input.subspan(std::min(input.size(), end + separator.size()));
        auto slept = co_await io::sleep_for(ring, 5ms);
        static_cast<void>(slept);
    }
    ::shutdown(fd, SHUT_WR);
}

io::task<void> run_download(spate::session::torrent_download& download, std::stop_token stop) {
    auto ran = co_await download.run(stop, true);
    static_cast<void>(ran);
}

io::task<void> session(io::ring& ring, fixture& f, io::unique_fd spate_end, int peer_end,
                       std::span<const std::byte> input) {
    auto pool = io::buffer_pool::create(ring, piece_size, 4);
    require(pool.has_value(), "no buffer pool");
    auto storage = co_await spate::storage::file_storage::open(
        ring, *f.torrent, f.folder, {}, spate::storage::open_mode::create);
    require(storage.has_value(), "no storage");
    spate::picker::piece_picker picker(piece_count, piece_size, f.payload.size(), {});
    for (std::uint32_t p = 0; p < pieces_had; ++p) {
        picker.mark_have(spate::piece_index(p));
    }
    spate::session::download_settings settings;
    settings.upload_cache_pieces = 2;
    nothing_observed observer;
    spate::peer::peer_id self{};
    self.fill(std::byte{'S'});
    spate::peer::handshake them;
    them.id.fill(std::byte{'F'});
    spate::peer::advertise_extensions(them); // so the input may carry BEP 10 messages
    {
        spate::session::torrent_download download(ring, *f.torrent, **storage, *pool, picker,
                                                  self, settings, observer);
        std::stop_source stop_download;
        std::vector<std::byte> sent;
        bool closed = false;
        io::scope tasks;
        tasks.spawn(run_download(download, stop_download.get_token()));
        download.add_incoming(std::move(spate_end), *spate::endpoint::parse("127.0.0.2:6881"),
                              them);
        tasks.spawn(drain(ring, peer_end, sent, closed, stop_download));
        tasks.spawn(feed(ring, peer_end, input));
        co_await tasks.join();
        require(closed, "the connection stayed open after the peer's input ended");
        check_sent(sent, f);
        if (std::getenv("SPATE_FUZZ_VERBOSE") != nullptr) { // for whoever writes a corpus
            const auto stats = download.stats();
            std::fprintf(stderr, "session: spate sent %zu bytes, received %llu payload, %llu failed\n",
                         sent.size(), static_cast<unsigned long long>(stats.payload_received),
                         static_cast<unsigned long long>(stats.failed_pieces));
        }
    }
    co_await (*storage)->close();
    require(pool->available() == 4, "a piece buffer leaked");
    for (std::uint32_t p = 0; p < pieces_had; ++p) {
        require(picker.have(spate::piece_index(p)), "a had piece was lost");
    }
    // A piece the input completed is had only if its bytes on disk are the torrent's.
    std::ifstream in(f.folder + "/session.bin", std::ios::binary);
    std::vector<std::byte> piece(piece_size);
    for (std::uint32_t p = pieces_had; p < piece_count; ++p) {
        if (!picker.have(spate::piece_index(p))) {
            continue;
        }
        in.seekg(static_cast<std::streamoff>(std::size_t{p} * piece_size));
        in.read(reinterpret_cast<char*>(piece.data()), piece_size);
        require(in.gcount() == piece_size &&
                    std::memcmp(piece.data(), &f.payload[std::size_t{p} * piece_size],
                                piece_size) == 0,
                "a piece is had whose bytes on disk are not the torrent's");
        if (std::getenv("SPATE_FUZZ_VERBOSE") != nullptr) {
            std::fprintf(stderr, "session: piece %u verified and had\n", p);
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fixture& f = the_fixture();
    size = std::min(size, max_input);
    int fds[2];
    require(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0, "no socketpair");
    io::unique_fd spate_end(fds[0]);
    io::unique_fd peer_end(fds[1]);
    int buffer = 4 * 1024 * 1024;
    ::setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &buffer, sizeof(buffer));
    ::setsockopt(fds[0], SOL_SOCKET, SO_RCVBUF, &buffer, sizeof(buffer));
    auto ring = io::ring::create();
    require(ring.has_value(), "no ring");
    const std::span<const std::byte> input(reinterpret_cast<const std::byte*>(data), size);
    ring->run(session(*ring, f, std::move(spate_end), fds[1], input));
    return 0;
}
