#include <spate/choker/choker.hpp>
#include <spate/choker/error.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace spate::choker {

namespace {

/// A rate as the choker ranks it: garbage from a meter never wins a slot.
[[nodiscard]] double clean_rate(double rate) noexcept {
    return std::isfinite(rate) && rate > 0.0 ? rate : 0.0;
}

[[nodiscard]] double ranking_rate(const peer_record& p, role as) noexcept {
    return clean_rate(as == role::downloading ? p.download_rate_from_them : p.upload_rate_to_them);
}

[[nodiscard]] bool sorted_contains(std::span<const peer_key> ids, peer_key id) {
    return std::binary_search(ids.begin(), ids.end(), id);
}

} // namespace

bool choke_decision::unchoked(peer_key id) const {
    return sorted_contains(unchoke, id);
}

result<choker> choker::create(choker_settings settings) {
    if (settings.upload_slots == 0) {
        return fail(errc::no_upload_slots);
    }
    if (settings.optimistic_interval <= clock::duration::zero()) {
        return fail(errc::optimistic_interval_not_positive);
    }
    if (settings.new_peer_weight == 0) {
        return fail(errc::new_peer_weight_zero);
    }
    if (settings.new_peer_window < clock::duration::zero()) {
        return fail(errc::new_peer_window_negative);
    }
    return choker(settings);
}

choker::choker(const choker_settings& settings) : m_settings(settings), m_random(settings.seed) {}

std::vector<const peer_record*> choker::regular_unchokes(std::span<const peer_record* const> peers,
                                                         role as) const {
    std::vector<const peer_record*> ranked;
    ranked.reserve(peers.size());
    for (const peer_record* p : peers) {
        const bool candidate =
            as == role::seeding
                ? p->interested
                // An uninterested peer is worth unchoking only if it is sending to us.
                : !p->is_snubbed && (p->interested || ranking_rate(*p, as) > 0.0);
        if (candidate) {
            ranked.push_back(p);
        }
    }

    // Never unchoked sorts before every real time point: it has waited longest.
    const auto last_unchoked = [this](const peer_record* p) {
        const auto it = m_last_unchoked.find(p->id);
        return it == m_last_unchoked.end() ? clock::time_point::min() : it->second;
    };
    std::sort(ranked.begin(), ranked.end(), [&](const peer_record* a, const peer_record* b) {
        const double ra = ranking_rate(*a, as);
        const double rb = ranking_rate(*b, as);
        if (ra != rb) {
            return ra > rb;
        }
        const clock::time_point la = last_unchoked(a);
        const clock::time_point lb = last_unchoked(b);
        if (la != lb) {
            return la < lb;
        }
        if (a->connected_since != b->connected_since) {
            return a->connected_since < b->connected_since;
        }
        return a->id < b->id;
    });

    std::vector<const peer_record*> chosen;
    std::uint32_t slots_used = 0;
    for (const peer_record* p : ranked) {
        if (slots_used == m_settings.upload_slots) {
            // Everyone further down ranks below the slowest regular unchoke.
            break;
        }
        chosen.push_back(p);
        if (p->interested) {
            ++slots_used;
        }
    }
    return chosen;
}

std::optional<peer_key> choker::choose_optimistic(clock::time_point now,
                                                  std::span<const peer_record* const> peers,
                                                  std::span<const peer_record* const> regular) {
    std::vector<peer_key> regular_ids;
    regular_ids.reserve(regular.size());
    for (const peer_record* p : regular) {
        regular_ids.push_back(p->id);
    }
    std::sort(regular_ids.begin(), regular_ids.end());
    const auto eligible = [&](const peer_record& p) {
        return p.interested && !sorted_contains(regular_ids, p.id);
    };

    bool current_eligible = false;
    if (m_optimistic) {
        const auto it =
            std::lower_bound(peers.begin(), peers.end(), *m_optimistic,
                             [](const peer_record* p, peer_key id) { return p->id < id; });
        current_eligible = it != peers.end() && (*it)->id == *m_optimistic && eligible(**it);
    }
    // A clock that went backwards counts as no time passed.
    const clock::duration held =
        now > m_optimistic_since ? now - m_optimistic_since : clock::duration::zero();
    if (current_eligible && held < m_settings.optimistic_interval) {
        return m_optimistic;
    }

    // Draw among the interested peers we are choking, each new one weighted up. The pool is
    // in id order, so a seed gives the same draws for the same input.
    std::vector<std::pair<peer_key, std::uint64_t>> pool;
    std::uint64_t total_weight = 0;
    for (const peer_record* p : peers) {
        if (!eligible(*p) || !p->am_choking || (m_optimistic && p->id == *m_optimistic)) {
            continue;
        }
        const bool is_new =
            now >= p->connected_since && now - p->connected_since < m_settings.new_peer_window;
        const std::uint64_t weight = is_new ? m_settings.new_peer_weight : 1;
        pool.emplace_back(p->id, weight);
        total_weight += weight;
    }
    m_optimistic_since = now;
    if (pool.empty()) {
        // Nobody else to give the slot to: the current one keeps it for another interval.
        return current_eligible ? m_optimistic : std::nullopt;
    }
    // total_weight is at most 2^32 per peer times the peer count, far below 2^64, so the
    // modulo bias of one 64-bit draw is below 2^-30 and does not matter here.
    std::uint64_t draw = m_random() % total_weight;
    for (const auto& [id, weight] : pool) {
        if (draw < weight) {
            return id;
        }
        draw -= weight;
    }
    return pool.back().first; // unreachable: the draws cover total_weight exactly
}

choke_decision choker::rechoke(clock::time_point now, std::span<const peer_record> peers, role as) {
    // One record per id, in id order, the first record of a repeated id kept.
    std::vector<const peer_record*> unique;
    unique.reserve(peers.size());
    for (const peer_record& p : peers) {
        unique.push_back(&p);
    }
    std::stable_sort(unique.begin(), unique.end(),
                     [](const peer_record* a, const peer_record* b) { return a->id < b->id; });
    unique.erase(
        std::unique(unique.begin(), unique.end(),
                    [](const peer_record* a, const peer_record* b) { return a->id == b->id; }),
        unique.end());

    // Peers that left are forgotten before anything is ranked.
    std::unordered_map<peer_key, clock::time_point> remembered;
    for (const peer_record* p : unique) {
        const auto it = m_last_unchoked.find(p->id);
        if (it != m_last_unchoked.end()) {
            remembered.emplace(it->first, it->second);
        }
    }
    m_last_unchoked = std::move(remembered);

    const std::vector<const peer_record*> regular = regular_unchokes(unique, as);
    m_optimistic = choose_optimistic(now, unique, regular);

    choke_decision decision;
    decision.optimistic = m_optimistic;
    for (const peer_record* p : regular) {
        decision.unchoke.push_back(p->id);
    }
    if (m_optimistic) {
        decision.unchoke.push_back(*m_optimistic);
    }
    std::sort(decision.unchoke.begin(), decision.unchoke.end());
    decision.choke.reserve(unique.size() - decision.unchoke.size());
    for (const peer_record* p : unique) {
        if (decision.unchoked(p->id)) {
            m_last_unchoked[p->id] = now;
        } else {
            decision.choke.push_back(p->id);
        }
    }
    return decision;
}

} // namespace spate::choker
