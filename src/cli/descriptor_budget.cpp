#include "descriptor_budget.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <optional>

#include <fmt/core.h>

namespace spate::cli {

namespace {

constexpr std::uint64_t min_peers = 4;
constexpr std::uint64_t min_pending = 2;

// Shares `usable` descriptors out for `count` torrents; nullopt when fewer than min_peers
// connections are left.
std::optional<descriptor_budget> share(std::uint64_t usable, std::uint64_t count,
                                       std::size_t wanted_peers) {
    descriptor_budget out;
    // At least one payload descriptor per torrent: files are opened when needed, and an
    // open waits for a free descriptor when they are all busy.
    out.files =
        static_cast<std::uint32_t>(std::clamp<std::uint64_t>(usable / 4, count, 128 * count));
    const std::uint64_t after_files = usable > out.files ? usable - out.files : 0;
    out.pending_handshakes = static_cast<std::size_t>(
        std::clamp<std::uint64_t>(after_files / 16, min_pending, 50));
    const std::uint64_t for_peers =
        after_files > out.pending_handshakes ? after_files - out.pending_handshakes : 0;
    if (for_peers < min_peers) {
        return std::nullopt;
    }
    out.peers = static_cast<std::size_t>(std::min<std::uint64_t>(wanted_peers, for_peers));
    return out;
}

} // namespace

tl::expected<descriptor_budget, std::string>
plan_descriptors(std::size_t wanted_peers, std::size_t torrents, std::uint64_t limit) {
    const std::uint64_t count = std::max<std::uint64_t>(torrents, 1);
    // Each torrent keeps its download folder open and may hold a tracker connection.
    const std::uint64_t reserved = reserved_descriptors + 2 * count;
    const std::uint64_t usable = limit > reserved ? limit - reserved : 0;
    std::optional<descriptor_budget> out = share(usable, count, wanted_peers);
    if (!out) {
        std::uint64_t enough = usable + 1;
        while (!share(enough, count, wanted_peers)) { // a few steps: share() is monotonic
            ++enough;
        }
        return tl::unexpected(fmt::format(
            "the open-file limit ({}) is too low for {} torrent(s): raise it (ulimit -n) to {} "
            "or more",
            limit, count, reserved + enough));
    }
    out->limit = limit;
    return *out;
}

tl::expected<descriptor_budget, std::string> budget_descriptors(std::size_t wanted_peers,
                                                                std::size_t torrents) {
    auto planned = plan_descriptors(wanted_peers, torrents, open_file_limit());
    if (planned && planned->peers < wanted_peers) {
        fmt::print(stderr, "spate: warning: the open-file limit ({}) allows {} peers, not {}\n",
                   planned->limit, planned->peers, wanted_peers);
    }
    return planned;
}

std::uint64_t open_file_limit() {
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY) {
        return 1 << 20;
    }
    return lim.rlim_cur;
}

} // namespace spate::cli
