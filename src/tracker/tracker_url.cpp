#include <spate/tracker/tracker_url.hpp>

#include <spate/tracker/error.hpp>

#include <cctype>
#include <charconv>

namespace spate::tracker {

namespace {

bool starts_with_nocase(std::string_view text, std::string_view prefix) {
    if (text.size() < prefix.size()) {
        return false;
    }
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) {
            return false;
        }
    }
    return true;
}

} // namespace

result<tracker_url> parse_tracker_url(std::string_view url) {
    tracker_url out;
    std::string_view rest;
    if (starts_with_nocase(url, "udp://")) {
        out.scheme = tracker_scheme::udp;
        rest = url.substr(6);
    } else if (starts_with_nocase(url, "http://")) {
        out.scheme = tracker_scheme::http;
        out.port = 80;
        rest = url.substr(7);
    } else if (starts_with_nocase(url, "https://")) {
        out.scheme = tracker_scheme::https;
        out.port = 443;
        rest = url.substr(8);
    } else {
        return fail(errc::bad_url);
    }
    const std::size_t end = rest.find_first_of("/?#");
    std::string_view authority = rest.substr(0, end);
    if (end != std::string_view::npos) {
        std::string_view tail = rest.substr(end);
        tail = tail.substr(0, tail.find('#')); // a fragment never goes to the tracker
        out.path_and_query = std::string(tail);
    }
    if (authority.find('@') != std::string_view::npos) {
        return fail(errc::bad_url);
    }
    std::string_view host;
    std::string_view port_text;
    bool has_port = false;
    if (!authority.empty() && authority.front() == '[') {
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos) {
            return fail(errc::bad_url);
        }
        host = authority.substr(1, close - 1);
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') {
                return fail(errc::bad_url);
            }
            port_text = after.substr(1);
            has_port = true;
        }
    } else {
        const std::size_t colon = authority.find(':');
        host = authority.substr(0, colon);
        if (colon != std::string_view::npos) {
            port_text = authority.substr(colon + 1);
            has_port = true;
        }
    }
    for (char c : host) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f) {
            return fail(errc::bad_url);
        }
    }
    if (host.empty()) {
        return fail(errc::bad_url);
    }
    out.host = std::string(host);
    if (has_port) {
        unsigned port = 0;
        const char* last = port_text.data() + port_text.size();
        auto [ptr, ec] = std::from_chars(port_text.data(), last, port);
        if (port_text.empty() || ec != std::errc() || ptr != last || port == 0 || port > 65535) {
            return fail(errc::bad_url);
        }
        out.port = static_cast<std::uint16_t>(port);
    } else if (out.scheme == tracker_scheme::udp) {
        return fail(errc::bad_url);
    }
    return out;
}

} // namespace spate::tracker
