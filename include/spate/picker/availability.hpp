#pragma once
/// availability: how many connected peers have each piece, and the pieces still free to pick
/// (wanted, not had, not in progress) kept ordered for rarest-first at O(1) per change.
///
/// Free pieces live in one array per priority level. Each array is sorted by availability
/// and cut into groups of equal availability by an `ends` vector:
///
///     order:  [ p7 p2 p9 | p4 p1 | p3 p8 p5 p6 ]      ends: [3, 5, 9]
///               avail 0    avail 1   avail 2
///
/// A piece whose availability goes up by one swaps with the last piece of its group and the
/// group boundary moves left past it, so it becomes the first piece of the next group; going
/// down is the mirror image. Peers arriving and leaving thus cost O(1) per piece, and the
/// picker reads the rarest free pieces from the front of the highest priority array.
/// Inserting or removing a piece (it starts downloading, is had, changes priority) costs one
/// swap per group above it: at most the number of peers.

#include <spate/core/strong_index.hpp>

#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace spate::picker {

/// Availability counts and the free-piece order; owned by piece_picker, usable alone.
class availability {
public:
    /// Priority levels 1..level_count may hold pieces; level 0 means "not free".
    static constexpr std::uint8_t level_count = 7;

    availability() = default;
    /// `piece_count` pieces, availability 0, none free.
    explicit availability(std::uint32_t piece_count);

    [[nodiscard]] std::uint32_t piece_count() const noexcept {
        return static_cast<std::uint32_t>(m_count.size());
    }

    /// Peers known to have `p`.
    [[nodiscard]] std::uint32_t count(piece_index p) const noexcept { return m_count[p]; }
    /// One more peer has `p`.
    void increment(piece_index p);
    /// One peer fewer has `p`; a count already at 0 stays 0 (a caller's double removal must
    /// not wrap the count around).
    void decrement(piece_index p);

    /// Makes `p` free at priority level `level` (1..level_count); `p` must not be free.
    void insert(piece_index p, std::uint8_t level);
    /// Takes `p` out of the free order; does nothing when it is not free.
    void erase(piece_index p);
    [[nodiscard]] bool is_free(piece_index p) const noexcept { return m_level[p] != 0; }
    /// The level `p` is free at, 0 when it is not free.
    [[nodiscard]] std::uint8_t level(piece_index p) const noexcept { return m_level[p]; }

    /// The free pieces of `level` (1..level_count), rarest first; valid until the next change.
    [[nodiscard]] std::span<const piece_index> order(std::uint8_t level) const noexcept {
        return m_levels[level - 1].order;
    }
    /// Free pieces over all levels.
    [[nodiscard]] std::uint32_t free_count() const noexcept { return m_free; }

    /// Reorders pieces of equal availability with `next_random` (a generator returning
    /// uniform 64-bit values), so that clients do not all start with the same pieces.
    template <typename Random> void shuffle_ties(Random&& next_random) {
        for (auto& lv : m_levels) {
            std::uint32_t begin = 0;
            for (std::uint32_t end : lv.ends) {
                for (std::uint32_t i = end; i > begin + 1; --i) {
                    auto j = begin + static_cast<std::uint32_t>(next_random() % (i - begin));
                    swap_positions(lv, i - 1, j);
                }
                begin = end;
            }
        }
    }

    /// Aborts with a message on stderr when positions, groups or counts disagree.
    void check_invariants() const;

private:
    struct level_order {
        std::vector<piece_index> order;
        // ends[a]: one past the last position of the group with availability a. Always at
        // least one more entry than the highest availability in the array, the last one
        // equal to order.size().
        std::vector<std::uint32_t> ends;
    };

    void swap_positions(level_order& lv, std::uint32_t a, std::uint32_t b) noexcept;
    static void grow_groups(level_order& lv, std::uint32_t avail);

    index_vector<std::uint32_t, piece_index> m_count;
    index_vector<std::uint32_t, piece_index> m_pos;
    index_vector<std::uint8_t, piece_index> m_level;
    std::array<level_order, level_count> m_levels;
    std::uint32_t m_free = 0;
};

} // namespace spate::picker
