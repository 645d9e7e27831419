#pragma once
/// A parsed BitTorrent v1 .torrent file (BEP 3, with BEP 12 announce-list, BEP 19 url-list,
/// BEP 27 private, BEP 47 pad files). A hybrid v1+v2 torrent is read as v1; a v2-only
/// torrent is refused.
///
/// What the parser accepts:
/// - bencode with keys in any order (many real torrents are not sorted); the info-hash is
///   SHA-1 over the `info` dictionary's bytes exactly as they appear in the input;
/// - `piece length` from 1 byte to limits::max_piece_length, not necessarily a power of two;
/// - `pieces` a multiple of 20 bytes, one hash per piece of the stream;
/// - file lengths >= 0 whose sum neither overflows nor passes limits::max_total_size, and
///   is not zero;
/// - the name and every file path component pass check_path_component() (rejected, never
///   rewritten; see path.hpp), and no two non-pad files share a path;
/// - trackers: `announce-list` tiers when it has any usable URL, `announce` otherwise; URLs
///   that are not http://, https:// or udp:// (or that hold spaces or control characters)
///   are dropped, as are repeats and tiers left empty;
/// - web seeds: `url-list` as one string or a list, http:// and https:// only;
/// - optional fields of the wrong type (`comment` as an integer, say) are ignored.

#include <spate/core/hash.hpp>
#include <spate/core/result.hpp>
#include <spate/core/strong_index.hpp>
#include <spate/metainfo/file_layout.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace spate::metainfo {

/// Bounds on what parse_torrent() accepts (settings, not constants; DESIGN.md).
struct torrent_limits {
    /// Largest .torrent file, in bytes.
    std::size_t max_torrent_size = 16 * 1024 * 1024;
    /// Deepest nesting of bencode lists and dictionaries.
    std::size_t max_depth = 64;
    /// Most bencode tokens (about one per value).
    std::size_t max_tokens = 3'000'000;
    /// Largest piece length, in bytes.
    std::uint64_t max_piece_length = 512 * 1024 * 1024;
    /// Most pieces.
    std::uint32_t max_pieces = std::uint32_t{1} << 21;
    /// Most files, pad files included.
    std::size_t max_files = std::size_t{1} << 20;
    /// Largest total of the file lengths (1 PiB).
    std::uint64_t max_total_size = std::uint64_t{1} << 50;
};

/// One file of the torrent.
struct torrent_file {
    /// Components relative to the download folder; the first is always the torrent name
    /// (a single-file torrent has just that one). Every component is checked.
    std::vector<std::string> path;
    std::uint64_t length = 0;
    /// Where the file starts in the piece stream.
    std::uint64_t offset = 0;
    /// A BEP 47 pad file: its bytes are zeros in the piece stream and it is never written.
    bool pad = false;

    /// `path` joined into a relative path.
    [[nodiscard]] std::filesystem::path relative_path() const;

    bool operator==(const torrent_file&) const = default;
};

/// Everything spate needs from a .torrent. Owns all its data (no views into the input),
/// is immutable, and is only made by parse_torrent(), so its invariants always hold:
/// piece_count() == ceil(total_size() / piece_length()) == the number of piece hashes.
class torrent_info {
public:
    [[nodiscard]] const std::string& name() const { return m_name; }
    [[nodiscard]] const sha1_digest& info_hash() const { return m_info_hash; }
    [[nodiscard]] std::uint64_t piece_length() const { return m_layout.piece_length(); }
    [[nodiscard]] std::uint32_t piece_count() const { return m_layout.piece_count(); }
    [[nodiscard]] std::uint64_t total_size() const { return m_layout.total_size(); }
    /// True when the info dictionary has `length` rather than `files`.
    [[nodiscard]] bool single_file() const { return m_single_file; }

    [[nodiscard]] const index_vector<torrent_file, file_index>& files() const { return m_files; }
    /// Pieces <-> files mapping over the same files.
    [[nodiscard]] const file_layout& layout() const { return m_layout; }

    /// The SHA-1 of one piece. Precondition: piece.value() < piece_count().
    [[nodiscard]] const sha1_digest& piece_hash(piece_index piece) const {
        return m_piece_hashes[piece];
    }

    /// Tracker tiers (BEP 12), each a list of announce URLs in file order.
    [[nodiscard]] const std::vector<std::vector<std::string>>& trackers() const {
        return m_trackers;
    }
    /// Web seed URLs (BEP 19).
    [[nodiscard]] const std::vector<std::string>& web_seeds() const { return m_web_seeds; }
    /// `private` is 1 in the info dictionary (BEP 27).
    [[nodiscard]] bool is_private() const { return m_private; }
    [[nodiscard]] const std::string& comment() const { return m_comment; }
    [[nodiscard]] const std::string& created_by() const { return m_created_by; }
    /// Seconds since the Unix epoch, as written in the file.
    [[nodiscard]] std::optional<std::int64_t> creation_date() const { return m_creation_date; }

private:
    friend result<torrent_info> parse_torrent(std::span<const std::byte>, const torrent_limits&);
    torrent_info() = default;

    std::string m_name;
    sha1_digest m_info_hash;
    file_layout m_layout;
    index_vector<torrent_file, file_index> m_files;
    index_vector<sha1_digest, piece_index> m_piece_hashes;
    std::vector<std::vector<std::string>> m_trackers;
    std::vector<std::string> m_web_seeds;
    std::string m_comment;
    std::string m_created_by;
    std::optional<std::int64_t> m_creation_date;
    bool m_private = false;
    bool m_single_file = false;
};

/// Parses a .torrent file held in `data` (borrowed for the call only). Errors are
/// metainfo::errc, or a bencode::errc when the bytes are not valid bencode.
[[nodiscard]] result<torrent_info> parse_torrent(std::span<const std::byte> data,
                                                 const torrent_limits& limits = {});

} // namespace spate::metainfo
