#pragma once
/// check_pieces: hashes pieces already on disk (recheck before a download, `spate verify`)
/// with pipelined ring reads into registered pool slots.

#include <spate/core/bitfield.hpp>
#include <spate/core/result.hpp>
#include <spate/io/buffer_pool.hpp>
#include <spate/io/ring.hpp>
#include <spate/io/task.hpp>
#include <spate/metainfo/torrent_info.hpp>
#include <spate/storage/file_storage.hpp>

#include <cstdint>
#include <functional>
#include <stop_token>

namespace spate::storage {

/// Per-piece outcome of a check. Pieces not asked for are in neither bitfield.
struct check_result {
    /// Read fine and hash matched.
    bitfield good;
    /// A file the piece needs is absent or short.
    bitfield missing;
    /// Read fine, hash mismatch.
    std::uint32_t bad = 0;
};

/// Hashes every piece set in `which` (all pieces if `which` is empty; a bitfield of another
/// size is std::errc::invalid_argument) with pipelined ring
/// reads: up to `depth` pieces in flight, each read into its own slot of `pool` (slots
/// must hold piece_length bytes, else errc::buffer_too_small; when the pool has fewer free
/// slots, it uses what is free, at least one, waiting for a first one as slots come back,
/// and takes more as they come back). SHA-1 compared with torrent.piece_hash. progress(done,
/// total) is called as pieces finish (total = pieces asked for). Stops early with
/// std::errc::operation_canceled when `stop` is requested; a read error other than
/// errc::data_missing (EIO, say) ends the check with that error. `storage`, `torrent`,
/// `pool` and `ring` are borrowed until the task completes.
io::task<result<check_result>>
check_pieces(io::ring& ring, file_storage& storage, const metainfo::torrent_info& torrent,
             io::buffer_pool& pool, bitfield which,
             std::function<void(std::uint32_t, std::uint32_t)> progress, std::stop_token stop,
             std::uint32_t depth = 8);

/// check_pieces over every piece.
io::task<result<check_result>>
check_pieces(io::ring& ring, file_storage& storage, const metainfo::torrent_info& torrent,
             io::buffer_pool& pool, std::function<void(std::uint32_t, std::uint32_t)> progress,
             std::stop_token stop, std::uint32_t depth = 8);

} // namespace spate::storage
