// spate seed <file.torrent|folder>... --data DIR [--port N] [--peer ADDR:PORT]...
//            [--max-peers N] [--upload-slots N] [--memory SIZE] [--max-up RATE]
//            [--max-down RATE] [--torrent-max-up RATE] [--torrent-max-down RATE]
//            [--seed-ratio R] [--seed-time DURATION] [--no-tracker] [--json]
// Serves every torrent from DIR in one session on one ring: one listen socket, one buffer
// pool, shared tracker clients, a shared connection cap and rate limits, one announcer and
// one torrent per .torrent. Each torrent's data is checked first (fast when its resume file
// matches); a torrent whose data cannot be opened or checked is reported and left out, and
// one whose data goes missing or changes while it is served is reported and stopped: the
// others go on. A torrent ends at its ratio or time goal; the command ends when every
// torrent has, or at Ctrl-C or SIGTERM, announcing `stopped`. Exit 0, or 1 when a torrent
// failed.

#include "command.hpp"
#include "descriptor_budget.hpp"
#include "seed_session.hpp"
#include "torrent_source.hpp"
#include "torrent_support.hpp"
#include "units.hpp"

#include <spate/io/scope.hpp>
#include <spate/net/http_client.hpp>
#include <spate/net/resolver.hpp>
#include <spate/session/listener.hpp>
#include <spate/tracker/announcer.hpp>
#include <spate/tracker/udp_tracker_client.hpp>

#include <fmt/core.h>

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <cstdio>
#include <map>
#include <memory>

