#include <spate/tracker/swarm_registry.hpp>

#include <algorithm>
#include <cassert>
#include <utility>

namespace spate::tracker {

swarm_registry::swarm_registry(const swarm_settings& settings, std::uint64_t seed)
    : m_settings(settings),
      m_random(static_cast<std::minstd_rand::result_type>(seed ^ (seed >> 32))) {}

void swarm_registry::swarm::remove_at(std::size_t position) {
    if (peers[position].seed) {
        --seeders;
    }
    index.erase(peers[position].address);
    if (position + 1 != peers.size()) {
        peers[position] = std::move(peers.back());
        index[peers[position].address] = position;
    }
    peers.pop_back();
}

swarm_counts swarm_registry::swarm::counts() const {
    return swarm_counts{
        .seeders = seeders,
        .leechers = static_cast<std::uint32_t>(peers.size()) - seeders,
        .downloaded = downloaded,
    };
}

void swarm_registry::check_invariant([[maybe_unused]] const swarm& s) const {
#ifndef NDEBUG
    assert(s.peers.size() == s.index.size());
    assert(s.peers.size() <= m_settings.max_peers_per_torrent);
    std::uint32_t seeds = 0;
    for (std::size_t i = 0; i < s.peers.size(); ++i) {
        auto found = s.index.find(s.peers[i].address);
        assert(found != s.index.end() && found->second == i);
        seeds += s.peers[i].seed ? 1 : 0;
    }
    assert(seeds == s.seeders);
#endif
}

swarm_announce_result swarm_registry::announce(const sha1_digest& info_hash,
                                               const swarm_announce& peer,
                                               std::chrono::steady_clock::time_point now) {
    auto torrent = m_torrents.find(info_hash);
    if (peer.event == announce_event::stopped) {
        if (torrent == m_torrents.end()) {
            return {};
        }
        swarm& s = torrent->second;
        if (auto found = s.index.find(peer.address); found != s.index.end()) {
            s.remove_at(found->second);
            --m_peer_total;
        }
        check_invariant(s);
        swarm_counts counts = s.counts();
        if (s.peers.empty()) {
            m_torrents.erase(torrent);
        }
        return {swarm_status::recorded, counts};
    }

    if (torrent == m_torrents.end()) {
        if (m_torrents.size() >= m_settings.max_torrents) {
            return {swarm_status::too_many_torrents, {}};
        }
        if (m_peer_total >= m_settings.max_peers_total || m_settings.max_peers_per_torrent == 0) {
            // A torrent with nobody in it would only take room.
            return {swarm_status::too_many_peers, {}};
        }
        torrent = m_torrents.try_emplace(info_hash).first;
    }
    swarm& s = torrent->second;

    const bool seed = peer.left == 0;
    std::size_t position = 0;
    if (auto found = s.index.find(peer.address); found != s.index.end()) {
        position = found->second;
        peer_record& known = s.peers[position];
        if (known.seed && !seed) {
            --s.seeders;
        } else if (!known.seed && seed) {
            ++s.seeders;
        }
        if (known.id != peer.id) {
            // Another client now owns this address (a restart): its completion is its own.
            known.completed_counted = false;
        }
    } else {
        if (s.peers.size() >= m_settings.max_peers_per_torrent ||
            m_peer_total >= m_settings.max_peers_total) {
            return {swarm_status::too_many_peers, s.counts()};
        }
        position = s.peers.size();
        s.peers.push_back(peer_record{.address = peer.address,
                                      .id = peer.id,
                                      .seed = seed,
                                      .completed_counted = false,
                                      .last_seen = now});
        s.index.emplace(peer.address, position);
        ++m_peer_total;
        if (seed) {
            ++s.seeders;
        }
    }

    peer_record& record = s.peers[position];
    record.id = peer.id;
    record.seed = seed;
    record.last_seen = now;
    if (peer.event == announce_event::completed && !record.completed_counted) {
        record.completed_counted = true;
        if (s.downloaded != UINT32_MAX) {
            ++s.downloaded;
        }
    }
    check_invariant(s);
    return {swarm_status::recorded, s.counts()};
}

std::vector<endpoint> swarm_registry::peers_for(const sha1_digest& info_hash,
                                                const swarm_announce& requester,
                                                std::size_t numwant, address_family family) {
    std::vector<endpoint> out;
    auto torrent = m_torrents.find(info_hash);
    if (torrent == m_torrents.end() || numwant == 0) {
        return out;
    }
    const std::vector<peer_record>& peers = torrent->second.peers;
    out.reserve(std::min(numwant, peers.size()));
    // One walk around the ring of peers from a random start: each peer is looked at once,
    // so the cost is bounded by the swarm size (itself bounded by the settings).
    std::uniform_int_distribution<std::size_t> pick(0, peers.size() - 1);
    const std::size_t start = pick(m_random);
    for (std::size_t step = 0; step < peers.size() && out.size() < numwant; ++step) {
        const peer_record& candidate = peers[(start + step) % peers.size()];
        if (candidate.address.family() != family || candidate.address == requester.address ||
            candidate.id == requester.id) {
            continue;
        }
        out.push_back(candidate.address);
    }
    return out;
}

std::vector<endpoint> swarm_registry::leechers(const sha1_digest& info_hash) const {
    std::vector<endpoint> out;
    auto torrent = m_torrents.find(info_hash);
    if (torrent != m_torrents.end()) {
        for (const peer_record& p : torrent->second.peers) {
            if (!p.seed) {
                out.push_back(p.address);
            }
        }
    }
    return out;
}

swarm_counts swarm_registry::counts(const sha1_digest& info_hash) const {
    auto torrent = m_torrents.find(info_hash);
    return torrent == m_torrents.end() ? swarm_counts{} : torrent->second.counts();
}

scrape_entry swarm_registry::scrape(const sha1_digest& info_hash) const {
    const swarm_counts c = counts(info_hash);
    return scrape_entry{
        .info_hash = info_hash,
        .complete = c.seeders,
        .downloaded = c.downloaded,
        .incomplete = c.leechers,
    };
}

std::vector<scrape_entry> swarm_registry::scrape_all(std::size_t limit) const {
    std::vector<scrape_entry> out;
    out.reserve(std::min(limit, m_torrents.size()));
    for (const auto& [info_hash, s] : m_torrents) {
        if (out.size() >= limit) {
            break;
        }
        const swarm_counts c = s.counts();
        out.push_back(scrape_entry{
            .info_hash = info_hash,
            .complete = c.seeders,
            .downloaded = c.downloaded,
            .incomplete = c.leechers,
        });
    }
    return out;
}

std::size_t swarm_registry::expire(std::chrono::steady_clock::time_point now) {
    const auto timeout = m_settings.peer_timeout();
    std::size_t dropped = 0;
    for (auto torrent = m_torrents.begin(); torrent != m_torrents.end();) {
        swarm& s = torrent->second;
        // Backwards, so the record swapped into a hole has been looked at already.
        for (std::size_t i = s.peers.size(); i-- > 0;) {
            if (now - s.peers[i].last_seen > timeout) {
                s.remove_at(i);
                ++dropped;
            }
        }
        check_invariant(s);
        if (s.peers.empty()) {
            torrent = m_torrents.erase(torrent);
        } else {
            ++torrent;
        }
    }
    m_peer_total -= dropped;
    return dropped;
}

} // namespace spate::tracker
