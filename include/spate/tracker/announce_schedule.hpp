#pragma once
/// announce_schedule: when a torrent announces next, as pure state on the monotonic clock.
///
/// After an answer the next announce is `interval` later, never sooner than `min interval`
/// (both from the tracker, clamped to sane bounds). After a failed round the wait doubles
/// from `retry_base` up to `retry_max`, so a dead tracker is not hammered.

#include <chrono>
#include <cstdint>
#include <optional>

namespace spate::tracker {

struct schedule_settings {
    std::chrono::seconds retry_base{15};
    std::chrono::seconds retry_max{30 * 60};
    /// Bounds applied to the tracker's interval, so a hostile tracker can neither make us
    /// announce every second nor never again.
    std::chrono::seconds min_interval_floor{30};
    std::chrono::seconds interval_ceiling{24 * 60 * 60};
};

class announce_schedule {
public:
    using clock = std::chrono::steady_clock;

    explicit announce_schedule(schedule_settings settings = {}) : m_settings(settings) {}

    /// The tracker answered at `now` with `interval` and maybe `min_interval`.
    void answered(clock::time_point now, std::chrono::seconds interval,
                  std::optional<std::chrono::seconds> min_interval);
    /// A whole round of trackers failed at `now`.
    void failed(clock::time_point now);

    /// When the next regular announce is due; the epoch (time_point{}) before any result.
    [[nodiscard]] clock::time_point next() const { return m_next; }
    /// The earliest moment an extra announce (say, `completed`) may be sent.
    [[nodiscard]] clock::time_point earliest() const { return m_earliest; }
    [[nodiscard]] std::uint32_t consecutive_failures() const { return m_failures; }

private:
    schedule_settings m_settings;
    clock::time_point m_next{};
    clock::time_point m_earliest{};
    std::uint32_t m_failures = 0;
};

} // namespace spate::tracker
