#pragma once
/// piece_picker: decides which blocks to request from which peer. Rarest first within
/// priority buckets, random first pieces, partial pieces finished first, an optional
/// sequential mode, and endgame at the tail. Pure bookkeeping: no I/O, no clock, one thread.

#include <spate/core/bitfield.hpp>
#include <spate/core/result.hpp>
#include <spate/core/strong_index.hpp>
#include <spate/picker/availability.hpp>
#include <spate/picker/block_request.hpp>
#include <spate/picker/block_state.hpp>
#include <spate/picker/geometry.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <vector>

namespace spate::picker {

/// How much a piece is wanted. Higher levels are picked before lower ones; `skip` is never
/// picked and does not count as wanted. Values between the named ones are valid levels too.
enum class priority : std::uint8_t { skip = 0, low = 1, normal = 4, high = 7 };

/// Picking policy, fixed for the picker's lifetime.
struct picker_options {
    /// Lowest piece index first (within the highest priority), instead of rarest first.
    bool sequential = false;
    /// Until this many pieces are had, new pieces are chosen at random rather than rarest
    /// first, so a new peer soon has something to trade.
    std::uint32_t random_first_pieces = 4;
    /// Seeds the random choices (random first pieces, order of equally rare pieces). Tests
    /// pass a constant to be repeatable; a client passes a random value.
    std::uint64_t seed = 0;
};

/// The picker of one torrent, owned by its coordinator. It keeps no reference to anything the
/// caller passes in; bitfields are read during the call only.
class piece_picker {
public:
    /// What on_block_received found.
    struct received_result {
        /// False: the block was not requested from `who`, or was already received (or is out
        /// of range, or its piece is had); the caller discards the data.
        bool expected = false;
        /// Every block of the piece is now received: the caller hashes it.
        bool piece_complete = false;
        /// Other peers that also had this block requested (endgame): send them cancel.
        std::vector<peer_key> cancel_from;
    };

    /// Checks the geometry first (see piece_geometry::create).
    [[nodiscard]] static result<piece_picker> create(std::uint32_t piece_count,
                                                     std::uint64_t piece_length,
                                                     std::uint64_t total_size,
                                                     picker_options options = {});

    /// Geometry: piece_count pieces of piece_length bytes, the last one holding the rest of
    /// total_size. Blocks are 16 KiB, the last block of the last piece shorter. A geometry
    /// that piece_geometry::create refuses is a programming error: the process aborts with a
    /// message (metainfo validated the torrent already). Every piece starts at `normal`.
    piece_picker(std::uint32_t piece_count, std::uint64_t piece_length, std::uint64_t total_size,
                 picker_options options = {});
    /// The same, from a geometry already checked.
    explicit piece_picker(const piece_geometry& geometry, picker_options options = {});

    [[nodiscard]] const piece_geometry& geometry() const noexcept { return m_geo; }
    [[nodiscard]] std::uint32_t piece_count() const noexcept { return m_geo.piece_count(); }

    // What we have: the caller marks a piece only after its hash passed and its write
    // completed.

    /// Marks `p` had and forgets its block state; requests still out for it are the caller's
    /// to cancel. Out-of-range indices are ignored.
    void mark_have(piece_index p);
    [[nodiscard]] bool have(piece_index p) const;
    [[nodiscard]] const bitfield& have_bits() const noexcept { return m_have; }

    /// `skip`: never picked and not wanted. A piece in progress keeps its block state, but no
    /// more of its blocks are handed out while it is skipped.
    void set_priority(piece_index p, priority prio);
    [[nodiscard]] priority piece_priority(piece_index p) const;
    /// Not had and priority != skip.
    [[nodiscard]] bool is_wanted(piece_index p) const;
    /// Wanted pieces not yet had.
    [[nodiscard]] std::uint32_t wanted_remaining() const noexcept { return m_wanted_remaining; }
    [[nodiscard]] bool finished() const noexcept { return wanted_remaining() == 0; }

    // Availability, for rarest first. A bitfield whose size is not piece_count() is ignored.

    /// A peer's bitfield arrived (for a seed: all set).
    void add_peer(const bitfield& peer_has);
    /// The peer is gone: subtracts its current bits (as updated by its have messages).
    void remove_peer(const bitfield& peer_has);
    /// One have message from a peer that did not have `p` before.
    void add_have(piece_index p);
    /// Peers known to have `p`.
    [[nodiscard]] std::uint32_t piece_availability(piece_index p) const;
    /// The peer has a wanted piece we lack.
    [[nodiscard]] bool is_interesting(const bitfield& peer_has) const;

