#include <spate/choker/error.hpp>
#include <spate/choker/token_bucket.hpp>

#include <algorithm>
#include <limits>
#include <ratio>
#include <type_traits>

namespace spate::choker {

namespace {

// 128-bit arithmetic in nanobytes (1e-9 byte): rate (< 2^64) times an elapsed time in
// nanoseconds (< 2^64) stays below 2^128, and a full bucket (burst * 1e9) below 2^94, so no
// product or sum below can overflow once each sum is compared against the cap first.
__extension__ using u128 = unsigned __int128;

constexpr std::uint64_t nano_per_unit = 1'000'000'000;

static_assert(std::is_same_v<token_bucket::clock::period, std::nano>,
              "token_bucket counts steady_clock ticks as nanoseconds");

[[nodiscard]] u128 to_nanobytes(std::uint64_t bytes) noexcept {
    return static_cast<u128>(bytes) * nano_per_unit;
}

/// Nanoseconds from `earlier` to `later` (later > earlier), exact over the whole range of
/// the clock: the unsigned difference of the two counts cannot overflow.
[[nodiscard]] std::uint64_t ticks_between(token_bucket::clock::time_point earlier,
                                          token_bucket::clock::time_point later) noexcept {
    return static_cast<std::uint64_t>(later.time_since_epoch().count()) -
           static_cast<std::uint64_t>(earlier.time_since_epoch().count());
}

struct level_parts {
    std::uint64_t bytes;
    std::uint64_t nanobytes;
};

[[nodiscard]] level_parts split(u128 level) noexcept {
    return {static_cast<std::uint64_t>(level / nano_per_unit),
            static_cast<std::uint64_t>(level % nano_per_unit)};
}

/// The level in nanobytes `elapsed` nanoseconds after `level`, filling at `rate` up to `cap`.
[[nodiscard]] u128 filled(u128 level, u128 cap, std::uint64_t rate,
                          std::uint64_t elapsed) noexcept {
    const u128 added = static_cast<u128>(rate) * elapsed;
    return added >= cap - level ? cap : level + added;
}

} // namespace

result<token_bucket> token_bucket::create(std::uint64_t rate, std::uint64_t burst) {
    if (rate != 0 && burst == 0) {
        return fail(errc::burst_zero);
    }
    return token_bucket(rate, burst);
}

result<void> token_bucket::set_limits(clock::time_point now, std::uint64_t rate,
                                      std::uint64_t burst) {
    if (rate != 0 && burst == 0) {
        return fail(errc::burst_zero);
    }
    if (rate == 0) {
        m_rate = 0;
        m_burst = burst;
        return {};
    }
    if (unlimited()) {
        // Nothing was saved while unlimited: start full, as a new bucket does.
        m_bytes = burst;
        m_nanobytes = 0;
        m_started = true;
        m_last = now;
    } else {
        // Time up to now flowed in at the old rate.
        refill(now);
        const level_parts kept =
            split(std::min(to_nanobytes(m_bytes) + m_nanobytes, to_nanobytes(burst)));
        m_bytes = kept.bytes;
        m_nanobytes = kept.nanobytes;
    }
    m_rate = rate;
    m_burst = burst;
    return {};
}

void token_bucket::refill(clock::time_point now) noexcept {
    if (!m_started) {
        m_started = true;
        m_last = now;
        return;
    }
    if (now <= m_last) {
        return;
    }
    const level_parts level =
        split(filled(to_nanobytes(m_bytes) + m_nanobytes, to_nanobytes(m_burst), m_rate,
                     ticks_between(m_last, now)));
    m_bytes = level.bytes;
    m_nanobytes = level.nanobytes;
    m_last = now;
}

std::uint64_t token_bucket::available(clock::time_point now) const noexcept {
    if (unlimited()) {
        return unlimited_bytes;
    }
    if (!m_started || now <= m_last) {
        return m_bytes;
    }
    const u128 level = filled(to_nanobytes(m_bytes) + m_nanobytes, to_nanobytes(m_burst), m_rate,
                              ticks_between(m_last, now));
    return split(level).bytes;
}

std::uint64_t token_bucket::take(clock::time_point now, std::uint64_t bytes) noexcept {
    if (unlimited()) {
        return bytes;
    }
    refill(now);
    const std::uint64_t granted = std::min(bytes, m_bytes);
    m_bytes -= granted;
    return granted;
}

void token_bucket::give_back(std::uint64_t bytes) noexcept {
    if (unlimited()) {
        return;
    }
    const u128 level = to_nanobytes(m_bytes) + m_nanobytes + to_nanobytes(bytes);
    const level_parts kept = split(std::min(level, to_nanobytes(m_burst)));
    m_bytes = kept.bytes;
    m_nanobytes = kept.nanobytes;
}

std::chrono::nanoseconds token_bucket::wait_time(clock::time_point now,
                                                 std::uint64_t bytes) const noexcept {
    if (unlimited()) {
        return std::chrono::nanoseconds::zero();
    }
    const u128 wanted = to_nanobytes(std::min(bytes, m_burst));
    u128 level = to_nanobytes(m_bytes) + m_nanobytes;
    if (m_started && now > m_last) {
        level = filled(level, to_nanobytes(m_burst), m_rate, ticks_between(m_last, now));
    }
    if (level >= wanted) {
        return std::chrono::nanoseconds::zero();
    }
    // Rounded up, so that at now + wait the bytes are there, not one nanobyte short.
    const u128 wait = (wanted - level + m_rate - 1) / m_rate;
    constexpr auto longest = std::numeric_limits<std::chrono::nanoseconds::rep>::max();
    return std::chrono::nanoseconds(wait >= static_cast<u128>(longest)
                                        ? longest
                                        : static_cast<std::chrono::nanoseconds::rep>(wait));
}

std::uint64_t take_both(token_bucket& global, token_bucket& torrent,
                        token_bucket::clock::time_point now, std::uint64_t bytes) noexcept {
    const std::uint64_t granted = std::min({bytes, global.available(now), torrent.available(now)});
    // Both are charged the same amount, so neither runs ahead of the other.
    global.take(now, granted);
    torrent.take(now, granted);
    return granted;
}

std::chrono::nanoseconds wait_time_both(const token_bucket& global, const token_bucket& torrent,
                                        token_bucket::clock::time_point now,
                                        std::uint64_t bytes) noexcept {
    return std::max(global.wait_time(now, bytes), torrent.wait_time(now, bytes));
}

} // namespace spate::choker
