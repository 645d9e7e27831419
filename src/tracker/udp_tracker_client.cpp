#include "udp_waiter.hpp"

#include <spate/io/socket_ops.hpp>
#include <spate/io/timer_ops.hpp>
#include <spate/tracker/udp_codec.hpp>
#include <spate/tracker/udp_tracker_client.hpp>

#include <sys/random.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <netinet/in.h>
#include <utility>

namespace spate::tracker {

namespace {

// Room for the largest UDP payload; anything the kernel had to cut is dropped anyway.
constexpr std::size_t max_datagram = 65536;
// Receive errors in a row after which a socket is given up (and remade on next use).
constexpr std::uint32_t max_receive_errors = 64;
// Ring turns close() waits for cancelled requests to unwind; each needs one or two.
constexpr std::size_t max_close_turns = 10000;

io::op_options stop_only(std::stop_token stop) {
    io::op_options options;
    options.stop = std::move(stop);
    return options;
}

std::error_code cancelled_code() {
    return errno_code(ECANCELED);
}
std::error_code timed_out_code() {
    return errno_code(ETIMEDOUT);
}

// Errors that lose one datagram but leave the socket usable: retransmission copes.
bool transient(const std::error_code& ec) {
    if (ec.category() != std::system_category()) {
        return false;
    }
    switch (ec.value()) {
    case EAGAIN:
    case EINTR:
    case ENOBUFS:
    case ENOMEM:
    case ECONNREFUSED:
    case EHOSTUNREACH:
    case ENETUNREACH:
        return true;
    default:
        return false;
    }
}

// A send error that only means this datagram was lost, so the schedule goes on; others
// (no route to a whole family, a closed socket) fail the request at once with a reason.
bool lost_in_transit(const std::error_code& ec) {
    if (ec.category() != std::system_category()) {
        return false;
    }
    switch (ec.value()) {
    case EAGAIN:
    case EINTR:
    case ENOBUFS:
    case ENOMEM:
    case ECONNREFUSED:
        return true;
    default:
        return false;
    }
}

std::uint32_t random_seed_word(std::uint32_t fallback) {
    std::uint32_t word = 0;
    // GRND_NONBLOCK: never block the loop, even before the pool is ready at boot.
    if (::getrandom(&word, sizeof(word), GRND_NONBLOCK) == static_cast<ssize_t>(sizeof(word))) {
        return word;
    }
    return fallback;
}

std::mt19937 make_random(const void* salt) {
    auto ticks =
        static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    auto address = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(salt));
    std::seed_seq seed{
        random_seed_word(static_cast<std::uint32_t>(ticks)),
        random_seed_word(static_cast<std::uint32_t>(ticks >> 32)),
        random_seed_word(static_cast<std::uint32_t>(address)),
        random_seed_word(static_cast<std::uint32_t>(address >> 32)),
    };
    return std::mt19937(seed);
}

} // namespace

udp_tracker_client::udp_tracker_client(io::ring& ring, udp_client_settings settings,
                                       clock_function clock)
    : m_ring(ring), m_settings(std::move(settings)), m_clock(std::move(clock)),
      m_policy(m_settings.retry), m_connections(m_settings.retry.connection_id_lifetime),
      m_random(make_random(this)) {
    if (!m_clock) {
        m_clock = [] { return std::chrono::steady_clock::now(); };
    }
}

udp_tracker_client::~udp_tracker_client() {
    if (m_running != 0 || m_scope.size() != 0) {
        // A live request or receive loop would resume into this freed object.
        std::fprintf(stderr,
                     "spate::tracker::udp_tracker_client destroyed with %zu request(s) and %zu "
                     "receive loop(s) alive; co_await close() first\n",
                     m_running, m_scope.size());
        std::abort();
    }
}

