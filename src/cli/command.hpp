#pragma once
// How the subcommands plug into main(): each command file adds its CLI11 subcommand and,
// when that subcommand is parsed, selects the function that runs it.

#include <CLI/CLI.hpp>

#include <functional>
#include <string_view>
#include <system_error>

namespace spate::cli {

/// Exit statuses of the spate command (DESIGN.md).
enum exit_status : int {
    exit_ok = 0,
    exit_runtime_failure = 1,
    exit_bad_input = 2,
};

/// The command chosen on the command line; returns the exit status.
using command_main = std::function<int()>;

void add_info_command(CLI::App& app, command_main& selected);
void add_create_command(CLI::App& app, command_main& selected);
void add_announce_command(CLI::App& app, command_main& selected);
void add_tracker_command(CLI::App& app, command_main& selected);
void add_verify_command(CLI::App& app, command_main& selected);
void add_download_command(CLI::App& app, command_main& selected);
void add_seed_command(CLI::App& app, command_main& selected);
void add_swarm_command(CLI::App& app, command_main& selected);
void add_bench_command(CLI::App& app, command_main& selected);

/// Prints "spate: <message>" on one line of stderr and returns `status`.
int report_error(int status, std::string_view message);

/// Reports that the io_uring ring could not be made (a run-time failure) and returns the
/// exit status for it.
int report_ring_failure(const std::error_code& error);

} // namespace spate::cli
