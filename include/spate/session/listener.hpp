#pragma once
/// listener: the listen sockets peers dial us on, IPv4 and IPv6 on one port, and the
/// accept loops that hand each new connection on.

#include <spate/core/endpoint.hpp>
#include <spate/core/result.hpp>
#include <spate/io/ring.hpp>
#include <spate/io/task.hpp>
#include <spate/io/unique_fd.hpp>

#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>
#include <vector>

namespace spate::session {

struct listen_settings {
    /// The first port tried; 0 lets the kernel choose.
    std::uint16_t port = 6881;
    /// Ports tried in a row (port, port + 1, ...) when one is taken.
    unsigned tries = 10;
    /// An address to bind; empty binds every IPv4 address and, where the machine has
    /// IPv6, every IPv6 address too.
    std::string address;
};

class listener {
public:
    /// Binds and listens. Errors: the errno of the last attempt (EADDRINUSE when every
    /// port tried was taken), or EINVAL for an address that does not parse.
    [[nodiscard]] static result<listener> open(const listen_settings& settings);

    /// The port every socket of this listener listens on.
    [[nodiscard]] std::uint16_t port() const noexcept { return m_port; }

    using accept_function = std::function<void(io::unique_fd, endpoint)>;
    /// Accepts on every socket until `stop`; each connection goes to `on_accept` with the
    /// peer's address (TCP_NODELAY set). A failed accept (EMFILE, say) waits briefly and
    /// goes on. The listener and the ring are borrowed until the task completes.
    [[nodiscard]] io::task<void> run(io::ring& ring, accept_function on_accept,
                                     std::stop_token stop);

private:
    listener(std::vector<io::unique_fd> sockets, std::uint16_t port)
        : m_sockets(std::move(sockets)), m_port(port) {}
    std::vector<io::unique_fd> m_sockets;
    std::uint16_t m_port = 0;
};

} // namespace spate::session
