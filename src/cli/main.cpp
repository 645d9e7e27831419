// The spate command: one subcommand per file in src/cli/.

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <cstdio>

int main(int argc, char** argv) {
    CLI::App app{"spate: a BitTorrent engine and command-line client for Linux"};
    app.set_version_flag("--version", "spate 0.1.0");
    app.require_subcommand(1);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        // Bad usage is exit status 2, with a one-line reason (DESIGN.md).
        fmt::print(stderr, "spate: {}\n", e.what());
        return 2;
    }
    return 0;
}
