#include "url_check.hpp"

#include <array>

namespace spate::metainfo::detail {

namespace {

bool starts_with_scheme(std::string_view url, std::string_view scheme) {
    if (url.size() < scheme.size()) {
        return false;
    }
    for (std::size_t i = 0; i < scheme.size(); ++i) {
        char c = url[i];
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
        if (c != scheme[i]) {
            return false;
        }
    }
    return true;
}

template <std::size_t N>
bool has_scheme_and_clean_bytes(std::string_view url,
                                const std::array<std::string_view, N>& schemes) {
    for (const auto scheme : schemes) {
        if (!starts_with_scheme(url, scheme)) {
            continue;
        }
        // A host must follow the scheme; "http://" alone or "http:///x" names no server.
        if (url.size() == scheme.size() || url[scheme.size()] == '/') {
            return false;
        }
        for (const char c : url) {
            const auto b = static_cast<unsigned char>(c);
            if (b <= 0x20 || b == 0x7f) {
                return false;
            }
        }
        return true;
    }
    return false;
}

} // namespace

bool is_tracker_url(std::string_view url) {
    static constexpr std::array<std::string_view, 3> schemes{"http://", "https://", "udp://"};
    return has_scheme_and_clean_bytes(url, schemes);
}

bool is_web_seed_url(std::string_view url) {
    static constexpr std::array<std::string_view, 2> schemes{"http://", "https://"};
    return has_scheme_and_clean_bytes(url, schemes);
}

} // namespace spate::metainfo::detail
