#include <spate/core/endpoint.hpp>

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace spate {

std::optional<endpoint> endpoint::from_bytes(std::span<const std::byte> address,
                                             std::uint16_t port) {
    if (address.size() != 4 && address.size() != 16) {
        return std::nullopt;
    }
    endpoint e;
    std::memcpy(e.m_bytes.data(), address.data(), address.size());
    e.m_family = address.size() == 4 ? address_family::v4 : address_family::v6;
    e.m_port = port;
    return e;
}

std::optional<endpoint> endpoint::from_sockaddr(const sockaddr* address, socklen_t length) {
    if (address == nullptr) {
        return std::nullopt;
    }
    if (address->sa_family == AF_INET && length >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
        sockaddr_in in{};
        std::memcpy(&in, address, sizeof(in));
        return from_bytes(std::as_bytes(std::span(&in.sin_addr.s_addr, 1)), ntohs(in.sin_port));
    }
    if (address->sa_family == AF_INET6 &&
        length >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
        sockaddr_in6 in6{};
        std::memcpy(&in6, address, sizeof(in6));
        return from_bytes(std::as_bytes(std::span(in6.sin6_addr.s6_addr)), ntohs(in6.sin6_port));
    }
    return std::nullopt;
}

std::optional<endpoint> endpoint::parse_address(std::string_view text, std::uint16_t port) {
    // inet_pton needs a NUL-terminated string; addresses are short.
    if (text.empty() || text.size() >= INET6_ADDRSTRLEN) {
        return std::nullopt;
    }
    char buffer[INET6_ADDRSTRLEN] = {};
    std::memcpy(buffer, text.data(), text.size());
    std::array<std::byte, 16> raw{};
    if (text.find(':') == std::string_view::npos) {
        if (inet_pton(AF_INET, buffer, raw.data()) != 1) {
            return std::nullopt;
        }
        return from_bytes(std::span(raw).first(4), port);
    }
    if (inet_pton(AF_INET6, buffer, raw.data()) != 1) {
        return std::nullopt;
    }
    return from_bytes(raw, port);
}

std::optional<endpoint> endpoint::parse(std::string_view text) {
    std::string_view host;
    std::string_view port_text;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            return std::nullopt;
        }
        host = text.substr(1, close - 1);
        port_text = text.substr(close + 2);
        if (host.find(':') == std::string_view::npos) {
            return std::nullopt; // brackets are for IPv6 only
        }
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string_view::npos) {
            return std::nullopt;
        }
        host = text.substr(0, colon);
        port_text = text.substr(colon + 1);
        if (host.find(':') != std::string_view::npos) {
            return std::nullopt; // an IPv6 address with a port needs brackets
        }
    }
    std::uint16_t port = 0;
    const char* end = port_text.data() + port_text.size();
    auto [ptr, ec] = std::from_chars(port_text.data(), end, port);
    if (port_text.empty() || ec != std::errc() || ptr != end) {
        return std::nullopt;
    }
    return parse_address(host, port);
}

bool endpoint::is_loopback() const {
    if (is_v4()) {
        return m_bytes[0] == std::byte{127};
    }
    for (std::size_t i = 0; i < 15; ++i) {
        if (m_bytes[i] != std::byte{0}) {
            return false;
        }
    }
    return m_bytes[15] == std::byte{1};
}

socklen_t endpoint::to_sockaddr(sockaddr_storage& out) const {
    out = sockaddr_storage{};
    if (is_v4()) {
        sockaddr_in in{};
        in.sin_family = AF_INET;
        in.sin_port = htons(m_port);
        std::memcpy(&in.sin_addr.s_addr, m_bytes.data(), 4);
        std::memcpy(&out, &in, sizeof(in));
        return sizeof(in);
    }
    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(m_port);
    std::memcpy(in6.sin6_addr.s6_addr, m_bytes.data(), 16);
    std::memcpy(&out, &in6, sizeof(in6));
    return sizeof(in6);
}

std::string endpoint::address_string() const {
    char buffer[INET6_ADDRSTRLEN] = {};
    inet_ntop(is_v4() ? AF_INET : AF_INET6, m_bytes.data(), buffer, sizeof(buffer));
    return buffer;
}

std::string endpoint::to_string() const {
    // Built by appending: g++ 12 warns (-Wrestrict, a false positive) on the
    // operator+ chain at -O3.
    std::string out;
    if (!is_v4()) {
        out += '[';
    }
    out += address_string();
    if (!is_v4()) {
        out += ']';
    }
    out += ':';
    out += std::to_string(m_port);
    return out;
}

} // namespace spate

std::size_t std::hash<spate::endpoint>::operator()(const spate::endpoint& e) const noexcept {
    std::size_t h = e.port();
    for (std::byte b : e.address_bytes()) {
        h = h * 131 + static_cast<std::size_t>(b);
    }
    return h;
}
