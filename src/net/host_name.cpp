#include "host_name.hpp"

#include <cstddef>

namespace spate::net::detail {

namespace {

constexpr std::size_t max_name_length = 253;
constexpr std::size_t max_label_length = 63;

char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

std::string_view without_final_dot(std::string_view host) {
    if (!host.empty() && host.back() == '.') {
        host.remove_suffix(1);
    }
    return host;
}

bool equals_lower(std::string_view text, std::string_view lower_case) {
    if (text.size() != lower_case.size()) {
        return false;
    }
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (lower(text[i]) != lower_case[i]) {
            return false;
        }
    }
    return true;
}

} // namespace

std::optional<endpoint> literal_address(std::string_view host, std::uint16_t port) {
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
        // Brackets hold IPv6 only: "[1.2.3.4]" is not an address.
        std::optional<endpoint> address = endpoint::parse_address(host, port);
        if (!address || address->is_v4()) {
            return std::nullopt;
        }
        return address;
    }
    return endpoint::parse_address(host, port);
}

bool is_localhost(std::string_view host) {
    host = without_final_dot(host);
    constexpr std::string_view name = "localhost";
    constexpr std::string_view suffix = ".localhost";
    if (equals_lower(host, name)) {
        return true;
    }
    return host.size() > suffix.size() &&
           equals_lower(host.substr(host.size() - suffix.size()), suffix) &&
           is_valid_host_name(host);
}

bool is_valid_host_name(std::string_view host) {
    host = without_final_dot(host);
    if (host.empty() || host.size() > max_name_length) {
        return false;
    }
    std::size_t label = 0;
    for (char c : host) {
        if (c == '.') {
            if (label == 0) {
                return false;
            }
            label = 0;
            continue;
        }
        if (!is_name_char(c) || ++label > max_label_length) {
            return false;
        }
    }
    return label != 0;
}

std::string normalize_host_name(std::string_view host) {
    host = without_final_dot(host);
    std::string key;
    key.reserve(host.size());
    for (char c : host) {
        key.push_back(lower(c));
    }
    return key;
}

} // namespace spate::net::detail
