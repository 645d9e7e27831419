// bench_tracker: announces per second and announce round trips against one tracker, from one
// ring, through spate's own UDP (BEP 15) and HTTP tracker clients.
//
//   bench_tracker --tracker udp://127.0.0.1:PORT [--count N] [--concurrency C] ...
//   bench_tracker --tracker http://127.0.0.1:PORT/announce ...
//   bench_tracker --builtin udp|http ...     the built-in tracker in this process, on this ring
//   bench_tracker --print-hashes N           the hex info-hashes of announces 0..N-1
//
// Each announce i carries info-hash sha1("spate-bench-tracker <i mod swarms>") and a peer id
// and port of its own, so the tracker creates (or updates) a swarm entry for every announce;
// a whitelisting tracker such as opentracker is given the hashes by --print-hashes.
// C workers each keep one announce in flight until N have been made or the overall deadline
// passes. Round trips are measured around each client call (UDP connect included the first
// time; HTTP connection set-up every time, since both trackers close after one reply).
//
// It is a plain program, not a Google Benchmark: it needs a tracker outside itself and
// reports percentiles. tools/bench-tracker runs it against `spate tracker` and opentracker.
//
// Reproduce: meson setup build-release --buildtype=release && ninja -C build-release
//            bench/bench_tracker src/cli/spate && tools/bench-tracker build-release

#include <spate/core/endpoint.hpp>
#include <spate/core/hash.hpp>
#include <spate/core/result.hpp>
#include <spate/io/deadline.hpp>
#include <spate/io/ring.hpp>
#include <spate/io/scope.hpp>
#include <spate/io/task.hpp>
#include <spate/net/http_client.hpp>
#include <spate/net/resolver.hpp>
#include <spate/tracker/announce.hpp>
#include <spate/tracker/builtin_tracker.hpp>
#include <spate/tracker/http_tracker_client.hpp>
#include <spate/tracker/tracker_url.hpp>
#include <spate/tracker/udp_tracker_client.hpp>

#include <fmt/core.h>

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace io = spate::io;
namespace net = spate::net;
namespace tracker = spate::tracker;
using spate::endpoint;
using spate::result;
using spate::sha1_digest;
using clock_type = std::chrono::steady_clock;

constexpr int exit_ok = 0;
constexpr int exit_failed = 1;
constexpr int exit_usage = 2;

struct bench_options {
    std::string tracker_url;   // --tracker
    std::string builtin;       // --builtin udp|http
    std::size_t count = 20'000;
    std::size_t concurrency = 64;
    std::size_t swarms = 0;    // 0: one swarm per announce
    double deadline_seconds = 300;
    std::optional<std::size_t> print_hashes;
};

sha1_digest info_hash_of(std::size_t swarm) {
    const std::string text = fmt::format("spate-bench-tracker {}", swarm);
    return spate::sha1(std::as_bytes(std::span(text)));
}

// Announce `index` of a run salted by `salt`: its own peer id and port; the seeder/leecher
// split keeps both of a tracker's lists in use.
tracker::announce_request request_for(std::size_t index, std::size_t swarms, std::uint32_t salt) {
    tracker::announce_request request;
    request.info_hash = info_hash_of(index % swarms);
    constexpr std::string_view prefix = "-SB0001-";
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        request.peer[i] = static_cast<std::byte>(prefix[i]);
    }
    const std::uint64_t tail = (std::uint64_t{salt} << 32) | static_cast<std::uint32_t>(index);
    for (std::size_t i = 0; i < 8; ++i) {
        request.peer[prefix.size() + i] = static_cast<std::byte>(tail >> (8 * i));
    }
    request.port = static_cast<std::uint16_t>(1024 + index % 60'000);
    request.left = index % 2 == 0 ? 0 : 1'000'000;
    request.event = tracker::announce_event::started;
    request.numwant = 50;
    request.key = salt ^ static_cast<std::uint32_t>(index);
    return request;
}

// Everything the workers share; lives in run_bench's frame, which outlives every worker.
struct run_state {
    tracker::tracker_scheme scheme = tracker::tracker_scheme::udp;
    endpoint udp_target;
    std::string udp_path;
    std::string http_url;
    tracker::udp_tracker_client* udp = nullptr;
    net::http_client* http = nullptr;
    std::size_t count = 0;
    std::size_t swarms = 1;
    std::uint32_t salt = 0;
    std::stop_token stop;

    std::size_t next = 0;
    std::size_t failed = 0;
    std::size_t refused = 0; // answered with a failure reason
    std::string first_error;
    std::vector<std::chrono::nanoseconds> round_trips;
};

// One announce through the client for the state's scheme. `state` is borrowed until the
// task completes; the request is taken by value.
io::task<result<tracker::announce_response>> announce_once(run_state& state,
                                                           tracker::announce_request request) {
    if (state.scheme == tracker::tracker_scheme::udp) {
        auto answer =
            co_await state.udp->announce(state.udp_target, state.udp_path, std::move(request),
                                         state.stop);
        co_return answer;
    }
    tracker::http_tracker_settings settings;
    settings.timeout = std::chrono::seconds(15);
    auto answer = co_await tracker::http_announce(*state.http, state.http_url,
                                                  std::move(request), settings, state.stop);
    co_return answer;
}

