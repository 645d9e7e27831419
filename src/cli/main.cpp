// The spate command: main() parses the command line and runs the one subcommand chosen;
// each subcommand lives in a file of its own in src/cli/.

#include "command.hpp"

int main(int argc, char** argv) {
    using namespace spate::cli;
    CLI::App app{"spate: a BitTorrent engine and command-line client for Linux"};
    app.set_version_flag("--version", "spate 0.1.0");
    app.require_subcommand(1);

    command_main selected;
    add_info_command(app, selected);
    add_create_command(app, selected);
    add_announce_command(app, selected);
    add_tracker_command(app, selected);
    add_verify_command(app, selected);
    add_download_command(app, selected);
    add_seed_command(app, selected);
    add_swarm_command(app, selected);
    add_bench_command(app, selected);

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        // Bad usage is exit status 2 with a one-line reason (DESIGN.md).
        return report_error(exit_bad_input, e.what());
    }
    return selected ? selected() : exit_bad_input;
}
