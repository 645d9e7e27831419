#include <spate/core/peer_address_policy.hpp>

#include <algorithm>
#include <array>
#include <cstddef>

namespace spate {
namespace {

std::uint8_t byte_at(const endpoint& peer, std::size_t i) {
    return static_cast<std::uint8_t>(peer.address_bytes()[i]);
}

// An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is judged as the IPv4 address it carries.
bool is_v4_mapped(const endpoint& peer) {
    auto bytes = peer.address_bytes();
    return std::all_of(bytes.begin(), bytes.begin() + 10,
                       [](std::byte b) { return b == std::byte{0}; }) &&
           bytes[10] == std::byte{0xff} && bytes[11] == std::byte{0xff};
}

peer_address_verdict judge_v4(std::uint8_t first, bool all_ones) {
    if (first == 0) {
        return peer_address_verdict::unspecified;
    }
    if (first >= 224 && first <= 239) {
        return peer_address_verdict::multicast;
    }
    if (first >= 240 || all_ones) {
        return peer_address_verdict::broadcast;
    }
    return peer_address_verdict::dialable;
}

peer_address_verdict judge_address(const endpoint& peer) {
    if (peer.is_v4()) {
        auto bytes = peer.address_bytes();
        const bool all_ones = std::all_of(bytes.begin(), bytes.end(),
                                          [](std::byte b) { return b == std::byte{0xff}; });
        return judge_v4(byte_at(peer, 0), all_ones);
    }
    if (is_v4_mapped(peer)) {
        const bool all_ones = byte_at(peer, 12) == 0xff && byte_at(peer, 13) == 0xff &&
                              byte_at(peer, 14) == 0xff && byte_at(peer, 15) == 0xff;
        return judge_v4(byte_at(peer, 12), all_ones);
    }
    auto bytes = peer.address_bytes();
    if (std::all_of(bytes.begin(), bytes.end(), [](std::byte b) { return b == std::byte{0}; })) {
        return peer_address_verdict::unspecified;
    }
    if (byte_at(peer, 0) == 0xff) {
        return peer_address_verdict::multicast;
    }
    return peer_address_verdict::dialable;
}

} // namespace

peer_address_verdict judge_peer_address(const endpoint& peer, peer_address_rules rules) {
    if (peer.port() == 0) {
        return peer_address_verdict::port_zero;
    }
    if (peer_address_verdict v = judge_address(peer); v != peer_address_verdict::dialable) {
        return v;
    }
    if (peer.port() < 1024 && !rules.allow_privileged_ports) {
        return peer_address_verdict::privileged_port;
    }
    return peer_address_verdict::dialable;
}

std::string_view describe(peer_address_verdict verdict) {
    switch (verdict) {
    case peer_address_verdict::dialable: return "";
    case peer_address_verdict::port_zero: return "port 0";
    case peer_address_verdict::privileged_port: return "privileged port";
    case peer_address_verdict::unspecified: return "unspecified address";
    case peer_address_verdict::multicast: return "multicast address";
    case peer_address_verdict::broadcast: return "broadcast or reserved address";
    }
    return "unknown";
}

} // namespace spate
