#pragma once
/// session_limits: what the torrents of one session share: a cap on peer connections across
/// all of them and the global upload and download rate limits. Owned by whoever runs the
/// session (a command), borrowed by each torrent for as long as it runs; one thread.

#include <spate/choker/token_bucket.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace spate::session {

/// A limit of `rate` bytes per second that saves up one second of it, and never less than
/// 64 KiB so a block always fits; a rate of 0 is no limit.
[[nodiscard]] inline choker::token_bucket make_rate_limit(std::uint64_t rate) {
    if (rate == 0) {
        return {};
    }
    auto bucket = choker::token_bucket::create(rate, std::max<std::uint64_t>(rate, 64 * 1024));
    return bucket ? std::move(*bucket) : choker::token_bucket{};
}

struct session_limits {
    /// Connections open or being dialled, over all torrents; 0 means no shared cap (each
    /// torrent still keeps to its own max_peers).
    std::size_t max_connections = 0;
    std::size_t connections = 0;
    /// Global rate limits, unlimited unless set up (choker::token_bucket::create).
    choker::token_bucket upload;
    choker::token_bucket download;

    /// Counts one more connection, or refuses when the cap is reached.
    [[nodiscard]] bool try_connect() noexcept {
        if (max_connections != 0 && connections >= max_connections) {
            return false;
        }
        ++connections;
        return true;
    }
    void disconnected() noexcept {
        if (connections > 0) {
            --connections;
        }
    }
};

} // namespace spate::session
