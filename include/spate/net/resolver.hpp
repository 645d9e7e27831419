#pragma once
/// resolver: host names to addresses without blocking the loop. c-ares does the DNS work;
/// its sockets are polled on the ring and its timeouts are ring timers, so a lookup is one
/// more coroutine on the one thread. Answers are cached for their TTL.

#include <spate/core/endpoint.hpp>
#include <spate/core/result.hpp>
#include <spate/io/ring.hpp>
#include <spate/io/task.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

namespace spate::net {

/// Which addresses a caller wants, and in which order.
enum class address_family_preference : std::uint8_t {
    prefer_v4, ///< IPv4 addresses first, then IPv6
    prefer_v6, ///< IPv6 addresses first, then IPv4
    v4_only,
    v6_only,
};

/// How a resolver is set up; fixed for its life.
struct resolver_options {
    /// DNS servers to ask, in order. Empty: the system's (/etc/resolv.conf).
    std::vector<endpoint> servers;
    /// Look in /etc/hosts before asking DNS (c-ares reads the file, which is local).
    bool use_hosts_file = true;
    /// Try the search domains of /etc/resolv.conf for names with few dots.
    bool use_search_domains = true;
    /// How long c-ares waits for one server to answer one try, and how many tries it makes
    /// before a query fails on its own (a lookup's own deadline may end it sooner).
    std::chrono::milliseconds server_timeout{2000};
    int tries = 3;
    /// A positive answer is kept for its TTL (the smallest of its records), but at least
    /// `min_ttl` and at most `max_ttl`; "no such host" and "no address" are kept for
    /// `negative_ttl`. Timeouts and server failures are not kept.
    std::chrono::seconds min_ttl{10};
    std::chrono::seconds max_ttl{3600};
    std::chrono::seconds negative_ttl{30};
    /// Most names kept; beyond it, expired entries go first, then the oldest.
    std::size_t max_cache_entries = 1024;
    /// The clock the cache ages by; empty means steady_clock::now. Tests inject one.
    std::function<std::chrono::steady_clock::time_point()> clock;
};

/// How one lookup may end early.
struct resolve_options {
    /// Stop request: the lookup completes with errc::cancelled.
    std::stop_token stop;
    /// Deadline of this lookup: errc::timed_out when no answer came in time (the query
    /// itself may go on for other callers waiting on the same name).
    std::chrono::milliseconds timeout{10'000};
};

/// One per session, on the session's ring. Not movable (c-ares holds its address).
///
/// Concurrent lookups of one name share one query. A resolver must outlive every lookup
/// it started, and is destroyed only once every resolve() has completed: each lookup,
/// when it is the last one running, waits until the resolver's sockets are released.
class resolver {
public:
    /// Sets up c-ares (reading /etc/resolv.conf and the like, which are local files).
    /// The ring is borrowed and must outlive the resolver. Fails with
    /// errc::resolver_init_failed.
    [[nodiscard]] static result<std::unique_ptr<resolver>> create(io::ring& ring,
                                                                  resolver_options options = {});

    resolver(const resolver&) = delete;
    resolver& operator=(const resolver&) = delete;
    resolver(resolver&&) = delete;
    resolver& operator=(resolver&&) = delete;
    /// Aborts when a lookup is still waiting.
    ~resolver();

    /// The addresses of `host`, each with `port`, ordered and filtered by `preference`.
    /// A numeric address ("10.0.0.1", "::1", "[::1]") is returned as is and "localhost"
    /// (and names under ".localhost") as 127.0.0.1 and ::1, without a lookup. Errors:
    /// errc::bad_host_name, host_not_found, no_address, no_address_for_family,
    /// dns_server_failure, dns_unreachable, dns_bad_reply, resolver_failed, timed_out,
    /// cancelled. The messages name the problem, not the host: callers add it.
    [[nodiscard]] io::task<result<std::vector<endpoint>>>
    resolve(std::string host, std::uint16_t port,
            address_family_preference preference = address_family_preference::prefer_v4,
            resolve_options options = {});

    /// Names cached, fresh or expired.
    [[nodiscard]] std::size_t cache_size() const noexcept;
    /// Forgets every cached answer.
    void clear_cache() noexcept;
    /// DNS queries started since creation (a lookup answered from the cache, or a second
    /// caller joining a query in flight, starts none).
    [[nodiscard]] std::size_t queries_started() const noexcept;

private:
    class impl;
    explicit resolver(std::unique_ptr<impl> state) noexcept;

    std::unique_ptr<impl> m_impl;
};

} // namespace spate::net
