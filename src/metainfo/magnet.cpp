#include <spate/metainfo/error.hpp>
#include <spate/metainfo/magnet.hpp>

#include <charconv>
#include <optional>

namespace spate::metainfo {

namespace {

constexpr std::string_view scheme = "magnet:?";
constexpr std::string_view btih_prefix = "urn:btih:";

char to_lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (to_lower(a[i]) != to_lower(b[i])) {
            return false;
        }
    }
    return true;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = to_lower(c);
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

bool is_alnum(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

result<std::string> percent_decode(std::string_view in, bool plus_is_space) {
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        const char c = in[i];
        if (c == '%') {
            if (in.size() - i < 3) {
                return fail(errc::magnet_bad_escape);
            }
            const int hi = hex_value(in[i + 1]);
            const int lo = hex_value(in[i + 2]);
            if (hi < 0 || lo < 0) {
                return fail(errc::magnet_bad_escape);
            }
            out.push_back(static_cast<char>((hi << 4) | lo));
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    return out;
}

// Characters written literally by to_string(); everything else is percent-encoded, which
// keeps '&', '%', '+', '#' and '=' out of values so they parse back unchanged.
bool is_literal(char c) {
    return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == ':' || c == '/' ||
           c == '@' || c == '[' || c == ']' || c == ',';
}

void percent_encode(std::string_view in, std::string& out) {
    static constexpr char digits[] = "0123456789ABCDEF";
    for (const char c : in) {
        if (is_literal(c)) {
            out.push_back(c);
        } else {
            const auto b = static_cast<unsigned char>(c);
            out.push_back('%');
            out.push_back(digits[b >> 4]);
            out.push_back(digits[b & 0xf]);
        }
    }
}

int base32_value(char c) {
    c = to_lower(c);
    if (c >= 'a' && c <= 'z') {
        return c - 'a';
    }
    if (c >= '2' && c <= '7') {
        return c - '2' + 26;
    }
    return -1;
}

result<sha1_digest> parse_btih(std::string_view text) {
    if (text.size() == 2 * sha1_digest::size) {
        for (const char c : text) {
            if (hex_value(c) < 0) {
                return fail(errc::magnet_bad_hex);
            }
        }
        return *sha1_digest::from_hex(text);
    }
    if (text.size() == 32) {
        // 32 characters of 5 bits each are exactly the 160 bits of a SHA-1 digest.
        sha1_digest out;
        std::uint32_t acc = 0;
        int bits = 0;
        std::size_t n = 0;
        for (const char c : text) {
            const int v = base32_value(c);
            if (v < 0) {
                return fail(errc::magnet_bad_base32);
            }
            acc = (acc << 5) | static_cast<std::uint32_t>(v);
            bits += 5;
            if (bits >= 8) {
                bits -= 8;
                out.bytes[n++] = static_cast<std::byte>((acc >> bits) & 0xff);
            }
        }
        return out;
    }
    return fail(errc::magnet_bad_info_hash_length);
}

template <typename Int> std::optional<Int> parse_decimal(std::string_view text) {
    if (text.empty()) {
        return std::nullopt;
    }
    for (const char c : text) {
        if (!is_digit(c)) {
            return std::nullopt;
        }
    }
    Int v{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return v;
}

bool is_host_char(char c) {
    return is_alnum(c) || c == '-' || c == '.' || c == '_';
}

bool is_v6_char(char c) {
    return hex_value(c) >= 0 || c == ':' || c == '.';
}

result<magnet_peer> parse_peer(std::string_view text) {
    std::string_view host;
    std::string_view port;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            return fail(errc::magnet_bad_peer);
        }
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
        if (host.find(':') == std::string_view::npos) {
            return fail(errc::magnet_bad_peer);
        }
        for (const char c : host) {
            if (!is_v6_char(c)) {
                return fail(errc::magnet_bad_peer);
            }
        }
    } else {
        const auto colon = text.find(':');
        if (colon == std::string_view::npos) {
            return fail(errc::magnet_bad_peer);
        }
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (host.empty()) {
            return fail(errc::magnet_bad_peer);
        }
        for (const char c : host) {
            if (!is_host_char(c)) {
                return fail(errc::magnet_bad_peer);
            }
        }
    }
    const auto p = port.size() <= 5 ? parse_decimal<std::uint32_t>(port) : std::nullopt;
    if (!p || *p == 0 || *p > 65535) {
        return fail(errc::magnet_bad_peer);
    }
    return magnet_peer{std::string(host), static_cast<std::uint16_t>(*p)};
}

result<std::vector<file_selection>> parse_selection(std::string_view text) {
    if (text.empty()) {
        return fail(errc::magnet_bad_file_selection);
    }
    std::vector<file_selection> out;
    while (true) {
        const auto comma = text.find(',');
        const auto item = text.substr(0, comma);
        const auto dash = item.find('-');
        const auto first = parse_decimal<std::uint32_t>(item.substr(0, dash));
        const auto last = dash == std::string_view::npos
                              ? first
                              : parse_decimal<std::uint32_t>(item.substr(dash + 1));
        if (!first || !last || *last < *first) {
            return fail(errc::magnet_bad_file_selection);
        }
        out.push_back(file_selection{file_index(*first), file_index(*last)});
        if (comma == std::string_view::npos) {
            return out;
        }
        text.remove_prefix(comma + 1);
    }
}

// `tr.1` counts as `tr`; `x.pe` is a name of its own, not a numbered `x`.
std::string_view base_key(std::string_view key) {
    const auto dot = key.rfind('.');
    if (dot == std::string_view::npos || dot + 1 == key.size()) {
        return key;
    }
    for (const char c : key.substr(dot + 1)) {
        if (!is_digit(c)) {
            return key;
        }
    }
    return key.substr(0, dot);
}

} // namespace

bool magnet_uri::selects(file_index file) const {
    if (selected_files.empty()) {
        return true;
    }
    for (const auto& s : selected_files) {
        if (s.first <= file && file <= s.last) {
            return true;
        }
    }
    return false;
}

result<magnet_uri> parse_magnet(std::string_view text) {
    if (text.size() < scheme.size() || !iequals(text.substr(0, scheme.size()), scheme)) {
        return fail(errc::not_a_magnet);
    }
    text.remove_prefix(scheme.size());

    magnet_uri out;
    bool have_hash = false;
    bool have_name = false;
    while (!text.empty()) {
        const auto amp = text.find('&');
        const auto param = text.substr(0, amp);
        text = amp == std::string_view::npos ? std::string_view{} : text.substr(amp + 1);
        if (param.empty()) {
            continue;
        }
        const auto eq = param.find('=');
        const auto key = base_key(param.substr(0, eq));
        const auto raw = eq == std::string_view::npos ? std::string_view{} : param.substr(eq + 1);
        auto value = percent_decode(raw, key == "dn");
        if (!value) {
            return fail(value.error());
        }
        if (key == "xt") {
            if (value->size() < btih_prefix.size() ||
                !iequals(std::string_view(*value).substr(0, btih_prefix.size()), btih_prefix)) {
                continue; // another URN kind (btmh, sha1, ...): not ours
            }
            auto hash = parse_btih(std::string_view(*value).substr(btih_prefix.size()));
            if (!hash) {
                return fail(hash.error());
            }
            if (have_hash && *hash != out.info_hash) {
                return fail(errc::magnet_conflicting_info_hash);
            }
            out.info_hash = *hash;
            have_hash = true;
        } else if (key == "dn") {
            if (!have_name) {
                out.display_name = std::move(*value);
                have_name = true;
            }
        } else if (key == "tr") {
            if (!value->empty()) {
                out.trackers.push_back(std::move(*value));
            }
        } else if (key == "ws") {
            if (!value->empty()) {
                out.web_seeds.push_back(std::move(*value));
            }
        } else if (key == "x.pe") {
            auto peer = parse_peer(*value);
            if (!peer) {
                return fail(peer.error());
            }
            out.peers.push_back(std::move(*peer));
        } else if (key == "so") {
            auto selection = parse_selection(*value);
            if (!selection) {
                return fail(selection.error());
            }
            out.selected_files.insert(out.selected_files.end(), selection->begin(),
                                      selection->end());
        }
    }
    if (!have_hash) {
        return fail(errc::magnet_missing_info_hash);
    }
    return out;
}

std::string to_string(const magnet_uri& uri) {
    std::string out(scheme);
    out += "xt=urn:btih:";
    out += uri.info_hash.hex();
    if (!uri.display_name.empty()) {
        out += "&dn=";
        percent_encode(uri.display_name, out);
    }
    for (const auto& t : uri.trackers) {
        out += "&tr=";
        percent_encode(t, out);
    }
    for (const auto& w : uri.web_seeds) {
        out += "&ws=";
        percent_encode(w, out);
    }
    for (const auto& p : uri.peers) {
        out += "&x.pe=";
        const bool v6 = p.host.find(':') != std::string::npos;
        out += v6 ? "[" : "";
        percent_encode(p.host, out);
        out += v6 ? "]:" : ":";
        out += std::to_string(p.port);
    }
    if (!uri.selected_files.empty()) {
        out += "&so=";
        for (std::size_t i = 0; i < uri.selected_files.size(); ++i) {
            const auto& s = uri.selected_files[i];
            out += i == 0 ? "" : ",";
            out += std::to_string(s.first.value());
            if (s.last != s.first) {
                out += '-';
                out += std::to_string(s.last.value());
            }
        }
    }
    return out;
}

} // namespace spate::metainfo
