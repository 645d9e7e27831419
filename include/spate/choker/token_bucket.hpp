#pragma once
/// token_bucket: a byte rate limit. Tokens (bytes) flow in at `rate` per second up to
/// `burst`; a transfer takes what it is granted and waits for the rest. Two buckets chain
/// for global and per-torrent limits. Pure: the clock is passed in, one thread.

#include <spate/core/result.hpp>

#include <chrono>
#include <cstdint>

namespace spate::choker {

/// One limit, owned by whoever it limits (the session for global limits, a torrent for its
/// own). Starts full. Exact to the nanosecond and the byte over any span of time: the
/// fraction of a byte that has flowed in is kept, so many small takes lose nothing, and no
/// rate, burst or idle gap overflows.
class token_bucket {
public:
    using clock = std::chrono::steady_clock;

    /// The largest count available() and take() report for an unlimited bucket.
    static constexpr std::uint64_t unlimited_bytes = UINT64_MAX;

    /// An unlimited bucket: every take is granted in full, no wait.
    token_bucket() = default;

    /// `rate` bytes per second, 0 for unlimited; at most `burst` bytes saved up. Refuses a
    /// rate with a burst of zero (errc::burst_zero). A common burst is one second of rate.
    [[nodiscard]] static result<token_bucket> create(std::uint64_t rate, std::uint64_t burst);

    /// Changes the limits from now on (say, --max-up changed). Tokens already saved are
    /// kept up to the new burst; going from unlimited to limited starts full. Refuses what
    /// create refuses and then leaves the bucket unchanged.
    [[nodiscard]] result<void> set_limits(clock::time_point now, std::uint64_t rate,
                                          std::uint64_t burst);

    [[nodiscard]] bool unlimited() const noexcept { return m_rate == 0; }
    [[nodiscard]] std::uint64_t rate() const noexcept { return m_rate; }
    [[nodiscard]] std::uint64_t burst() const noexcept { return m_burst; }

    /// Whole bytes that take() would grant at `now`; unlimited_bytes when unlimited.
    [[nodiscard]] std::uint64_t available(clock::time_point now) const noexcept;

    /// Grants up to `bytes` at `now` and charges them: the smaller of `bytes` and what is
    /// available. Always `bytes` when unlimited.
    std::uint64_t take(clock::time_point now, std::uint64_t bytes) noexcept;

    /// Puts back bytes granted but not used (a send that moved fewer), up to the burst.
    void give_back(std::uint64_t bytes) noexcept;

    /// How long after `now` until `bytes` are available at once: zero if they are already
    /// or the bucket is unlimited. A request above the burst waits for a full bucket,
    /// since no more can ever be saved up. Saturates at the largest nanoseconds value.
    [[nodiscard]] std::chrono::nanoseconds wait_time(clock::time_point now,
                                                     std::uint64_t bytes) const noexcept;

private:
    token_bucket(std::uint64_t rate, std::uint64_t burst) noexcept
        : m_rate(rate), m_burst(burst), m_bytes(burst) {}

    /// Brings the level up to `now`; a `now` before the last one adds nothing.
    void refill(clock::time_point now) noexcept;

    std::uint64_t m_rate = 0;
    std::uint64_t m_burst = 0;
    // The level is m_bytes + m_nanobytes / 1e9 bytes, never above m_burst.
    std::uint64_t m_bytes = 0;
    std::uint64_t m_nanobytes = 0;
    // Until the first call that passes a time, the bucket sits full and time does not run.
    bool m_started = false;
    clock::time_point m_last{};
};

/// Two-level limits: a transfer of one torrent is limited by the session's bucket and its
/// own. Grants the smallest of `bytes` and what both have, and charges both with it. Either
/// bucket may be unlimited. Both are borrowed for the call only.
std::uint64_t take_both(token_bucket& global, token_bucket& torrent,
                        token_bucket::clock::time_point now, std::uint64_t bytes) noexcept;

/// How long until both buckets can grant `bytes`: the longer of their waits.
[[nodiscard]] std::chrono::nanoseconds wait_time_both(const token_bucket& global,
                                                      const token_bucket& torrent,
                                                      token_bucket::clock::time_point now,
                                                      std::uint64_t bytes) noexcept;

} // namespace spate::choker
