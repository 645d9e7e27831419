#pragma once
/// piece_cache: whole pieces kept in registered buffers for uploading, each one verified
/// against its hash before it went in. A request is served from here: a piece is read from
/// disk once (one read for all its blocks, for every peer that asks) and hashed, so data
/// that changed on disk is never sent. Pieces just downloaded go in too, straight from
/// their piece buffer. Bounded by `capacity` entries; the least recently used goes first.

#include <spate/core/strong_index.hpp>
#include <spate/io/buffer_pool.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <unordered_map>

namespace spate::session {

class piece_cache {
public:
    using clock = std::chrono::steady_clock;

    /// At most `capacity` pieces (0 caches nothing: insert gives the slot straight back).
    explicit piece_cache(std::size_t capacity) : m_capacity(capacity) {}

    /// The verified bytes of `piece`, or an empty span when it is not cached. Marks it used
    /// at `now`. The span stays valid until the next insert, take_oldest or release_idle.
    [[nodiscard]] std::span<const std::byte> find(piece_index piece, clock::time_point now);

    /// Keeps `slot`, whose first `size` bytes hold `piece`, verified. Replaces an entry of the
    /// same piece; when full, the least recently used entry's slot goes back to its pool.
    void insert(piece_index piece, io::buffer_slot slot, std::uint32_t size,
                clock::time_point now);

    /// Takes the least recently used entry out and returns its slot for reuse; an empty slot
    /// when nothing is cached.
    [[nodiscard]] io::buffer_slot take_oldest();

    /// Gives back to the pool the slots of pieces not used since `before`, so an idle
    /// torrent does not sit on buffers another needs.
    void release_idle(clock::time_point before);

    /// Drops everything (the slots go back to their pool).
    void clear() { m_entries.clear(); }

    [[nodiscard]] std::size_t size() const noexcept { return m_entries.size(); }
    [[nodiscard]] std::size_t capacity() const noexcept { return m_capacity; }
    [[nodiscard]] bool full() const noexcept { return m_entries.size() >= m_capacity; }

private:
    struct entry {
        io::buffer_slot slot;
        std::uint32_t size = 0;
        clock::time_point used;
    };
    using entries = std::unordered_map<piece_index, entry>;
    // A scan, but only when a piece goes in or out (once per piece), never per request.
    [[nodiscard]] entries::iterator oldest();

    std::size_t m_capacity;
    // By piece: find() runs for every request served, and a seed's cache may hold
    // thousands of pieces.
    entries m_entries;
};

} // namespace spate::session
