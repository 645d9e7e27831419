#pragma once
/// builtin_tracker: a small BEP 15 (UDP) and BEP 3/23/7/48 (HTTP) tracker on the ring, for
/// local swarms, demos, tests and benchmarks (`spate tracker`).
///
/// UDP: one socket and one receive loop. A connect request is answered with a connection id
/// (connection_ids: keyed hash of the client's address, port and time; accepted for two
/// minutes). Announce and scrape requests are answered only when they carry a valid id;
/// otherwise, and for anything malformed, nothing is sent at all, so an address spoofer can
/// never make the tracker send more than the 16 bytes of a connect reply for the 16 bytes of
/// a connect request. Announce replies carry peers of the requester's address family only,
/// at most as many as fit max_udp_reply bytes.
///
/// HTTP: one listening socket and one coroutine per connection (at most
/// max_http_connections; connections beyond are closed at once), one GET request per
/// connection: `/announce?...` and `/scrape?...` are answered with a bencoded body,
/// anything else with 404, a request line that is not HTTP/1.x with 400, another method
/// with 405, a head larger than max_http_request with 431. A connection that has not sent
/// its request head within http_timeout is closed without an answer.
///
/// The address recorded for a peer is the one its packet or connection came from, with
/// the announced port. The "ip" an announce carries is honoured only when both that
/// address and the claimed one are loopback addresses of the same family: a local swarm
/// can then announce 127.0.0.2, 127.0.0.3, ... from 127.0.0.1, while no client can point
/// the swarm at a third party's address.

#include <spate/core/endpoint.hpp>
#include <spate/core/result.hpp>
#include <spate/io/ring.hpp>
#include <spate/io/scope.hpp>
#include <spate/io/task.hpp>
#include <spate/io/unique_fd.hpp>
#include <spate/tracker/connection_ids.hpp>
#include <spate/tracker/swarm_registry.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

namespace spate::tracker {

/// What a builtin_tracker listens on and how it behaves. At least one of udp and http.
struct builtin_tracker_settings {
    /// Where the UDP tracker listens; port 0 lets the kernel pick (see udp_endpoint()).
    std::optional<endpoint> udp;
    /// Where the HTTP tracker listens; port 0 lets the kernel pick (see http_endpoint()).
    std::optional<endpoint> http;
    /// Announce interval, bounds and peer expiry (swarm_settings::peer_timeout()).
    swarm_settings swarm;
    /// Peers in an answer when the client does not say (numwant missing or negative).
    std::uint32_t default_numwant = 50;
    /// Most peers in one answer, whatever numwant asks for.
    std::uint32_t max_numwant = 200;
    /// Largest UDP announce reply in bytes: 1200 keeps it within one IPv6 minimum-MTU
    /// datagram (196 IPv4 or 65 IPv6 peers).
    std::size_t max_udp_reply = 1200;
    /// HTTP connections served at once.
    std::size_t max_http_connections = 256;
    /// Largest HTTP request head (request line and headers).
    std::size_t max_http_request = 8192;
    /// Time a connection has to send its request head and take the answer.
    std::chrono::milliseconds http_timeout{10'000};
    /// Receives one line per dropped datagram, refused request and socket error; may be
    /// empty. Called on the ring's thread; must not call back into the tracker.
    std::function<void(std::string_view)> debug_log;
};

/// Counters since the tracker was made, for tests, logs and the bench.
struct builtin_tracker_stats {
    std::uint64_t udp_connects = 0;     ///< connect requests answered
    std::uint64_t udp_announces = 0;    ///< announce requests answered
    std::uint64_t udp_scrapes = 0;      ///< scrape requests answered
    std::uint64_t udp_malformed = 0;    ///< datagrams dropped as malformed or truncated
    std::uint64_t udp_unauthorised = 0; ///< announces and scrapes with a bad connection id
    std::uint64_t http_accepted = 0;    ///< HTTP connections served (not refused)
    std::uint64_t http_requests = 0;    ///< HTTP requests answered (any status)
    std::uint64_t http_refused = 0;     ///< connections closed over max_http_connections
    std::uint64_t http_abandoned = 0;   ///< connections closed without a whole request
};

/// A running (or ready to run) built-in tracker. Owns its sockets, its swarm registry and
/// its connection-id key; borrows the ring, which must outlive it. Not movable: its
/// coroutines point at it.
class builtin_tracker {
public:
    /// Opens and binds the sockets now (so their ports are known before run()), with a
    /// fresh random connection-id key. Errors: std::errc::invalid_argument without any
    /// address; the errno of socket/bind/listen (say, address in use); getrandom's errno.
    [[nodiscard]] static result<std::unique_ptr<builtin_tracker>>
    create(io::ring& ring, builtin_tracker_settings settings);