io::task<result<announce_response>> udp_tracker_client::announce(endpoint tracker,
                                                                 std::string url_path_and_query,
                                                                 announce_request request,
                                                                 std::stop_token stop) {
    if (m_scope.stop_requested()) {
        co_return fail(cancelled_code());
    }
    // A request that cannot be encoded fails before any packet is sent.
    if (auto probe = udp::encode_announce_request(0, 0, request, url_path_and_query); !probe) {
        co_return fail(probe.error());
    }
    detail::udp_exchange spec;
    spec.action = udp::action::announce;
    spec.request = &request;
    spec.url_data = url_path_and_query;
    ++m_running;
    auto got = co_await exchange(tracker, spec, std::move(stop));
    --m_running;
    // Nothing below touches the client: close() may have been waiting for this request.
    if (!got) {
        co_return fail(got.error());
    }
    if (got->what == detail::udp_reply::kind::refused) {
        announce_response refused;
        refused.failure = std::move(got->refusal);
        co_return refused;
    }
    co_return std::move(got->announce);
}

io::task<result<http::scrape_response>>
udp_tracker_client::scrape(endpoint tracker, std::vector<sha1_digest> info_hashes,
                           std::stop_token stop) {
    if (m_scope.stop_requested()) {
        co_return fail(cancelled_code());
    }
    if (auto probe = udp::encode_scrape_request(0, 0, info_hashes); !probe) {
        co_return fail(probe.error());
    }
    detail::udp_exchange spec;
    spec.action = udp::action::scrape;
    spec.info_hashes = info_hashes;
    ++m_running;
    auto got = co_await exchange(tracker, spec, std::move(stop));
    --m_running;
    if (!got) {
        co_return fail(got.error());
    }
    http::scrape_response response;
    if (got->what == detail::udp_reply::kind::refused) {
        response.failure = std::move(got->refusal);
    } else {
        response.entries = std::move(got->scrape);
    }
    co_return response;
}

io::task<result<detail::udp_reply>> udp_tracker_client::exchange(endpoint tracker,
                                                                 const detail::udp_exchange& spec,
                                                                 std::stop_token stop) {
    using kind = detail::udp_reply::kind;
    // Sends so far that went unanswered: BEP 15's n, shared by connect and request, so the
    // whole exchange is bounded by the schedule however its packets are lost.
    std::uint32_t attempt = 0;
    bool resend = false;
    // A connection id just received is used for the next send whatever the clock says,
    // so a short lifetime cannot make connect loop without sending the request.
    std::optional<std::uint64_t> fresh_id;
    // Retransmissions repeat the same packet with the same transaction id, so a slow
    // reply to an earlier send is still taken.
    std::optional<std::uint32_t> connect_txn;
    std::optional<std::uint32_t> request_txn;
    std::uint64_t request_id = 0;
    std::vector<std::byte> packet;

    // Each turn either counts an unanswered send or follows a connect reply with a request
    // send: at most 2 * (max_retries + 1) turns.
    for (;;) {
        auto timeout = m_policy.timeout(attempt);
        if (!timeout) {
            co_return fail(timed_out_code());
        }
        if (resend) {
            ++m_stats.retransmits;
        }
        std::optional<std::uint64_t> id = fresh_id ? fresh_id : m_connections.find(tracker, now());
        fresh_id.reset();

        if (!id) {
            if (!connect_txn) {
                connect_txn = new_transaction_id();
                if (!connect_txn) {
                    co_return fail(errno_code(EAGAIN));
                }
            }
            auto connect = udp::encode_connect_request(*connect_txn);
            auto got =
                co_await transact(tracker, *connect_txn, spec, true, connect, *timeout, stop);
            if (!got) {
                co_return fail(got.error());
            }
            if (got->what == kind::timed_out) {
                ++attempt;
                resend = true;
                continue;
            }
            if (got->what == kind::refused) {
                m_connections.forget(tracker);
                co_return std::move(*got);
            }
            ++m_stats.connects;
            m_connections.store(tracker, got->connection_id, now());
            fresh_id = got->connection_id;
            connect_txn.reset();
            resend = false;
            continue;
        }

        if (!request_txn || request_id != *id) {
            // First send, or a new connection id: a new packet under a new transaction id.
            request_txn = new_transaction_id();
            if (!request_txn) {
                co_return fail(errno_code(EAGAIN));
            }
            request_id = *id;
            auto encoded =
                spec.action == udp::action::announce
                    ? udp::encode_announce_request(*id, *request_txn, *spec.request, spec.url_data)
                    : udp::encode_scrape_request(*id, *request_txn, spec.info_hashes);
            if (!encoded) {
                co_return fail(encoded.error());
            }
            packet = std::move(*encoded);
        }
        auto got = co_await transact(tracker, *request_txn, spec, false, packet, *timeout, stop);
        if (!got) {
            co_return fail(got.error());
        }
        if (got->what == kind::timed_out) {
            ++attempt;
            resend = true;
            continue;
        }
        if (got->what == kind::refused) {
            // Trackers commonly refuse a connection id they no longer know; the next
            // request connects afresh.
            m_connections.forget(tracker);
        }
        co_return std::move(*got);
    }
}

