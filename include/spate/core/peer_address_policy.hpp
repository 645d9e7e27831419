#pragma once
/// peer_address_policy: which addresses a tracker (or, later, PEX) may make us dial.
///
/// A tracker reply is hostile input: a list of "peers" can aim our connections at
/// someone's mail server (a privileged port), at a multicast group or a broadcast address,
/// or at addresses no peer can have. Peers the user names on the command line are not
/// filtered; peers learnt from the network are, by this one rule.

#include <spate/core/endpoint.hpp>

#include <cstdint>
#include <string_view>

namespace spate {

enum class peer_address_verdict : std::uint8_t {
    dialable,
    port_zero,        ///< port 0: nothing listens there
    privileged_port,  ///< 1..1023: system services, not BitTorrent peers
    unspecified,      ///< 0.0.0.0/8 or ::
    multicast,        ///< 224.0.0.0/4 or ff00::/8
    broadcast,        ///< 255.255.255.255 (and the rest of 240.0.0.0/4, reserved)
};

struct peer_address_rules {
    /// Dial peers that say they listen below port 1024 (off by default, as in libtorrent).
    bool allow_privileged_ports = false;
};

/// The verdict for a peer learnt from a tracker or another peer.
[[nodiscard]] peer_address_verdict judge_peer_address(const endpoint& peer,
                                                      peer_address_rules rules = {});

/// "privileged port", "multicast address", ...; "" for dialable.
[[nodiscard]] std::string_view describe(peer_address_verdict verdict);

} // namespace spate
