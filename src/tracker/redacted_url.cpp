#include <spate/tracker/redacted_url.hpp>

#include <algorithm>
#include <cstddef>

namespace spate::tracker {
namespace {

constexpr std::string_view hidden = "***";
constexpr std::size_t min_secret_length = 16;

bool is_key_character(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
}

// A path segment that looks like a passkey: long, one token, with a digit in it.
bool looks_like_key(std::string_view segment) {
    return segment.size() >= min_secret_length &&
           std::all_of(segment.begin(), segment.end(), is_key_character) &&
           std::any_of(segment.begin(), segment.end(), [](char c) { return c >= '0' && c <= '9'; });
}

void append_path(std::string& out, std::string_view path) {
    while (!path.empty()) {
        const std::size_t slash = path.find('/');
        const std::string_view segment = path.substr(0, slash);
        out += looks_like_key(segment) ? hidden : segment;
        if (slash == std::string_view::npos) {
            break;
        }
        out += '/';
        path.remove_prefix(slash + 1);
    }
}

void append_query(std::string& out, std::string_view query) {
    bool first = true;
    while (true) {
        const std::size_t amp = query.find('&');
        const std::string_view item = query.substr(0, amp);
        if (!first) {
            out += '&';
        }
        first = false;
        if (const std::size_t eq = item.find('='); eq != std::string_view::npos) {
            out += item.substr(0, eq + 1);
            if (eq + 1 < item.size()) {
                out += hidden;
            }
        } else {
            out += item.size() >= min_secret_length ? hidden : item;
        }
        if (amp == std::string_view::npos) {
            break;
        }
        query.remove_prefix(amp + 1);
    }
}

} // namespace

std::string redacted_url(std::string_view url) {
    std::string out;
    out.reserve(url.size());
    url = url.substr(0, url.find('#'));

    std::string_view rest = url;
    if (const std::size_t scheme_end = url.find("://"); scheme_end != std::string_view::npos) {
        out += url.substr(0, scheme_end + 3);
        rest = url.substr(scheme_end + 3);
        const std::string_view authority = rest.substr(0, rest.find_first_of("/?"));
        if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
            out += hidden;
            out += authority.substr(at); // "@host:port"
        } else {
            out += authority;
        }
        rest.remove_prefix(authority.size());
    }
    const std::size_t question = rest.find('?');
    append_path(out, rest.substr(0, question));
    if (question != std::string_view::npos) {
        out += '?';
        append_query(out, rest.substr(question + 1));
    }
    return out;
}

} // namespace spate::tracker
