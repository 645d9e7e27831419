#include <spate/tracker/tier_list.hpp>

#include <algorithm>

namespace spate::tracker {

std::optional<tier_list::position> tier_list::current() const {
    if (m_next.tier >= m_tiers.size()) {
        return std::nullopt;
    }
    return m_next;
}

void tier_list::succeeded(position at) {
    auto& tier = m_tiers[at.tier];
    // Move to the front, keeping the order of the others (BEP 12).
    std::rotate(tier.begin(), tier.begin() + static_cast<std::ptrdiff_t>(at.index),
                tier.begin() + static_cast<std::ptrdiff_t>(at.index) + 1);
    m_next = position{};
}

void tier_list::failed(position at) {
    if (at != m_next) {
        return; // a stale report for a position the round has already left
    }
    if (at.index + 1 < m_tiers[at.tier].size()) {
        m_next = position{at.tier, at.index + 1};
    } else {
        m_next = position{at.tier + 1, 0};
    }
}

} // namespace spate::tracker