io::task<result<detail::udp_reply>> udp_tracker_client::transact(
    endpoint tracker, std::uint32_t transaction_id, const detail::udp_exchange& spec, bool connect,
    std::span<const std::byte> packet, std::chrono::nanoseconds timeout, std::stop_token stop) {
    auto fd = socket_for(tracker.family());
    if (!fd) {
        co_return fail(fd.error());
    }
    // Registered before the send: a reply may come back before the send completes.
    detail::udp_waiter waiter(m_waiters, transaction_id, tracker,
                              connect ? udp::action::connect : spec.action, spec.info_hashes, stop,
                              m_scope.token());
    sockaddr_storage to{};
    socklen_t to_length = tracker.to_sockaddr(to);
    ++m_stats.sent;
    auto sent = co_await io::sendmsg(m_ring, *fd, packet, reinterpret_cast<const sockaddr*>(&to),
                                     to_length, stop_only(waiter.wake_token()));
    if (waiter.answered()) {
        co_return waiter.take();
    }
    if (waiter.cancelled()) {
        co_return fail(cancelled_code());
    }
    if (!sent && !lost_in_transit(sent.error())) {
        co_return fail(sent.error());
    }
    // Woken early by a reply or a stop (the sleep is cancelled), else the timeout.
    auto slept = co_await io::sleep_for(m_ring, timeout, waiter.wake_token());
    static_cast<void>(slept);
    if (waiter.answered()) {
        co_return waiter.take();
    }
    if (waiter.cancelled()) {
        co_return fail(cancelled_code());
    }
    co_return detail::udp_reply{};
}

io::task<void> udp_tracker_client::receive_loop(address_family family) {
    family_socket& socket = m_sockets[slot(family)];
    socket.receiving = true;
    const int fd = socket.fd.get();
    std::vector<std::byte> buffer(max_datagram);
    std::uint32_t errors_in_a_row = 0;
    // Bounded by the client's stop (shutdown) and by persistent errors.
    while (!m_scope.stop_requested()) {
        auto got = co_await io::recvmsg(m_ring, fd, buffer, stop_only(m_scope.token()));
        if (!got) {
            if (got.error() == std::errc::operation_canceled) {
                break;
            }
            if (transient(got.error()) && ++errors_in_a_row < max_receive_errors) {
                continue;
            }
            // Give the socket up; the next request makes a new one.
            debug("receive failed, socket given up: " + got.error().message(), nullptr);
            break;
        }
        errors_in_a_row = 0;
        ++m_stats.received;
        auto from = endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&got->from),
                                            got->from_length);
        if (!from) {
            ++m_stats.dropped_wrong_source;
            debug("dropped a datagram from an unknown address family", nullptr);
            continue;
        }
        if (got->truncated) {
            ++m_stats.dropped_malformed;
            debug("dropped an oversized datagram", &*from);
            continue;
        }
        route(std::span<const std::byte>(buffer).first(got->size), *from);
    }
    socket.receiving = false;
}

