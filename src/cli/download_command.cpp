// spate download <file.torrent> [-o DIR] [--peer ADDR:PORT]... [--max-peers N]
//                [--select 0,2-5] [--sequential] [--json] [--seed] [--port N] [--no-tracker]
// Checks what is already in DIR (fast when the resume file matches), announces, downloads
// every selected piece, verifies and writes it, fsyncs, and exits 0 when all are written.

#include "command.hpp"
#include "download_plan.hpp"
#include "descriptor_budget.hpp"
#include "download_report.hpp"
#include "progress_line.hpp"
#include "torrent_source.hpp"
#include "torrent_support.hpp"
#include "units.hpp"

#include <spate/io/buffer_pool.hpp>
#include <spate/io/ring.hpp>
#include <spate/io/scope.hpp>
#include <spate/io/signals.hpp>
#include <spate/io/timer_ops.hpp>
#include <spate/net/http_client.hpp>
#include <spate/net/resolver.hpp>
#include <spate/picker/piece_picker.hpp>
#include <spate/peer/dial.hpp>
#include <spate/session/listener.hpp>
#include <spate/session/torrent_download.hpp>
#include <spate/storage/check_pieces.hpp>
#include <spate/storage/file_storage.hpp>
#include <spate/storage/resume_store.hpp>
#include <spate/tracker/announcer.hpp>
#include <spate/tracker/udp_tracker_client.hpp>

#include <fmt/core.h>

#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <functional>
#include <memory>

