#include "command.hpp"

#include <fmt/core.h>

#include <cstdio>

namespace spate::cli {

int report_error(int status, std::string_view message) {
    fmt::print(stderr, "spate: {}\n", message);
    return status;
}

int report_ring_failure(const std::error_code& error) {
    return report_error(exit_runtime_failure,
                        fmt::format("cannot start io_uring: {}", error.message()));
}

} // namespace spate::cli
