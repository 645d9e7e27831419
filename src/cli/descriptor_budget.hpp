#pragma once
// How the open-file limit (RLIMIT_NOFILE, soft) is shared out: peer connections, pending
// handshakes and payload files each get a part, so spate never runs out of descriptors in
// the middle of a transfer, whatever `ulimit -n` it was started under.
#include <cstddef>
#include <cstdint>
#include <string>

#include <tl/expected.hpp>

namespace spate::cli {

struct descriptor_budget {
    std::uint64_t limit = 0;            ///< the soft limit shared out
    std::size_t peers = 0;              ///< connections after the handshake
    std::size_t pending_handshakes = 0; ///< accepted connections still in the handshake
    std::uint32_t files = 0;            ///< payload descriptors over all torrents
};

/// Descriptors kept for everything else: stdio, the ring, listeners, signals, the DNS
/// resolver's and HTTP client's sockets, resume files; two more are kept per torrent (its
/// download folder, a tracker connection).
inline constexpr std::uint64_t reserved_descriptors = 24;

/// Shares `limit` out for up to `wanted_peers` connections: a quarter of what is left for
/// payload files (1 to 128 per torrent), pending handshakes up to 50, the rest for peers
/// (at most `wanted_peers`). An error naming the limit to raise to when it leaves fewer
/// than 4 peer connections.
[[nodiscard]] tl::expected<descriptor_budget, std::string>
plan_descriptors(std::size_t wanted_peers, std::size_t torrents, std::uint64_t limit);

/// plan_descriptors for this process's open-file limit, with a warning on stderr when it
/// allows fewer peers than `wanted_peers` (download and seed both start this way).
[[nodiscard]] tl::expected<descriptor_budget, std::string>
budget_descriptors(std::size_t wanted_peers, std::size_t torrents);

/// The soft RLIMIT_NOFILE of this process (a large number when unlimited).
[[nodiscard]] std::uint64_t open_file_limit();

} // namespace spate::cli
