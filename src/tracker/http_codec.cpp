#include <spate/bencode/document.hpp>
#include <spate/bencode/encoder.hpp>
#include <spate/tracker/error.hpp>
#include <spate/tracker/http_codec.hpp>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>
#include <utility>

namespace spate::tracker::http {

namespace {

constexpr std::string_view hex_upper = "0123456789ABCDEF";
constexpr std::string_view hex_lower = "0123456789abcdef";
/// Longest "tracker id" kept: it is echoed in every later announce URL.
constexpr std::size_t max_tracker_id = 1024;

bool is_unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

void append_percent_encoded(std::string& out, std::span<const std::byte> bytes) {
    for (std::byte b : bytes) {
        const auto c = static_cast<unsigned char>(b);
        if (is_unreserved(c)) {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(hex_upper[c >> 4]);
            out.push_back(hex_upper[c & 0xf]);
        }
    }
}

void append_percent_encoded(std::string& out, std::string_view text) {
    append_percent_encoded(out, std::as_bytes(std::span(text)));
}

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
    if (text.size() < prefix.size()) {
        return false;
    }
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        const char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : text[i];
        if (lower != prefix[i]) {
            return false;
        }
    }
    return true;
}

/// An http(s) URL cut into the parts the codecs need; views into the caller's string.
struct url_parts {
    std::string_view before_query; // scheme, authority and path
    std::string_view query;        // after '?', without it; empty when none
    bool has_query = false;
    std::size_t path_begin = 0; // index in before_query where the path starts
};

result<url_parts> split_url(std::string_view url) {
    std::size_t scheme_end = 0;
    if (starts_with_ignoring_case(url, "http://")) {
        scheme_end = 7;
    } else if (starts_with_ignoring_case(url, "https://")) {
        scheme_end = 8;
    } else {
        return fail(errc::bad_url);
    }
    // The fragment is never sent to a server; the query goes before it.
    url = url.substr(0, url.find('#'));
    const std::size_t authority_end = url.find_first_of("/?", scheme_end);
    std::string_view authority = url.substr(scheme_end, authority_end == std::string_view::npos
                                                            ? std::string_view::npos
                                                            : authority_end - scheme_end);
    if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
        authority.remove_prefix(at + 1);
    }
    if (authority.empty() || authority.front() == ':') {
        return fail(errc::bad_url);
    }
    url_parts parts;
    const std::size_t question = url.find('?');
    parts.before_query = url.substr(0, question);
    if (question != std::string_view::npos) {
        parts.has_query = true;
        parts.query = url.substr(question + 1);
    }
    parts.path_begin =
        std::min(parts.before_query.size(),
                 authority_end == std::string_view::npos ? url.size() : authority_end);
    return parts;
}

/// The URL without fragment, followed by the separator that lets parameters be appended.
std::string url_ready_for_parameters(const url_parts& parts) {
    std::string out(parts.before_query);
    out.push_back('?');
    if (parts.has_query && !parts.query.empty()) {
        out.append(parts.query);
        if (parts.query.back() != '&') {
            out.push_back('&');
        }
    }
    return out;
}

result<bencode::document> decode_body(std::span<const std::byte> body) {
    if (body.size() > max_body_size) {
        return fail(errc::body_too_large);
    }
    // Trackers in the wild send unsorted keys; every other bencode rule still holds.
    bencode::limits lim;
    lim.max_depth = 32;
    lim.strict = false;
    auto doc = bencode::decode(body, lim);
    if (!doc) {
        return fail(errc::bad_bencode);
    }
    if (!doc->root().is_dict()) {
        return fail(errc::not_a_dictionary);
    }
    return std::move(*doc);
}

std::optional<std::uint32_t> as_count(std::optional<std::int64_t> value) {
    if (!value || *value < 0 || *value > std::numeric_limits<std::uint32_t>::max()) {
        return std::nullopt;
    }
    return static_cast<std::uint32_t>(*value);
}

std::uint32_t clamp_count(std::optional<std::int64_t> value) {
    if (!value || *value < 0) {
        return 0;
    }
    return static_cast<std::uint32_t>(
        std::min<std::int64_t>(*value, std::numeric_limits<std::uint32_t>::max()));
}

std::optional<std::chrono::seconds> as_interval(std::int64_t seconds) {
    if (seconds < 1) {
        return std::nullopt;
    }
    return std::chrono::seconds{std::min<std::int64_t>(seconds, max_interval.count())};
}

/// Peers in the dictionary form: {ip: numeric address, port: 1..65535}; others dropped.
void add_dictionary_peers(std::vector<endpoint>& peers, bencode::node list) {
    for (bencode::node item : list.list_items()) {
        const auto ip = item.find_string("ip");
        const auto port = item.find_int("port");
        if (!ip || !port || *port < 1 || *port > 65535) {
            continue;
        }
        // Host names would need a lookup per peer; compact-era trackers never send them.
        if (auto peer = endpoint::parse_address(*ip, static_cast<std::uint16_t>(*port))) {
            peers.push_back(*peer);
        }
    }
}

