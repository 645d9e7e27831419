#pragma once
/// The timing rules of a BEP 15 client as pure state: when a request is retransmitted and
/// when it has failed (udp_retry_policy), and how long a connection id may be reused
/// (udp_connection_cache). No I/O and no clock of their own: callers pass the time.

#include <spate/core/endpoint.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>

namespace spate::tracker {

/// BEP 15's numbers, as settings so tests can run the schedule in milliseconds.
struct udp_retry_settings {
    /// The wait for the reply to the first send; the n-th retransmission waits base * 2^n.
    std::chrono::nanoseconds retry_base = std::chrono::seconds(15);
    /// Retransmissions after the first send (BEP 15: n goes up to 8, so 9 sends in all).
    std::uint32_t max_retries = 8;
    /// How long a connection id may be used after it was received (BEP 15: one minute).
    std::chrono::nanoseconds connection_id_lifetime = std::chrono::seconds(60);
};

/// The retransmit schedule of one request: send number n (0 = the first send) waits
/// retry_base * 2^n for its reply; when send number max_retries has gone unanswered the
/// request has failed (timed out). The client counts sends across a whole exchange
/// (connect and announce together), so one announce never waits longer than
/// retry_base * (2^(max_retries + 1) - 1) however its packets are lost.
class udp_retry_policy {
public:
    /// Retransmissions beyond this many are not allowed (2^31 times any base saturates).
    static constexpr std::uint32_t retries_limit = 30;

    /// `settings.max_retries` is clamped to retries_limit; a base below 1 ns becomes 1 ns.
    explicit udp_retry_policy(const udp_retry_settings& settings = {});

    /// How long to wait for the reply to send number `attempt`; nullopt once `attempt` is
    /// past max_retries (the request has failed). Saturates instead of overflowing.
    [[nodiscard]] std::optional<std::chrono::nanoseconds> timeout(std::uint32_t attempt) const;
    /// Sends in all: max_retries + 1.
    [[nodiscard]] std::uint32_t max_attempts() const { return m_max_retries + 1; }
    /// The sum of every timeout: how long a request whose every packet is lost waits.
    [[nodiscard]] std::chrono::nanoseconds total_wait() const;

private:
    std::chrono::nanoseconds m_base;
    std::uint32_t m_max_retries;
};

/// Connection ids by tracker endpoint. An id may be used while less than `lifetime` has
/// passed since it was received; after that the tracker may refuse it and a new connect is
/// needed. Expired entries are pruned whenever one is stored, so the cache holds at most
/// the trackers used within one lifetime.
class udp_connection_cache {
public:
    using time_point = std::chrono::steady_clock::time_point;

    explicit udp_connection_cache(std::chrono::nanoseconds lifetime = std::chrono::seconds(60))
        : m_lifetime(lifetime) {}

    /// The id for `tracker` if one was received less than `lifetime` before `now`.
    [[nodiscard]] std::optional<std::uint64_t> find(const endpoint& tracker, time_point now) const;
    /// Remembers `id` for `tracker`, received at `received` (replacing any older id).
    void store(const endpoint& tracker, std::uint64_t id, time_point received);
    /// Forgets the id for `tracker` (say, after the tracker refused a request with it).
    void forget(const endpoint& tracker);
    /// Drops every id expired at `now`; returns how many were dropped.
    std::size_t prune(time_point now);
    [[nodiscard]] std::size_t size() const { return m_entries.size(); }
    [[nodiscard]] std::chrono::nanoseconds lifetime() const { return m_lifetime; }

private:
    struct entry {
        std::uint64_t id = 0;
        time_point received;
    };

    [[nodiscard]] bool fresh(const entry& e, time_point now) const {
        return now - e.received < m_lifetime;
    }

    std::chrono::nanoseconds m_lifetime;
    std::unordered_map<endpoint, entry> m_entries;
};

} // namespace spate::tracker
