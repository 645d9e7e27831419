#include "descriptor_budget.hpp"

#include <sys/resource.h>

#include <algorithm>

#include <fmt/core.h>

namespace spate::cli {

tl::expected<descriptor_budget, std::string>
plan_descriptors(std::size_t wanted_peers, std::size_t torrents, std::uint64_t limit) {
    constexpr std::uint64_t min_peers = 4;
    const std::uint64_t most_files = 128 * std::max<std::uint64_t>(torrents, 1);
    const std::uint64_t usable = limit > reserved_descriptors ? limit - reserved_descriptors : 0;
    descriptor_budget out;
    out.limit = limit;
    out.files = static_cast<std::uint32_t>(
        std::clamp<std::uint64_t>(usable / 4, 4 * std::max<std::uint64_t>(torrents, 1), most_files));
    const std::uint64_t after_files = usable > out.files ? usable - out.files : 0;
    out.pending_handshakes =
        static_cast<std::size_t>(std::clamp<std::uint64_t>(after_files / 16, 2, 50));
    const std::uint64_t for_peers =
        after_files > out.pending_handshakes ? after_files - out.pending_handshakes : 0;
    if (for_peers < min_peers) {
        return tl::unexpected(fmt::format(
            "the open-file limit ({}) is too low: raise it (ulimit -n) to 64 or more", limit));
    }
    out.peers = static_cast<std::size_t>(std::min<std::uint64_t>(wanted_peers, for_peers));
    return out;
}

std::uint64_t open_file_limit() {
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY) {
        return 1 << 20;
    }
    return lim.rlim_cur;
}

} // namespace spate::cli