// ---- query strings ----

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

result<std::string> percent_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out.push_back(text[i]);
            continue;
        }
        if (i + 2 >= text.size()) {
            return fail(errc::bad_escape);
        }
        const int high = hex_value(text[i + 1]);
        const int low = hex_value(text[i + 2]);
        if (high < 0 || low < 0) {
            return fail(errc::bad_escape);
        }
        out.push_back(static_cast<char>(high * 16 + low));
        i += 2;
    }
    return out;
}

/// Calls `visit(name, value)` for every parameter, both percent-decoded, until one returns
/// an error.
template <typename Visit> result<void> for_each_parameter(std::string_view query, Visit&& visit) {
    while (!query.empty()) {
        const std::size_t amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (pair.empty()) {
            continue;
        }
        const std::size_t eq = pair.find('=');
        auto name = percent_decode(pair.substr(0, eq));
        auto value =
            percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
        if (!name || !value) {
            return fail(errc::bad_escape);
        }
        if (auto r = visit(*name, std::move(*value)); !r) {
            return r;
        }
    }
    return {};
}

template <typename T> std::optional<T> parse_number(std::string_view text, int base = 10) {
    T value{};
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value, base);
    if (text.empty() || ec != std::errc() || ptr != end) {
        return std::nullopt;
    }
    return value;
}

std::optional<sha1_digest> as_digest(std::string_view raw) {
    return sha1_digest::from_bytes(std::as_bytes(std::span(raw)));
}

} // namespace

// ---------------------------------------------------------------------------------------
// Client side
// ---------------------------------------------------------------------------------------

result<std::string> build_announce_url(std::string_view announce_url,
                                       const announce_request& request) {
    auto parts = split_url(announce_url);
    if (!parts) {
        return fail(parts.error());
    }
    std::string out = url_ready_for_parameters(*parts);
    out += "info_hash=";
    append_percent_encoded(out, request.info_hash.bytes);
    out += "&peer_id=";
    append_percent_encoded(out, request.peer);
    out += "&port=" + std::to_string(request.port);
    out += "&uploaded=" + std::to_string(request.uploaded);
    out += "&downloaded=" + std::to_string(request.downloaded);
    out += "&left=" + std::to_string(request.left);
    out += "&compact=1";
    if (request.event != announce_event::none) {
        out += "&event=";
        out += to_string(request.event);
    }
    if (request.numwant >= 0) {
        out += "&numwant=" + std::to_string(request.numwant);
    }
    out += "&key=";
    for (int shift = 28; shift >= 0; shift -= 4) {
        out.push_back(hex_lower[(request.key >> shift) & 0xf]);
    }
    if (request.tracker_id) {
        out += "&trackerid=";
        append_percent_encoded(out, *request.tracker_id);
    }
    return out;
}

result<std::string> scrape_url_for(std::string_view announce_url) {
    auto parts = split_url(announce_url);
    if (!parts) {
        return fail(parts.error());
    }
    const std::string_view path = parts->before_query.substr(parts->path_begin);
    const std::size_t slash = path.rfind('/');
    if (slash == std::string_view::npos) {
        return fail(errc::scrape_not_supported);
    }
    constexpr std::string_view announce = "announce";
    if (path.substr(slash + 1, announce.size()) != announce) {
        return fail(errc::scrape_not_supported);
    }
    const std::size_t replace_at = parts->path_begin + slash + 1;
    std::string out(parts->before_query.substr(0, replace_at));
    out += "scrape";
    out += parts->before_query.substr(replace_at + announce.size());
    if (parts->has_query) {
        out.push_back('?');
        out += parts->query;
    }
    return out;
}

result<std::string> build_scrape_url(std::string_view scrape_url,
                                     std::span<const sha1_digest> info_hashes) {
    auto parts = split_url(scrape_url);
    if (!parts) {
        return fail(parts.error());
    }
    if (info_hashes.empty()) {
        std::string out(parts->before_query);
        if (parts->has_query) {
            out.push_back('?');
            out += parts->query;
        }
        return out;
    }
    std::string out = url_ready_for_parameters(*parts);
    for (std::size_t i = 0; i < info_hashes.size(); ++i) {
        out += i == 0 ? "info_hash=" : "&info_hash=";
        append_percent_encoded(out, info_hashes[i].bytes);
    }
    return out;
}

