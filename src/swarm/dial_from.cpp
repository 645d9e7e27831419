#include <spate/io/socket_ops.hpp>
#include <spate/swarm/dial_from.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>

namespace spate::swarm {

io::task<result<io::unique_fd>> dial_from(io::ring& ring, endpoint source, endpoint target,
                                          std::chrono::milliseconds timeout,
                                          std::stop_token stop) {
    io::unique_fd fd(::socket(source.is_v4() ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_CLOEXEC,
                              IPPROTO_TCP));
    if (!fd) {
        co_return fail(errno_code(errno));
    }
    sockaddr_storage from{};
    const socklen_t from_length = source.to_sockaddr(from);
    if (source.is_v4()) {
        reinterpret_cast<sockaddr_in*>(&from)->sin_port = 0;
    } else {
        reinterpret_cast<sockaddr_in6*>(&from)->sin6_port = 0;
    }
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&from), from_length) != 0) {
        co_return fail(errno_code(errno));
    }
    sockaddr_storage to{};
    const socklen_t to_length = target.to_sockaddr(to);
    io::op_options options;
    options.stop = stop;
    options.timeout = timeout;
    result<void> connected = co_await io::connect(
        ring, fd.get(), reinterpret_cast<const sockaddr*>(&to), to_length, options);
    if (!connected) {
        co_return fail(connected.error());
    }
    int one = 1;
    static_cast<void>(::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)));
    co_return std::move(fd);
}

} // namespace spate::swarm