void udp_tracker_client::route(std::span<const std::byte> packet, const endpoint& from) {
    auto header = udp::decode_reply_header(packet);
    if (!header) {
        ++m_stats.dropped_malformed;
        debug("dropped a reply (" + header.error().message() + ")", &from);
        return;
    }
    auto it = m_waiters.find(header->transaction_id);
    if (it == m_waiters.end()) {
        ++m_stats.dropped_unknown_transaction;
        debug("dropped a reply for an unknown transaction id", &from);
        return;
    }
    detail::udp_waiter& waiter = *it->second;
    if (from != waiter.tracker()) {
        ++m_stats.dropped_wrong_source;
        debug("dropped a reply from an address other than the tracker's", &from);
        return;
    }
    if (header->action != waiter.expected() && header->action != udp::action::error) {
        ++m_stats.dropped_wrong_action;
        debug("dropped a reply whose action does not match the request", &from);
        return;
    }
    if (!waiter.offer(packet, header->action)) {
        ++m_stats.dropped_malformed;
        debug("dropped a reply that does not decode", &from);
        return;
    }
    ++m_stats.accepted;
}

result<int> udp_tracker_client::socket_for(address_family family) {
    if (m_scope.stop_requested()) {
        return fail(cancelled_code());
    }
    family_socket& socket = m_sockets[slot(family)];
    if (socket.fd && socket.receiving) {
        return socket.fd.get();
    }
    // First use, or the receive loop gave the old socket up.
    socket.fd.reset();
    socket.local.reset();
    const bool v4 = family == address_family::v4;
    io::unique_fd fd(::socket(v4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP));
    if (!fd) {
        return fail(errno_code(errno));
    }
    std::optional<endpoint> local = v4 ? m_settings.bind_v4 : m_settings.bind_v6;
    if (!local) {
        local = v4 ? endpoint{} : endpoint::parse_address("::", 0);
    }
    if (!local || local->family() != family) {
        return fail(errno_code(EAFNOSUPPORT));
    }
    if (!v4) {
        // IPv4 has its own socket: keep this one from receiving v4-mapped traffic.
        int one = 1;
        if (::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) {
            return fail(errno_code(errno));
        }
    }
    sockaddr_storage address{};
    socklen_t length = local->to_sockaddr(address);
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), length) != 0) {
        return fail(errno_code(errno));
    }
    sockaddr_storage bound{};
    socklen_t bound_length = sizeof(bound);
    if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &bound_length) != 0) {
        return fail(errno_code(errno));
    }
    socket.local = endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&bound), bound_length);
    socket.fd = std::move(fd);
    // Runs until its first receive is submitted, and marks the socket as receiving.
    m_scope.spawn(receive_loop(family));
    return socket.fd.get();
}

std::optional<std::uint32_t> udp_tracker_client::new_transaction_id() {
    std::uniform_int_distribution<std::uint32_t> any;
    // Ids are unique among pending requests; with 2^32 ids a clash is rare, many in a
    // row means something is badly wrong.
    for (int tries = 0; tries < 64; ++tries) {
        std::uint32_t id = any(m_random);
        if (!m_waiters.contains(id)) {
            return id;
        }
    }
    return std::nullopt;
}

void udp_tracker_client::shutdown() noexcept {
    m_scope.request_stop();
}

io::task<void> udp_tracker_client::close() {
    shutdown();
    co_await m_scope.join();
    // Running requests were woken by the stop; each needs the completion of its cancelled
    // send or sleep, a turn or two of the ring, before it has left the client.
    for (std::size_t turn = 0; m_running > 0 && turn < max_close_turns; ++turn) {
        auto turned = co_await io::nop(m_ring);
        static_cast<void>(turned);
    }
    for (auto& socket : m_sockets) {
        socket.fd.reset();
        socket.local.reset();
    }
}

std::optional<endpoint> udp_tracker_client::local_endpoint(address_family family) const {
    return m_sockets[slot(family)].local;
}

void udp_tracker_client::debug(std::string_view what, const endpoint* from) const {
    if (!m_settings.debug_log) {
        return;
    }
    std::string line = "udp tracker: ";
    line += what;
    if (from != nullptr) {
        line += " from ";
        line += from->to_string();
    }
    m_settings.debug_log(line);
}

} // namespace spate::tracker
