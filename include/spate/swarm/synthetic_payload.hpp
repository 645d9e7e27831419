#pragma once
/// synthetic_payload: the deterministic data a synthetic swarm serves, made without disk.
/// One pool of pseudo-random bytes (at most 64 MiB, from a seed) is generated once; piece p
/// is the slice of the pool that starts at an offset chosen for p, so serving any block is
/// a span into memory, with no generation or read per request. Offsets are distinct for
/// every piece below pool_bytes() / 8, so distinct pieces carry distinct data (and hashes);
/// a torrent with more pieces than that repeats pieces, which no client can tell from the
/// wire except by their equal hashes.

#include <spate/core/result.hpp>
#include <spate/core/strong_index.hpp>
#include <spate/metainfo/torrent_writer.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace spate::swarm {

struct payload_shape {
    std::uint64_t total_size = 0;
    /// A power of two from 16 KiB to 512 MiB (metainfo's rule).
    std::uint64_t piece_length = 0;
    /// Files the payload is cut into, of equal size (the last takes the rest); 1 makes a
    /// single-file torrent.
    std::uint32_t files = 1;
    std::uint64_t seed = 1;
};

class synthetic_payload {
public:
    /// Generates the pool. Errors: std::errc::invalid_argument for a zero size, a piece
    /// length that is not a power of two from 16 KiB to 512 MiB, no files, or more files
    /// than bytes.
    [[nodiscard]] static result<synthetic_payload> create(const payload_shape& shape);

    [[nodiscard]] std::uint64_t total_size() const noexcept { return m_shape.total_size; }
    [[nodiscard]] std::uint64_t piece_length() const noexcept { return m_shape.piece_length; }
    [[nodiscard]] std::uint32_t piece_count() const noexcept { return m_piece_count; }
    [[nodiscard]] std::uint64_t pool_bytes() const noexcept { return m_pool_bytes; }

    /// The bytes of piece `p` (the last piece may be shorter); valid while the payload is.
    /// `p` must be below piece_count().
    [[nodiscard]] std::span<const std::byte> piece(piece_index p) const noexcept;

    /// A v1 torrent of this payload named `name`, announcing to `trackers` (one tier each),
    /// with every piece hashed: about a second per GiB on one core.
    [[nodiscard]] metainfo::torrent_spec torrent(const std::string& name,
                                                 const std::vector<std::string>& trackers) const;

    /// Writes the payload's files under `folder` as the torrent lays them out (for tests
    /// that compare a download with it). Errors: the errno of the first failed write.
    [[nodiscard]] result<void> write_files(const std::string& folder,
                                           const std::string& name) const;

private:
    explicit synthetic_payload(payload_shape shape) : m_shape(shape) {}
    [[nodiscard]] std::vector<metainfo::new_file> files() const;

    payload_shape m_shape;
    std::uint32_t m_piece_count = 0;
    std::uint64_t m_pool_bytes = 0; // where slices may start; the pool holds a piece more
    std::vector<std::byte> m_pool;
};

} // namespace spate::swarm
