#pragma once
// Byte sizes and durations as people read and write them: "1.5 MiB" out, "256K" / "1MiB" /
// "4096" in; "90s", "30m", "2h", "1d" in.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace spate::cli {

/// "0 B", "1023 B", "1.0 KiB", "1.5 MiB", ... (binary units, one decimal).
[[nodiscard]] std::string format_size(std::uint64_t bytes);

/// Parses a size: digits with an optional binary suffix K, M, G, T (also KiB, MiB, ... and
/// lower case), e.g. "16384", "256K", "1MiB". nullopt on anything else or on overflow.
[[nodiscard]] std::optional<std::uint64_t> parse_size(std::string_view text);

/// Parses a rate option's value (bytes per second, as parse_size, above zero); the empty
/// string is no limit (0). The error names the option: "--max-up 5X: not a rate ...".
[[nodiscard]] tl::expected<std::uint64_t, std::string> parse_rate_option(std::string_view option,
                                                                         std::string_view text);

/// Parses a duration: digits with a suffix s, m, h or d (seconds when none), e.g. "90",
/// "30m", "2h". nullopt on anything else, or beyond about 100 years.
[[nodiscard]] std::optional<std::chrono::seconds> parse_duration(std::string_view text);

} // namespace spate::cli
