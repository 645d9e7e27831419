#pragma once
/// tracker_url: the parts of an announce URL the clients need, as pure parsing.

#include <spate/core/result.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace spate::tracker {

enum class tracker_scheme : std::uint8_t { udp, http, https };

/// "udp://tracker.example:6969/announce?x=1" ->
/// {udp, "tracker.example", 6969, "/announce?x=1"}. An IPv6 host is given in brackets
/// in the URL and kept without them here. HTTP(S) URLs default to ports 80 and 443; a UDP
/// URL must name its port.
struct tracker_url {
    tracker_scheme scheme = tracker_scheme::udp;
    std::string host;
    std::uint16_t port = 0;
    /// From the first '/' or '?' after the authority on; may be empty.
    std::string path_and_query;
};

/// Parses `url`; errc::bad_url for anything that is not an http, https or udp URL with a
/// host and a valid port (1..65535). The scheme is matched case-insensitively; user info
/// ("user@host") is refused, as trackers never need it and it hides the real host.
[[nodiscard]] result<tracker_url> parse_tracker_url(std::string_view url);

} // namespace spate::tracker