namespace spate::cli {

namespace {

// Opens and checks one torrent's data; nullptr (after saying why) when it cannot be served.
io::task<std::unique_ptr<seeded>> prepare(io::ring& ring, metainfo::torrent_info torrent,
                                          const seed_options& options, io::buffer_pool& pool,
                                          std::uint32_t max_open_files, std::stop_token stop) {
    auto entry = std::make_unique<seeded>(std::move(torrent));
    const std::string name = entry->torrent.name();
    storage::storage_options storage_options;
    storage_options.max_open_files = max_open_files;
    auto files = co_await storage::file_storage::open(ring, entry->torrent, options.data,
                                                      storage_options, storage::open_mode::existing);
    if (!files) {
        say(options.json, "error", name,
            fmt::format("cannot open its data in {}: {}", options.data, files.error().message()));
        co_return nullptr;
    }
    entry->files = std::move(*files);
    result<existing_data> good =
        co_await find_existing(ring, *entry->files, entry->torrent, options.data, pool, stop);
    if (!good) {
        say(options.json, "error", name,
            fmt::format("cannot check its data: {}", good.error().message()));
        co_await entry->files->close();
        co_return nullptr;
    }
    const metainfo::torrent_info& t = entry->torrent;
    entry->picker = std::make_unique<picker::piece_picker>(t.piece_count(), t.piece_length(),
                                                           t.total_size());
    for (std::uint32_t p = 0; p < good->good.size(); ++p) {
        if (good->good.test(p)) {
            entry->picker->mark_have(piece_index(p));
        }
    }
    say(options.json, "checked", name,
        fmt::format("{} of {} pieces good{}", good->good.count(), t.piece_count(),
                    good->from_resume_file ? " (resume file)" : ""));
    if (!good->from_resume_file) {
        // The next start trusts this check while no file changes.
        static_cast<void>(co_await save_progress(ring, *entry->files, t, *entry->picker,
                                                 options.data));
    }
    co_return entry;
}

// Settles what the session shares and each torrent is allowed, from the options.
struct seed_limits {
    session::download_settings settings;
    std::uint64_t max_up = 0;
    std::uint64_t max_down = 0;
    seed_goals goals;
    descriptor_budget descriptors;
};

// Spawns one torrent's announcer, which announces `stopped` when t.stop_announcing ends it.
void start_announcer(seeded& t, io::scope& announcing, const tracker::announce_identity& identity,
                     const tracker::tracker_services& services, bool json) {
    session::torrent_download& download = *t.download;
    auto numbers = [&download] {
        const session::download_stats s = download.stats();
        tracker::announce_numbers n;
        n.uploaded = s.payload_sent;
        n.downloaded = s.payload_received;
        n.left = 0; // announced as a seed: what it lacks, it does not fetch
        return n;
    };
    auto found = [&download](std::span<const endpoint> peers) { download.add_peers(peers); };
    t.announcer = std::make_unique<tracker::announcer>(t.torrent.trackers(), identity, services,
                                                       tracker::announcer_settings{}, numbers,
                                                       found);
    const std::string& name = t.torrent.name();
    t.announcer->on_failure([json, &name](const std::string& text) {
        say(json, "tracker_error", name, fmt::format("announce failed: {}", text));
    });
    announcing.spawn(t.announcer->run(t.stop_announcing.get_token()));
}

// Serves one torrent until its goal, Ctrl-C, or its data fails; says why it failed at once.
io::task<void> serve_torrent(seeded& t, bool json) {
    result<void> ran = co_await t.download->run(t.stop.get_token(), true);
    if (!ran) {
        t.failed = true;
        say(json, "error", t.torrent.name(),
            fmt::format("stopped serving it: {}", ran.error().message()));
    }
    t.ended = true;
    t.stop_announcing.request_stop();
}

io::task<int> seed_main(io::ring& ring, std::vector<metainfo::torrent_info> loaded,
                        const seed_options& options, seed_limits limits,
                        std::vector<endpoint> peers, io::buffer_pool& pool) {
    io::scope background;
    std::stop_source interrupt;
    int signal = 0;
    auto signals = io::signal_set::create({SIGINT, SIGTERM});
    if (signals) {
        background.spawn(watch_signals(ring, *signals, interrupt, background.token(), &signal));
    }
    const peer::peer_id self = make_peer_id();
    const auto files_each = static_cast<std::uint32_t>(
        limits.descriptors.files / std::max<std::size_t>(loaded.size(), 1));
    std::vector<std::unique_ptr<seeded>> torrents;
    for (metainfo::torrent_info& t : loaded) {
        std::unique_ptr<seeded> entry =
            co_await prepare(ring, std::move(t), options, pool, files_each, interrupt.get_token());
        if (entry) {
            torrents.push_back(std::move(entry));
        }
    }
    if (torrents.empty() || interrupt.stop_requested()) {
        background.request_stop();
        co_await background.join();
        co_return signal != 0 ? exit_ok
                              : report_error(exit_runtime_failure, "no torrent could be served");
    }

    session::session_limits shared;
    shared.max_connections = limits.descriptors.peers;
    shared.upload = session::make_rate_limit(limits.max_up);
    shared.download = session::make_rate_limit(limits.max_down);
    std::map<sha1_digest, session::torrent_download*> by_hash;
    for (auto& t : torrents) {
        t->download = std::make_unique<session::torrent_download>(
            ring, t->torrent, *t->files, pool, *t->picker, self, limits.settings, t->observer);
        t->download->share_limits(shared);
        t->download->add_peers(peers);
        by_hash.emplace(t->torrent.info_hash(), t->download.get());
    }
    // Ctrl-C ends every torrent (each also has its own stop, for its goal).
    std::stop_callback end_all(interrupt.get_token(), [&torrents] {
        for (auto& t : torrents) {
            t->stop.request_stop();
        }
    });

    session::listen_settings listen;
    listen.port = options.port;
    auto listening = session::listener::open(listen);
    std::uint16_t port = options.port;
    session::handshake_gate gate(limits.descriptors.pending_handshakes);
    io::scope incoming;
    if (listening) {
        port = listening->port();
        say(options.json, "listening", "session", fmt::format("port {}", port));
        torrent_lookup lookup = [&by_hash](const sha1_digest& asked) {
            auto it = by_hash.find(asked);
            return it == by_hash.end() ? nullptr : it->second;
        };
        background.spawn(listening->run(ring, greet_accepted(ring, incoming, gate, lookup, self),
                                        background.token()));
    } else {
        fmt::print(stderr, "spate: warning: cannot listen on port {} or the {} after it: {}\n",
                   options.port, listen.tries - 1, listening.error().message());
    }

    std::unique_ptr<net::resolver> resolver;
    std::unique_ptr<net::http_client> http;
    std::unique_ptr<tracker::udp_tracker_client> udp;
    io::scope announcing;
    if (!options.no_tracker) {
        if (auto names = net::resolver::create(ring)) {
            resolver = std::move(*names);
            if (auto client = net::http_client::create(ring, *resolver)) {
                http = std::move(*client);
            }
        }
        if (resolver && http) {
            udp = std::make_unique<tracker::udp_tracker_client>(ring);
            const tracker::tracker_services services{ring, *resolver, *http, *udp};
            tracker::announce_identity identity;
            std::copy(self.begin(), self.end(), identity.peer.begin());
            identity.port = port;
            identity.key = static_cast<std::uint32_t>(random_u64());
            for (auto& t : torrents) {
                if (!t->torrent.trackers().empty()) {
                    identity.info_hash = t->torrent.info_hash();
                    start_announcer(*t, announcing, identity, services, options.json);
                }
            }
        }
    }

    background.spawn(seed_status_loop(ring, torrents, options.json, background.token()));
    if (limits.goals.any()) {
        background.spawn(
            seed_goal_loop(ring, torrents, limits.goals, options.json, background.token()));
    }
    io::scope serving;
    for (auto& t : torrents) {
        serving.spawn(serve_torrent(*t, options.json));
    }
    co_await serving.join();
    for (auto& t : torrents) {
        t->stop_announcing.request_stop();
    }
    announcing.request_stop();
    co_await announcing.join();
    if (udp) {
        co_await udp->close();
    }
    background.request_stop();
    co_await background.join();
    incoming.request_stop();
    co_await incoming.join();
    if (::isatty(STDERR_FILENO) == 1 && !options.json) {
        std::fputs("\r\x1b[K", stderr);
    }
    std::string failed;
    for (auto& t : torrents) {
        co_await t->files->close();
        if (t->failed) {
            failed += (failed.empty() ? "" : ", ") + t->torrent.name();
        }
    }
    if (!failed.empty()) {
        co_return report_error(exit_runtime_failure,
                               fmt::format("stopped serving after errors: {}", failed));
    }
    co_return exit_ok;
}

// The .torrent files a source names: itself, or every *.torrent in it when it is a folder
// (sorted by name, not descending into subfolders).
tl::expected<std::vector<std::string>, std::string> expand_source(const std::string& source) {
    std::error_code ec;
    if (!std::filesystem::is_directory(source, ec)) {
        return std::vector<std::string>{source};
    }
    std::vector<std::string> found;
    std::filesystem::directory_iterator it(source, ec);
    if (ec) {
        return tl::unexpected(fmt::format("{}: cannot list the folder: {}", source, ec.message()));
    }
    for (const auto& entry : it) {
        if (entry.path().extension() == ".torrent" && entry.is_regular_file(ec)) {
            found.push_back(entry.path().string());
        }
    }
    if (found.empty()) {
        return tl::unexpected(fmt::format("{}: the folder holds no .torrent file", source));
    }
    std::sort(found.begin(), found.end());
    return found;
}

tl::expected<seed_limits, std::string> settle_limits(const seed_options& options) {
    seed_limits limits;
    if (options.max_peers == 0 || options.upload_slots == 0) {
        return tl::unexpected(std::string("--max-peers and --upload-slots must be at least 1"));
    }
    limits.settings.max_peers = options.max_peers;
    limits.settings.upload_slots = options.upload_slots;
    const std::pair<std::string_view, const std::string*> rates[] = {
        {"--max-up", &options.max_up},
        {"--max-down", &options.max_down},
        {"--torrent-max-up", &options.torrent_max_up},
        {"--torrent-max-down", &options.torrent_max_down}};
    std::uint64_t parsed[4] = {};
    for (std::size_t i = 0; i < 4; ++i) {
        auto rate = parse_rate_option(rates[i].first, *rates[i].second);
        if (!rate) {
            return tl::unexpected(rate.error());
        }
        parsed[i] = *rate;
    }
    limits.max_up = parsed[0];
    limits.max_down = parsed[1];
    limits.settings.max_upload_rate = parsed[2];
    limits.settings.max_download_rate = parsed[3];
    if (!(options.seed_ratio >= 0)) {
        return tl::unexpected(fmt::format("--seed-ratio {}: must be 0 or more", options.seed_ratio));
    }
    limits.goals.ratio = options.seed_ratio;
    if (!options.seed_time.empty()) {
        std::optional<std::chrono::seconds> time = parse_duration(options.seed_time);
        if (!time || time->count() == 0) {
            return tl::unexpected(fmt::format(
                "--seed-time {}: not a duration (e.g. 90s, 30m, 2h, 1d, above zero)",
                options.seed_time));
        }
        limits.goals.time = *time;
    }
    return limits;
}

int run_seed(const seed_options& options) {
    auto limits = settle_limits(options);
    if (!limits) {
        return report_error(exit_bad_input, limits.error());
    }
    const std::optional<std::uint64_t> memory = parse_size(options.memory);
    if (!memory) {
        return report_error(exit_bad_input,
                            fmt::format("--memory {}: not a size (e.g. 64M)", options.memory));
    }
    auto ring = io::ring::create(io::ring_options{.entries = options.ring_entries, .cq_entries = 0});
    if (!ring) {
        return report_ring_failure(ring.error());
    }
    std::vector<metainfo::torrent_info> loaded;
    std::uint64_t largest_piece = 0;
    for (const std::string& named : options.sources) {
        auto sources = expand_source(named);
        if (!sources) {
            return report_error(exit_bad_input, sources.error());
        }
        for (const std::string& source : *sources) {
            auto target = load_torrent_target(*ring, source);
            if (!target) {
                return report_error(exit_bad_input, target.error());
            }
            if (!target->torrent) {
                return report_error(exit_bad_input,
                                    fmt::format("{}: seeding needs a .torrent file", source));
            }
            for (const metainfo::torrent_info& other : loaded) {
                if (other.info_hash() == target->torrent->info_hash()) {
                    return report_error(
                        exit_bad_input, fmt::format("{}: the same torrent is given twice", source));
                }
            }
            largest_piece = std::max(largest_piece, target->torrent->piece_length());
            loaded.push_back(std::move(*target->torrent));
        }
    }
    std::vector<endpoint> peers;
    for (const std::string& text : options.peers) {
        auto peer = endpoint::parse(text);
        if (!peer || peer->port() == 0) {
            return report_error(exit_bad_input,
                                fmt::format("--peer {}: not an address:port", text));
        }
        peers.push_back(*peer);
    }
    auto descriptors = budget_descriptors(options.max_peers, loaded.size());
    if (!descriptors) {
        return report_error(exit_runtime_failure, descriptors.error());
    }
    limits->descriptors = *descriptors;
    limits->settings.max_peers = descriptors->peers;
    if (::access(options.data.c_str(), R_OK | X_OK) != 0) {
        return report_error(exit_runtime_failure,
                            fmt::format("--data {}: not a readable folder", options.data));
    }
    // The piece cache of every torrent shares the pool: --memory of whole pieces, and at
    // least room for the checks' pipelined reads and a piece per torrent.
    const std::size_t slot = static_cast<std::size_t>((largest_piece + 4095) / 4096 * 4096);
    const std::uint64_t wanted = std::max<std::uint64_t>(*memory / slot, loaded.size() + 2);
    const auto slots = static_cast<std::uint32_t>(std::clamp<std::uint64_t>(wanted, 8, 4096));
    auto pool = io::buffer_pool::create(*ring, slot, slots);
    if (!pool) {
        return report_error(exit_runtime_failure,
                            fmt::format("cannot set up {} buffers of {}: {}", slots,
                                        format_size(slot), pool.error().message()));
    }
    // A torrent's cache may grow to the whole pool; the caches of idle torrents give
    // their buffers back (piece_cache::release_idle), and a load that finds none waits.
    limits->settings.upload_cache_pieces = slots;
    return ring->run(
        seed_main(*ring, std::move(loaded), options, *limits, std::move(peers), *pool));
}

} // namespace

void add_seed_command(CLI::App& app, command_main& selected) {
    auto options = std::make_shared<seed_options>();
    CLI::App* sub = app.add_subcommand("seed", "Serve complete torrents to peers");
    sub->add_option("torrents", options->sources, ".torrent files, or folders of them")
        ->required();
    sub->add_option("--data", options->data, "the folder that holds their data")->required();
    sub->add_option("--port", options->port,
                    "listen for peers on this port, or the next free one (default 6881)")
        ->check(CLI::Range(1, 65535));
    sub->add_option("--peer", options->peers, "also connect to this peer (repeatable)");
    sub->add_option("--ring-entries", options->ring_entries,
                    "io_uring submission queue size (default 1024)")
        ->check(CLI::Range(2, 32768));
    sub->add_option("--max-peers", options->max_peers,
                    "most connections over all torrents (default 500)");
    sub->add_option("--upload-slots", options->upload_slots,
                    "peers unchoked per torrent besides the optimistic one (default 8)");
    sub->add_option("--memory", options->memory,
                    "memory for pieces kept to answer requests (default 64M)");
    sub->add_option("--max-up", options->max_up, "upload limit of the session, e.g. 10M (per s)");
    sub->add_option("--max-down", options->max_down, "download limit of the session (per s)");
    sub->add_option("--torrent-max-up", options->torrent_max_up, "upload limit of each torrent");
    sub->add_option("--torrent-max-down", options->torrent_max_down,
                    "download limit of each torrent");
    sub->add_option("--seed-ratio", options->seed_ratio,
                    "stop a torrent once it uploaded this many times its size (default: never)");
    sub->add_option("--seed-time", options->seed_time,
                    "stop a torrent after seeding this long, e.g. 90m (default: never)");
    sub->add_flag("--no-tracker", options->no_tracker, "do not announce to trackers");
    sub->add_flag("--json", options->json, "print one JSON object per line");
    sub->callback([options, &selected] { selected = [options] { return run_seed(*options); }; });
}

} // namespace spate::cli