result<announce_response> parse_announce_response(std::span<const std::byte> body) {
    auto doc = decode_body(body);
    if (!doc) {
        return fail(doc.error());
    }
    const bencode::node root = doc->root();
    announce_response response;
    if (const auto reason = root.find_string("failure reason")) {
        response.failure = sanitize_tracker_text(*reason);
        return response;
    }
    const auto interval_seconds = root.find_int("interval");
    if (!interval_seconds) {
        return fail(errc::missing_interval);
    }
    const auto interval = as_interval(*interval_seconds);
    if (!interval) {
        return fail(errc::bad_interval);
    }
    response.interval = *interval;
    if (const auto min_interval = root.find_int("min interval")) {
        response.min_interval = as_interval(*min_interval);
    }
    if (const auto id = root.find_string("tracker id"); id && id->size() <= max_tracker_id) {
        response.tracker_id = std::string(*id);
    }
    response.complete = as_count(root.find_int("complete"));
    response.incomplete = as_count(root.find_int("incomplete"));
    if (const auto warning = root.find_string("warning message")) {
        response.warning = sanitize_tracker_text(*warning);
    }

    std::vector<endpoint> peers;
    if (const bencode::node list = root.find("peers"); list.is_string()) {
        auto compact = decode_compact_peers(list.as_bytes(), address_family::v4);
        if (!compact) {
            return fail(compact.error());
        }
        peers = std::move(*compact);
    } else if (list.is_list()) {
        add_dictionary_peers(peers, list);
    } else if (list.valid()) {
        return fail(errc::bad_peers);
    }
    if (const bencode::node list6 = root.find("peers6"); list6.is_string()) {
        auto compact = decode_compact_peers(list6.as_bytes(), address_family::v6);
        if (!compact) {
            return fail(compact.error());
        }
        peers.insert(peers.end(), compact->begin(), compact->end());
    } else if (list6.valid()) {
        return fail(errc::bad_peers);
    }
    response.peers = unique_peers(std::move(peers));
    return response;
}

result<scrape_response> parse_scrape_response(std::span<const std::byte> body) {
    auto doc = decode_body(body);
    if (!doc) {
        return fail(doc.error());
    }
    const bencode::node root = doc->root();
    scrape_response response;
    if (const auto reason = root.find_string("failure reason")) {
        response.failure = sanitize_tracker_text(*reason);
        return response;
    }
    const bencode::node files = root.find_dict("files");
    if (!files) {
        return fail(errc::missing_files);
    }
    response.entries.reserve(files.size());
    for (const auto& [key, value] : files.dict_items()) {
        const auto hash = as_digest(key);
        if (!hash || !value.is_dict()) {
            continue;
        }
        response.entries.push_back(scrape_entry{
            .info_hash = *hash,
            .complete = clamp_count(value.find_int("complete")),
            .downloaded = clamp_count(value.find_int("downloaded")),
            .incomplete = clamp_count(value.find_int("incomplete")),
        });
    }
    return response;
}

// ---------------------------------------------------------------------------------------
// Server side
// ---------------------------------------------------------------------------------------

result<http_announce_query> parse_announce_query(std::string_view query) {
    http_announce_query out;
    announce_request& r = out.request;
    r.numwant = -1;
    bool have_hash = false;
    bool have_peer = false;
    bool have_port = false;
    bool have_numbers[3] = {false, false, false};
    bool have_event = false;
    bool have_numwant = false;
    bool have_compact = false;
    bool have_key = false;

    auto parsed =
        for_each_parameter(query, [&](std::string_view name, std::string value) -> result<void> {
            if (name == "info_hash" && !have_hash) {
                const auto hash = as_digest(value);
                if (!hash) {
                    return fail(errc::bad_info_hash);
                }
                r.info_hash = *hash;
                have_hash = true;
            } else if (name == "peer_id" && !have_peer) {
                if (value.size() != r.peer.size()) {
                    return fail(errc::bad_peer_id);
                }
                std::memcpy(r.peer.data(), value.data(), r.peer.size());
                have_peer = true;
            } else if (name == "port" && !have_port) {
                const auto port = parse_number<std::uint32_t>(value);
                if (!port || *port < 1 || *port > 65535) {
                    return fail(errc::bad_port);
                }
                r.port = static_cast<std::uint16_t>(*port);
                have_port = true;
            } else if (name == "uploaded" || name == "downloaded" || name == "left") {
                const std::size_t which = name == "uploaded" ? 0 : name == "downloaded" ? 1 : 2;
                if (have_numbers[which]) {
                    return {};
                }
                const auto number = parse_number<std::uint64_t>(value);
                if (!number) {
                    return fail(errc::bad_number);
                }
                (which == 0 ? r.uploaded : which == 1 ? r.downloaded : r.left) = *number;
                have_numbers[which] = true;
            } else if (name == "event" && !have_event) {
                if (value == "started") {
                    r.event = announce_event::started;
                } else if (value == "completed") {
                    r.event = announce_event::completed;
                } else if (value == "stopped") {
                    r.event = announce_event::stopped;
                } else if (value.empty() || value == "empty" || value == "paused") {
                    // "paused" (BEP 21's partial seed) is a regular announce as far as peers go.
                    r.event = announce_event::none;
                } else {
                    return fail(errc::bad_event);
                }
                have_event = true;
            } else if (name == "numwant" && !have_numwant) {
                const auto wanted = parse_number<std::int64_t>(value);
                if (!wanted) {
                    return fail(errc::bad_number);
                }
                r.numwant = *wanted < 0 ? -1
                                        : static_cast<std::int32_t>(std::min<std::int64_t>(
                                              *wanted, std::numeric_limits<std::int32_t>::max()));
                have_numwant = true;
            } else if (name == "compact" && !have_compact) {
                const auto compact = parse_number<std::uint64_t>(value);
                if (!compact) {
                    return fail(errc::bad_number);
                }
                out.compact = *compact != 0;
                have_compact = true;
            } else if (name == "key" && !have_key) {
                const bool hex = !value.empty() && value.size() <= 8 &&
                                 std::all_of(value.begin(), value.end(),
                                             [](char c) { return hex_value(c) >= 0; });
                r.key = hex ? parse_number<std::uint32_t>(value, 16).value_or(0) : 0;
                have_key = true;
            } else if (name == "trackerid" && !r.tracker_id) {
                r.tracker_id = std::move(value);
            } else if (name == "ip" && !out.ip) {
                out.ip = std::move(value);
            }
            return {};
        });
    if (!parsed) {
        return fail(parsed.error());
    }
    if (!have_hash) {
        return fail(errc::missing_info_hash);
    }
    if (!have_peer) {
        return fail(errc::missing_peer_id);
    }
    if (!have_port) {
        return fail(errc::missing_port);
    }
    return out;
}

