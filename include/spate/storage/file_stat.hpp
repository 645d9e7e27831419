#pragma once
/// file_stat: what the fast-resume rule compares about one payload file.

#include <cstdint>

namespace spate::storage {

/// Size and modification time of one torrent file as found on disk. An absent file and a
/// pad file are {0, 0}.
struct file_stat {
    std::uint64_t size = 0;
    /// st_mtim in nanoseconds since the Unix epoch.
    std::int64_t mtime_ns = 0;

    friend bool operator==(const file_stat&, const file_stat&) = default;
};

} // namespace spate::storage
