#include "units.hpp"

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <limits>

namespace spate::cli {

std::string format_size(std::uint64_t bytes) {
    static constexpr std::array<const char*, 6> units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (bytes < 1024) {
        return fmt::format("{} B", bytes);
    }
    double value = static_cast<double>(bytes) / 1024.0;
    std::size_t unit = 0;
    while (value >= 1024.0 && unit + 1 < units.size()) {
        value /= 1024.0;
        ++unit;
    }
    return fmt::format("{:.1f} {}", value, units[unit]);
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
    std::size_t digits = 0;
    std::uint64_t value = 0;
    constexpr std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
        auto d = static_cast<std::uint64_t>(text[digits] - '0');
        if (value > (max - d) / 10) {
            return std::nullopt;
        }
        value = value * 10 + d;
        ++digits;
    }
    if (digits == 0) {
        return std::nullopt;
    }
    std::string suffix;
    for (char c : text.substr(digits)) {
        suffix += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    unsigned shift = 0;
    if (suffix.empty() || suffix == "b") {
        shift = 0;
    } else if (suffix == "k" || suffix == "kib") {
        shift = 10;
    } else if (suffix == "m" || suffix == "mib") {
        shift = 20;
    } else if (suffix == "g" || suffix == "gib") {
        shift = 30;
    } else if (suffix == "t" || suffix == "tib") {
        shift = 40;
    } else {
        return std::nullopt;
    }
    if (shift != 0 && value > (max >> shift)) {
        return std::nullopt;
    }
    return value << shift;
}

} // namespace spate::cli
