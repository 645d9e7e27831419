// spate announce <file.torrent|magnet:...> [--tracker URL]... [--scrape] [--json]
//                [--port N] [--event E] [--timeout SECONDS]
// One announce (or scrape) per tracker, each bounded by the timeout; prints what each
// tracker answered, or why it did not.

#include "announce_report.hpp"
#include "command.hpp"
#include "torrent_source.hpp"

#include <spate/io/deadline.hpp>
#include <spate/io/ring.hpp>
#include <spate/io/scope.hpp>
#include <spate/io/signals.hpp>
#include <spate/net/http_client.hpp>
#include <spate/net/resolver.hpp>
#include <spate/tracker/http_tracker_client.hpp>
#include <spate/tracker/redacted_url.hpp>
#include <spate/tracker/tracker_url.hpp>
#include <spate/tracker/udp_tracker_client.hpp>

#include <fmt/core.h>

#include <sys/random.h>

#include <csignal>
#include <memory>
#include <string>
#include <vector>

namespace spate::cli {

namespace {

struct announce_options {
    std::string source;
    std::vector<std::string> trackers;
    bool scrape = false;
    bool json = false;
    std::uint16_t port = 6881;
    std::string event = "started";
    double timeout_seconds = 30;
};

// Everything the announces need, checked before the ring starts.
struct announce_plan {
    torrent_target target;
    std::vector<std::string> urls;
    tracker::announce_request request;
    bool scrape = false;
    bool json = false;
    std::chrono::milliseconds timeout{30'000};
};

tracker::peer_id make_peer_id() {
    // Azureus style: "-SP0010-" then 12 random bytes.
    tracker::peer_id id{};
    constexpr std::string_view prefix = "-SP0010-";
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        id[i] = static_cast<std::byte>(prefix[i]);
    }
    if (::getrandom(id.data() + prefix.size(), id.size() - prefix.size(), 0) !=
        static_cast<ssize_t>(id.size() - prefix.size())) {
        for (std::size_t i = prefix.size(); i < id.size(); ++i) {
            id[i] = static_cast<std::byte>('0' + i % 10);
        }
    }
    return id;
}

std::uint32_t make_key() {
    std::uint32_t key = 0;
    if (::getrandom(&key, sizeof(key), 0) != static_cast<ssize_t>(sizeof(key))) {
        key = static_cast<std::uint32_t>(::getpid());
    }
    return key;
}

// One tracker, one exchange, bounded by the plan's timeout and by `stop` (Ctrl-C).
io::task<tracker_outcome> ask_tracker(io::ring& ring, net::resolver& names,
                                      net::http_client& http, tracker::udp_tracker_client& udp,
                                      std::string url, const announce_plan& plan,
                                      std::stop_token interrupt) {
    tracker_outcome outcome;
    outcome.url = tracker::redacted_url(url); // printed: secrets hidden
    auto parsed = tracker::parse_tracker_url(url);
    if (!parsed) {
        outcome.error = "not a tracker URL (http, https or udp)";
        co_return outcome;
    }

    std::stop_source stop;
    std::stop_callback forward(interrupt, [&stop] { stop.request_stop(); });
    bool expired = false;
    io::scope timer;
    timer.spawn(io::stop_after(ring, plan.timeout, stop, &expired));

    if (parsed->scheme == tracker::tracker_scheme::udp) {
        net::resolve_options resolve;
        resolve.stop = stop.get_token();
        resolve.timeout = plan.timeout;
        auto addresses = co_await names.resolve(parsed->host, parsed->port,
                                                net::address_family_preference::prefer_v4,
                                                resolve);
        if (!addresses || addresses->empty()) {
            outcome.error = addresses ? std::string("no address")
                                      : fmt::format("cannot resolve {}: {}", parsed->host,
                                                    addresses.error().message());
        } else if (plan.scrape) {
            // g++ 12 miscompiles braced lists inside co_await: build the vector first.
            std::vector<sha1_digest> hashes(1, plan.target.info_hash);
            auto scraped = co_await udp.scrape(addresses->front(), std::move(hashes),
                                               stop.get_token());
            outcome.take(std::move(scraped));
        } else {
            auto answered = co_await udp.announce(addresses->front(), parsed->path_and_query,
                                                  plan.request, stop.get_token());
            outcome.take(std::move(answered));
        }
    } else {
        tracker::http_tracker_settings settings;
        settings.timeout = plan.timeout;
        if (plan.scrape) {
            std::vector<sha1_digest> hashes(1, plan.target.info_hash);
            auto scraped = co_await tracker::http_scrape(http, url, std::move(hashes), settings,
                                                         stop.get_token());
            outcome.take(std::move(scraped));
        } else {
            auto answered =
                co_await tracker::http_announce(http, url, plan.request, settings, stop.get_token());
            outcome.take(std::move(answered));
        }
    }
    if (expired) {
        outcome.error = fmt::format("no answer within {} s", plan.timeout.count() / 1000.0);
    } else if (interrupt.stop_requested() && !outcome.ok()) {
        outcome.error = "interrupted";
    }
    stop.request_stop(); // ends the timer
    co_await timer.join();
    co_return outcome;
}

io::task<int> run_announces(io::ring& ring, const announce_plan& plan) {
    io::scope background;
    auto signals = io::signal_set::create({SIGINT, SIGTERM});
    if (signals) {
        background.spawn(io::stop_on_signal(ring, *signals, background.stop_source()));
    }
    auto names = net::resolver::create(ring);
    if (!names) {
        background.request_stop();
        co_await background.join();
        co_return report_error(exit_runtime_failure,
                               fmt::format("cannot start DNS: {}", names.error().message()));
    }
    auto http = net::http_client::create(ring, **names);
    if (!http) {
        background.request_stop();
        co_await background.join();
        co_return report_error(exit_runtime_failure,
                               fmt::format("cannot start HTTP: {}", http.error().message()));
    }
    tracker::udp_tracker_client udp(ring);

    int status = exit_ok;
    for (const std::string& url : plan.urls) {
        tracker_outcome outcome =
            co_await ask_tracker(ring, **names, **http, udp, url, plan, background.token());
        print_outcome(outcome, plan.scrape, plan.json);
        if (!outcome.ok()) {
            status = exit_runtime_failure;
        }
        if (background.stop_requested()) {
            break;
        }
    }
    co_await udp.close();
    background.request_stop();
    co_await background.join();
    co_return status;
}

int run_announce(const announce_options& options) {
    auto ring = io::ring::create();
    if (!ring) {
        return report_ring_failure(ring.error());
    }
    auto target = load_torrent_target(*ring, options.source);
    if (!target) {
        return report_error(exit_bad_input, target.error());
    }
    announce_plan plan;
    plan.scrape = options.scrape;
    plan.json = options.json;
    if (!(options.timeout_seconds > 0 && options.timeout_seconds <= 3600)) {
        return report_error(exit_bad_input, "--timeout must be more than 0 and at most 3600 s");
    }
    plan.timeout = std::chrono::milliseconds(static_cast<long>(options.timeout_seconds * 1000));
    if (!options.trackers.empty()) {
        plan.urls = options.trackers;
    } else {
        for (const auto& tier : target->trackers) {
            plan.urls.insert(plan.urls.end(), tier.begin(), tier.end());
        }
    }
    if (plan.urls.empty()) {
        return report_error(exit_bad_input,
                             fmt::format("{} names no tracker (give one with --tracker URL)",
                                         options.source));
    }
    for (const auto& url : plan.urls) {
        if (!tracker::parse_tracker_url(url)) {
            return report_error(exit_bad_input,
                                 fmt::format("{}: not a tracker URL (http, https or udp with a "
                                             "host and port, and no user info)",
                                             tracker::redacted_url(url)));
        }
    }
    tracker::announce_request& request = plan.request;
    request.info_hash = target->info_hash;
    request.peer = make_peer_id();
    request.key = make_key();
    request.port = options.port;
    // A magnet names no size: any positive `left` marks us as a leecher, which we are.
    request.left = target->total_size.value_or(1);
    if (options.event == "started") {
        request.event = tracker::announce_event::started;
    } else if (options.event == "stopped") {
        request.event = tracker::announce_event::stopped;
    } else if (options.event == "completed") {
        request.event = tracker::announce_event::completed;
        request.left = 0;
    } else if (options.event == "none") {
        request.event = tracker::announce_event::none;
    } else {
        return report_error(exit_bad_input,
                             fmt::format("--event {}: must be started, stopped, completed or none",
                                         options.event));
    }
    plan.target = std::move(*target);
    return ring->run(run_announces(*ring, plan));
}

} // namespace

void add_announce_command(CLI::App& app, command_main& selected) {
    auto options = std::make_shared<announce_options>();
    CLI::App* sub =
        app.add_subcommand("announce", "Announce to (or scrape) each tracker of a torrent once");
    sub->add_option("source", options->source, "a .torrent file or a magnet: URI")->required();
    sub->add_option("-t,--tracker", options->trackers,
                    "ask this tracker instead of the torrent's own (repeatable)");
    sub->add_flag("--scrape", options->scrape, "scrape instead of announcing");
    sub->add_flag("--json", options->json, "print one JSON object per tracker");
    sub->add_option("--port", options->port, "the peer port to announce (default 6881)")
        ->check(CLI::Range(1, 65535));
    sub->add_option("--event", options->event,
                    "started (default), stopped, completed or none");
    sub->add_option("--timeout", options->timeout_seconds,
                    "seconds to wait for each tracker (default 30)");
    sub->callback(
        [options, &selected] { selected = [options] { return run_announce(*options); }; });
}

} // namespace spate::cli
