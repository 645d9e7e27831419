// spate swarm --peers N --size SIZE [--piece-size N] [--files K] [--torrent-out F]
//             [--tracker URL | --builtin-tracker ADDR:PORT] [--port N] [--seed N]
//             [--data-out DIR] [--json]
// spate swarm --leechers --peers N --torrent F --peer ADDR:PORT [--json]
// A synthetic swarm for benchmarks and tests: N seeders in this process on one ring, each
// on its own loopback address (127.0.0.2, 127.0.0.3, ...), serving generated data from
// memory (no disk). It writes the matching .torrent, announces every peer to the tracker
// from the peer's own address (or runs the built-in tracker in-process, and then also dials
// the leechers that announce to it), and serves until
// Ctrl-C or SIGTERM; then it prints what it served and what that cost in CPU time, so a
// benchmark can show the swarm was not its bottleneck. --data-out also writes the payload
// as files, for a real seed or a comparison. With --leechers the N peers are synthetic
// leechers instead: each dials the seed at --peer, downloads the whole torrent and throws
// the data away; it prints the time, the rate and its own CPU cost, to benchmark seeding.

#include "command.hpp"
#include "file_io.hpp"
#include "json_writer.hpp"
#include "torrent_source.hpp"
#include "torrent_support.hpp"
#include "units.hpp"

#include <spate/io/scope.hpp>
#include <spate/io/signals.hpp>
#include <spate/io/timer_ops.hpp>
#include <spate/metainfo/torrent_info.hpp>
#include <spate/metainfo/torrent_writer.hpp>
#include <spate/swarm/peer_announcer.hpp>
#include <spate/swarm/synthetic_leechers.hpp>
#include <spate/swarm/synthetic_seeder.hpp>
#include <spate/tracker/builtin_tracker.hpp>
#include <spate/tracker/tracker_url.hpp>

#include <fmt/core.h>

#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <memory>

