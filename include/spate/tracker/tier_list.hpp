#pragma once
/// tier_list: the order in which a torrent tries its trackers (BEP 12), as pure state.
///
/// Each tier is shuffled once when the list is made. A round tries the trackers in order,
/// tier by tier, first to last; the first one that answers ends the round and moves to the
/// front of its tier, so it is tried first next time. A tier whose every tracker failed
/// passes the round on to the next tier; when the last tier is exhausted the round fails,
/// and the next round starts again from the first tier.

#include <algorithm>
#include <cstddef>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace spate::tracker {

class tier_list {
public:
    struct position {
        std::size_t tier = 0;
        std::size_t index = 0;
        bool operator==(const position&) const = default;
    };

    tier_list() = default;
    /// Takes the tiers (empty tiers and empty URLs are dropped) and shuffles each tier with
    /// `random`, once.
    template <typename Random>
    tier_list(std::vector<std::vector<std::string>> tiers, Random& random) {
        for (auto& tier : tiers) {
            std::vector<std::string> kept;
            for (auto& url : tier) {
                if (!url.empty()) {
                    kept.push_back(std::move(url));
                }
            }
            if (!kept.empty()) {
                std::shuffle(kept.begin(), kept.end(), random);
                m_tiers.push_back(std::move(kept));
            }
        }
    }

    /// The tracker to try now, or nullopt when this round has tried them all (or there are
    /// none). start_round() begins again from the first tier.
    [[nodiscard]] std::optional<position> current() const;
    [[nodiscard]] const std::string& url(position at) const { return m_tiers[at.tier][at.index]; }

    /// The tracker at `at` answered: it moves to the front of its tier and the round ends.
    void succeeded(position at);
    /// The tracker at `at` failed: the round moves on to the next tracker.
    void failed(position at);
    /// Starts a new round at the first tracker of the first tier.
    void start_round() { m_next = position{}; }

    [[nodiscard]] const std::vector<std::vector<std::string>>& tiers() const { return m_tiers; }
    [[nodiscard]] bool empty() const { return m_tiers.empty(); }

private:
    std::vector<std::vector<std::string>> m_tiers;
    position m_next;
};

} // namespace spate::tracker
