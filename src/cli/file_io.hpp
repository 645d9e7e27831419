#pragma once
// Whole-file reads and atomic whole-file writes on the ring, for the command line's own
// small files (a .torrent in, a .torrent out).

#include <spate/core/result.hpp>
#include <spate/io/ring.hpp>
#include <spate/io/task.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace spate::cli {

/// Reads all of `path` (taken by value: used after the first suspension). Fails with
/// std::errc::file_too_large when the file holds more than `max_size` bytes, and with
/// std::errc::is_a_directory for a folder.
io::task<result<std::vector<std::byte>>> read_whole_file(io::ring& ring, std::string path,
                                                         std::size_t max_size);

/// Writes `data` to `path` so that readers see either no file or all of it: a temporary
/// file beside it is written, fsynced and renamed over `path`. With `replace` false an
/// existing `path` is an error (std::errc::file_exists) and is left alone. `data` is
/// borrowed until the task completes.
io::task<result<void>> write_file_atomically(io::ring& ring, std::string path,
                                             std::span<const std::byte> data, bool replace);

} // namespace spate::cli
