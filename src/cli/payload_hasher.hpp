#pragma once
// Hashing the payload of a torrent being made: the files are read in order with the
// ring and cut into pieces as one stream, so a piece may span several files.

#include "progress_line.hpp"

#include <spate/io/ring.hpp>
#include <spate/io/task.hpp>

#include <tl/expected.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace spate::cli {

struct payload_file {
    /// Where to read it.
    std::string disk_path;
    /// Its size when listed; a file that changes size while being hashed is an error.
    std::uint64_t length = 0;
};

/// The SHA-1 of every piece of the concatenated `files`, 20 bytes per piece, or a
/// one-line reason naming the file that could not be read. Memory use is a fixed 4 MiB
/// whatever the piece length. `progress` (may be null) is borrowed until completion.
io::task<tl::expected<std::vector<std::byte>, std::string>>
hash_payload(io::ring& ring, std::vector<payload_file> files, std::uint64_t piece_length,
             progress_line* progress);

} // namespace spate::cli
