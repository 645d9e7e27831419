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

tl::expected<std::uint64_t, std::string> parse_rate_option(std::string_view option,
                                                           std::string_view text) {
    if (text.empty()) {
        return 0;
    }
    std::optional<std::uint64_t> rate = parse_size(text);
    if (!rate || *rate == 0) {
        std::string message(option);
        message += ' ';
        message += text;
        message += ": not a rate (bytes per second above zero, like 500K or 10M)";
        return tl::unexpected(std::move(message));
    }
    return *rate;
}

std::optional<std::chrono::seconds> parse_duration(std::string_view text) {
    std::uint64_t unit = 1;
    if (!text.empty()) {
        switch (text.back()) {
        case 's': unit = 1; text.remove_suffix(1); break;
        case 'm': unit = 60; text.remove_suffix(1); break;
        case 'h': unit = 3600; text.remove_suffix(1); break;
        case 'd': unit = 86400; text.remove_suffix(1); break;
        default: break;
        }
    }
    if (text.empty() || text.size() > 10) {
        return std::nullopt;
    }
    std::uint64_t value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        value = value * 10 + static_cast<std::uint64_t>(c - '0');
    }
    constexpr std::uint64_t century = 100ULL * 365 * 86400;
    if (value > century / unit) {
        return std::nullopt;
    }
    return std::chrono::seconds(static_cast<std::chrono::seconds::rep>(value * unit));
}

} // namespace spate::cli
