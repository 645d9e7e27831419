#pragma once
/// rate_meter: bytes per second over the last few seconds, on the monotonic clock.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace spate::session {

/// Counts bytes into one-second buckets; rate() averages the last `window` whole seconds
/// and the current one, weighted by the time they cover. The clock is passed in, so tests
/// need no sleeps.
class rate_meter {
public:
    using clock = std::chrono::steady_clock;
    static constexpr std::size_t window = 5;

    void add(std::uint64_t bytes, clock::time_point now) noexcept {
        advance(now);
        m_buckets[m_current % window] += bytes;
        m_total += bytes;
    }

    [[nodiscard]] double rate(clock::time_point now) noexcept {
        advance(now);
        std::uint64_t sum = 0;
        for (std::uint64_t b : m_buckets) {
            sum += b;
        }
        // The current bucket covers only part of a second; the oldest ones may predate
        // the meter.
        const double covered_whole = static_cast<double>(std::min<std::uint64_t>(m_current, window - 1));
        const double partial =
            std::chrono::duration<double>(now - second_start(m_current)).count();
        const double seconds = covered_whole + partial;
        return seconds > 0.05 ? static_cast<double>(sum) / seconds : 0.0;
    }

    [[nodiscard]] std::uint64_t total() const noexcept { return m_total; }

private:
    [[nodiscard]] clock::time_point second_start(std::uint64_t second) const noexcept {
        return m_origin + std::chrono::seconds(second);
    }
    void advance(clock::time_point now) noexcept {
        if (!m_started) {
            m_started = true;
            m_origin = now;
        }
        const auto second = static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::seconds>(now - m_origin).count());
        // Clear the buckets of the seconds that passed without bytes (at most all of them).
        for (std::uint64_t s = m_current + 1; s <= second && s <= m_current + window; ++s) {
            m_buckets[s % window] = 0;
        }
        if (second > m_current) {
            m_current = second;
        }
    }

    std::array<std::uint64_t, window> m_buckets{};
    clock::time_point m_origin{};
    std::uint64_t m_current = 0;
    std::uint64_t m_total = 0;
    bool m_started = false;
};

} // namespace spate::session