    builtin_tracker(const builtin_tracker&) = delete;
    builtin_tracker& operator=(const builtin_tracker&) = delete;
    builtin_tracker(builtin_tracker&&) = delete;
    builtin_tracker& operator=(builtin_tracker&&) = delete;
    ~builtin_tracker() = default;

    /// The bound UDP address (port 0 resolved), when UDP was asked for.
    [[nodiscard]] std::optional<endpoint> udp_endpoint() const { return m_udp_endpoint; }
    /// The bound HTTP address (port 0 resolved), when HTTP was asked for.
    [[nodiscard]] std::optional<endpoint> http_endpoint() const { return m_http_endpoint; }

    /// Serves until `stop` is requested, then cancels every pending operation, waits for
    /// every connection coroutine to end, and completes. Run it once; the tracker must
    /// outlive the task.
    [[nodiscard]] io::task<void> run(std::stop_token stop);

    [[nodiscard]] const swarm_registry& registry() const noexcept { return m_registry; }
    [[nodiscard]] const builtin_tracker_stats& stats() const noexcept { return m_stats; }

    /// The answer to one UDP datagram from `from` at `now`: bytes to send back, or none.
    /// Public so that tests and the bench can drive the protocol logic without sockets.
    [[nodiscard]] std::vector<std::byte> handle_datagram(std::span<const std::byte> datagram,
                                                         const endpoint& from,
                                                         std::chrono::steady_clock::time_point now);

    /// The whole HTTP response (status line, headers, body) to one request head from
    /// `from` at `now`. `head` is what the client sent up to the blank line.
    [[nodiscard]] std::string handle_http_request(std::string_view head, const endpoint& from,
                                                  std::chrono::steady_clock::time_point now);

private:
    builtin_tracker(io::ring& ring, builtin_tracker_settings settings, connection_ids ids);

    [[nodiscard]] io::task<void> serve_udp(std::stop_token stop);
    // `connections` is the scope of run(), which outlives this task and every connection.
    [[nodiscard]] io::task<void> serve_http(io::scope& connections, std::stop_token stop);
    [[nodiscard]] io::task<void> serve_connection(io::unique_fd socket, std::stop_token stop);
    [[nodiscard]] io::task<void> expire_peers(std::stop_token stop);

    [[nodiscard]] std::string http_announce(std::string_view query, const endpoint& from,
                                            std::chrono::steady_clock::time_point now);
    [[nodiscard]] std::string http_scrape(std::string_view query);
    [[nodiscard]] std::size_t numwant(std::int32_t asked, std::size_t cap) const;
    void log(std::string_view line) const;

    io::ring& m_ring;
    builtin_tracker_settings m_settings;
    connection_ids m_ids;
    swarm_registry m_registry;
    builtin_tracker_stats m_stats;
    io::unique_fd m_udp;
    io::unique_fd m_http;
    std::optional<endpoint> m_udp_endpoint;
    std::optional<endpoint> m_http_endpoint;
    std::size_t m_http_live = 0;
};

/// The address an announce is recorded under: `source` (where the packet or connection
/// came from) with `port`, or `claimed` with `port` when both are loopback addresses of
/// the same family.
[[nodiscard]] endpoint announced_address(const endpoint& source,
                                         const std::optional<endpoint>& claimed,
                                         std::uint16_t port);

} // namespace spate::tracker
