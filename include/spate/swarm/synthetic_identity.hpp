#pragma once
/// Who the synthetic peers are: their loopback addresses (127.0.0.2, 127.0.0.3, ...,
/// skipping .0 and .255) and their peer ids, distinct per peer so a client that refuses a
/// second connection from one peer id still takes every one of them.

#include <spate/core/endpoint.hpp>
#include <spate/core/result.hpp>
#include <spate/peer/handshake.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace spate::swarm {

/// `count` loopback addresses (host order) from `first`, skipping those that end in .0
/// or .255. Errors: std::errc::invalid_argument when they would leave 127.0.0.0/8.
[[nodiscard]] result<std::vector<std::uint32_t>> synthetic_addresses(std::uint32_t first,
                                                                     std::size_t count);

/// The IPv4 address (host order) with `port`.
[[nodiscard]] endpoint synthetic_endpoint(std::uint32_t address, std::uint16_t port);

/// "-SW0100-" (for `tag` "SW") and twelve characters naming peer `index`.
[[nodiscard]] peer::peer_id synthetic_peer_id(std::string_view tag, std::size_t index);

} // namespace spate::swarm
