#pragma once
/// file_storage: a torrent's payload files on disk, read and written piece by piece on
/// the ring from registered buffers (floor 3 adapter).
///
/// Every payload file is opened with openat2(2) RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS
/// relative to a descriptor of the download folder, so nothing outside it is touched, even
/// through a symbolic link planted inside it. Descriptors are kept in a small LRU. Pieces
/// are moved with read_fixed / write_fixed; a range whose file offset, length and memory
/// are all 4096-aligned goes through an O_DIRECT descriptor, any other range (and any file
/// on a filesystem that refuses O_DIRECT) through a buffered one.

#include <spate/core/result.hpp>
#include <spate/core/strong_index.hpp>
#include <spate/io/buffer_pool.hpp>
#include <spate/io/ring.hpp>
#include <spate/io/task.hpp>
#include <spate/io/unique_fd.hpp>
#include <spate/metainfo/torrent_info.hpp>
#include <spate/storage/file_stat.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <system_error>
#include <vector>

namespace spate::storage {

/// How payload files are laid down and opened.
struct storage_options {
    /// fallocate(2) whole files up front; otherwise files are sparse (ftruncate to their
    /// full length).
    bool preallocate = false;
    /// O_DIRECT where file offset, length and memory are 4096-aligned; silently buffered
    /// where the filesystem refuses O_DIRECT (tmpfs: EINVAL on open).
    bool direct_io = true;
    /// Most descriptors open at once (least recently used ones are closed first), opens in
    /// flight included. When every open one is busy with I/O, a new open waits for one to
    /// finish rather than pass the limit.
    std::uint32_t max_open_files = 128;
};

/// What open() does with the payload files.
enum class open_mode {
    /// Download: creates the folder tree and the files (not pad files), all read-write.
    create,
    /// Verify / seed: opens only what exists, read-only; absent files make their pieces
    /// missing (errc::data_missing).
    existing,
};

/// How many payload operations took each path; lets tests and benchmarks see whether
/// O_DIRECT was used.
struct io_counters {
    std::uint64_t direct_writes = 0;
    std::uint64_t buffered_writes = 0;
    std::uint64_t direct_reads = 0;
    std::uint64_t buffered_reads = 0;
};

namespace detail {
/// Per torrent file: its descriptors and bookkeeping. Internal.
struct file_entry {
    io::unique_fd buffered;
    io::unique_fd direct;
    std::uint64_t last_use = 0;
    /// Operations in flight on this file's descriptors; a pinned file is never closed.
    std::uint32_t pins = 0;
    /// Successful writes so far; tells whether a write landed during an fsync.
    std::uint64_t writes = 0;
    /// Written since the last successful fsync.
    bool dirty = false;
    /// The filesystem refused O_DIRECT for this file.
    bool direct_refused = false;
    /// Existing mode: the file was not there (remembered, so a check does not retry).
    bool absent = false;
};
} // namespace detail

/// The payload of one torrent under one download folder. Not movable (operations in
/// flight point at it); held by unique_ptr. Used by one thread.
class file_storage {
public:
    /// `torrent` is borrowed and must outlive the storage. `root` is the download folder
    /// (-o DIR): files live at root/<torrent file relative_path()>. Every open goes
    /// through openat2 with RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS relative to a descriptor of
    /// root (create mode creates root and parent folders with mkdirat beneath it), so
    /// nothing outside root is ever touched. Errors: errc::folder_missing (existing mode),
    /// errc::unsafe_path, errc::not_a_regular_file, or the errno of the failed call.
    static io::task<result<std::unique_ptr<file_storage>>>
    open(io::ring& ring, const metainfo::torrent_info& torrent, std::string root,
         storage_options options, open_mode mode);

    file_storage(const file_storage&) = delete;
    file_storage& operator=(const file_storage&) = delete;
    file_storage(file_storage&&) = delete;
    file_storage& operator=(file_storage&&) = delete;
    /// Closes what close() did not, synchronously.
    ~file_storage();

