// Fuzz target for the HTTP tracker codec: the bytes go to the reply parsers (as a body) and
// to the query parsers and URL builders (as text). Whatever parses must encode back to an
// equal value: announce and scrape replies through the built-in tracker's encoders, queries
// through the client's URL builders. Violations abort.

#include <spate/tracker/http_codec.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace http = spate::tracker::http;

void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "http_tracker round trip failed: %s\n", what);
        std::abort();
    }
}

std::span<const std::byte> as_bytes(const std::string& text) {
    return std::as_bytes(std::span(text));
}

void announce_reply(std::span<const std::byte> body) {
    const auto reply = http::parse_announce_response(body);
    if (!reply) {
        return;
    }
    if (reply->failure) {
        const auto again =
            http::parse_announce_response(as_bytes(http::encode_failure(*reply->failure)));
        check(again.has_value() && again->failure == reply->failure, "announce failure");
        return;
    }
    // The dictionary form keeps the peer order whatever the families.
    const auto encoded = http::encode_announce_response(
        reply->interval, reply->min_interval, reply->complete.value_or(0),
        reply->incomplete.value_or(0), reply->peers, false);
    const auto again = http::parse_announce_response(as_bytes(encoded));
    check(again.has_value(), "announce reply re-parses");
    check(again->interval == reply->interval && again->min_interval == reply->min_interval &&
              again->complete == reply->complete.value_or(0) &&
              again->incomplete == reply->incomplete.value_or(0) && again->peers == reply->peers,
          "announce reply");
    // The compact form as well, comparing peer sets.
    const auto compact = http::parse_announce_response(as_bytes(http::encode_announce_response(
        reply->interval, reply->min_interval, 0, 0, reply->peers, true)));
    check(compact.has_value(), "compact announce reply re-parses");
    auto sorted = reply->peers;
    auto sorted_again = compact->peers;
    std::sort(sorted.begin(), sorted.end());
    std::sort(sorted_again.begin(), sorted_again.end());
    check(sorted == sorted_again, "compact announce reply peers");
}

void scrape_reply(std::span<const std::byte> body) {
    const auto reply = http::parse_scrape_response(body);
    if (!reply) {
        return;
    }
    if (reply->failure) {
        const auto again =
            http::parse_scrape_response(as_bytes(http::encode_failure(*reply->failure)));
        check(again.has_value() && again->failure == reply->failure, "scrape failure");
        return;
    }
    const auto again =
        http::parse_scrape_response(as_bytes(http::encode_scrape_response(reply->entries)));
    check(again.has_value(), "scrape reply re-parses");
    // The encoder sorts by info-hash and keeps the first of repeated hashes.
    auto expected = reply->entries;
    std::stable_sort(expected.begin(), expected.end(),
                     [](const auto& a, const auto& b) { return a.info_hash < b.info_hash; });
    expected.erase(
        std::unique(expected.begin(), expected.end(),
                    [](const auto& a, const auto& b) { return a.info_hash == b.info_hash; }),
        expected.end());
    check(again->entries == expected, "scrape reply");
}

void queries(std::string_view text) {
    if (const auto query = http::parse_announce_query(text)) {
        const auto url = http::build_announce_url("http://t/announce", query->request);
        check(url.has_value(), "announce url builds");
        const auto again =
            http::parse_announce_query(std::string_view(*url).substr(url->find('?') + 1));
        check(again.has_value() && again->request == query->request, "announce query");
    }
    if (const auto hashes = http::parse_scrape_query(text)) {
        const auto url = http::build_scrape_url("http://t/scrape", *hashes);
        check(url.has_value(), "scrape url builds");
        const auto question = url->find('?');
        const auto again = http::parse_scrape_query(
            question == std::string::npos ? std::string_view{}
                                          : std::string_view(*url).substr(question + 1));
        check(again.has_value() && *again == *hashes, "scrape query");
    }
    // The text as a tracker URL: must not crash; a scrape URL found must convert again.
    if (const auto scrape = http::scrape_url_for(text)) {
        check(http::build_scrape_url(*scrape, {}).has_value(), "scrape url is a url");
    }
    (void)http::build_announce_url(text, {});
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto body = std::as_bytes(std::span(data, size));
    announce_reply(body);
    scrape_reply(body);
    queries(std::string_view(reinterpret_cast<const char*>(data), size));
    return 0;
}
