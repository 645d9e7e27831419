#include <spate/tracker/udp_retry_policy.hpp>

#include <algorithm>
#include <limits>

namespace spate::tracker {

udp_retry_policy::udp_retry_policy(const udp_retry_settings& settings)
    : m_base(std::max(settings.retry_base, std::chrono::nanoseconds(1))),
      m_max_retries(std::min(settings.max_retries, retries_limit)) {}

std::optional<std::chrono::nanoseconds> udp_retry_policy::timeout(std::uint32_t attempt) const {
    if (attempt > m_max_retries) {
        return std::nullopt;
    }
    using rep = std::chrono::nanoseconds::rep;
    constexpr rep most = std::numeric_limits<rep>::max();
    // base * 2^attempt, saturating: a base of hours times 2^30 must not wrap around.
    if (m_base.count() > (most >> attempt)) {
        return std::chrono::nanoseconds(most);
    }
    return std::chrono::nanoseconds(m_base.count() << attempt);
}

std::chrono::nanoseconds udp_retry_policy::total_wait() const {
    using rep = std::chrono::nanoseconds::rep;
    constexpr rep most = std::numeric_limits<rep>::max();
    rep total = 0;
    for (std::uint32_t n = 0; n <= m_max_retries; ++n) {
        rep step = timeout(n)->count();
        if (total > most - step) {
            return std::chrono::nanoseconds(most);
        }
        total += step;
    }
    return std::chrono::nanoseconds(total);
}

std::optional<std::uint64_t> udp_connection_cache::find(const endpoint& tracker,
                                                        time_point now) const {
    auto it = m_entries.find(tracker);
    if (it == m_entries.end() || !fresh(it->second, now)) {
        return std::nullopt;
    }
    return it->second.id;
}

void udp_connection_cache::store(const endpoint& tracker, std::uint64_t id, time_point received) {
    prune(received);
    m_entries.insert_or_assign(tracker, entry{id, received});
}

void udp_connection_cache::forget(const endpoint& tracker) {
    m_entries.erase(tracker);
}

std::size_t udp_connection_cache::prune(time_point now) {
    return std::erase_if(m_entries, [&](const auto& item) { return !fresh(item.second, now); });
}

} // namespace spate::tracker
