#pragma once
/// Writing a v1 .torrent file (for `spate create`), and choosing its piece length.
/// Hashing the data is the caller's job: the writer takes the finished piece hashes.

#include <spate/core/result.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace spate::metainfo {

/// One file of a torrent being made.
struct new_file {
    /// Components below the torrent's folder (the name is not repeated here). Empty for
    /// the one file of a single-file torrent.
    std::vector<std::string> path;
    std::uint64_t length = 0;
    /// Written as a BEP 47 pad file (`attr` "p"); its data must hash as zeros.
    bool pad = false;
};

/// What write_torrent() puts in the file. Owns its data.
struct torrent_spec {
    /// The torrent's folder name (multi-file) or file name (single-file).
    std::string name;
    /// Single-file when this holds exactly one file whose path is empty; otherwise
    /// multi-file, and every path is non-empty.
    std::vector<new_file> files;
    /// A power of two from 16 KiB to 512 MiB; see choose_piece_length().
    std::uint64_t piece_length = 0;
    /// The SHA-1 of every piece, concatenated: 20 bytes per piece of the files.
    std::vector<std::byte> piece_hashes;
    /// Tracker tiers; empty tiers are skipped. URLs must be http://, https:// or udp://.
    std::vector<std::vector<std::string>> trackers;
    /// Web seeds (BEP 19); http:// or https://.
    std::vector<std::string> web_seeds;
    bool is_private = false;
    /// Written only when not empty.
    std::string comment;
    /// Written only when not empty.
    std::string created_by;
    /// Seconds since the Unix epoch; written only when set.
    std::optional<std::int64_t> creation_date;
};

/// The bencoded .torrent bytes for `spec`, keys sorted as bencode requires. `announce`
/// holds the first tracker; `announce-list` is added when there is more than one.
/// `url-list` is a string for one web seed and a list for more. Fails when the name or a
/// path is unsafe (path.hpp), paths repeat, the piece length is not a power of two from
/// 16 KiB to 512 MiB, the hashes do not fit the files, there is no data, or a URL is
/// not usable (errc::invalid_tracker_url, errc::invalid_web_seed_url).
[[nodiscard]] result<std::vector<std::byte>> write_torrent(const torrent_spec& spec);

/// The smallest power of two from 32 KiB to 16 MiB that cuts `total_size` bytes into at
/// most 2048 pieces, which lands most torrents between 1024 and 2048 pieces:
///
/// | total size         | piece length |
/// |--------------------|--------------|
/// | up to 64 MiB       | 32 KiB       |
/// | up to 128 MiB      | 64 KiB       |
/// | up to 256 MiB      | 128 KiB      |
/// | up to 512 MiB      | 256 KiB      |
/// | up to 1 GiB        | 512 KiB      |
/// | up to 2 GiB        | 1 MiB        |
/// | up to 4 GiB        | 2 MiB        |
/// | up to 8 GiB        | 4 MiB        |
/// | up to 16 GiB       | 8 MiB        |
/// | more than 16 GiB   | 16 MiB       |
[[nodiscard]] std::uint64_t choose_piece_length(std::uint64_t total_size);

} // namespace spate::metainfo