// Keeps one announce in flight until the run's count is reached or it is stopped.
// `state` is borrowed until the task completes.
io::task<void> worker(run_state& state) {
    while (!state.stop.stop_requested() && state.next < state.count) {
        const std::size_t index = state.next++;
        tracker::announce_request request = request_for(index, state.swarms, state.salt);
        const auto started = clock_type::now();
        result<tracker::announce_response> answer =
            co_await announce_once(state, std::move(request));
        const auto took = clock_type::now() - started;
        if (!answer) {
            if (state.stop.stop_requested()) {
                break; // the deadline, not the tracker
            }
            ++state.failed;
            if (state.first_error.empty()) {
                state.first_error = answer.error().message();
            }
            continue;
        }
        if (answer->failure) {
            ++state.refused;
            if (state.first_error.empty()) {
                state.first_error = "tracker refused: " + *answer->failure;
            }
            continue;
        }
        state.round_trips.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(took));
    }
}

std::int64_t micros(std::chrono::nanoseconds d) {
    return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}

// The value at quantile q (0..1) of sorted `values`: nearest rank.
std::chrono::nanoseconds quantile(const std::vector<std::chrono::nanoseconds>& values, double q) {
    if (values.empty()) {
        return std::chrono::nanoseconds(0);
    }
    auto rank = static_cast<std::size_t>(q * static_cast<double>(values.size()) + 0.999999);
    rank = std::clamp<std::size_t>(rank, 1, values.size());
    return values[rank - 1];
}

// Runs the workers against `url` (or the built-in tracker when `builtin` is set) and prints
// one line of results. The ring and options are borrowed until the task completes.
io::task<int> run_bench(io::ring& ring, const bench_options& options) {
    io::scope background; // the built-in tracker (if any) and the deadline
    std::unique_ptr<tracker::builtin_tracker> own_tracker;
    std::string url = options.tracker_url;
    if (!options.builtin.empty()) {
        tracker::builtin_tracker_settings settings;
        const bool udp = options.builtin == "udp";
        (udp ? settings.udp : settings.http) = endpoint::parse("127.0.0.1:0");
        settings.max_http_connections = std::max<std::size_t>(256, options.concurrency * 2);
        auto created = tracker::builtin_tracker::create(ring, std::move(settings));
        if (!created) {
            fmt::print(stderr, "bench_tracker: cannot start the built-in tracker: {}\n",
                       created.error().message());
            co_return exit_failed;
        }
        own_tracker = std::move(*created);
        url = udp ? fmt::format("udp://{}", own_tracker->udp_endpoint()->to_string())
                  : fmt::format("http://{}/announce", own_tracker->http_endpoint()->to_string());
        background.spawn(own_tracker->run(background.token()));
    }
    auto parsed = tracker::parse_tracker_url(url);

    run_state state;
    state.scheme = parsed->scheme;
    state.http_url = url;
    state.udp_path = parsed->path_and_query;
    state.count = options.count;
    state.swarms = options.swarms == 0 ? options.count : options.swarms;
    state.salt = static_cast<std::uint32_t>(::getpid()) ^
                 static_cast<std::uint32_t>(clock_type::now().time_since_epoch().count());
    state.round_trips.reserve(options.count);

    std::stop_source stop;
    state.stop = stop.get_token();
    bool expired = false;
    io::scope deadline;
    deadline.spawn(io::stop_after(
        ring,
        std::chrono::duration_cast<std::chrono::nanoseconds>(
            std::chrono::duration<double>(options.deadline_seconds)),
        stop, &expired));

    // Both clients are made so that their teardown order is one path; only one is used.
    tracker::udp_tracker_client udp(ring);
    state.udp = &udp;
    auto names = net::resolver::create(ring);
    std::unique_ptr<net::http_client> http;
    if (names) {
        auto made = net::http_client::create(ring, **names);
        if (made) {
            http = std::move(*made);
        }
    }
    state.http = http.get();
    if (parsed->scheme == tracker::tracker_scheme::udp) {
        auto target = endpoint::parse_address(parsed->host, parsed->port);
        if (!target) {
            fmt::print(stderr, "bench_tracker: {}: give a numeric address\n", url);
            state.count = 0;
        } else {
            state.udp_target = *target;
        }
    } else if (http == nullptr) {
        fmt::print(stderr, "bench_tracker: cannot start the HTTP client\n");
        state.count = 0;
    }

    const auto started = clock_type::now();
    io::scope workers;
    const std::size_t concurrency = std::min(options.concurrency, std::max<std::size_t>(
                                                                      state.count, 1));
    for (std::size_t i = 0; i < concurrency; ++i) {
        workers.spawn(worker(state));
    }
    co_await workers.join();
    const auto elapsed = clock_type::now() - started;

    stop.request_stop(); // ends the deadline timer
    co_await deadline.join();
    co_await udp.close();
    background.request_stop();
    co_await background.join();

    std::vector<std::chrono::nanoseconds>& trips = state.round_trips;
    std::sort(trips.begin(), trips.end());
    const double seconds = std::chrono::duration<double>(elapsed).count();
    const std::size_t ok = trips.size();
    const double rate = seconds > 0 ? static_cast<double>(ok) / seconds : 0.0;
    fmt::print("tracker={} count={} concurrency={} ok={} failed={} refused={} seconds={:.3f} "
               "announces_per_s={:.0f} p50_us={} p99_us={} max_us={}\n",
               options.builtin.empty() ? url : "builtin-in-process " + url, options.count,
               concurrency, ok, state.failed, state.refused, seconds, rate,
               micros(quantile(trips, 0.50)), micros(quantile(trips, 0.99)),
               micros(trips.empty() ? std::chrono::nanoseconds(0) : trips.back()));
    if (!state.first_error.empty()) {
        fmt::print(stderr, "bench_tracker: first error: {}\n", state.first_error);
    }
    if (expired) {
        fmt::print(stderr, "bench_tracker: deadline of {} s passed after {} of {} announces\n",
                   options.deadline_seconds, state.next, options.count);
    }
    const bool complete = !expired && ok == options.count;
    co_return complete ? exit_ok : exit_failed;
}

