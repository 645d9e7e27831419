#pragma once
/// block_state: the blocks of one piece in progress: which are open, which are requested and
/// from whom (up to max_requesters peers, for endgame), which are received. The picker keeps
/// one for each piece in progress only, never for the whole torrent.

#include <spate/picker/block_request.hpp>

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

namespace spate::picker {

/// At most this many peers are asked for the same block: the first request, and in endgame
/// one duplicate.
inline constexpr std::uint8_t max_requesters = 2;

/// One block of a piece in progress.
struct block_slot {
    std::array<peer_key, max_requesters> requesters{};
    std::uint8_t requester_count = 0;
    bool received = false;

    [[nodiscard]] bool is_open() const noexcept { return !received && requester_count == 0; }
    [[nodiscard]] bool requested_from(peer_key who) const noexcept;
};

/// The state of one piece in progress, owned by the picker's map of pieces in progress.
class block_state {
public:
    /// `blocks` blocks, all open.
    explicit block_state(std::uint32_t blocks);

    [[nodiscard]] std::uint32_t block_count() const noexcept {
        return static_cast<std::uint32_t>(m_blocks.size());
    }
    [[nodiscard]] const block_slot& block(std::uint32_t b) const noexcept { return m_blocks[b]; }

    /// Blocks with no request and not received.
    [[nodiscard]] std::uint32_t open_count() const noexcept { return m_open; }
    /// Blocks requested from at least one peer and not yet received.
    [[nodiscard]] std::uint32_t requested_count() const noexcept {
        return block_count() - m_open - m_received;
    }
    [[nodiscard]] std::uint32_t received_count() const noexcept { return m_received; }
    [[nodiscard]] bool complete() const noexcept { return m_received == block_count(); }
    /// No block requested or received: the piece is as if never started.
    [[nodiscard]] bool untouched() const noexcept { return m_open == block_count(); }

    /// True when some block is requested from `who` and not yet received.
    [[nodiscard]] bool has_peer(peer_key who) const noexcept;
    /// Peers with requests outstanding in this piece and how many each.
    [[nodiscard]] const std::vector<std::pair<peer_key, std::uint32_t>>& peers() const noexcept {
        return m_peers;
    }

    /// Adds `who` as a requester of block `b`. False (and no change) when the block is
    /// received, already requested from `who`, or has max_requesters requesters.
    bool request(std::uint32_t b, peer_key who);
    /// Marks block `b` received from `who`. False (and no change) when it was already
    /// received or not requested from `who`. Otherwise the other requesters are appended to
    /// `others` (they should be sent cancel) and dropped.
    bool receive(std::uint32_t b, peer_key who, std::vector<peer_key>& others);
    /// Removes `who` as a requester of block `b`; the block is open again when nobody else
    /// has it requested. False when `who` had no request for it.
    bool drop(std::uint32_t b, peer_key who);
    /// Drops every request of `who` in this piece; returns how many.
    std::uint32_t drop_peer(peer_key who);

    /// Aborts with a message on stderr when counters disagree with the blocks.
    void check_invariants(std::uint32_t piece) const;

private:
    void add_peer_count(peer_key who);
    void remove_peer_count(peer_key who);

    std::vector<block_slot> m_blocks;
    std::vector<std::pair<peer_key, std::uint32_t>> m_peers;
    std::uint32_t m_open = 0;
    std::uint32_t m_received = 0;
};

} // namespace spate::picker
