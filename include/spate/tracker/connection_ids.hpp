#pragma once
/// connection_ids: the BEP 15 connection ids the built-in tracker hands out, which a client
/// cannot forge and which expire two minutes after they were issued. Stateless: an id
/// carries its own issue time and is checked by recomputing a keyed hash, so a flood of
/// connect requests costs no memory.
///
/// Layout of an id (64 bits):
///
///     63           48 47                                             0
///     | issue second | HMAC-SHA-256(key, family | address | port | issue time)[0..6) |
///       (low 16 bits   (48 bits)
///        of the time)
///
/// The issue time is steady_clock time in whole seconds; the id keeps its low 16 bits,
/// and the check takes the latest whole second at or before `now` with those bits (ids
/// older than 18 hours cannot be told apart from new ones by the stamp alone, but then the
/// hash, which covers the full time, no longer matches). The rule, exactly: an id is
/// accepted iff its hash matches the client's address and port and
/// `now - issue_second < 120 s`, where issue_second is the start of the whole second it
/// was issued in. So an id lives at most two minutes (at least 119 s).

#include <spate/core/endpoint.hpp>
#include <spate/core/result.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>

namespace spate::tracker {

/// Issues and checks connection ids for one tracker process. Holds a 32-byte secret key;
/// copyable (a copy checks the same ids).
class connection_ids {
public:
    using clock = std::chrono::steady_clock;
    /// How long an id is accepted after the second it was issued in.
    static constexpr std::chrono::seconds lifetime{120};
    static constexpr std::size_t key_size = 32;

    /// With a fresh random key from getrandom(2). Fails with the errno of getrandom.
    [[nodiscard]] static result<connection_ids> create();

    /// With a given key: tests, and trackers that must accept each other's ids.
    explicit connection_ids(const std::array<std::byte, key_size>& key) noexcept : m_key(key) {}

    /// A fresh id for a client at `client` (its address and port as the datagram showed
    /// them), issued at `now`.
    [[nodiscard]] std::uint64_t issue(const endpoint& client, clock::time_point now) const;

    /// True iff `id` was issued by this key for `client` less than `lifetime` ago (see the
    /// file comment for the exact rule). An id from the future (before `now` by the clock
    /// reading) cannot exist; an id of another client or key, or altered in any bit, is
    /// refused (but for a 2^-48 chance per guess).
    [[nodiscard]] bool valid(std::uint64_t id, const endpoint& client, clock::time_point now) const;

private:
    [[nodiscard]] std::uint64_t mac48(const endpoint& client, std::int64_t issue_second) const;

    std::array<std::byte, key_size> m_key;
};

} // namespace spate::tracker
