#pragma once
/// udp_tracker_client: BEP 15 announce and scrape (with BEP 41 URL data) on the ring, for
/// every torrent and tracker of a session through one UDP socket per address family.
///
/// Each request is one coroutine: connect (unless a connection id for the tracker is less
/// than a minute old), then announce or scrape, each send retransmitted on the BEP 15
/// schedule (udp_retry_policy). One receive loop per socket reads every datagram and hands
/// it to the request whose transaction id it carries, after checking that it came from
/// that request's tracker, carries the action asked for (or the error action) and decodes
/// in full; anything else is dropped and counted, never believed.

#include <spate/core/endpoint.hpp>
#include <spate/core/hash.hpp>
#include <spate/core/result.hpp>
#include <spate/io/ring.hpp>
#include <spate/io/scope.hpp>
#include <spate/io/task.hpp>
#include <spate/io/unique_fd.hpp>
#include <spate/tracker/announce.hpp>
#include <spate/tracker/http_codec.hpp>
#include <spate/tracker/udp_retry_policy.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace spate::tracker {

namespace detail {
class udp_waiter;
struct udp_exchange;
struct udp_reply;
} // namespace detail

/// Settings of a udp_tracker_client.
struct udp_client_settings {
    /// Retransmit schedule and connection id lifetime (BEP 15 defaults).
    udp_retry_settings retry;
    /// Local address of the IPv4 socket; nullopt binds 0.0.0.0. A port of 0 (the usual
    /// choice) lets the kernel pick an ephemeral port.
    std::optional<endpoint> bind_v4;
    /// Local address of the IPv6 socket (IPV6_V6ONLY); nullopt binds [::]:0.
    std::optional<endpoint> bind_v6;
    /// Receives one line per dropped datagram and other debug events; may be empty.
    /// Called on the ring's thread from inside the client: it must not call back into it.
    std::function<void(std::string_view)> debug_log;
};

/// Counters since the client was made, for tests, logs and the bench.
struct udp_client_stats {
    std::uint64_t sent = 0;        ///< datagrams sent (first sends and retransmissions)
    std::uint64_t retransmits = 0; ///< sends that repeated an unanswered one
    std::uint64_t connects = 0;    ///< connection ids received
    std::uint64_t received = 0;    ///< datagrams read from the sockets
    std::uint64_t accepted = 0;    ///< replies handed to a waiting request
    /// Dropped: no request waits for the transaction id (unknown, late or duplicate).
    std::uint64_t dropped_unknown_transaction = 0;
    /// Dropped: the transaction id is known but the datagram came from another address.
    std::uint64_t dropped_wrong_source = 0;
    /// Dropped: the action is neither the one asked for nor the error action.
    std::uint64_t dropped_wrong_action = 0;
    /// Dropped: too short, cut by the buffer, or not decodable as the reply expected.
    std::uint64_t dropped_malformed = 0;
};

/// The UDP tracker client of one session, on one ring.
///
/// Lifetime: the client borrows `ring`, which must outlive it. It owns its sockets (made
/// lazily, one per address family, on the first request to a tracker of that family) and
/// the receive loop of each, which runs in the client's own io::scope. Before the client
/// is destroyed, every announce()/scrape() task must have completed and `co_await close()`
/// must have finished; the destructor aborts otherwise, since a live frame would touch the
/// freed client. close() cancels requests still running, so a session typically cancels
/// its announcers, then closes the client.
///
/// Single-threaded like the ring: every call happens on the ring's thread.
class udp_tracker_client {
public:
    using clock_function = std::function<std::chrono::steady_clock::time_point()>;

    /// `clock` tells the age of connection ids (tests inject a manual clock); empty means
    /// std::chrono::steady_clock::now. Retransmit timeouts always run on the ring's
    /// monotonic timers.
    explicit udp_tracker_client(io::ring& ring, udp_client_settings settings = {},
                                clock_function clock = {});
    udp_tracker_client(const udp_tracker_client&) = delete;
    udp_tracker_client& operator=(const udp_tracker_client&) = delete;
    udp_tracker_client(udp_tracker_client&&) = delete;
    udp_tracker_client& operator=(udp_tracker_client&&) = delete;
    /// Aborts when a request or a receive loop is still alive (see the class comment).
    ~udp_tracker_client();