namespace spate::cli {

namespace {

using clock = std::chrono::steady_clock;

struct download_plan {
    download_plan(download_options o, metainfo::torrent_info t)
        : options(std::move(o)), torrent(std::move(t)) {}
    download_options options;
    metainfo::torrent_info torrent;
    std::vector<endpoint> peers;
    bitfield wanted;
    pool_shape pool;
    std::uint64_t max_up = 0;   // bytes per second, 0: no limit
    std::uint64_t max_down = 0;
    descriptor_budget descriptors;
    report_style style = report_style::pipe;
};

std::uint64_t bytes_of(const metainfo::torrent_info& torrent, const bitfield& pieces) {
    std::uint64_t total = 0;
    for (std::uint32_t p = 0; p < pieces.size(); ++p) {
        if (pieces.test(p)) {
            total += torrent.layout().piece_size(piece_index(p));
        }
    }
    return total;
}

io::task<void> report_loop(io::ring& ring, session::torrent_download& download,
                           download_report& report, std::uint64_t had, std::stop_token stop) {
    while (!stop.stop_requested()) {
        result<void> slept = co_await io::sleep_for(ring, std::chrono::milliseconds(500), stop);
        if (!slept) {
            break;
        }
        report.progress(download.stats(), had);
    }
}

io::task<void> resume_loop(io::ring& ring, storage::file_storage& storage,
                           const metainfo::torrent_info& torrent,
                           const picker::piece_picker& picker, std::string root,
                           std::stop_token stop) {
    std::uint32_t saved = picker.have_bits().count();
    while (!stop.stop_requested()) {
        result<void> slept = co_await io::sleep_for(ring, std::chrono::seconds(10), stop);
        if (!slept) {
            break;
        }
        if (picker.have_bits().count() != saved) {
            saved = picker.have_bits().count();
            // A failure here is not fatal: the final save, or a recheck, covers it.
            static_cast<void>(co_await save_progress(ring, storage, torrent, picker, root));
        }
    }
}

io::task<int> download_main(io::ring& ring, const download_plan& plan) {
    const download_options& options = plan.options;
    const metainfo::torrent_info& torrent = plan.torrent;
    download_report report(plan.style, torrent.name(), bytes_of(torrent, plan.wanted));

    io::scope background;
    std::stop_source interrupt;
    int signal = 0;
    auto signals = io::signal_set::create({SIGINT, SIGTERM});
    if (signals) {
        background.spawn(watch_signals(ring, *signals, interrupt, background.token(), &signal));
    }
    auto finish = [&](int status) -> int {
        if (signal != 0) {
            return 128 + signal;
        }
        return status;
    };

    auto pool = io::buffer_pool::create(ring, plan.pool.slot_size, plan.pool.slots);
    if (!pool) {
        background.request_stop();
        co_await background.join();
        co_return report_error(exit_runtime_failure,
                               fmt::format("cannot set up {} piece buffers of {}: {}",
                                           plan.pool.slots, format_size(plan.pool.slot_size),
                                           pool.error().message()));
    }
    const bool existing = any_payload_exists(options.output, torrent);
    storage::storage_options storage_options;
    storage_options.preallocate = options.preallocate;
    storage_options.max_open_files = plan.descriptors.files;
    auto storage = co_await storage::file_storage::open(ring, torrent, options.output,
                                                        storage_options,
                                                        storage::open_mode::create);
    if (!storage) {
        background.request_stop();
        co_await background.join();
        co_return report_error(exit_runtime_failure,
                               fmt::format("cannot open the download folder {}: {}",
                                           options.output, storage.error().message()));
    }
    storage::file_storage& files = **storage;

    const std::uint64_t seed_value = random_u64();
    picker::picker_options picker_options;
    picker_options.sequential = options.sequential;
    picker_options.seed = seed_value;
    picker::piece_picker picker(torrent.piece_count(), torrent.piece_length(),
                                torrent.total_size(), picker_options);
    for (std::uint32_t p = 0; p < torrent.piece_count(); ++p) {
        if (!plan.wanted.test(p)) {
            picker.set_priority(piece_index(p), picker::priority::skip);
        }
    }
    if (existing) {
        result<existing_data> good = co_await find_existing(
            ring, files, torrent, options.output, *pool, interrupt.get_token());
        if (!good && signal == 0) {
            co_await files.close();
            background.request_stop();
            co_await background.join();
            co_return report_error(exit_runtime_failure,
                                   fmt::format("cannot check the data in {}: {}", options.output,
                                               good.error().message()));
        }
        if (good) {
            report.checked(good->good.count(), torrent.piece_count(), good->from_resume_file);
            for (std::uint32_t p = 0; p < good->good.size(); ++p) {
                if (good->good.test(p)) {
                    picker.mark_have(piece_index(p));
                }
            }
        }
    }
    std::uint64_t had = 0;
    for (std::uint32_t p = 0; p < torrent.piece_count(); ++p) {
        if (plan.wanted.test(p) && picker.have(piece_index(p))) {
            had += torrent.layout().piece_size(piece_index(p));
        }
    }

    session::download_settings settings;
    settings.max_peers = plan.descriptors.peers;
    settings.max_upload_rate = plan.max_up;
    settings.max_download_rate = plan.max_down;
    const peer::peer_id self = make_peer_id();
    session::torrent_download download(ring, torrent, files, *pool, picker, self, settings,
                                       report);
    report.watch(&download, options.seed);
    download.add_peers(plan.peers);

    // Peers may dial us too: on --port, or the next free port after it.
    session::listen_settings listen;
    listen.port = options.port;
    auto listening = session::listener::open(listen);
    std::uint16_t announced_port = options.port;
    session::handshake_gate gate(plan.descriptors.pending_handshakes);
    io::scope incoming;
    if (listening) {
        announced_port = listening->port();
        report.listening(announced_port);
        const sha1_digest info_hash = torrent.info_hash();
        torrent_lookup lookup = [&download, info_hash](const sha1_digest& asked) {
            return asked == info_hash ? &download : nullptr;
        };
        background.spawn(listening->run(ring, greet_accepted(ring, incoming, gate, lookup, self),
                                        background.token()));
    } else {
        report.clear_line();
        fmt::print(stderr, "spate: warning: cannot listen on port {} or the {} after it: {}\n",
                   options.port, listen.tries - 1, listening.error().message());
    }

    // Trackers.
    std::unique_ptr<net::resolver> resolver;
    std::unique_ptr<net::http_client> http;
    std::unique_ptr<tracker::udp_tracker_client> udp;
    std::unique_ptr<tracker::announcer> announcer;
    io::scope announcing;
    if (!options.no_tracker && !torrent.trackers().empty()) {
        auto names = net::resolver::create(ring);
        if (names) {
            resolver = std::move(*names);
            auto client = net::http_client::create(ring, *resolver);
            if (client) {
                http = std::move(*client);
            }
        }
        if (resolver && http) {
            udp = std::make_unique<tracker::udp_tracker_client>(ring);
            tracker::announce_identity identity;
            identity.info_hash = torrent.info_hash();
            std::copy(self.begin(), self.end(), identity.peer.begin());
            identity.port = announced_port;
            identity.key = static_cast<std::uint32_t>(random_u64());
            tracker::tracker_services services{ring, *resolver, *http, *udp};
            const std::uint64_t wanted_bytes = bytes_of(torrent, plan.wanted);
            announcer = std::make_unique<tracker::announcer>(
                torrent.trackers(), identity, services, tracker::announcer_settings{},
                [&download, had, wanted_bytes] {
                    const session::download_stats s = download.stats();
                    tracker::announce_numbers n;
                    n.downloaded = s.payload_received;
                    n.uploaded = s.payload_sent;
                    const std::uint64_t have = had + s.verified;
                    n.left = wanted_bytes > have ? wanted_bytes - have : 0;
                    return n;
                },
                [&download](std::span<const endpoint> found) { download.add_peers(found); });
            announcer->on_failure([&report](const std::string& text) { report.tracker_failed(text); });
            announcing.spawn(announcer->run(announcing.token()));
        } else {
            report.clear_line();
            fmt::print(stderr, "spate: warning: trackers unavailable (DNS or HTTP set-up failed)\n");
        }
    }
    background.spawn(report_loop(ring, download, report, had, background.token()));
    background.spawn(
        resume_loop(ring, files, torrent, picker, options.output, background.token()));

    const auto started = clock::now();
    result<void> outcome = co_await download.run(interrupt.get_token(), options.seed);
    const auto elapsed = clock::now() - started;

    // The tracker hears `completed` when the announcer finds the time (it respects the
    // tracker's min interval); a download that exits now says `stopped` with left = 0.
    if (announcer && download.finished()) {
        announcer->completed();
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

    result<saved_progress> saved =
        co_await save_progress(ring, files, torrent, picker, options.output);
    co_await files.close();
    report.clear_line();
    if (!outcome) {
        co_return finish(report_error(
            exit_runtime_failure,
            fmt::format("writing to {} failed: {}", options.output, outcome.error().message())));
    }
    if (!saved) {
        co_return finish(report_error(exit_runtime_failure,
                                      fmt::format("cannot save the data in {}: {}",
                                                  options.output, saved.error().message())));
    }
    if (saved->resume_error) {
        fmt::print(stderr,
                   "spate: warning: cannot write the resume file in {}/.spate: {} (the next run "
                   "checks the data instead)\n",
                   options.output, saved->resume_error.message());
    }
    if (signal != 0) {
        co_return finish(exit_ok);
    }
    const session::download_stats s = download.stats();
    report.done(s, elapsed);
    co_return exit_ok;
}

int run_download(const download_options& options) {
    io::ring_options ring_options;
    ring_options.entries = options.ring_entries;
    auto ring = io::ring::create(ring_options);
    if (!ring) {
        return report_ring_failure(ring.error());
    }
    auto target = load_torrent_target(*ring, options.source);
    if (!target) {
        return report_error(exit_bad_input, target.error());
    }
    if (!target->torrent) {
        return report_error(exit_bad_input,
                            "downloading from a magnet link needs the metadata exchange "
                            "(BEP 9), which spate does not have yet: give a .torrent file");
    }
    download_plan plan(options, std::move(*target->torrent));
    plan.style = choose_report_style(options.json);
    for (const std::string& text : options.peers) {
        auto peer = endpoint::parse(text);
        if (!peer || peer->port() == 0) {
            return report_error(exit_bad_input,
                                fmt::format("--peer {}: not an address:port (like 127.0.0.2:6881 "
                                            "or [::1]:6881)",
                                            text));
        }
        plan.peers.push_back(*peer);
    }
    auto selection = parse_file_selection(options.select, plan.torrent.files().size());
    if (!selection) {
        return report_error(exit_bad_input, selection.error());
    }
    auto budget = parse_size(options.memory);
    if (!budget || *budget == 0) {
        return report_error(exit_bad_input,
                            fmt::format("--memory {}: not a size like 256M or 1G", options.memory));
    }
    if (options.max_peers == 0) {
        return report_error(exit_bad_input, "--max-peers must be at least 1");
    }
    auto max_up = parse_rate_option("--max-up", options.max_up);
    auto max_down = parse_rate_option("--max-down", options.max_down);
    if (!max_up || !max_down) {
        return report_error(exit_bad_input, !max_up ? max_up.error() : max_down.error());
    }
    plan.max_up = *max_up;
    plan.max_down = *max_down;
    auto descriptors = budget_descriptors(options.max_peers, 1);
    if (!descriptors) {
        return report_error(exit_runtime_failure, descriptors.error());
    }
    plan.descriptors = *descriptors;
    plan.pool = plan_piece_pool(plan.torrent.piece_length(), plan.torrent.piece_count(), *budget);
    plan.wanted = wanted_pieces(plan.torrent, *selection);
    return ring->run(download_main(*ring, plan));
}

} // namespace

void add_download_command(CLI::App& app, command_main& selected) {
    auto options = std::make_shared<download_options>();
    CLI::App* sub = app.add_subcommand("download", "Download a torrent, verify it, write it");
    sub->add_option("source", options->source, "a .torrent file")->required();
    sub->add_option("-o,--output", options->output, "the download folder (default: .)");
    sub->add_option("--peer", options->peers,
                    "also connect to this peer, ADDR:PORT (repeatable)");
    sub->add_option("--max-peers", options->max_peers, "most connections (default 200)");
    sub->add_option("--select", options->select,
                    "download only these files, by index as `spate info` numbers them: 0,2-5");
    sub->add_option("--memory", options->memory, "piece buffer memory (default 256M)");
    sub->add_option("--max-up", options->max_up, "upload limit, e.g. 10M (bytes per s)");
    sub->add_option("--max-down", options->max_down, "download limit, e.g. 50M (bytes per s)");
    sub->add_flag("--sequential", options->sequential, "fetch pieces in order");
    sub->add_flag("--json", options->json, "print one JSON object per line");
    sub->add_flag("--seed", options->seed, "keep running after the download completes");
    sub->add_flag("--no-tracker", options->no_tracker, "do not announce to trackers");
    sub->add_flag("--preallocate", options->preallocate,
                  "allocate whole files up front (default: sparse files)");
    sub->add_option("--port", options->port,
                    "listen for peers on this port, or the next free one (default 6881)")
        ->check(CLI::Range(1, 65535));
    sub->add_option("--ring-entries", options->ring_entries,
                    "io_uring submission queue size (default 1024)")
        ->check(CLI::Range(2, 32768));
    sub->callback(
        [options, &selected] { selected = [options] { return run_download(*options); }; });
}

} // namespace spate::cli
