#pragma once
// What a command was pointed at: a .torrent file or a magnet link, loaded and checked.

#include <spate/core/hash.hpp>
#include <spate/io/ring.hpp>
#include <spate/metainfo/magnet.hpp>
#include <spate/metainfo/torrent_info.hpp>

#include <tl/expected.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace spate::cli {

struct torrent_target {
    /// Exactly one of these is set.
    std::optional<metainfo::torrent_info> torrent;
    std::optional<metainfo::magnet_uri> magnet;

    sha1_digest info_hash;
    /// Tracker tiers; a magnet's trackers form one tier each.
    std::vector<std::vector<std::string>> trackers;
    /// Unknown for a magnet link.
    std::optional<std::uint64_t> total_size;
};

/// True when `text` starts with "magnet:" (any case).
[[nodiscard]] bool is_magnet(std::string_view text);

/// Loads `source`: a magnet link is parsed, anything else is read as a .torrent file (with
/// the ring) and parsed. The error is a one-line reason that names `source`.
[[nodiscard]] tl::expected<torrent_target, std::string> load_torrent_target(io::ring& ring,
                                                                            std::string source);

} // namespace spate::cli
