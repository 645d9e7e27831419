#include "command.hpp"

#include <fmt/core.h>

#include <cstdio>

namespace spate::cli {

int report_error(int status, std::string_view message) {
    fmt::print(stderr, "spate: {}\n", message);
    return status;
}

} // namespace spate::cli
