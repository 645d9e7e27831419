#pragma once
// Byte sizes as people read and write them: "1.5 MiB" out, "256K" / "1MiB" / "4096" in.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace spate::cli {

/// "0 B", "1023 B", "1.0 KiB", "1.5 MiB", ... (binary units, one decimal).
[[nodiscard]] std::string format_size(std::uint64_t bytes);

/// Parses a size: digits with an optional binary suffix K, M, G, T (also KiB, MiB, ... and
/// lower case), e.g. "16384", "256K", "1MiB". nullopt on anything else or on overflow.
[[nodiscard]] std::optional<std::uint64_t> parse_size(std::string_view text);

} // namespace spate::cli