    /// Announces `request` to the tracker at `tracker`. `url_path_and_query` is the tracker
    /// URL from its path on ("/announce?passkey=..."), sent as BEP 41 URL data (empty sends
    /// none). Peers come in the format of the tracker's family: 6-byte over IPv4, 18-byte
    /// over IPv6.
    ///
    /// A tracker's error reply is an answer: the response then has only `failure` set, to
    /// the tracker's message (printable, capped), and the cached connection id is dropped.
    /// Errors: std::errc::timed_out when every send of the BEP 15 schedule went
    /// unanswered; std::errc::operation_canceled when `stop` or shutdown() ended it; the
    /// errno of a socket that could not be made or a send that failed; codec errors for a
    /// request that cannot be encoded (errc::url_data_too_long).
    /// Every argument is taken by value: nothing is borrowed.
    [[nodiscard]] io::task<result<announce_response>> announce(endpoint tracker,
                                                               std::string url_path_and_query,
                                                               announce_request request,
                                                               std::stop_token stop = {});

    /// Scrapes 1..74 info-hashes (BEP 15's limit: errc::no_info_hashes,
    /// errc::too_many_info_hashes) from the tracker at `tracker`; entry i answers
    /// info_hashes[i]. An error reply fills `failure` as for announce(). Other errors as
    /// for announce().
    [[nodiscard]] io::task<result<http::scrape_response>>
    scrape(endpoint tracker, std::vector<sha1_digest> info_hashes, std::stop_token stop = {});

    /// Asks every receive loop and every running request to stop (requests end with
    /// operation_canceled); later requests fail at once. Does not wait: see close().
    void shutdown() noexcept;
    /// shutdown(), then waits until the receive loops and the running requests have
    /// ended, and closes the sockets. The client is then inert and may be destroyed.
    /// Awaited by one coroutine at a time.
    [[nodiscard]] io::task<void> close();

    /// The bound address of the socket for `family`, once a request made it.
    [[nodiscard]] std::optional<endpoint> local_endpoint(address_family family) const;
    [[nodiscard]] const udp_client_stats& stats() const { return m_stats; }
    /// Requests currently running (started and not yet finished).
    [[nodiscard]] std::size_t running() const { return m_running; }
    [[nodiscard]] const udp_retry_policy& policy() const { return m_policy; }

    /// Pending transaction ids and the request waiting on each (internal, borrowed
    /// pointers: each waiter removes itself when it stops waiting).
    using waiter_map = std::unordered_map<std::uint32_t, detail::udp_waiter*>;

private:
    struct family_socket {
        io::unique_fd fd;
        std::optional<endpoint> local;
        bool receiving = false; // its receive loop runs
    };
    // The request (borrowed from the announce()/scrape() frame) through connect,
    // retransmissions and reconnects, to a reply, a refusal or a timeout.
    [[nodiscard]] io::task<result<detail::udp_reply>>
    exchange(endpoint tracker, const detail::udp_exchange& spec, std::stop_token stop);
    // One send of `packet` (borrowed) and the wait for its reply.
    [[nodiscard]] io::task<result<detail::udp_reply>>
    transact(endpoint tracker, std::uint32_t transaction_id, const detail::udp_exchange& spec,
             bool connect, std::span<const std::byte> packet, std::chrono::nanoseconds timeout,
             std::stop_token stop);
    [[nodiscard]] io::task<void> receive_loop(address_family family);
    [[nodiscard]] result<int> socket_for(address_family family);
    [[nodiscard]] std::optional<std::uint32_t> new_transaction_id();
    void route(std::span<const std::byte> packet, const endpoint& from);
    void debug(std::string_view what, const endpoint* from) const;
    [[nodiscard]] std::chrono::steady_clock::time_point now() const { return m_clock(); }
    [[nodiscard]] static std::size_t slot(address_family family) {
        return family == address_family::v4 ? 0 : 1;
    }

    io::ring& m_ring;
    udp_client_settings m_settings;
    clock_function m_clock;
    udp_retry_policy m_policy;
    udp_connection_cache m_connections;
    std::mt19937 m_random;
    waiter_map m_waiters;
    std::array<family_socket, 2> m_sockets;
    udp_client_stats m_stats;
    std::size_t m_running = 0;
    io::scope m_scope; // the receive loops; its stop source is the client's shutdown
};

} // namespace spate::tracker
