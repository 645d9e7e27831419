// spate create <path> -o <file.torrent> [-t URL]... [--piece-size BYTES] [--private]
//              [--comment TEXT] [-w URL]... [--force]
// Hashes a file or a folder with the ring and writes a v1 .torrent.

#include "command.hpp"
#include "file_io.hpp"
#include "payload_hasher.hpp"
#include "progress_line.hpp"
#include "units.hpp"

#include <spate/io/ring.hpp>
#include <spate/metainfo/path.hpp>
#include <spate/metainfo/torrent_writer.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace spate::cli {

namespace {

namespace fs = std::filesystem;

struct create_options {
    std::string input;
    std::string output;
    std::vector<std::string> trackers;
    std::vector<std::string> web_seeds;
    std::string piece_size;
    std::string comment;
    bool is_private = false;
    bool force = false;
};

constexpr std::uint64_t min_piece_length = 16 * 1024;
constexpr std::uint64_t max_piece_length = 512 * 1024 * 1024;

// What a torrent being made holds: its files in stream order, and where each is on disk.
struct payload {
    std::string name;
    std::vector<metainfo::new_file> files;
    std::vector<payload_file> sources;
    std::uint64_t total_size = 0;
};

// Lists the payload, refusing what a torrent cannot describe safely. Files are sorted by
// their path components, byte-wise, so the same folder always makes the same torrent.
tl::expected<payload, std::string> list_payload(const fs::path& input) {
    using failure = tl::unexpected<std::string>;
    std::error_code ec;
    const fs::file_status status = fs::symlink_status(input, ec);
    if (ec || !fs::exists(status)) {
        return failure(fmt::format("{}: no such file or folder", input.string()));
    }
    payload out;
    // "dir/" and "dir/." name the folder "dir".
    out.name = fs::absolute(input, ec).lexically_normal().filename().string();
    if (out.name.empty()) {
        out.name = fs::absolute(input, ec).lexically_normal().parent_path().filename().string();
    }
    if (auto checked = metainfo::check_path_component(out.name); !checked) {
        return failure(fmt::format("{}: cannot be a torrent name: {}", input.string(),
                                   checked.error().message()));
    }

    if (fs::is_symlink(status)) {
        return failure(fmt::format("{}: symbolic links are not supported", input.string()));
    }
    if (fs::is_regular_file(status)) {
        const std::uint64_t size = fs::file_size(input, ec);
        if (ec) {
            return failure(fmt::format("{}: {}", input.string(), ec.message()));
        }
        out.files.push_back(metainfo::new_file{{}, size, false});
        out.sources.push_back(payload_file{input.string(), size});
        out.total_size = size;
    } else if (fs::is_directory(status)) {
        std::vector<std::pair<std::vector<std::string>, fs::path>> found;
        fs::recursive_directory_iterator it(input, fs::directory_options::none, ec);
        for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
            const fs::file_status entry = it->symlink_status(ec);
            if (ec) {
                break;
            }
            if (fs::is_directory(entry)) {
                continue;
            }
            if (fs::is_symlink(entry)) {
                return failure(
                    fmt::format("{}: symbolic links are not supported", it->path().string()));
            }
            if (!fs::is_regular_file(entry)) {
                return failure(fmt::format("{}: not a regular file", it->path().string()));
            }
            std::vector<std::string> components;
            for (const auto& part : it->path().lexically_relative(input)) {
                components.push_back(part.string());
            }
            found.emplace_back(std::move(components), it->path());
        }
        if (ec) {
            return failure(fmt::format("cannot list {}: {}", input.string(), ec.message()));
        }
        std::sort(found.begin(), found.end());
        for (auto& [components, disk_path] : found) {
            if (auto checked = metainfo::check_path(components); !checked) {
                return failure(fmt::format("{}: cannot be a torrent path: {}", disk_path.string(),
                                           checked.error().message()));
            }
            const std::uint64_t size = fs::file_size(disk_path, ec);
            if (ec) {
                return failure(fmt::format("{}: {}", disk_path.string(), ec.message()));
            }
            out.files.push_back(metainfo::new_file{std::move(components), size, false});
            out.sources.push_back(payload_file{disk_path.string(), size});
            out.total_size += size;
        }
    } else {
        return failure(fmt::format("{}: not a regular file or folder", input.string()));
    }
    if (out.total_size == 0) {
        return failure(fmt::format("{}: holds no data to share", input.string()));
    }
    return out;
}

