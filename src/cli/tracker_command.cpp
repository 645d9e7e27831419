// spate tracker [--udp ADDR:PORT] [--http ADDR:PORT] [--interval SECONDS] [--verbose]:
// the built-in tracker, until SIGINT or SIGTERM.

#include "command.hpp"

#include <spate/core/endpoint.hpp>
#include <spate/io/ring.hpp>
#include <spate/io/scope.hpp>
#include <spate/io/signals.hpp>
#include <spate/tracker/builtin_tracker.hpp>

#include <fmt/core.h>

#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

namespace spate::cli {

namespace {

struct tracker_options {
    std::string udp;
    std::string http;
    unsigned interval = 1800;
    bool verbose = false;
};

// Serves until a signal stops the scope; then the tracker cancels and joins its own work.
io::task<void> serve(io::ring& ring, tracker::builtin_tracker& tracker, io::signal_set& signals) {
    io::scope tasks;
    tasks.spawn(io::stop_on_signal(ring, signals, tasks.stop_source()));
    co_await tracker.run(tasks.token());
    // The tracker also ends if its loops gave up; the signal waiter must end with it.
    tasks.request_stop();
    co_await tasks.join();
}

std::optional<endpoint> parse_listen_address(const std::string& text) {
    return text.empty() ? std::nullopt : endpoint::parse(text);
}

int run_tracker(const tracker_options& options) {
    if (options.udp.empty() && options.http.empty()) {
        return report_error(exit_bad_input,
                            "tracker: give --udp ADDR:PORT, --http ADDR:PORT or both");
    }
    tracker::builtin_tracker_settings settings;
    settings.udp = parse_listen_address(options.udp);
    settings.http = parse_listen_address(options.http);
    if (!options.udp.empty() && !settings.udp) {
        return report_error(exit_bad_input,
                            fmt::format("--udp {}: expected a numeric ADDR:PORT such as "
                                        "127.0.0.1:6969 or [::1]:6969",
                                        options.udp));
    }
    if (!options.http.empty() && !settings.http) {
        return report_error(exit_bad_input,
                            fmt::format("--http {}: expected a numeric ADDR:PORT such as "
                                        "127.0.0.1:6969 or [::1]:6969",
                                        options.http));
    }
    settings.swarm.announce_interval = std::chrono::seconds(options.interval);
    if (options.verbose) {
        settings.debug_log = [](std::string_view line) {
            fmt::print(stderr, "tracker: {}\n", line);
        };
    }

    // Signals are blocked before anything else runs, so Ctrl-C is never lost to a race.
    auto signals = io::signal_set::create({SIGINT, SIGTERM});
    if (!signals) {
        return report_error(exit_runtime_failure,
                            fmt::format("cannot watch signals: {}", signals.error().message()));
    }
    auto ring = io::ring::create();
    if (!ring) {
        return report_ring_failure(ring.error());
    }
    const std::string wanted =
        fmt::format("{}{}{}", settings.udp ? "udp " + settings.udp->to_string() : std::string(),
                    settings.udp && settings.http ? ", " : "",
                    settings.http ? "http " + settings.http->to_string() : std::string());
    auto tracker = tracker::builtin_tracker::create(*ring, std::move(settings));
    if (!tracker) {
        return report_error(exit_runtime_failure, fmt::format("tracker: cannot listen on {}: {}",
                                                              wanted, tracker.error().message()));
    }

    // The status line scripts and tests read the ports from: flushed at once, since stdout
    // is a pipe for them.
    const auto udp = (*tracker)->udp_endpoint();
    const auto http = (*tracker)->http_endpoint();
    fmt::print("tracker: {}{}{}\n", udp ? "udp " + udp->to_string() : std::string(),
               udp && http ? ", " : "", http ? "http " + http->to_string() : std::string());
    std::fflush(stdout);

    ring->run(serve(*ring, **tracker, *signals));
    return exit_ok;
}

} // namespace

void add_tracker_command(CLI::App& app, command_main& selected) {
    auto options = std::make_shared<tracker_options>();
    CLI::App* sub = app.add_subcommand(
        "tracker", "Run the built-in UDP (BEP 15) and HTTP tracker until SIGINT or SIGTERM");
    sub->add_option("--udp", options->udp,
                    "UDP address to serve, e.g. 127.0.0.1:6969 or [::1]:6969 (port 0: any)");
    sub->add_option("--http", options->http,
                    "HTTP address to serve, e.g. 127.0.0.1:6969 (port 0: any)");
    sub->add_option("--interval", options->interval,
                    "announce interval in seconds; silent peers expire after 1.5 intervals")
        ->check(CLI::Range(1U, 7U * 24U * 3600U));
    sub->add_flag("-v,--verbose", options->verbose, "log dropped and refused requests to stderr");
    sub->callback([options, &selected] { selected = [options] { return run_tracker(*options); }; });
}

} // namespace spate::cli
