#pragma once
// `spate download`'s options, checked into a plan before the ring starts, and the pure
// pieces of that checking (file selection, the piece-buffer pool's shape).

#include <spate/core/bitfield.hpp>
#include <spate/core/endpoint.hpp>
#include <spate/metainfo/torrent_info.hpp>

#include <tl/expected.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace spate::cli {

struct download_options {
    std::string source;
    std::string output = ".";
    std::vector<std::string> peers;
    std::size_t max_peers = 200;
    std::string select;
    std::string memory = "256M";
    std::string max_up;   ///< upload limit (bytes per second, "10M"); empty: none
    std::string max_down; ///< download limit; empty: none
    bool sequential = false;
    bool json = false;
    bool seed = false;
    bool no_tracker = false;
    bool preallocate = false;
    std::uint16_t port = 6881;
    /// io_uring submission queue entries (a tuning knob; full queues are flushed, so any
    /// size works, a small one with more system calls).
    unsigned ring_entries = 1024;
};

/// "0,2-5" to the file indices it names, each checked against `file_count`.
[[nodiscard]] tl::expected<std::vector<std::size_t>, std::string>
parse_file_selection(std::string_view text, std::size_t file_count);

/// Pieces wanted for the selected files (every piece that holds a byte of one of them;
/// pad files select nothing). An empty selection wants every piece.
[[nodiscard]] bitfield wanted_pieces(const metainfo::torrent_info& torrent,
                                     const std::vector<std::size_t>& files);

/// How the piece-buffer budget becomes pool slots: one slot per piece, as many as the
/// budget holds, at least two (one receiving while one is written), never more than the
/// torrent has pieces plus one (for uploads), and at most what the kernel registers
/// (16,384 buffers). Registered memory is pinned, so an unneeded slot costs real memory.
struct pool_shape {
    std::size_t slot_size = 0;
    std::uint32_t slots = 0;
};
[[nodiscard]] pool_shape plan_piece_pool(std::uint64_t piece_length, std::uint32_t piece_count,
                                         std::uint64_t budget);

} // namespace spate::cli