    /// Picks up to `max_blocks` blocks this peer can serve, appends them to `out` and marks
    /// them requested by `who`; returns how many were appended. Order of preference: open
    /// blocks of pieces in progress (first those `who` already works on), then new pieces
    /// (random until random_first_pieces are had, then rarest first; lowest index first in
    /// sequential mode), highest priority first. In endgame (every block of every wanted
    /// piece requested or received) it hands out blocks already requested from others: never
    /// twice to the same peer, at most max_requesters peers per block. At most
    /// `max_new_pieces` pieces not yet in progress are started (the caller's free piece
    /// buffers): with none free, only pieces in progress are picked from, so a spent
    /// buffer budget neither starts pieces nor brings the endgame early.
    /// At most `max_endgame_blocks` of the blocks are endgame duplicates.
    std::size_t pick(const bitfield& peer_has, peer_key who, std::size_t max_blocks,
                     std::vector<block_request>& out,
                     std::size_t max_new_pieces = static_cast<std::size_t>(-1),
                     std::size_t max_endgame_blocks = static_cast<std::size_t>(-1));
    /// Every block of every wanted piece not had is requested or received.
    [[nodiscard]] bool in_endgame() const;

    /// A block arrived from `who`; marks it received when it was requested from `who`.
    received_result on_block_received(const block_request& b, peer_key who);
    /// The request to `who` was lost (choke, disconnect, timeout, reject): the block is
    /// requestable again unless someone else has it requested.
    void on_request_dropped(const block_request& b, peer_key who);
    /// Drops every request outstanding to `who` (the peer disconnected or choked us);
    /// returns how many were dropped.
    std::size_t on_peer_gone(peer_key who);
    /// Hash failed: every block of `p` becomes unrequested again.
    void on_piece_failed(piece_index p);
    /// Is block `b` currently requested from `who` (and not yet received)? For validating
    /// incoming piece data; any offset or length a peer sent is safe to pass.
    [[nodiscard]] bool is_requested_from(const block_request& b, peer_key who) const;

    /// The block state of `p` when it is in progress, else nullptr; valid until the next
    /// non-const call.
    [[nodiscard]] const block_state* progress(piece_index p) const;
    /// Pieces in progress (some block requested or received, not had yet).
    [[nodiscard]] std::size_t in_progress_count() const noexcept { return m_downloading.size(); }

    /// For tests: aborts (after a message on stderr) when internal counts disagree.
    void check_invariants() const;

private:
    struct pick_context;

    [[nodiscard]] bool valid(piece_index p) const noexcept {
        return p.value() < m_geo.piece_count();
    }
    [[nodiscard]] std::uint8_t free_level(piece_index p) const;
    void make_free_if_wanted(piece_index p);
    void forget_progress(piece_index p);
    void note_open(piece_index p, const block_state& st);
    void take_open_blocks(piece_index p, block_state& st, pick_context& ctx);
    void pick_partial(pick_context& ctx, bool own_pieces);
    void pick_new(pick_context& ctx);
    void collect_rarest(pick_context& ctx, std::vector<piece_index>& chosen);
    void collect_random(pick_context& ctx, std::vector<piece_index>& chosen);
    void collect_sequential(pick_context& ctx, std::vector<piece_index>& chosen);
    void pick_endgame(pick_context& ctx);
    [[nodiscard]] bool no_open_wanted_blocks() const;
    std::uint64_t next_random() noexcept;

    piece_geometry m_geo;
    picker_options m_options;
    bitfield m_have;
    // The wanted pieces (not had, priority != skip) as bits, so is_interesting is a
    // byte-wise AND rather than a walk over pieces.
    bitfield m_wanted;
    index_vector<priority, piece_index> m_priority;
    availability m_avail;
    // Pieces in progress only; ordered so that picks are repeatable.
    std::map<piece_index, block_state> m_downloading;
    // The pieces in progress that have open blocks: the partial-piece passes and the endgame
    // test walk these alone, not every piece in flight (thousands with 500 busy peers).
    std::set<piece_index> m_open_pieces;
    std::uint32_t m_wanted_remaining = 0;
    // Lowest index that might not be had: the sequential scan starts here.
    std::uint32_t m_first_missing = 0;
    std::uint64_t m_random_state = 0;
};

} // namespace spate::picker
