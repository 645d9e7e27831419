// `spate seed`'s status line and seeding goals.
#include "json_writer.hpp"
#include "seed_session.hpp"
#include "units.hpp"

#include <spate/io/timer_ops.hpp>

#include <fmt/core.h>

#include <unistd.h>

#include <cstdio>

namespace spate::cli {

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

namespace {

double ratio_of(seeded& t) {
    const std::uint64_t size = t.torrent.total_size();
    return size == 0 ? 0.0
                     : static_cast<double>(t.download->stats().payload_sent) /
                           static_cast<double>(size);
}

} // namespace

io::task<void> seed_status_loop(io::ring& ring, std::vector<std::unique_ptr<seeded>>& torrents,
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
        std::size_t serving = 0;
        for (const auto& t : torrents) {
            const session::download_stats s = t->download->stats();
            rate += s.upload_rate;
            sent += s.payload_sent;
            peers += s.peers;
            size += t->torrent.total_size();
            serving += t->ended ? 0 : 1;
        }
        const double ratio = size == 0 ? 0.0 : static_cast<double>(sent) / static_cast<double>(size);
        if (json) {
            json_writer w;
            w.begin_object().key("event").value("status");
            w.key("torrents").value(static_cast<std::uint64_t>(serving));
            w.key("up_rate").value(static_cast<std::uint64_t>(rate)).key("sent").value(sent);
            w.key("peers").value(static_cast<std::uint64_t>(peers)).key("ratio").value(ratio);
            fmt::print("{}\n", w.end_object().str());
            std::fflush(stdout);
            continue;
        }
        const std::string line =
            fmt::format("seeding {} torrents  up {}/s  peers {}  sent {}  ratio {:.2f}", serving,
                        format_size(static_cast<std::uint64_t>(rate)), peers, format_size(sent),
                        ratio);
        if (terminal) {
            fmt::print(stderr, "\r{}\x1b[K", line);
            std::fflush(stderr);
        } else {
            fmt::print("{}\n", line);
            std::fflush(stdout);
        }
    }
}

io::task<void> seed_goal_loop(io::ring& ring, std::vector<std::unique_ptr<seeded>>& torrents,
                              seed_goals goals, bool json, std::stop_token stop) {
    while (!stop.stop_requested()) {
        result<void> slept = co_await io::sleep_for(ring, std::chrono::seconds(1), stop);
        if (!slept) {
            break;
        }
        const auto now = std::chrono::steady_clock::now();
        for (auto& t : torrents) {
            if (t->ended || t->stop.stop_requested()) {
                continue;
            }
            const double ratio = ratio_of(*t);
            if (goals.ratio > 0 && ratio >= goals.ratio) {
                say(json, "seeded", t->torrent.name(),
                    fmt::format("reached ratio {:.2f} (goal {:.2f})", ratio, goals.ratio));
                t->stop.request_stop();
            } else if (goals.time.count() > 0 && now - t->started >= goals.time) {
                say(json, "seeded", t->torrent.name(),
                    fmt::format("seeded for {} s at ratio {:.2f}", goals.time.count(), ratio));
                t->stop.request_stop();
            }
        }
    }
}

} // namespace spate::cli
