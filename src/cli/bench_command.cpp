// spate bench [--size 1G] [--peers 1] [--runs 3] [--piece-size N] [--json]
// The throughput benchmark as a product: starts `spate swarm` (synthetic seeders serving
// from memory, with the built-in tracker) in a child process, then runs `spate download` of
// its torrent `--runs` times in another child, each into an empty folder, each checked
// afterwards with `spate verify`. Where there are two cores or more the swarm is pinned to
// the first and the leecher to the second, so they do not take turns on one. Prints MB/s
// (wall time from start to exit: announce, download, hashing, fsync), CPU seconds per GB
// and peak RSS of each run and their medians, and what the swarm spent per GB served.

#include "child_process.hpp"
#include "command.hpp"
#include "json_writer.hpp"
#include "units.hpp"

#include <fmt/core.h>

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace spate::cli {

namespace {

struct bench_options {
    std::string size = "1G";
    std::size_t peers = 1;
    unsigned runs = 3;
    std::string piece_size;
    bool json = false;
};

struct run_figures {
    double mb_per_s = 0;
    double cpu_per_gb = 0;
    double rss_mib = 0;
};

std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("model name", 0) == 0) {
            const auto colon = line.find(':');
            return colon == std::string::npos ? line : line.substr(colon + 2);
        }
    }
    return "unknown CPU";
}

struct spread {
    double median = 0;
    double min = 0;
    double max = 0;
};

spread spread_of(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    const std::size_t n = values.size();
    const double median = n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    return {median, values.front(), values.back()};
}

// Everything a bench run leaves is removed when it ends, however it ends.
struct scratch_folder {
    std::filesystem::path path;
    ~scratch_folder() {
        if (!path.empty()) {
            std::error_code ec;
            std::filesystem::remove_all(path, ec);
        }
    }
};

