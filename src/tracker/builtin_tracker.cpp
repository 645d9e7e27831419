// The built-in tracker's frame: sockets, the run loop and peer expiry. The UDP protocol is
// in builtin_udp.cpp, the HTTP one in builtin_http.cpp.

#include <spate/io/timer_ops.hpp>
#include <spate/tracker/builtin_tracker.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <netinet/in.h>
#include <string>
#include <utility>

namespace spate::tracker {

namespace {

// A socket of `type` bound to `address` (IPv6 sockets IPv6-only, so that an IPv4 tracker
// on the same port can coexist), listening when `backlog` is set. Returns it with the
// address the kernel bound (port 0 resolved).
result<std::pair<io::unique_fd, endpoint>> bound_socket(const endpoint& address, int type,
                                                        std::optional<int> backlog) {
    const int family = address.is_v4() ? AF_INET : AF_INET6;
    io::unique_fd fd(::socket(family, type | SOCK_CLOEXEC, 0));
    if (!fd) {
        return fail(errno_code(errno));
    }
    const int on = 1;
    if (family == AF_INET6 &&
        ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) != 0) {
        return fail(errno_code(errno));
    }
    // A restarted tracker must not wait for the old listener's TIME_WAIT connections.
    if (type == SOCK_STREAM &&
        ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0) {
        return fail(errno_code(errno));
    }
    sockaddr_storage storage{};
    const socklen_t length = address.to_sockaddr(storage);
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&storage), length) != 0) {
        return fail(errno_code(errno));
    }
    if (backlog && ::listen(fd.get(), *backlog) != 0) {
        return fail(errno_code(errno));
    }
    sockaddr_storage bound{};
    socklen_t bound_length = sizeof(bound);
    if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &bound_length) != 0) {
        return fail(errno_code(errno));
    }
    auto resolved =
        endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&bound), bound_length);
    if (!resolved) {
        return fail(std::make_error_code(std::errc::address_family_not_supported));
    }
    return std::pair{std::move(fd), *resolved};
}

} // namespace

endpoint announced_address(const endpoint& source, const std::optional<endpoint>& claimed,
                           std::uint16_t port) {
    endpoint chosen = source;
    if (claimed && source.is_loopback() && claimed->is_loopback() &&
        claimed->family() == source.family()) {
        chosen = *claimed;
    }
    chosen.set_port(port);
    return chosen;
}

builtin_tracker::builtin_tracker(io::ring& ring, builtin_tracker_settings settings,
                                 connection_ids ids)
    : m_ring(ring), m_settings(std::move(settings)), m_ids(ids),
      m_registry(
          m_settings.swarm,
          static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())) {
}

result<std::unique_ptr<builtin_tracker>>
builtin_tracker::create(io::ring& ring, builtin_tracker_settings settings) {
    if (!settings.udp && !settings.http) {
        return fail(std::make_error_code(std::errc::invalid_argument));
    }
    auto ids = connection_ids::create();
    if (!ids) {
        return fail(ids.error());
    }
    std::unique_ptr<builtin_tracker> tracker(new builtin_tracker(ring, std::move(settings), *ids));
    if (tracker->m_settings.udp) {
        auto udp = bound_socket(*tracker->m_settings.udp, SOCK_DGRAM, std::nullopt);
        if (!udp) {
            return fail(udp.error());
        }
        tracker->m_udp = std::move(udp->first);
        tracker->m_udp_endpoint = udp->second;
    }
    if (tracker->m_settings.http) {
        auto http = bound_socket(*tracker->m_settings.http, SOCK_STREAM, 128);
        if (!http) {
            return fail(http.error());
        }
        tracker->m_http = std::move(http->first);
        tracker->m_http_endpoint = http->second;
    }
    return tracker;
}

io::task<void> builtin_tracker::run(std::stop_token stop) {
    io::scope tasks;
    // The caller's stop reaches every task through the scope's own stop source. The
    // callback runs on this thread, inside whoever requests the stop.
    std::stop_callback forward(stop, [&tasks] { tasks.request_stop(); });
    if (m_udp) {
        tasks.spawn(serve_udp(tasks.token()));
    }
    if (m_http) {
        tasks.spawn(serve_http(tasks, tasks.token()));
    }
    tasks.spawn(expire_peers(tasks.token()));
    co_await tasks.join();
}

io::task<void> builtin_tracker::expire_peers(std::stop_token stop) {
    // Sweeping every half interval keeps a silent peer listed for at most two intervals
    // (its 1.5-interval timeout plus the sweep's delay).
    const std::chrono::nanoseconds period = std::max<std::chrono::nanoseconds>(
        m_settings.swarm.announce_interval / 2, std::chrono::milliseconds(100));
    while (!stop.stop_requested()) {
        result<void> slept = co_await io::sleep_for(m_ring, period, stop);
        if (!slept) {
            break;
        }
        const std::size_t dropped = m_registry.expire(std::chrono::steady_clock::now());
        if (dropped != 0) {
            log("expired " + std::to_string(dropped) + " peers");
        }
    }
}

std::size_t builtin_tracker::numwant(std::int32_t asked, std::size_t cap) const {
    std::size_t wanted = asked < 0 ? m_settings.default_numwant : static_cast<std::size_t>(asked);
    wanted = std::min<std::size_t>(wanted, m_settings.max_numwant);
    return std::min(wanted, cap);
}

void builtin_tracker::log(std::string_view line) const {
    if (m_settings.debug_log) {
        m_settings.debug_log(line);
    }
}

} // namespace spate::tracker