    /// Writes bytes [0, piece_size(p)) of `slot` (a registered pool slot, page-aligned, at
    /// least piece_size(p) bytes) to the file(s) piece p spans, with write_fixed
    /// (slot.index()); pad-file ranges skipped; short writes resumed; errors (ENOSPC, EIO,
    /// EROFS...) returned as they are. The slot is borrowed until the task completes.
    /// errc::read_only in existing mode; errc::buffer_too_small for a short slot.
    io::task<result<void>> write_piece(piece_index p, const io::buffer_slot& slot);

    /// Writes the consecutive pieces first, first + 1, ... from `slots` (one slot each, as
    /// write_piece takes it) with as few writes as the files allow: the ranges of
    /// neighbouring pieces in one file go out as one gathered write (writev), which costs
    /// the device one request where write_piece would cost one per piece. Same errors and
    /// borrowing as write_piece.
    io::task<result<void>> write_pieces(piece_index first,
                                        std::span<const io::buffer_slot* const> slots);

    /// Reads `into` from piece p starting at `offset` within the piece, with read_fixed
    /// into registered buffer `buffer_index` (`into` lies inside that slot and is borrowed
    /// until the task completes); pad ranges read as zeros; a file absent or too short:
    /// errc::data_missing. A range outside the piece is metainfo::errc::range_out_of_piece.
    io::task<result<void>> read(piece_index p, std::uint64_t offset, std::span<std::byte> into,
                                std::uint16_t buffer_index);

    /// fsync(2) (not fdatasync: sizes change) every file written since the last sync, after
    /// the writes the caller has already awaited. Also reports a failed fsync of a file
    /// whose descriptor the LRU closed since the last sync.
    io::task<result<void>> sync();

    /// Closes every descriptor (awaits the close ops). Call before destroying, with no
    /// operation in flight. Does not fsync: call sync() first for durability.
    io::task<void> close();

    /// Current size and mtime of every torrent file (pad files: zeros); absent files {0,0}.
    /// Synchronous (fstat); meant for resume-file time.
    [[nodiscard]] result<std::vector<file_stat>> stat_files() const;

    [[nodiscard]] const metainfo::torrent_info& torrent() const noexcept { return m_torrent; }
    [[nodiscard]] const std::string& root() const noexcept { return m_root; }
    [[nodiscard]] open_mode mode() const noexcept { return m_mode; }
    /// Descriptors open right now (O_DIRECT and buffered ones both count).
    [[nodiscard]] std::size_t open_descriptors() const noexcept { return m_open.size(); }
    [[nodiscard]] const io_counters& counters() const noexcept { return m_counters; }

private:
    struct descriptor {
        int fd = -1;
        bool direct = false;
    };
    // An open descriptor: which file, and whether it is the O_DIRECT one.
    struct open_ref {
        file_index file;
        bool direct = false;
    };
    class pin;

    file_storage(io::ring& ring, const metainfo::torrent_info& torrent, std::string root,
                 storage_options options, open_mode mode, io::unique_fd root_fd);

    io::task<result<void>> create_files();
    // A descriptor of `file`, O_DIRECT when `want_direct` and the filesystem allows it.
    io::task<result<descriptor>> get_descriptor(file_index file, bool want_direct);
    // Closes least recently used descriptors until at most `limit` are open (pinned files
    // are skipped, so it may stop short).
    io::task<void> shrink_to(std::size_t limit);
    io::task<void> close_descriptor(std::size_t open_position);
    [[nodiscard]] bool can_go_direct(const detail::file_entry& entry, std::uint64_t offset,
                                     std::uint64_t length, const std::byte* memory) const;
    [[nodiscard]] std::string file_path(file_index file) const;

    io::ring& m_ring;
    const metainfo::torrent_info& m_torrent;
    std::string m_root;
    storage_options m_options;
    open_mode m_mode;
    io::unique_fd m_root_fd;
    std::vector<detail::file_entry> m_files;
    std::vector<open_ref> m_open;
    std::size_t m_opening = 0; // opens in flight, counted against max_open_files
    std::size_t m_closing = 0; // closes (and their fsyncs) in flight, counted too
    std::uint64_t m_clock = 0;
    // A failed fsync of a descriptor the LRU closed; reported by the next sync().
    std::error_code m_deferred_error;
    io_counters m_counters;
};

} // namespace spate::storage
