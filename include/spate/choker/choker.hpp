#pragma once
/// choker: BEP 3 tit-for-tat for one torrent. Every rechoke (the engine calls it every 10 s)
/// it decides which peers we upload to: the regular slots go to the best-ranked interested
/// peers, one more slot is an optimistic unchoke rotated every optimistic_interval. Pure
/// policy: no I/O, the clock and the random seed are passed in, one thread.
///
/// The rules, in full:
/// - Downloading: interested peers that are not snubbed are ranked by the rate they upload
///   to us (download_rate_from_them), fastest first; the first upload_slots of them are
///   unchoked. An uninterested, unsnubbed peer that sends to us faster than zero and ranks
///   above the last regular unchoke (or while slots are still free) is unchoked too and
///   takes no slot (BEP 3: it can start at once when it becomes interested). Snubbed peers
///   get no regular slot, only the optimistic one.
/// - Seeding: interested peers are ranked by the rate we upload to them
///   (upload_rate_to_them), fastest first; uninterested peers stay choked (they want
///   nothing we have) and snubbing does not matter.
/// - Ties in rate, in both roles, go round robin: the peer whose last unchoke by this
///   choker lies furthest back (or that was never unchoked) ranks first, then the peer
///   connected longest, then the lower id. Equally fast peers, in particular all-zero rates
///   at the start, so take turns slot by slot, one rechoke at a time.
/// - Optimistic: one more interested peer outside the regular slots. It keeps its slot for
///   optimistic_interval; then, or when it leaves, loses interest or wins a regular slot, a
///   new one is drawn among the interested peers we are choking (am_choking), snubbed ones
///   included, each weighted new_peer_weight if it connected less than new_peer_window
///   ago and 1 otherwise. When no other peer is eligible the current one keeps the slot.

#include <spate/core/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <unordered_map>
#include <vector>

namespace spate::choker {

/// The caller's opaque name for a connection (the same ids as picker::peer_key); the choker
/// only compares them.
using peer_key = std::uint32_t;

/// The monotonic clock every choker time comes from; tests pass any time points they like.
using clock = std::chrono::steady_clock;

/// What the engine knows of one peer at a rechoke. Copied out during the call only.
struct peer_record {
    peer_key id = 0;
    /// The peer is interested in what we have.
    bool interested = false;
    /// We are choking the peer now (before this rechoke).
    bool am_choking = true;
    /// Bytes per second the peer sends us. NaN, infinite or negative counts as zero.
    double download_rate_from_them = 0.0;
    /// Bytes per second we send the peer. NaN, infinite or negative counts as zero.
    double upload_rate_to_them = 0.0;
    /// When the connection was made (its handshake completed).
    clock::time_point connected_since{};
    /// The peer has sent us nothing for a while although we asked (the engine decides).
    bool is_snubbed = false;
};

/// Which side of tit-for-tat we play: a downloader rewards who uploads to it, a seed serves
/// who takes fastest.
enum class role : std::uint8_t { downloading, seeding };

/// Choker policy, fixed for the choker's lifetime.
struct choker_settings {
    /// Regular (tit-for-tat) unchokes; the optimistic unchoke is one more. 8 is libtorrent's
    /// unchoke_slots_limit default (session-wide there, its optimistic slots included);
    /// Transmission 2.x/3.x unchoke 14 per torrent, the BEP 3 reference client 4. spate
    /// favours throughput on servers, so 8 per torrent.
    std::uint32_t upload_slots = 8;
    /// How long one optimistic unchoke lasts (BEP 3: 30 s, three rechokes).
    clock::duration optimistic_interval = std::chrono::seconds(30);
    /// How much more likely a new peer is to be drawn as the optimistic unchoke: new peers
    /// have nothing to trade yet, so they need a first piece from someone.
    std::uint32_t new_peer_weight = 3;
    /// A peer connected less than this long ago counts as new.
    clock::duration new_peer_window = std::chrono::minutes(1);
    /// Seeds the optimistic draws. Tests pass a constant to be repeatable; a client passes
    /// a random value.
    std::uint64_t seed = 0;
};

/// The outcome of one rechoke. Every peer passed in is in exactly one of `unchoke` and
/// `choke`; the engine sends choke/unchoke where that differs from am_choking.
struct choke_decision {
    /// Peers to unchoke (regular, uninterested-but-fast, and the optimistic one), ascending.
    std::vector<peer_key> unchoke;
    /// Every other peer passed in, ascending.
    std::vector<peer_key> choke;
    /// The optimistic unchoke, also listed in `unchoke`; none when no peer is eligible.
    std::optional<peer_key> optimistic;

    /// Whether `id` is in `unchoke` (binary search).
    [[nodiscard]] bool unchoked(peer_key id) const;
};

/// The choker of one torrent, owned by its coordinator. Between rechokes it remembers the
/// optimistic unchoke and when each present peer was last unchoked, nothing else; a peer
/// missing from a rechoke's list is forgotten.
class choker {
public:
    /// Refuses zero upload slots, a non-positive optimistic interval, a zero new-peer
    /// weight and a negative new-peer window.
    [[nodiscard]] static result<choker> create(choker_settings settings);

    /// Decides who is unchoked from `now` until the next rechoke. `peers` is read during
    /// the call only; each id should appear once (a repeated id is ignored after its first
    /// record). `now` should not go backwards; if it does, the optimistic unchoke simply
    /// does not rotate yet.
    [[nodiscard]] choke_decision rechoke(clock::time_point now, std::span<const peer_record> peers,
                                         role as);

    /// The optimistic unchoke of the last rechoke, if any.
    [[nodiscard]] std::optional<peer_key> optimistic() const noexcept { return m_optimistic; }
    /// How many peers the choker remembers (those of the last rechoke that it ever
    /// unchoked); for tests of forgetting.
    [[nodiscard]] std::size_t remembered_peers() const noexcept { return m_last_unchoked.size(); }
    [[nodiscard]] const choker_settings& settings() const noexcept { return m_settings; }

private:
    explicit choker(const choker_settings& settings);

    [[nodiscard]] std::vector<const peer_record*>
    regular_unchokes(std::span<const peer_record* const> peers, role as) const;
    [[nodiscard]] std::optional<peer_key>
    choose_optimistic(clock::time_point now, std::span<const peer_record* const> peers,
                      std::span<const peer_record* const> regular);

    choker_settings m_settings;
    std::mt19937_64 m_random;
    std::optional<peer_key> m_optimistic;
    clock::time_point m_optimistic_since{};
    /// The last rechoke that unchoked each peer; only peers present at the last rechoke.
    std::unordered_map<peer_key, clock::time_point> m_last_unchoked;
};

} // namespace spate::choker
