#include "beneath.hpp"

#include <spate/io/file_ops.hpp>
#include <spate/io/iovec_span.hpp>
#include <spate/io/timer_ops.hpp>
#include <spate/storage/error.hpp>
#include <spate/storage/file_storage.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <unordered_set>

namespace spate::storage {

namespace {

// O_DIRECT needs offsets, lengths and addresses aligned to the logical block size; 4096
// covers every common device (512-byte and 4K sectors).
constexpr std::uint64_t direct_alignment = 4096;
// One operation moves at most this much; the kernel caps a read or write near 2 GiB.
constexpr std::uint64_t max_op_bytes = std::uint64_t{1} << 30;

bool aligned(std::uint64_t value) {
    return value % direct_alignment == 0;
}

file_stat stat_of(const struct stat& st) {
    return file_stat{static_cast<std::uint64_t>(st.st_size),
                     static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 +
                         static_cast<std::int64_t>(st.st_mtim.tv_nsec)};
}

} // namespace

// Marks a file busy for the life of one operation on its descriptor, so the LRU does not
// close the descriptor under the kernel.
class file_storage::pin {
public:
    explicit pin(detail::file_entry& entry) noexcept : m_entry(entry) { ++m_entry.pins; }
    pin(const pin&) = delete;
    pin& operator=(const pin&) = delete;
    ~pin() { --m_entry.pins; }

private:
    detail::file_entry& m_entry;
};

file_storage::file_storage(io::ring& ring, const metainfo::torrent_info& torrent, std::string root,
                           storage_options options, open_mode mode, io::unique_fd root_fd)
    : m_ring(ring), m_torrent(torrent), m_root(std::move(root)), m_options(options), m_mode(mode),
      m_root_fd(std::move(root_fd)), m_files(torrent.files().size()) {
    m_options.max_open_files = std::max<std::uint32_t>(m_options.max_open_files, 1);
}

file_storage::~file_storage() = default;

io::task<result<std::unique_ptr<file_storage>>>
file_storage::open(io::ring& ring, const metainfo::torrent_info& torrent, std::string root,
                   storage_options options, open_mode mode) {
    auto root_fd = detail::open_folder(root, mode == open_mode::create);
    if (!root_fd) {
        co_return fail(root_fd.error());
    }
    std::unique_ptr<file_storage> storage(
        new file_storage(ring, torrent, std::move(root), options, mode, std::move(*root_fd)));
    if (mode == open_mode::create) {
        auto created = co_await storage->create_files();
        if (!created) {
            co_await storage->close();
            co_return fail(created.error());
        }
    }
    co_return storage;
}

std::string file_storage::file_path(file_index file) const {
    return m_torrent.files()[file].relative_path().string();
}

io::task<result<void>> file_storage::create_files() {
    std::unordered_set<std::string> made_folders;
    const auto& files = m_torrent.files();
    for (file_index f(0); f < files.end_index(); ++f) {
        const metainfo::torrent_file& file = files[f];
        if (file.pad) {
            continue;
        }
        const std::string path = file_path(f);
        const std::string folder = std::filesystem::path(path).parent_path().string();
        if (!folder.empty() && made_folders.count(folder) == 0) {
            if (auto made = detail::make_folders_beneath(m_root_fd.get(), folder); !made) {
                co_return fail(made.error());
            }
            made_folders.insert(folder);
        }
        co_await shrink_to(m_options.max_open_files - 1);
        auto opened =
            co_await detail::open_beneath(m_ring, m_root_fd.get(), path, O_RDWR | O_CREAT, 0644);
        if (!opened) {
            co_return fail(opened.error() == std::errc::is_a_directory
                               ? make_error_code(errc::not_a_regular_file)
                               : opened.error());
        }
        struct stat st {};
        if (::fstat(opened->get(), &st) != 0) {
            co_return fail(errno_code(errno));
        }
        if (!S_ISREG(st.st_mode)) {
            co_return fail(errc::not_a_regular_file);
        }
        // Only ever grow a file: bytes past the torrent's length are the user's.
        if (static_cast<std::uint64_t>(st.st_size) < file.length) {
            bool sized = false;
            if (m_options.preallocate) {
                auto allocated = co_await io::fallocate(m_ring, opened->get(), 0, 0, file.length);
                if (allocated) {
                    sized = true;
                } else if (allocated.error() != std::errc::operation_not_supported) {
                    co_return fail(allocated.error());
                }
            }
            // Not marked dirty: the size alone claims nothing, and the fsync that follows
            // the first write of a piece makes it durable along with that piece.
            if (!sized && ::ftruncate(opened->get(), static_cast<off_t>(file.length)) != 0) {
                co_return fail(errno_code(errno));
            }
        }
        // Keep the descriptor: the download starts writing right away.
        detail::file_entry& entry = m_files[f.value()];
        if (!entry.buffered) {
            entry.buffered = std::move(*opened);
            entry.last_use = ++m_clock;
            m_open.push_back(open_ref{f, false});
        }
    }
    co_return result<void>{};
}

bool file_storage::can_go_direct(const detail::file_entry& entry, std::uint64_t offset,
                                 std::uint64_t length, const std::byte* memory) const {
    return m_options.direct_io && !entry.direct_refused && aligned(offset) && aligned(length) &&
           aligned(reinterpret_cast<std::uintptr_t>(memory));
}

io::task<void> file_storage::close_descriptor(std::size_t open_position) {
    ++m_closing; // still a descriptor of ours until close(2) completes
    const open_ref ref = m_open[open_position];
    m_open[open_position] = m_open.back();
    m_open.pop_back();
    detail::file_entry& entry = m_files[ref.file.value()];
    const int fd = ref.direct ? entry.direct.release() : entry.buffered.release();
    // close(2) does not make writes durable, and an fsync error is reported once, to the
    // descriptors open when it happened: fsync before closing the file's last descriptor
    // and keep a failure for the next sync(). The file stays dirty until an fsync that no
    // write followed succeeded; a sync() meanwhile reopens it and fsyncs again (an fsync
    // waits for write-back already under way, so it cannot return early).
    if (entry.dirty && !entry.buffered && !entry.direct) {
        const std::uint64_t writes = entry.writes;
        auto synced = co_await io::fsync(m_ring, fd);
        if (!synced) {
            if (!m_deferred_error) {
                m_deferred_error = synced.error();
            }
        } else if (entry.writes == writes) {
            entry.dirty = false;
        }
    }
    (void)co_await io::close(m_ring, fd);
    --m_closing;
}

io::task<void> file_storage::shrink_to(std::size_t limit) {
    while (m_open.size() > limit) {
        std::size_t victim = m_open.size();
        std::uint64_t oldest = std::numeric_limits<std::uint64_t>::max();
        for (std::size_t i = 0; i < m_open.size(); ++i) {
            const detail::file_entry& entry = m_files[m_open[i].file.value()];
            if (entry.pins == 0 && entry.last_use < oldest) {
                oldest = entry.last_use;
                victim = i;
            }
        }
        if (victim == m_open.size()) {
            co_return; // every descriptor is busy: go past the soft limit for now
        }
        co_await close_descriptor(victim);
    }
}

io::task<result<file_storage::descriptor>> file_storage::get_descriptor(file_index file,
                                                                        bool want_direct) {
    detail::file_entry& entry = m_files[file.value()];
    for (;;) {
        const bool direct = want_direct && !entry.direct_refused;
        io::unique_fd& slot = direct ? entry.direct : entry.buffered;
        if (slot) {
            entry.last_use = ++m_clock;
            co_return descriptor{slot.get(), direct};
        }
        if (entry.absent) {
            co_return fail(errc::data_missing);
        }
        const std::size_t in_flight = m_opening + m_closing;
        if (m_open.size() + in_flight >= m_options.max_open_files) {
            // A hard bound, counting opens and closes in flight: past it the process may
            // run out of descriptors (EMFILE) in the middle of a write.
            const std::size_t before = m_open.size();
            const std::size_t keep = m_options.max_open_files - 1 -
                                     std::min<std::size_t>(in_flight, m_options.max_open_files - 1);
            co_await shrink_to(keep);
            if (m_open.size() == before) {
                // Every descriptor is busy with an operation in flight, and each operation
                // holds one at a time: one ends soon. Rare enough (a tiny open-file limit,
                // many writes at once) that a short sleep beats a queue of waiters.
                auto slept = co_await io::sleep_for(m_ring, std::chrono::milliseconds(1));
                static_cast<void>(slept);
            }
            continue; // look again: another operation may have opened this file meanwhile
        }
        int flags = m_mode == open_mode::create ? O_RDWR : O_RDONLY;
        if (direct) {
            flags |= O_DIRECT;
        }
        ++m_opening;
        auto opened =
            co_await detail::open_beneath(m_ring, m_root_fd.get(), file_path(file), flags, 0);
        --m_opening;
        if (!opened) {
            if (direct && opened.error() == std::errc::invalid_argument) {
                entry.direct_refused = true; // tmpfs and friends: go buffered
                continue;
            }
            if (opened.error() == std::errc::no_such_file_or_directory) {
                if (m_mode == open_mode::existing) {
                    entry.absent = true;
                }
                co_return fail(errc::data_missing);
            }
            co_return fail(opened.error());
        }
        struct stat st {};
        if (::fstat(opened->get(), &st) != 0) {
            co_return fail(errno_code(errno));
        }
        if (!S_ISREG(st.st_mode)) {
            // A folder or a device where a payload file should be holds none of its data.
            co_return fail(m_mode == open_mode::existing ? errc::data_missing
                                                         : errc::not_a_regular_file);
        }
        if (slot) {
            continue; // another operation opened it while this one waited: use that one
        }
        slot = std::move(*opened);
        m_open.push_back(open_ref{file, direct});
    }
}

io::task<result<void>> file_storage::write_piece(piece_index p, const io::buffer_slot& slot) {
    if (m_mode != open_mode::create) {
        co_return fail(errc::read_only);
    }
    auto slices = m_torrent.layout().map_piece(p);
    if (!slices) {
        co_return fail(slices.error());
    }
    const std::span<std::byte> memory = slot.span();
    if (memory.size() < m_torrent.layout().piece_size(p)) {
        co_return fail(errc::buffer_too_small);
    }
    const std::uint16_t buffer_index = slot.index();
    std::uint64_t position = 0; // of the slice within the piece
    for (const metainfo::file_slice& slice : *slices) {
        if (slice.pad) {
            position += slice.length;
            continue;
        }
        detail::file_entry& entry = m_files[slice.file.value()];
        std::uint64_t done = 0;
        while (done < slice.length) {
            const std::uint64_t length = std::min(slice.length - done, max_op_bytes);
            const auto from = memory.subspan(position + done, length);
            const bool want_direct = can_go_direct(entry, slice.offset + done, length, from.data());
            auto fd = co_await get_descriptor(slice.file, want_direct);
            if (!fd) {
                co_return fail(fd.error());
            }
            const pin busy(entry);
            auto wrote =
                co_await io::write_fixed(m_ring, fd->fd, from, buffer_index, slice.offset + done);
            if (!wrote) {
                if (fd->direct && wrote.error() == std::errc::invalid_argument) {
                    entry.direct_refused = true; // refused at write time: retry buffered
                    continue;
                }
                co_return fail(wrote.error());
            }
            if (*wrote == 0) {
                co_return fail(std::make_error_code(std::errc::io_error));
            }
            entry.dirty = true;
            ++entry.writes;
            ++(fd->direct ? m_counters.direct_writes : m_counters.buffered_writes);
            done += *wrote;
        }
        position += slice.length;
    }
    // Operations in flight may have pushed the descriptors past the limit.
    co_await shrink_to(m_options.max_open_files);
    co_return result<void>{};
}

io::task<result<void>> file_storage::write_pieces(piece_index first,
                                                  std::span<const io::buffer_slot* const> slots) {
    if (slots.size() == 1) {
        co_return co_await write_piece(first, *slots.front());
    }
    if (m_mode != open_mode::create) {
        co_return fail(errc::read_only);
    }
    // One gathered write per run of neighbouring ranges in one file (at most IOV_MAX parts).
    struct gathered {
        file_index file;
        std::uint64_t offset = 0;
        std::uint64_t length = 0;
        std::vector<iovec> parts;
    };
    constexpr std::size_t iov_max = 1024;
    std::vector<gathered> writes;
    for (std::size_t k = 0; k < slots.size(); ++k) {
        const piece_index p(first.value() + static_cast<std::uint32_t>(k));
        auto slices = m_torrent.layout().map_piece(p);
        if (!slices) {
            co_return fail(slices.error());
        }
        const std::span<std::byte> memory = slots[k]->span();
        if (memory.size() < m_torrent.layout().piece_size(p)) {
            co_return fail(errc::buffer_too_small);
        }
        std::uint64_t position = 0;
        for (const metainfo::file_slice& slice : *slices) {
            const iovec part{memory.data() + position, slice.length};
            position += slice.length;
            if (slice.pad || slice.length == 0) {
                continue;
            }
            if (!writes.empty() && writes.back().file == slice.file &&
                writes.back().offset + writes.back().length == slice.offset &&
                writes.back().parts.size() < iov_max) {
                writes.back().parts.push_back(part);
                writes.back().length += slice.length;
            } else {
                writes.push_back(gathered{slice.file, slice.offset, slice.length, {part}});
            }
        }
    }
    for (gathered& w : writes) {
        detail::file_entry& entry = m_files[w.file.value()];
        std::span<iovec> rest = w.parts;
        std::uint64_t offset = w.offset;
        while (!rest.empty()) {
            const bool all_aligned = std::all_of(rest.begin(), rest.end(), [](const iovec& v) {
                return aligned(v.iov_len) && aligned(reinterpret_cast<std::uintptr_t>(v.iov_base));
            });
            const bool want_direct =
                m_options.direct_io && !entry.direct_refused && aligned(offset) && all_aligned;
            auto fd = co_await get_descriptor(w.file, want_direct);
            if (!fd) {
                co_return fail(fd.error());
            }
            const pin busy(entry);
            auto wrote = co_await io::writev(m_ring, fd->fd, rest, offset);
            if (!wrote) {
                if (fd->direct && wrote.error() == std::errc::invalid_argument) {
                    entry.direct_refused = true; // refused at write time: retry buffered
                    continue;
                }
                co_return fail(wrote.error());
            }
            if (*wrote == 0) {
                co_return fail(std::make_error_code(std::errc::io_error));
            }
            entry.dirty = true;
            ++entry.writes;
            ++(fd->direct ? m_counters.direct_writes : m_counters.buffered_writes);
            offset += *wrote;
            io::consume_iovecs(rest, *wrote); // a short write resumes where it stopped
        }
    }
    co_await shrink_to(m_options.max_open_files);
    co_return result<void>{};
}

io::task<result<void>> file_storage::read(piece_index p, std::uint64_t offset,
                                          std::span<std::byte> into, std::uint16_t buffer_index) {
    auto slices = m_torrent.layout().map_range(p, offset, into.size());
    if (!slices) {
        co_return fail(slices.error());
    }
    std::uint64_t position = 0; // of the slice within `into`
    for (const metainfo::file_slice& slice : *slices) {
        const auto part = into.subspan(position, slice.length);
        position += slice.length;
        if (slice.pad) {
            std::fill(part.begin(), part.end(), std::byte{0});
            continue;
        }
        detail::file_entry& entry = m_files[slice.file.value()];
        std::uint64_t done = 0;
        while (done < slice.length) {
            const std::uint64_t length = std::min(slice.length - done, max_op_bytes);
            const auto target = part.subspan(done, length);
            const bool want_direct =
                can_go_direct(entry, slice.offset + done, length, target.data());
            auto fd = co_await get_descriptor(slice.file, want_direct);
            if (!fd) {
                co_return fail(fd.error());
            }
            const pin busy(entry);
            auto got =
                co_await io::read_fixed(m_ring, fd->fd, target, buffer_index, slice.offset + done);
            if (!got) {
                if (fd->direct && got.error() == std::errc::invalid_argument) {
                    entry.direct_refused = true;
                    continue;
                }
                co_return fail(got.error());
            }
            if (*got == 0) {
                co_return fail(errc::data_missing); // end of file before the piece's end
            }
            ++(fd->direct ? m_counters.direct_reads : m_counters.buffered_reads);
            done += *got;
        }
    }
    co_await shrink_to(m_options.max_open_files);
    co_return result<void>{};
}

io::task<result<void>> file_storage::sync() {
    std::error_code first_error = std::exchange(m_deferred_error, {});
    for (file_index f(0); f.value() < m_files.size(); ++f) {
        detail::file_entry& entry = m_files[f.value()];
        if (!entry.dirty) {
            continue;
        }
        // Any descriptor of the file will do: fsync covers the whole inode. One the LRU
        // closed is opened again.
        int fd = entry.buffered ? entry.buffered.get() : entry.direct.get();
        if (fd < 0) {
            auto reopened = co_await get_descriptor(f, false);
            if (!reopened) {
                if (!first_error) {
                    first_error = reopened.error();
                }
                continue;
            }
            fd = reopened->fd;
        }
        const pin busy(entry);
        // Writes that complete during the fsync keep the file dirty for the next sync().
        const std::uint64_t writes = entry.writes;
        auto synced = co_await io::fsync(m_ring, fd);
        if (!synced) {
            if (!first_error) {
                first_error = synced.error();
            }
        } else if (entry.writes == writes) {
            entry.dirty = false;
        }
    }
    if (first_error) {
        co_return fail(first_error);
    }
    co_return result<void>{};
}

io::task<void> file_storage::close() {
    while (!m_open.empty()) {
        const open_ref ref = m_open.back();
        m_open.pop_back();
        detail::file_entry& entry = m_files[ref.file.value()];
        const int fd = ref.direct ? entry.direct.release() : entry.buffered.release();
        (void)co_await io::close(m_ring, fd);
    }
}

result<std::vector<file_stat>> file_storage::stat_files() const {
    std::vector<file_stat> out;
    out.reserve(m_files.size());
    const auto& files = m_torrent.files();
    for (file_index f(0); f < files.end_index(); ++f) {
        if (files[f].pad) {
            out.push_back(file_stat{});
            continue;
        }
        // By path, not by a descriptor we hold: that is what a later run will see.
        auto opened = detail::open_beneath_now(m_root_fd.get(), file_path(f), O_PATH, 0);
        if (!opened) {
            if (opened.error() == std::errc::no_such_file_or_directory) {
                out.push_back(file_stat{});
                continue;
            }
            return fail(opened.error());
        }
        struct stat st {};
        if (::fstat(opened->get(), &st) != 0) {
            return fail(errno_code(errno));
        }
        out.push_back(S_ISREG(st.st_mode) ? stat_of(st) : file_stat{});
    }
    return out;
}

} // namespace spate::storage
