#include <spate/tracker/announce_schedule.hpp>

#include <algorithm>

namespace spate::tracker {

void announce_schedule::answered(clock::time_point now, std::chrono::seconds interval,
                                 std::optional<std::chrono::seconds> min_interval) {
    const std::chrono::seconds floor =
        std::max(m_settings.min_interval_floor, min_interval.value_or(std::chrono::seconds{0}));
    const std::chrono::seconds wait = std::clamp(interval, std::min(floor, m_settings.interval_ceiling),
                                                 m_settings.interval_ceiling);
    m_next = now + wait;
    m_earliest = now + std::min(floor, m_settings.interval_ceiling);
    m_failures = 0;
}

void announce_schedule::failed(clock::time_point now) {
    // retry_base * 2^failures, computed without overflowing the shift.
    std::chrono::seconds wait = m_settings.retry_base;
    for (std::uint32_t i = 0; i < m_failures && wait < m_settings.retry_max; ++i) {
        wait *= 2;
    }
    wait = std::min(wait, m_settings.retry_max);
    ++m_failures;
    m_next = now + wait;
    m_earliest = now;
}

} // namespace spate::tracker
