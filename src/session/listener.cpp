#include <spate/io/scope.hpp>
#include <spate/io/socket_ops.hpp>
#include <spate/io/timer_ops.hpp>
#include <spate/session/listener.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace spate::session {

namespace {

result<io::unique_fd> listen_on(const endpoint& where) {
    const bool v6 = !where.is_v4();
    io::unique_fd fd(::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP));
    if (!fd) {
        return fail(errno_code(errno));
    }
    int one = 1;
    static_cast<void>(::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
    if (v6) {
        // The IPv4 socket takes IPv4; this one only IPv6, so both fit on one port.
        static_cast<void>(::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)));
    }
    sockaddr_storage address{};
    const socklen_t length = where.to_sockaddr(address);
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), length) != 0 ||
        ::listen(fd.get(), 128) != 0) {
        return fail(errno_code(errno));
    }
    return fd;
}

std::uint16_t bound_port(int fd) {
    sockaddr_storage address{};
    socklen_t length = sizeof(address);
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        return 0;
    }
    auto where = endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&address), length);
    return where ? where->port() : 0;
}

std::vector<endpoint> addresses_for(const listen_settings& settings, std::uint16_t port) {
    std::vector<endpoint> out;
    const std::string text = settings.address.find(':') != std::string::npos
                                 ? "[" + settings.address + "]:" + std::to_string(port)
                                 : settings.address + ":" + std::to_string(port);
    if (!settings.address.empty()) {
        if (auto one = endpoint::parse(text)) {
            out.push_back(*one);
        }
        return out;
    }
    out.push_back(*endpoint::parse("0.0.0.0:" + std::to_string(port)));
    out.push_back(*endpoint::parse("[::]:" + std::to_string(port)));
    return out;
}

io::task<void> accept_loop(io::ring& ring, int fd, listener::accept_function& on_accept,
                           std::stop_token stop) {
    while (!stop.stop_requested()) {
        io::op_options options;
        options.stop = stop;
        result<int> accepted = co_await io::accept(ring, fd, options);
        if (!accepted) {
            if (accepted.error() == std::errc::operation_canceled) {
                break;
            }
            // Out of descriptors or memory: let some connections end before the next try.
            result<void> slept = co_await io::sleep_for(ring, std::chrono::milliseconds(100), stop);
            static_cast<void>(slept);
            continue;
        }
        io::unique_fd socket(*accepted);
        sockaddr_storage address{};
        socklen_t length = sizeof(address);
        if (::getpeername(socket.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
            continue;
        }
        auto remote = endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&address), length);
        if (!remote) {
            continue;
        }
        int one = 1;
        static_cast<void>(
            ::setsockopt(socket.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)));
        on_accept(std::move(socket), *remote);
    }
}

} // namespace

result<listener> listener::open(const listen_settings& settings) {
    std::error_code last = std::make_error_code(std::errc::address_in_use);
    const unsigned tries = settings.port == 0 ? 1 : std::max(1U, settings.tries);
    for (unsigned i = 0; i < tries && settings.port + i <= 65535; ++i) {
        auto port = static_cast<std::uint16_t>(settings.port + i);
        std::vector<endpoint> wanted = addresses_for(settings, port);
        if (wanted.empty()) {
            return fail(std::make_error_code(std::errc::invalid_argument));
        }
        std::vector<io::unique_fd> sockets;
        bool taken = false;
        for (const endpoint& where : wanted) {
            endpoint at = where;
            if (port == 0 && !sockets.empty()) {
                // The kernel chose the first socket's port: the others take the same.
                const std::uint16_t chosen = bound_port(sockets.front().get());
                at = *endpoint::parse(where.is_v4()
                                          ? where.address_string() + ":" + std::to_string(chosen)
                                          : "[" + where.address_string() + "]:" +
                                                std::to_string(chosen));
            }
            result<io::unique_fd> fd = listen_on(at);
            if (fd) {
                sockets.push_back(std::move(*fd));
                continue;
            }
            if (!where.is_v4() && settings.address.empty() &&
                (fd.error() == std::errc::address_family_not_supported ||
                 fd.error() == std::errc::address_not_available)) {
                continue; // no IPv6 on this machine: IPv4 alone will do
            }
            last = fd.error();
            taken = true;
            break;
        }
        if (!taken && !sockets.empty()) {
            const std::uint16_t got = bound_port(sockets.front().get());
            return listener(std::move(sockets), got);
        }
        if (last != std::errc::address_in_use) {
            return fail(last);
        }
    }
    return fail(last);
}

io::task<void> listener::run(io::ring& ring, accept_function on_accept, std::stop_token stop) {
    io::scope loops;
    std::stop_callback forward(stop, [&loops] { loops.request_stop(); });
    for (const io::unique_fd& fd : m_sockets) {
        loops.spawn(accept_loop(ring, fd.get(), on_accept, loops.token()));
    }
    co_await loops.join();
}

} // namespace spate::session