int run_create(const create_options& options) {
    std::uint64_t piece_length = 0;
    if (!options.piece_size.empty()) {
        auto parsed = parse_size(options.piece_size);
        if (!parsed || *parsed < min_piece_length || *parsed > max_piece_length ||
            (*parsed & (*parsed - 1)) != 0) {
            return report_error(exit_bad_input,
                                fmt::format("--piece-size {}: must be a power of two from 16 KiB "
                                            "to 512 MiB (e.g. 262144 or 256K)",
                                            options.piece_size));
        }
        piece_length = *parsed;
    }
    std::error_code ec;
    if (!options.force && fs::exists(fs::symlink_status(options.output, ec))) {
        return report_error(exit_bad_input, fmt::format("{} already exists (--force replaces it)",
                                                        options.output));
    }

    auto listed = list_payload(options.input);
    if (!listed) {
        return report_error(exit_bad_input, listed.error());
    }
    payload& data = *listed;
    if (piece_length == 0) {
        piece_length = metainfo::choose_piece_length(data.total_size);
    }

    metainfo::torrent_spec spec;
    spec.name = data.name;
    spec.files = std::move(data.files);
    spec.piece_length = piece_length;
    for (const auto& url : options.trackers) {
        spec.trackers.push_back({url});
    }
    spec.web_seeds = options.web_seeds;
    spec.is_private = options.is_private;
    spec.comment = options.comment;
    spec.created_by = "spate 0.1.0";
    spec.creation_date = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();

    // Check everything but the hashes before spending time on them: with placeholder
    // hashes of the right size, only the hashes can differ in the final write.
    const std::uint64_t pieces = (data.total_size + piece_length - 1) / piece_length;
    spec.piece_hashes.assign(pieces * 20, std::byte{0});
    if (auto trial = metainfo::write_torrent(spec); !trial) {
        return report_error(exit_bad_input,
                            fmt::format("cannot make a torrent: {}", trial.error().message()));
    }

    auto ring = io::ring::create();
    if (!ring) {
        return report_ring_failure(ring.error());
    }
    tl::expected<std::vector<std::byte>, std::string> hashes;
    {
        progress_line progress("hashing", data.total_size);
        hashes = ring->run(hash_payload(*ring, std::move(data.sources), piece_length, &progress));
    }
    if (!hashes) {
        return report_error(exit_runtime_failure, hashes.error());
    }
    spec.piece_hashes = std::move(*hashes);
    auto bytes = metainfo::write_torrent(spec);
    if (!bytes) {
        return report_error(exit_runtime_failure,
                            fmt::format("cannot make a torrent: {}", bytes.error().message()));
    }
    auto written =
        ring->run(write_file_atomically(*ring, options.output, *bytes, options.force));
    if (!written) {
        return report_error(exit_runtime_failure, fmt::format("cannot write {}: {}",
                                                              options.output,
                                                              written.error().message()));
    }
    fmt::print("created {}: {} in {} pieces of {}\n", options.output,
               format_size(data.total_size), pieces, format_size(piece_length));
    return exit_ok;
}

} // namespace

void add_create_command(CLI::App& app, command_main& selected) {
    auto options = std::make_shared<create_options>();
    CLI::App* sub = app.add_subcommand("create", "Make a .torrent of a file or a folder");
    sub->add_option("path", options->input, "the file or folder to share")->required();
    sub->add_option("-o,--output", options->output, "the .torrent file to write")->required();
    sub->add_option("-t,--tracker", options->trackers,
                    "announce URL (http, https or udp); each one is a tier of its own");
    sub->add_option("-w,--web-seed", options->web_seeds, "web seed URL (BEP 19)");
    sub->add_option("--piece-size", options->piece_size,
                    "piece length in bytes, a power of two from 16K to 512M (default: "
                    "chosen from the size)");
    sub->add_option("--comment", options->comment, "a comment stored in the torrent");
    sub->add_flag("--private", options->is_private, "set the private flag (BEP 27)");
    sub->add_flag("--force", options->force, "replace the output file if it exists");
    sub->callback(
        [options, &selected] { selected = [options] { return run_create(*options); }; });
}

} // namespace spate::cli
