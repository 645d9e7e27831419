#pragma once
/// endpoint: an IPv4 or IPv6 address and a port, as a plain value (no I/O).

#include <spate/core/result.hpp>

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace spate {

enum class address_family : std::uint8_t { v4, v6 };

/// An IP address and port. IPv4 addresses use the first 4 bytes of `bytes`. Ordered and
/// hashable, so peer lists can be deduplicated.
class endpoint {
public:
    endpoint() = default;

    /// From network-order address bytes (4 or 16 of them) and a host-order port.
    [[nodiscard]] static std::optional<endpoint> from_bytes(std::span<const std::byte> address,
                                                            std::uint16_t port);
    /// From a sockaddr_in or sockaddr_in6; nullopt for other families or short lengths.
    [[nodiscard]] static std::optional<endpoint> from_sockaddr(const sockaddr* address,
                                                               socklen_t length);
    /// Parses "1.2.3.4:80" or "[::1]:80" (numeric only; no names). Port 0 is allowed.
    [[nodiscard]] static std::optional<endpoint> parse(std::string_view text);
    /// Parses a numeric address without a port ("127.0.0.1", "::1").
    [[nodiscard]] static std::optional<endpoint> parse_address(std::string_view text,
                                                               std::uint16_t port);

    [[nodiscard]] address_family family() const { return m_family; }
    [[nodiscard]] bool is_v4() const { return m_family == address_family::v4; }
    [[nodiscard]] std::uint16_t port() const { return m_port; }
    void set_port(std::uint16_t port) { m_port = port; }
    /// The address in network order: 4 bytes for IPv4, 16 for IPv6.
    [[nodiscard]] std::span<const std::byte> address_bytes() const {
        return std::span(m_bytes).first(is_v4() ? 4 : 16);
    }
    /// True for 127.0.0.0/8 and ::1.
    [[nodiscard]] bool is_loopback() const;

    /// Fills a sockaddr_storage for connect/sendmsg; returns the length to pass.
    socklen_t to_sockaddr(sockaddr_storage& out) const;
    /// "1.2.3.4:80" or "[::1]:80".
    [[nodiscard]] std::string to_string() const;
    /// "1.2.3.4" or "::1".
    [[nodiscard]] std::string address_string() const;

    auto operator<=>(const endpoint&) const = default;

private:
    std::array<std::byte, 16> m_bytes{};
    address_family m_family = address_family::v4;
    std::uint16_t m_port = 0;
};

} // namespace spate

template <>
struct std::hash<spate::endpoint> {
    std::size_t operator()(const spate::endpoint& e) const noexcept;
};
