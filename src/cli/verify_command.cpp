// spate verify <file.torrent> --data DIR [--json]: hashes every piece found under DIR and
// says how many are good, bad (hash mismatch) and missing (file absent or short).

#include "command.hpp"
#include "json_writer.hpp"
#include "progress_line.hpp"
#include "torrent_source.hpp"

#include <spate/io/buffer_pool.hpp>
#include <spate/io/error.hpp>
#include <spate/io/ring.hpp>
#include <spate/storage/check_pieces.hpp>
#include <spate/storage/error.hpp>
#include <spate/storage/file_storage.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>

namespace spate::cli {

namespace {

struct verify_options {
    std::string source;
    std::string data;
    bool json = false;
};

// Pieces read at once, and the most memory their buffers may take: a few pieces in flight
// keep the disk busy while one is hashed.
constexpr std::uint32_t max_depth = 8;
constexpr std::uint64_t buffer_budget = std::uint64_t{64} << 20;

io::task<result<storage::check_result>> check_folder(io::ring& ring,
                                                     const metainfo::torrent_info& torrent,
                                                     std::string folder, io::buffer_pool& pool,
                                                     progress_line* progress) {
    auto opened = co_await storage::file_storage::open(ring, torrent, std::move(folder), {},
                                                       storage::open_mode::existing);
    if (!opened) {
        co_return fail(opened.error());
    }
    const std::unique_ptr<storage::file_storage> files = std::move(*opened);
    const std::uint64_t piece_length = torrent.piece_length();
    const std::uint64_t total = torrent.total_size();
    auto checked = co_await storage::check_pieces(
        ring, *files, torrent, pool,
        [progress, piece_length, total](std::uint32_t done, std::uint32_t) {
            progress->update(std::min(std::uint64_t{done} * piece_length, total));
        },
        {}, pool.capacity());
    co_await files->close();
    co_return checked;
}

// A registered pool of up to max_depth piece-sized slots within the budget; fewer slots
// when the locked-memory limit refuses more, down to one.
result<io::buffer_pool> make_pool(io::ring& ring, std::uint64_t piece_length) {
    auto count = static_cast<std::uint32_t>(
        std::clamp<std::uint64_t>(buffer_budget / piece_length, 1, max_depth));
    for (;;) {
        auto pool = io::buffer_pool::create(ring, piece_length, count);
        if (pool || pool.error() != io::errc::memlock_limit || count == 1) {
            return pool;
        }
        count /= 2;
    }
}

int run_verify(const verify_options& options) {
    auto ring = io::ring::create();
    if (!ring) {
        return report_ring_failure(ring.error());
    }
    auto target = load_torrent_target(*ring, options.source);
    if (!target) {
        return report_error(exit_bad_input, target.error());
    }
    if (!target->torrent) {
        return report_error(exit_bad_input,
                            fmt::format("{}: verify needs a .torrent file: a magnet link "
                                        "carries no piece hashes",
                                        options.source));
    }
    const metainfo::torrent_info& torrent = *target->torrent;

    auto pool = make_pool(*ring, torrent.piece_length());
    if (!pool) {
        if (pool.error() == io::errc::memlock_limit) {
            return report_error(
                exit_runtime_failure,
                fmt::format("cannot lock {} bytes of read buffers for io_uring: the locked-memory "
                            "limit is too low (raise it with 'ulimit -l' or LimitMEMLOCK=)",
                            torrent.piece_length()));
        }
        return report_error(exit_runtime_failure,
                            fmt::format("cannot make read buffers: {}", pool.error().message()));
    }

    result<storage::check_result> checked;
    {
        progress_line progress("verifying", torrent.total_size());
        checked = ring->run(check_folder(*ring, torrent, options.data, *pool, &progress));
    }
    if (!checked) {
        return report_error(exit_runtime_failure, fmt::format("cannot verify {}: {}", options.data,
                                                              checked.error().message()));
    }
    const std::uint64_t pieces = torrent.piece_count();
    const std::uint64_t good = checked->good.count();
    const std::uint64_t bad = checked->bad;
    const std::uint64_t missing = checked->missing.count();
    const bool complete = good == pieces;
    if (options.json) {
        json_writer w;
        w.begin_object();
        w.key("pieces").value(pieces);
        w.key("good").value(good);
        w.key("bad").value(bad);
        w.key("missing").value(missing);
        w.key("complete").value(complete);
        w.end_object();
        fmt::print("{}\n", w.str());
    } else {
        fmt::print("pieces: {} good, {} bad, {} missing\n", good, bad, missing);
    }
    return complete ? exit_ok : exit_runtime_failure;
}

} // namespace

void add_verify_command(CLI::App& app, command_main& selected) {
    auto options = std::make_shared<verify_options>();
    CLI::App* sub = app.add_subcommand(
        "verify", "Check the data of a torrent on disk: pieces good, bad and missing");
    sub->add_option("torrent", options->source, "the .torrent file")->required();
    sub->add_option("--data", options->data, "the folder that holds the torrent's files")
        ->required();
    sub->add_flag("--json", options->json, "print one JSON object");
    sub->callback([options, &selected] { selected = [options] { return run_verify(*options); }; });
}

} // namespace spate::cli
