#pragma once
/// piece_writer: writes verified pieces to storage, combining neighbours. Each write costs
/// the device a request (on a virtual disk, an exit to the host besides), so while one
/// write is out the pieces verified meanwhile queue, and the next write takes the lowest
/// queued piece with those right after it, up to a size cap, as one gathered write. An
/// idle writer writes a lone piece at once: batching only happens under load, and adds no
/// wait to it.

#include <spate/core/result.hpp>
#include <spate/core/strong_index.hpp>
#include <spate/io/buffer_pool.hpp>
#include <spate/io/event.hpp>
#include <spate/io/ring.hpp>
#include <spate/io/task.hpp>
#include <spate/storage/file_storage.hpp>

#include <cstddef>
#include <cstdint>
#include <map>

namespace spate::session {

class piece_writer {
public:
    /// Both are borrowed and must outlive the writer. At most `writers` writes are out at
    /// once, each of at most `max_bytes` (a lone larger piece is written alone). With 2, a
    /// 200-file download (pieces across files, buffered writes) queued pieces behind the
    /// writes until the buffer budget ran out: 2.0 s against 1.3 s for 512 MiB; 8 keeps
    /// that near 1.4 s and costs one big file nothing.
    piece_writer(io::ring& ring, storage::file_storage& storage, std::size_t writers = 8,
                 std::uint64_t max_bytes = std::uint64_t{4} << 20) noexcept
        : m_ring(ring), m_storage(storage), m_max_writers(writers), m_max_bytes(max_bytes) {}

    /// Writes piece p from `slot` (borrowed until the task completes); the result is that
    /// of the write that carried it.
    io::task<result<void>> write(piece_index p, const io::buffer_slot& slot);

    /// Writes issued to storage so far (one per run of pieces).
    [[nodiscard]] std::uint64_t writes() const noexcept { return m_writes; }

private:
    struct waiting {
        const io::buffer_slot* slot = nullptr;
        result<void>* outcome = nullptr;
        bool* finished = nullptr;
        io::event* done = nullptr;
    };
    // Writes runs from the queue until it is empty.
    io::task<void> drain();

    io::ring& m_ring;
    storage::file_storage& m_storage;
    std::size_t m_max_writers;
    std::uint64_t m_max_bytes;
    std::size_t m_writers = 0;
    std::uint64_t m_writes = 0;
    std::map<std::uint32_t, waiting> m_queue; // by piece index
};

} // namespace spate::session
