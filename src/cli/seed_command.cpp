// spate seed <file.torrent>... --data DIR [--port N] [--peer ADDR:PORT]... [--no-tracker]
//            [--json]
// Serves every torrent from DIR in one session on one ring: one listen socket, one buffer
// pool, shared tracker clients, one announcer and one torrent per .torrent. Each torrent's
// data is checked first (fast when its resume file matches); a torrent whose data cannot
// be opened or checked is reported and left out, the others are served. Runs until Ctrl-C
// or SIGTERM, then announces `stopped` and exits 0.

#include "command.hpp"
#include "json_writer.hpp"
#include "torrent_source.hpp"
#include "torrent_support.hpp"
#include "units.hpp"

#include <spate/io/scope.hpp>
#include <spate/io/timer_ops.hpp>
#include <spate/net/http_client.hpp>
#include <spate/net/resolver.hpp>
#include <spate/session/listener.hpp>
#include <spate/tracker/announcer.hpp>
#include <spate/tracker/udp_tracker_client.hpp>

#include <fmt/core.h>

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <map>
#include <memory>

namespace spate::cli {

namespace {

struct seed_options {
    std::vector<std::string> sources;
    std::string data;
    std::vector<std::string> peers;
    std::uint16_t port = 6881;
    bool json = false;
    bool no_tracker = false;
};

// Seeding prints no per-peer events; it counts bans for the status line.
class seed_observer final : public session::download_observer {
public:
    void peer_banned(const endpoint& /*peer*/, std::string_view /*reason*/) override { ++bans; }
    std::uint64_t bans = 0;
};

// One torrent of the session. Held by unique_ptr: the download points at its members.
struct seeded {
    explicit seeded(metainfo::torrent_info t) : torrent(std::move(t)) {}
    metainfo::torrent_info torrent;
    std::unique_ptr<storage::file_storage> files;
    std::unique_ptr<picker::piece_picker> picker;
    std::unique_ptr<session::torrent_download> download;
    std::unique_ptr<tracker::announcer> announcer;
    seed_observer observer;
};

void say(bool json, std::string_view event, const std::string& name, std::string_view detail) {
    if (json) {
        json_writer w;
        w.begin_object().key("event").value(event).key("torrent").value(name);
        w.key("detail").value(detail).end_object();
        fmt::print("{}\n", w.str());
    } else {
        fmt::print("{}: {}\n", name, detail);
    }
    std::fflush(stdout);
}

io::task<void> status_loop(io::ring& ring, std::vector<std::unique_ptr<seeded>>& torrents,
                           bool json, std::stop_token stop) {
    const bool terminal = !json && ::isatty(STDERR_FILENO) == 1;
    const auto interval = terminal ? std::chrono::seconds(1) : std::chrono::seconds(5);
    while (!stop.stop_requested()) {
        result<void> slept = co_await io::sleep_for(ring, interval, stop);
        if (!slept) {
            break;
        }
        double rate = 0;
        std::uint64_t sent = 0;
        std::uint64_t size = 0;
        std::size_t peers = 0;
        for (const auto& t : torrents) {
            const session::download_stats s = t->download->stats();
            rate += s.upload_rate;
            sent += s.payload_sent;
            peers += s.peers;
            size += t->torrent.total_size();
        }
        const double ratio = size == 0 ? 0.0 : static_cast<double>(sent) / static_cast<double>(size);
        if (json) {
            json_writer w;
            w.begin_object().key("event").value("status");
            w.key("torrents").value(static_cast<std::uint64_t>(torrents.size()));
            w.key("up_rate").value(static_cast<std::uint64_t>(rate)).key("sent").value(sent);
            w.key("peers").value(static_cast<std::uint64_t>(peers)).key("ratio").value(ratio);
            fmt::print("{}\n", w.end_object().str());
            std::fflush(stdout);
            continue;
        }
        const std::string line =
            fmt::format("seeding {} torrents  up {}/s  peers {}  sent {}  ratio {:.2f}",
                        torrents.size(), format_size(static_cast<std::uint64_t>(rate)), peers,
                        format_size(sent), ratio);
        if (terminal) {
            fmt::print(stderr, "\r{}\x1b[K", line);
            std::fflush(stderr);
        } else {
            fmt::print("{}\n", line);
            std::fflush(stdout);
        }
    }
}

// Opens and checks one torrent's data; nullptr (after saying why) when it cannot be served.
io::task<std::unique_ptr<seeded>> prepare(io::ring& ring, metainfo::torrent_info torrent,
                                          const seed_options& options, io::buffer_pool& pool,
                                          std::stop_token stop) {
    auto entry = std::make_unique<seeded>(std::move(torrent));
    const std::string name = entry->torrent.name();
    auto files = co_await storage::file_storage::open(ring, entry->torrent, options.data, {},
                                                      storage::open_mode::existing);
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

io::task<int> seed_main(io::ring& ring, std::vector<metainfo::torrent_info> loaded,
                        const seed_options& options, std::vector<endpoint> peers,
                        io::buffer_pool& pool) {
    io::scope background;
    std::stop_source interrupt;
    int signal = 0;
    auto signals = io::signal_set::create({SIGINT, SIGTERM});
    if (signals) {
        background.spawn(watch_signals(ring, *signals, interrupt, background.token(), &signal));
    }
    const peer::peer_id self = make_peer_id();
    std::vector<std::unique_ptr<seeded>> torrents;
    for (metainfo::torrent_info& t : loaded) {
        std::unique_ptr<seeded> entry =
            co_await prepare(ring, std::move(t), options, pool, interrupt.get_token());
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

    std::map<sha1_digest, session::torrent_download*> by_hash;
    for (auto& t : torrents) {
        t->download = std::make_unique<session::torrent_download>(
            ring, t->torrent, *t->files, pool, *t->picker, self, session::download_settings{},
            t->observer);
        t->download->add_peers(peers);
        by_hash.emplace(t->torrent.info_hash(), t->download.get());
    }

    session::listen_settings listen;
    listen.port = options.port;
    auto listening = session::listener::open(listen);
    std::uint16_t port = options.port;
    io::scope incoming;
    if (listening) {
        port = listening->port();
        say(options.json, "listening", "session", fmt::format("port {}", port));
        torrent_lookup lookup = [&by_hash](const sha1_digest& asked) {
            auto it = by_hash.find(asked);
            return it == by_hash.end() ? nullptr : it->second;
        };
        background.spawn(listening->run(
            ring,
            [&ring, &incoming, lookup, self](io::unique_fd socket, endpoint remote) {
                incoming.spawn(
                    greet(ring, std::move(socket), remote, lookup, self, incoming.token()));
            },
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
            const std::uint32_t key = static_cast<std::uint32_t>(random_u64());
            for (auto& t : torrents) {
                if (t->torrent.trackers().empty()) {
                    continue;
                }
                tracker::announce_identity identity;
                identity.info_hash = t->torrent.info_hash();
                std::copy(self.begin(), self.end(), identity.peer.begin());
                identity.port = port;
                identity.key = key;
                session::torrent_download& download = *t->download;
                t->announcer = std::make_unique<tracker::announcer>(
                    t->torrent.trackers(), identity,
                    tracker::tracker_services{ring, *resolver, *http, *udp},
                    tracker::announcer_settings{},
                    [&download] {
                        const session::download_stats s = download.stats();
                        tracker::announce_numbers n;
                        n.uploaded = s.payload_sent;
                        n.downloaded = s.payload_received;
                        n.left = 0; // announced as a seed: what it lacks, it does not fetch
                        return n;
                    },
                    [&download](std::span<const endpoint> found) { download.add_peers(found); });
                announcing.spawn(t->announcer->run(announcing.token()));
            }
        }
    }

    background.spawn(status_loop(ring, torrents, options.json, background.token()));
    io::scope serving;
    std::vector<std::error_code> failures(torrents.size());
    for (std::size_t i = 0; i < torrents.size(); ++i) {
        serving.spawn([](session::torrent_download& d, std::stop_token stop,
                         std::error_code& out) -> io::task<void> {
            result<void> ran = co_await d.run(std::move(stop), true);
            if (!ran) {
                out = ran.error();
            }
        }(*torrents[i]->download, interrupt.get_token(), failures[i]));
    }
    co_await serving.join();
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
    for (std::size_t i = 0; i < torrents.size(); ++i) {
        co_await torrents[i]->files->close();
        if (failures[i]) {
            say(options.json, "error", torrents[i]->torrent.name(), failures[i].message());
        }
    }
    co_return exit_ok;
}

int run_seed(const seed_options& options) {
    auto ring = io::ring::create(io::ring_options{.entries = 1024, .cq_entries = 0});
    if (!ring) {
        return report_ring_failure(ring.error());
    }
    std::vector<metainfo::torrent_info> loaded;
    std::uint64_t largest_piece = 0;
    for (const std::string& source : options.sources) {
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
                return report_error(exit_bad_input,
                                    fmt::format("{}: the same torrent is given twice", source));
            }
        }
        largest_piece = std::max(largest_piece, target->torrent->piece_length());
        loaded.push_back(std::move(*target->torrent));
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
    if (::access(options.data.c_str(), R_OK | X_OK) != 0) {
        return report_error(exit_runtime_failure,
                            fmt::format("--data {}: not a readable folder", options.data));
    }
    // One upload buffer per torrent, and room for the checks' pipelined reads.
    const std::size_t slot = static_cast<std::size_t>((largest_piece + 4095) / 4096 * 4096);
    const auto slots = static_cast<std::uint32_t>(std::max<std::size_t>(8, loaded.size() + 2));
    auto pool = io::buffer_pool::create(*ring, slot, slots);
    if (!pool) {
        return report_error(exit_runtime_failure,
                            fmt::format("cannot set up {} buffers of {}: {}", slots,
                                        format_size(slot), pool.error().message()));
    }
    return ring->run(seed_main(*ring, std::move(loaded), options, std::move(peers), *pool));
}

} // namespace

void add_seed_command(CLI::App& app, command_main& selected) {
    auto options = std::make_shared<seed_options>();
    CLI::App* sub = app.add_subcommand("seed", "Serve complete torrents to peers until stopped");
    sub->add_option("torrents", options->sources, "one or more .torrent files")->required();
    sub->add_option("--data", options->data, "the folder that holds their data")->required();
    sub->add_option("--port", options->port,
                    "listen for peers on this port, or the next free one (default 6881)")
        ->check(CLI::Range(1, 65535));
    sub->add_option("--peer", options->peers, "also connect to this peer (repeatable)");
    sub->add_flag("--no-tracker", options->no_tracker, "do not announce to trackers");
    sub->add_flag("--json", options->json, "print one JSON object per line");
    sub->callback([options, &selected] { selected = [options] { return run_seed(*options); }; });
}

} // namespace spate::cli