template <typename T> bool parse_number(std::string_view text, T& out) {
    const char* end = text.data() + text.size();
    auto [rest, error] = std::from_chars(text.data(), end, out);
    return error == std::errc() && rest == end;
}

int usage(std::string_view problem) {
    fmt::print(stderr,
               "bench_tracker: {}\n"
               "usage: bench_tracker (--tracker URL | --builtin udp|http) [--count N]\n"
               "                     [--concurrency C] [--swarms K] [--deadline SECONDS]\n"
               "       bench_tracker --print-hashes N [--swarms K]\n"
               "  URL: udp://127.0.0.1:PORT or http://127.0.0.1:PORT/announce\n"
               "  defaults: --count 20000 --concurrency 64 --swarms N --deadline 300\n",
               problem);
    return exit_usage;
}

// Fills `options` from argv; nullopt when they are fine, else the exit status of a usage error.
std::optional<int> parse_arguments(int argc, char** argv, bench_options& options) {
    std::vector<std::string_view> args(argv + 1, argv + argc);
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string_view name = args[i];
        if (name == "--help" || name == "-h") {
            return usage("help");
        }
        if (i + 1 >= args.size()) {
            return usage(fmt::format("{} needs a value (or is unknown)", name));
        }
        const std::string_view value = args[++i];
        bool good = true;
        if (name == "--tracker") {
            options.tracker_url = std::string(value);
        } else if (name == "--builtin") {
            options.builtin = std::string(value);
            good = value == "udp" || value == "http";
        } else if (name == "--count") {
            good = parse_number(value, options.count) && options.count > 0 &&
                   options.count <= 10'000'000;
        } else if (name == "--concurrency") {
            good = parse_number(value, options.concurrency) && options.concurrency > 0 &&
                   options.concurrency <= 4096;
        } else if (name == "--swarms") {
            good = parse_number(value, options.swarms) && options.swarms > 0;
        } else if (name == "--deadline") {
            good = parse_number(value, options.deadline_seconds) &&
                   options.deadline_seconds > 0 && options.deadline_seconds <= 3600;
        } else if (name == "--print-hashes") {
            std::size_t n = 0;
            good = parse_number(value, n) && n > 0 && n <= 10'000'000;
            options.print_hashes = n;
        } else {
            return usage(fmt::format("unknown option {}", name));
        }
        if (!good) {
            return usage(fmt::format("{} {}: not a valid value", name, value));
        }
    }
    if (options.print_hashes) {
        return std::nullopt;
    }
    if (options.tracker_url.empty() == options.builtin.empty()) {
        return usage("give exactly one of --tracker URL and --builtin udp|http");
    }
    if (!options.tracker_url.empty()) {
        auto parsed = tracker::parse_tracker_url(options.tracker_url);
        if (!parsed || parsed->scheme == tracker::tracker_scheme::https) {
            return usage(fmt::format("{}: not a udp:// or http:// tracker URL",
                                     options.tracker_url));
        }
    }
    return std::nullopt;
}

} // namespace

int main(int argc, char** argv) {
    bench_options options;
    if (auto status = parse_arguments(argc, argv, options)) {
        return *status;
    }
    if (options.print_hashes) {
        const std::size_t swarms =
            options.swarms == 0 ? *options.print_hashes
                                : std::min(options.swarms, *options.print_hashes);
        for (std::size_t i = 0; i < swarms; ++i) {
            fmt::print("{}\n", info_hash_of(i).hex());
        }
        return exit_ok;
    }
    auto ring = io::ring::create();
    if (!ring) {
        fmt::print(stderr, "bench_tracker: no io_uring: {}\n", ring.error().message());
        return exit_failed;
    }
    return ring->run(run_bench(*ring, options));
}
