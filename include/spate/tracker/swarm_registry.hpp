#pragma once
/// swarm_registry: the built-in tracker's memory of who is in which swarm. Pure: no I/O, and
/// no clock of its own (every call that cares about time is handed `now`), so tests drive it
/// with made-up time points.

#include <spate/core/endpoint.hpp>
#include <spate/core/hash.hpp>
#include <spate/tracker/announce.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <unordered_map>
#include <vector>

namespace spate::tracker {

/// Limits and timing of a swarm_registry. Every bound is a setting so that memory cannot be
/// exhausted by announces, whatever the clients send.
struct swarm_settings {
    /// The announce interval the tracker tells clients. A peer not seen for
    /// peer_timeout() (one and a half intervals) is dropped by expire().
    std::chrono::seconds announce_interval{1800};
    /// Most torrents tracked at once; announces that would add one more are refused.
    std::size_t max_torrents = 10'000;
    /// Most peers in one torrent's swarm; further new peers are not recorded.
    std::size_t max_peers_per_torrent = 5'000;
    /// Most peers over all torrents together.
    std::size_t max_peers_total = 200'000;

    /// How long a peer stays without announcing: announce_interval * 1.5, which leaves a
    /// client half an interval of slack for a late or retransmitted announce.
    [[nodiscard]] std::chrono::steady_clock::duration peer_timeout() const {
        return announce_interval + announce_interval / 2;
    }
};

/// One announce as the registry sees it: who, from where, and how far along.
struct swarm_announce {
    /// The address peers should connect to: the address the announce came from (or an
    /// address the tracker chose to honour) with the announced port.
    endpoint address;
    peer_id id{};
    /// Bytes the peer still misses; 0 makes it a seed.
    std::uint64_t left = 0;
    announce_event event = announce_event::none;
};

/// Seeders, leechers and completed downloads of one torrent.
struct swarm_counts {
    std::uint32_t seeders = 0;
    std::uint32_t leechers = 0;
    /// Announces with event "completed" from peers that had not sent one before, while
    /// the torrent was tracked (the count is lost when its last peer leaves).
    std::uint32_t downloaded = 0;

    friend bool operator==(const swarm_counts&, const swarm_counts&) = default;
};

/// What announce() did with an announce.
enum class swarm_status : std::uint8_t {
    /// The peer was added or refreshed (or removed, for event stopped).
    recorded,
    /// The torrent is not tracked and max_torrents torrents already are: nothing recorded.
    too_many_torrents,
    /// The peer is new and its swarm (max_peers_per_torrent) or the registry
    /// (max_peers_total) is full: it is not recorded, though it may still be given peers.
    too_many_peers,
};

/// The registry's answer to an announce: what it did, and the torrent's counts afterwards.
struct swarm_announce_result {
    swarm_status status = swarm_status::recorded;
    swarm_counts counts;
};

/// Peers per info-hash for the built-in tracker. A peer is known by its address (IP and
/// port), which is what others connect to; a peer announcing again from the same address
/// replaces its earlier record, whatever peer id it sends. Single-threaded; owns its data.
class swarm_registry {
public:
    /// `seed` feeds the generator that picks which peers an answer carries; a fixed seed
    /// makes tests repeatable.
    explicit swarm_registry(const swarm_settings& settings, std::uint64_t seed = 0x5eed);

    /// Records an announce at `now`: adds or refreshes the peer (its seed state from
    /// `left`, its last-seen time), counts a first "completed" event, and removes the peer
    /// for "stopped" (an unknown torrent stays unknown then). Refused announces change
    /// nothing (see swarm_status).
    swarm_announce_result announce(const sha1_digest& info_hash, const swarm_announce& peer,
                                   std::chrono::steady_clock::time_point now);

    /// Up to `numwant` peers of `family` in the torrent's swarm, never `requester` itself
    /// nor another record with the requester's peer id (a client announcing over IPv4
    /// and IPv6). Which peers: those found walking the swarm from a random place, so
    /// repeated asks see different parts of a large swarm. Empty for an unknown torrent.
    [[nodiscard]] std::vector<endpoint> peers_for(const sha1_digest& info_hash,
                                                  const swarm_announce& requester,
                                                  std::size_t numwant, address_family family);

    /// Every peer of the torrent that is not a seed (a synthetic swarm dials them, for
    /// clients that take no loopback peers from a tracker). Empty for an unknown torrent.
    [[nodiscard]] std::vector<endpoint> leechers(const sha1_digest& info_hash) const;

    /// The torrent's counts; all zero for an unknown torrent.
    [[nodiscard]] swarm_counts counts(const sha1_digest& info_hash) const;
    /// A scrape entry for `info_hash` (zeros for an unknown torrent).
    [[nodiscard]] scrape_entry scrape(const sha1_digest& info_hash) const;
    /// Scrape entries of up to `limit` tracked torrents, in no particular order (a scrape
    /// that names no torrent).
    [[nodiscard]] std::vector<scrape_entry> scrape_all(std::size_t limit) const;

    /// Drops every peer last seen longer than settings().peer_timeout() before `now`, and
    /// torrents left without peers. Returns the number of peers dropped.
    std::size_t expire(std::chrono::steady_clock::time_point now);

    [[nodiscard]] std::size_t torrent_count() const noexcept { return m_torrents.size(); }
    [[nodiscard]] std::size_t peer_count() const noexcept { return m_peer_total; }
    [[nodiscard]] const swarm_settings& settings() const noexcept { return m_settings; }

private:
    struct peer_record {
        endpoint address;
        peer_id id{};
        bool seed = false;
        bool completed_counted = false;
        std::chrono::steady_clock::time_point last_seen;
    };

    // One torrent's peers, in a vector for cheap sampling, with an index by address;
    // removal swaps the last record into the hole.
    struct swarm {
        std::vector<peer_record> peers;
        std::unordered_map<endpoint, std::size_t> index;
        std::uint32_t seeders = 0;
        std::uint32_t downloaded = 0;

        void remove_at(std::size_t position);
        [[nodiscard]] swarm_counts counts() const;
    };

    void check_invariant(const swarm& s) const;

    swarm_settings m_settings;
    std::unordered_map<sha1_digest, swarm> m_torrents;
    std::size_t m_peer_total = 0;
    std::minstd_rand m_random;
};

} // namespace spate::tracker