int run_bench(const bench_options& options) {
    const std::optional<std::uint64_t> size = parse_size(options.size);
    if (!size || *size == 0) {
        return report_error(exit_bad_input,
                            fmt::format("--size {}: not a size above zero (like 1G)", options.size));
    }
    if (options.runs == 0 || options.runs > 100) {
        return report_error(exit_bad_input, "--runs: from 1 to 100");
    }
    if (options.peers == 0 || options.peers > 60000) {
        return report_error(exit_bad_input, "--peers: from 1 to 60000");
    }
    const std::string self = self_executable();
    if (self.empty()) {
        return report_error(exit_runtime_failure, "cannot find the spate executable itself");
    }
    scratch_folder scratch;
    {
        std::string pattern = (std::filesystem::temp_directory_path() / "spate-bench-XXXXXX");
        if (::mkdtemp(pattern.data()) == nullptr) {
            return report_error(exit_runtime_failure, "cannot make a scratch folder in the "
                                                      "temporary folder");
        }
        scratch.path = pattern;
    }
    const long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
    const int swarm_core = cores >= 2 ? 0 : -1;
    const int leech_core = cores >= 2 ? 1 : -1;
    const std::string torrent = (scratch.path / "bench.torrent").string();

    std::vector<std::string> swarm_args = {self, "swarm", "--peers", std::to_string(options.peers),
                                           "--size", options.size, "--torrent-out", torrent,
                                           "--builtin-tracker", "127.0.0.1:0", "--json"};
    if (!options.piece_size.empty()) {
        swarm_args.insert(swarm_args.end(), {"--piece-size", options.piece_size});
    }
    auto swarm = child_process::start(swarm_args, swarm_core, true);
    if (!swarm) {
        return report_error(exit_runtime_failure,
                            fmt::format("cannot start spate swarm: {}", swarm.error().message()));
    }
    // Hashing the payload for the torrent takes about a second per GiB.
    const std::optional<std::string> ready = swarm->read_line_containing("\"ready\"", 600);
    if (!ready) {
        return report_error(exit_runtime_failure,
                            "spate swarm did not become ready (see its error above)");
    }

    std::vector<run_figures> runs;
    for (unsigned i = 0; i < options.runs; ++i) {
        const std::string out = (scratch.path / fmt::format("run-{}", i + 1)).string();
        auto leech = child_process::start({self, "download", torrent, "-o", out, "--json"},
                                          leech_core, false);
        if (!leech) {
            return report_error(exit_runtime_failure, fmt::format("cannot start spate download: {}",
                                                                  leech.error().message()));
        }
        const child_result done = leech->wait();
        if (done.status != 0) {
            return report_error(exit_runtime_failure,
                                fmt::format("run {}: spate download exited with status {}", i + 1,
                                            done.status));
        }
        auto check = child_process::start({self, "verify", torrent, "--data", out}, -1, false);
        if (!check || check->wait().status != 0) {
            return report_error(exit_runtime_failure,
                                fmt::format("run {}: the download does not verify", i + 1));
        }
        std::error_code ec;
        std::filesystem::remove_all(out, ec);
        run_figures f;
        f.mb_per_s = static_cast<double>(*size) / 1e6 / done.wall_seconds;
        f.cpu_per_gb = done.cpu_seconds / (static_cast<double>(*size) / 1e9);
        f.rss_mib = static_cast<double>(done.max_rss_kib) / 1024.0;
        runs.push_back(f);
        if (!options.json) {
            fmt::print("run {}: {:.0f} MB/s  {:.2f} CPU s/GB  peak RSS {:.0f} MiB\n", i + 1,
                       f.mb_per_s, f.cpu_per_gb, f.rss_mib);
            std::fflush(stdout);
        }
    }
    swarm->interrupt();
    const std::optional<std::string> served = swarm->read_line_containing("\"served\"", 30);
    static_cast<void>(swarm->wait());
    double swarm_cpu_per_gb = -1;
    if (served) {
        const auto key = served->find("\"cpu_seconds_per_gb\":");
        if (key != std::string::npos) {
            swarm_cpu_per_gb = std::stod(served->substr(key + 21));
        }
    }

    std::vector<double> rates, cpus, rsses;
    for (const run_figures& f : runs) {
        rates.push_back(f.mb_per_s);
        cpus.push_back(f.cpu_per_gb);
        rsses.push_back(f.rss_mib);
    }
    const spread rate = spread_of(rates);
    const spread cpu = spread_of(cpus);
    const spread rss = spread_of(rsses);
    const std::string where =
        fmt::format("{} ({} cores), leecher on {}, swarm on {}", cpu_model(), cores,
                    leech_core < 0 ? "any core" : fmt::format("core {}", leech_core),
                    swarm_core < 0 ? "any core" : fmt::format("core {}", swarm_core));
    if (options.json) {
        json_writer w;
        w.begin_object().key("event").value("bench").key("size").value(*size);
        w.key("peers").value(static_cast<std::uint64_t>(options.peers));
        w.key("runs").value(static_cast<std::uint64_t>(runs.size()));
        w.key("mb_per_s").value(rate.median).key("mb_per_s_min").value(rate.min);
        w.key("mb_per_s_max").value(rate.max).key("cpu_seconds_per_gb").value(cpu.median);
        w.key("peak_rss_mib").value(rss.max).key("swarm_cpu_seconds_per_gb").value(swarm_cpu_per_gb);
        w.key("machine").value(where);
        fmt::print("{}\n", w.end_object().str());
    } else {
        fmt::print("spate bench: {} from {} synthetic peer{}, {} runs; {}\n",
                   format_size(*size), options.peers, options.peers == 1 ? "" : "s", runs.size(),
                   where);
        fmt::print("median {:.0f} MB/s ({:.0f}-{:.0f})  {:.2f} CPU s/GB ({:.2f}-{:.2f})  "
                   "peak RSS {:.0f} MiB (most)\n",
                   rate.median, rate.min, rate.max, cpu.median, cpu.min, cpu.max, rss.max);
        if (swarm_cpu_per_gb >= 0) {
            fmt::print("the swarm spent {:.2f} CPU s per GB it served\n", swarm_cpu_per_gb);
        }
    }
    return exit_ok;
}

} // namespace

void add_bench_command(CLI::App& app, command_main& selected) {
    auto options = std::make_shared<bench_options>();
    CLI::App* sub = app.add_subcommand(
        "bench", "Measure download throughput from a synthetic swarm on loopback");
    sub->add_option("--size", options->size, "payload size (default 1G)");
    sub->add_option("--peers", options->peers, "synthetic seeders (default 1)");
    sub->add_option("--runs", options->runs, "downloads to measure (default 3)");
    sub->add_option("--piece-size", options->piece_size, "piece length (default: by size)");
    sub->add_flag("--json", options->json, "print one JSON object with the medians");
    sub->callback([options, &selected] { selected = [options] { return run_bench(*options); }; });
}

} // namespace spate::cli
