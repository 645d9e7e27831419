#pragma once
// Host names as they come in URLs and tracker lists: literal addresses, "localhost", and
// names to look up. Pure functions, no I/O.

#include <spate/core/endpoint.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace spate::net::detail {

/// A numeric IPv4 or IPv6 address ("10.0.0.1", "::1", "[::1]" as in URLs), with `port`.
[[nodiscard]] std::optional<endpoint> literal_address(std::string_view host, std::uint16_t port);

/// "localhost" and names under ".localhost" (RFC 6761: always loopback, never looked up),
/// in any case, with or without a final dot.
[[nodiscard]] bool is_localhost(std::string_view host);

/// A DNS name we are willing to send to a server: 1 to 253 characters of letters, digits,
/// '-', '_' and '.', labels of 1 to 63 characters, an optional final dot.
[[nodiscard]] bool is_valid_host_name(std::string_view host);

/// The cache key of a name: lower case, without the final dot.
[[nodiscard]] std::string normalize_host_name(std::string_view host);

} // namespace spate::net::detail