result<std::vector<sha1_digest>> parse_scrape_query(std::string_view query) {
    std::vector<sha1_digest> hashes;
    auto parsed =
        for_each_parameter(query, [&](std::string_view name, std::string value) -> result<void> {
            if (name != "info_hash") {
                return {};
            }
            const auto hash = as_digest(value);
            if (!hash) {
                return fail(errc::bad_info_hash);
            }
            if (hashes.size() == max_scrape_query_hashes) {
                return fail(errc::too_many_info_hashes);
            }
            hashes.push_back(*hash);
            return {};
        });
    if (!parsed) {
        return fail(parsed.error());
    }
    return hashes;
}

std::string encode_announce_response(std::chrono::seconds interval,
                                     std::optional<std::chrono::seconds> min_interval,
                                     std::uint32_t complete, std::uint32_t incomplete,
                                     std::span<const endpoint> peers, bool compact) {
    std::string out;
    bencode::encoder e(out);
    e.begin_dict();
    e.key("complete").integer(complete);
    e.key("incomplete").integer(incomplete);
    e.key("interval").integer(interval.count());
    if (min_interval) {
        e.key("min interval").integer(min_interval->count());
    }
    if (compact) {
        e.key("peers").string(encode_compact_peers(peers, address_family::v4));
        const auto v6 = encode_compact_peers(peers, address_family::v6);
        if (!v6.empty()) {
            e.key("peers6").string(v6);
        }
    } else {
        e.key("peers").begin_list();
        for (const endpoint& peer : peers) {
            e.begin_dict();
            e.key("ip").string(peer.address_string());
            e.key("port").integer(peer.port());
            e.end_dict();
        }
        e.end_list();
    }
    e.end_dict();
    return out;
}

std::string encode_failure(std::string_view reason) {
    std::string out;
    bencode::encoder e(out);
    e.begin_dict().key("failure reason").string(reason).end_dict();
    return out;
}

std::string encode_scrape_response(std::span<const scrape_entry> entries) {
    // Dictionary keys must be sorted and unique: order by info-hash, first entry wins.
    std::vector<const scrape_entry*> sorted;
    sorted.reserve(entries.size());
    for (const scrape_entry& entry : entries) {
        sorted.push_back(&entry);
    }
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const auto* a, const auto* b) { return a->info_hash < b->info_hash; });
    sorted.erase(
        std::unique(sorted.begin(), sorted.end(),
                    [](const auto* a, const auto* b) { return a->info_hash == b->info_hash; }),
        sorted.end());

    std::string out;
    bencode::encoder e(out);
    e.begin_dict().key("files").begin_dict();
    for (const scrape_entry* entry : sorted) {
        e.string(entry->info_hash.view());
        e.begin_dict();
        e.key("complete").integer(entry->complete);
        e.key("downloaded").integer(entry->downloaded);
        e.key("incomplete").integer(entry->incomplete);
        e.end_dict();
    }
    e.end_dict().end_dict();
    return out;
}

} // namespace spate::tracker::http