namespace spate::cli {

namespace {

struct swarm_options {
    std::size_t peers = 1;
    std::string size = "1G";
    std::string piece_size;
    std::uint32_t files = 1;
    std::string torrent_out = "spate-swarm.torrent";
    std::string tracker;
    std::string builtin_tracker;
    std::uint16_t port = 0;
    std::uint64_t seed = 1;
    std::string data_out;
    bool leechers = false;
    std::string torrent_in;
    std::string peer;
    bool json = false;
};

double cpu_seconds() {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    const auto seconds = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

void print_ready(const swarm_options& options, const swarm::synthetic_seeder& seeder,
                 const metainfo::torrent_info& torrent, const std::string& tracker_url) {
    const auto& at = seeder.endpoints();
    if (options.json) {
        json_writer w;
        w.begin_object().key("event").value("ready").key("torrent").value(options.torrent_out);
        w.key("info_hash").value(torrent.info_hash().hex());
        w.key("peers").value(static_cast<std::uint64_t>(at.size()));
        w.key("first").value(at.front().to_string()).key("last").value(at.back().to_string());
        w.key("tracker").value(tracker_url).key("size").value(torrent.total_size());
        w.key("piece_length").value(torrent.piece_length());
        fmt::print("{}\n", w.end_object().str());
    } else {
        fmt::print("swarm: {} peers from {} to {}, serving {} ({} in {} pieces of {})\n",
                   at.size(), at.front().to_string(), at.back().to_string(),
                   options.torrent_out, format_size(torrent.total_size()),
                   torrent.piece_count(), format_size(torrent.piece_length()));
        if (!tracker_url.empty()) {
            fmt::print("swarm: announced to {}\n", tracker_url);
        }
        fmt::print("ready\n");
    }
    std::fflush(stdout);
}

void print_served(bool json, const swarm::seeder_stats& s, double cpu) {
    const double per_gb = s.payload_sent == 0 ? 0.0 : cpu / (static_cast<double>(s.payload_sent) / 1e9);
    if (json) {
        json_writer w;
        w.begin_object().key("event").value("served").key("bytes").value(s.payload_sent);
        w.key("connections").value(s.connections).key("cpu_seconds").value(cpu);
        w.key("cpu_seconds_per_gb").value(per_gb);
        fmt::print("{}\n", w.end_object().str());
    } else {
        fmt::print("swarm: served {} to {} connections; {:.2f} CPU s ({:.3f} CPU s per GB)\n",
                   format_size(s.payload_sent), s.connections, cpu, per_gb);
    }
    std::fflush(stdout);
}

// With the built-in tracker, the swarm also dials the leechers that announce to it: some
// clients (transmission, rtorrent) take no loopback peers from a tracker.
io::task<void> dial_leechers(io::ring& ring, const tracker::builtin_tracker& tracker,
                             swarm::synthetic_seeder& seeder, sha1_digest info_hash,
                             std::stop_token stop) {
    while (!stop.stop_requested()) {
        for (const endpoint& leecher : tracker.registry().leechers(info_hash)) {
            seeder.connect_to(leecher);
        }
        result<void> slept = co_await io::sleep_for(ring, std::chrono::milliseconds(500), stop);
        if (!slept) {
            break;
        }
    }
}

io::task<int> swarm_main(io::ring& ring, const swarm_options& options,
                         const swarm::synthetic_payload& payload,
                         const metainfo::torrent_info& torrent,
                         std::unique_ptr<tracker::builtin_tracker> builtin,
                         std::string tracker_url) {
    io::scope tasks;
    std::stop_source interrupt;
    int signal = 0;
    auto signals = io::signal_set::create({SIGINT, SIGTERM});
    if (signals) {
        tasks.spawn(watch_signals(ring, *signals, interrupt, tasks.token(), &signal));
    }
    if (builtin) {
        tasks.spawn(builtin->run(tasks.token()));
    }
    swarm::seeder_settings settings;
    settings.peers = options.peers;
    settings.port = options.port;
    auto seeder = swarm::synthetic_seeder::create(ring, payload, torrent, settings);
    if (!seeder) {
        tasks.request_stop();
        co_await tasks.join();
        co_return report_error(exit_runtime_failure,
                               fmt::format("cannot listen for the synthetic peers: {}",
                                           seeder.error().message()));
    }
    swarm::peer_announce announce;
    announce.announce_url = tracker_url;
    announce.info_hash = torrent.info_hash();
    if (!tracker_url.empty()) {
        result<void> told = co_await swarm::announce_each(
            ring, announce, (*seeder)->endpoints(), (*seeder)->peer_ids(), interrupt.get_token());
        if (!told) {
            tasks.request_stop();
            co_await tasks.join();
            co_return report_error(exit_runtime_failure,
                                   fmt::format("announcing the synthetic peers to {} failed: {}",
                                               tracker_url, told.error().message()));
        }
    }
    print_ready(options, **seeder, torrent, tracker_url);
    if (builtin) {
        tasks.spawn(dial_leechers(ring, *builtin, **seeder, torrent.info_hash(), tasks.token()));
    }
    const double cpu_before = cpu_seconds();
    co_await (*seeder)->run(interrupt.get_token());
    const double cpu = cpu_seconds() - cpu_before;
    if (!tracker_url.empty() && !builtin) {
        announce.event = tracker::announce_event::stopped;
        std::stop_source fresh; // the interrupt is spent; the stopped announce has its timeout
        static_cast<void>(co_await swarm::announce_each(
            ring, announce, (*seeder)->endpoints(), (*seeder)->peer_ids(), fresh.get_token()));
    }
    print_served(options.json, (*seeder)->stats(), cpu);
    tasks.request_stop();
    co_await tasks.join();
    co_return exit_ok;
}

io::task<int> leech_main(io::ring& ring, const swarm_options& options,
                         const metainfo::torrent_info& torrent, endpoint seed) {
    io::scope tasks;
    std::stop_source interrupt;
    int signal = 0;
    auto signals = io::signal_set::create({SIGINT, SIGTERM});
    if (signals) {
        tasks.spawn(watch_signals(ring, *signals, interrupt, tasks.token(), &signal));
    }
    swarm::leecher_settings settings;
    settings.leechers = options.peers;
    settings.seed = seed;
    auto leechers = swarm::synthetic_leechers::create(ring, torrent, settings);
    if (!leechers) {
        tasks.request_stop();
        co_await tasks.join();
        co_return report_error(exit_bad_input, "--peers: the leechers' addresses would leave "
                                               "127.0.0.0/8");
    }
    const double cpu_before = cpu_seconds();
    const auto started = std::chrono::steady_clock::now();
    co_await (*leechers)->run(interrupt.get_token());
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const double cpu = cpu_seconds() - cpu_before;
    tasks.request_stop();
    co_await tasks.join();
    const swarm::leecher_stats& s = (*leechers)->stats();
    const double bytes = static_cast<double>(s.payload_received);
    const double rate = seconds > 0 ? bytes / 1e6 / seconds : 0.0;
    const double per_gb = bytes > 0 ? cpu / (bytes / 1e9) : 0.0;
    if (options.json) {
        json_writer w;
        w.begin_object().key("event").value("leeched");
        w.key("leechers").value(static_cast<std::uint64_t>(options.peers));
        w.key("finished").value(static_cast<std::uint64_t>(s.finished));
        w.key("failed").value(static_cast<std::uint64_t>(s.failed));
        w.key("bytes").value(s.payload_received).key("seconds").value(seconds);
        w.key("mb_per_s").value(rate).key("cpu_seconds_per_gb").value(per_gb);
        if (!s.first_failure.empty()) {
            w.key("first_failure").value(s.first_failure);
        }
        fmt::print("{}\n", w.end_object().str());
    } else {
        fmt::print("swarm: {} of {} leechers finished; {} in {:.2f} s ({:.0f} MB/s); "
                   "{:.3f} CPU s per GB received\n",
                   s.finished, options.peers, format_size(s.payload_received), seconds, rate,
                   per_gb);
    }
    std::fflush(stdout);
    if (s.finished != options.peers && signal == 0) {
        co_return report_error(exit_runtime_failure,
                               fmt::format("{} leechers did not finish; the first: {}",
                                           options.peers - s.finished, s.first_failure));
    }
    co_return exit_ok;
}

int run_leechers(const swarm_options& options) {
    if (options.torrent_in.empty() || options.peer.empty()) {
        return report_error(exit_bad_input, "--leechers needs --torrent FILE and --peer ADDR:PORT");
    }
    const std::optional<endpoint> seed = endpoint::parse(options.peer);
    if (!seed || seed->port() == 0 || !seed->is_loopback()) {
        return report_error(exit_bad_input,
                            fmt::format("--peer {}: not a loopback ADDR:PORT", options.peer));
    }
    auto ring = io::ring::create(io::ring_options{.entries = 4096, .cq_entries = 0});
    if (!ring) {
        return report_ring_failure(ring.error());
    }
    auto target = load_torrent_target(*ring, options.torrent_in);
    if (!target) {
        return report_error(exit_bad_input, target.error());
    }
    if (!target->torrent) {
        return report_error(exit_bad_input, "--torrent: give a .torrent file");
    }
    return ring->run(leech_main(*ring, options, *target->torrent, *seed));
}

int run_swarm(const swarm_options& options) {
    if (options.peers == 0 || options.peers > 60000) {
        return report_error(exit_bad_input, "--peers: from 1 to 60000");
    }
    if (options.leechers) {
        return run_leechers(options);
    }
    const std::optional<std::uint64_t> size = parse_size(options.size);
    if (!size || *size == 0) {
        return report_error(exit_bad_input,
                            fmt::format("--size {}: not a size above zero (like 1G)", options.size));
    }
    std::uint64_t piece_length = metainfo::choose_piece_length(*size);
    if (!options.piece_size.empty()) {
        const std::optional<std::uint64_t> asked = parse_size(options.piece_size);
        if (!asked) {
            return report_error(exit_bad_input,
                                fmt::format("--piece-size {}: not a size", options.piece_size));
        }
        piece_length = *asked;
    }
    if (!options.tracker.empty() && !options.builtin_tracker.empty()) {
        return report_error(exit_bad_input, "give --tracker or --builtin-tracker, not both");
    }
    if (!options.tracker.empty()) {
        // The swarm talks to loopback only, and announces over plain HTTP.
        auto url = tracker::parse_tracker_url(options.tracker);
        std::optional<endpoint> at;
        if (url && url->scheme == tracker::tracker_scheme::http) {
            at = endpoint::parse(url->host.find(':') == std::string::npos
                                     ? fmt::format("{}:{}", url->host, url->port)
                                     : fmt::format("[{}]:{}", url->host, url->port));
        }
        if (!at || !at->is_loopback()) {
            return report_error(exit_bad_input,
                                fmt::format("--tracker {}: the swarm announces only to an "
                                            "http:// tracker at a loopback address",
                                            options.tracker));
        }
    }
    swarm::payload_shape shape;
    shape.total_size = *size;
    shape.piece_length = piece_length;
    shape.files = options.files;
    shape.seed = options.seed;
    auto payload = swarm::synthetic_payload::create(shape);
    if (!payload) {
        return report_error(exit_bad_input,
                            "--size, --piece-size and --files do not make a torrent: the piece "
                            "size must be a power of two from 16K to 512M, and there must be "
                            "at least one byte per file");
    }
    auto ring = io::ring::create(io::ring_options{.entries = 4096, .cq_entries = 0});
    if (!ring) {
        return report_ring_failure(ring.error());
    }
    std::unique_ptr<tracker::builtin_tracker> builtin;
    std::string tracker_url = options.tracker;
    if (!options.builtin_tracker.empty()) {
        const std::optional<endpoint> where = endpoint::parse(options.builtin_tracker);
        if (!where || !where->is_loopback()) {
            return report_error(exit_bad_input,
                                fmt::format("--builtin-tracker {}: not a loopback ADDR:PORT",
                                            options.builtin_tracker));
        }
        tracker::builtin_tracker_settings settings;
        settings.http = *where;
        settings.udp = *where;
        auto made = tracker::builtin_tracker::create(*ring, settings);
        if (!made) {
            return report_error(exit_runtime_failure,
                                fmt::format("--builtin-tracker {}: {}", options.builtin_tracker,
                                            made.error().message()));
        }
        builtin = std::move(*made);
        tracker_url = fmt::format("http://{}/announce", builtin->http_endpoint()->to_string());
    }
    std::vector<std::string> trackers;
    if (!tracker_url.empty()) {
        trackers.push_back(tracker_url);
    }
    const std::string name = fmt::format("spate-swarm-{}", options.size);
    auto bytes = metainfo::write_torrent(payload->torrent(name, trackers));
    if (!bytes) {
        return report_error(exit_bad_input, fmt::format("cannot make the torrent: {}",
                                                        bytes.error().message()));
    }
    auto torrent = metainfo::parse_torrent(*bytes, metainfo::torrent_limits{});
    if (!torrent) {
        return report_error(exit_runtime_failure,
                            fmt::format("the torrent made does not parse: {}",
                                        torrent.error().message()));
    }
    if (!options.data_out.empty()) {
        if (result<void> files = payload->write_files(options.data_out, name); !files) {
            return report_error(exit_runtime_failure, fmt::format("--data-out {}: {}",
                                                                  options.data_out,
                                                                  files.error().message()));
        }
    }
    result<void> written =
        ring->run(write_file_atomically(*ring, options.torrent_out, *bytes, true));
    if (!written) {
        return report_error(exit_runtime_failure,
                            fmt::format("{}: {}", options.torrent_out, written.error().message()));
    }
    return ring->run(
        swarm_main(*ring, options, *payload, *torrent, std::move(builtin), tracker_url));
}

} // namespace

void add_swarm_command(CLI::App& app, command_main& selected) {
    auto options = std::make_shared<swarm_options>();
    CLI::App* sub = app.add_subcommand(
        "swarm", "Run synthetic seeders on loopback addresses for benchmarks and tests");
    sub->add_option("--peers", options->peers, "synthetic seeders, one address each (default 1)");
    sub->add_option("--size", options->size, "payload size, e.g. 1G (default 1G)");
    sub->add_option("--piece-size", options->piece_size, "piece length (default: by size)");
    sub->add_option("--files", options->files, "files the payload is cut into (default 1)");
    sub->add_option("--torrent-out", options->torrent_out,
                    "where to write the .torrent (default spate-swarm.torrent)");
    sub->add_option("--tracker", options->tracker,
                    "announce every peer to this http:// tracker on loopback");
    sub->add_option("--builtin-tracker", options->builtin_tracker,
                    "run the built-in tracker at this ADDR:PORT (HTTP and UDP) and use it");
    sub->add_option("--port", options->port, "the peers' listen port (default: any free)");
    sub->add_option("--seed", options->seed, "seed of the generated data (default 1)");
    sub->add_option("--data-out", options->data_out, "also write the payload's files here");
    sub->add_flag("--leechers", options->leechers,
                  "synthetic leechers instead: download from --peer and discard");
    sub->add_option("--torrent", options->torrent_in, "the torrent the leechers fetch");
    sub->add_option("--peer", options->peer, "the seed the leechers dial (ADDR:PORT)");
    sub->add_flag("--json", options->json, "print one JSON object per line");
    sub->callback([options, &selected] { selected = [options] { return run_swarm(*options); }; });
}

} // namespace spate::cli
