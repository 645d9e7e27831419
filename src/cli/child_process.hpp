#pragma once
// A child process for the bench: started with fork and exec, optionally pinned to one CPU
// core and with its standard output readable line by line; waited for with wait4, which
// gives its CPU time and peak RSS. A child still running when its owner goes is stopped:
// SIGTERM, then SIGKILL after 10 s.

#include <spate/core/result.hpp>

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace spate::cli {

/// The path of the running executable (/proc/self/exe), or "" when it cannot be read.
[[nodiscard]] std::string self_executable();

struct child_result {
    int status = -1;          ///< exit status, or 128 + signal
    double wall_seconds = 0;  ///< from start() to the end of wait()
    double cpu_seconds = 0;   ///< user + system
    long max_rss_kib = 0;     ///< peak resident set
};

class child_process {
public:
    /// Runs args[0] with `args`. `core` >= 0 pins it to that core. With `capture`, its
    /// standard output is a pipe read by read_line_containing; otherwise /dev/null.
    /// Standard error is shared with ours, so its error lines reach the user.
    [[nodiscard]] static result<child_process> start(const std::vector<std::string>& args,
                                                     int core, bool capture);
    child_process(child_process&& other) noexcept;
    child_process& operator=(child_process&&) = delete;
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;
    ~child_process();

    /// Reads output lines until one contains `needle` (returned), the output ends, or
    /// `seconds` pass (nullopt for both).
    [[nodiscard]] std::optional<std::string> read_line_containing(std::string_view needle,
                                                                  int seconds);
    /// Sends SIGINT.
    void interrupt();
    /// Waits for the child to end and reports it; once.
    child_result wait();

private:
    child_process(pid_t pid, int out) : m_pid(pid), m_out(out) {}

    pid_t m_pid = -1;
    int m_out = -1;
    std::string m_pending; // read but not yet returned
    std::chrono::steady_clock::time_point m_started = std::chrono::steady_clock::now();
};

} // namespace spate::cli
