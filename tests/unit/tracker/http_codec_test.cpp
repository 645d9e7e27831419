#include <spate/tracker/error.hpp>
#include <spate/tracker/http_codec.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using namespace spate;
using namespace spate::tracker;
using namespace std::chrono_literals;
using namespace std::string_literals;
using namespace std::string_view_literals;
namespace http = spate::tracker::http;

std::span<const std::byte> bytes(std::string_view text) {
    return std::as_bytes(std::span(text));
}

sha1_digest hash_of(unsigned char fill) {
    sha1_digest d;
    for (std::size_t i = 0; i < d.bytes.size(); ++i) {
        d.bytes[i] = static_cast<std::byte>(fill + i);
    }
    return d;
}

announce_request sample_request() {
    announce_request r;
    // Bytes that must be escaped, unreserved ones that must not, and '%' itself.
    const std::string_view hash = "\x00\x01 AZaz09-._~%+/&=\xff\x80"sv;
    EXPECT_EQ(hash.size(), 20u);
    for (std::size_t i = 0; i < 20; ++i) {
        r.info_hash.bytes[i] = static_cast<std::byte>(hash[i]);
    }
    const std::string_view peer = "-SP0100-abcdefghijkl";
    for (std::size_t i = 0; i < 20; ++i) {
        r.peer[i] = static_cast<std::byte>(peer[i]);
    }
    r.port = 6881;
    r.uploaded = 1;
    r.downloaded = 2;
    r.left = 3;
    r.event = announce_event::started;
    r.numwant = 50;
    r.key = 0x00ab12cd;
    return r;
}

endpoint ep(std::string_view text) {
    return *endpoint::parse(text);
}

template <typename T> std::error_code error_of(const result<T>& r) {
    return r ? std::error_code{} : r.error();
}

constexpr std::string_view encoded_hash = "%00%01%20AZaz09-._~%25%2B%2F%26%3D%FF%80";

// ---- announce URL ----

TEST(http_codec, announce_url_has_every_parameter_in_order) {
    const auto url = http::build_announce_url("http://t.example:8080/announce", sample_request());
    ASSERT_TRUE(url.has_value());
    EXPECT_EQ(*url, "http://t.example:8080/announce?info_hash=" + std::string(encoded_hash) +
                        "&peer_id=-SP0100-abcdefghijkl&port=6881&uploaded=1&downloaded=2&left=3"
                        "&compact=1&event=started&numwant=50&key=00ab12cd");
}

TEST(http_codec, announce_url_keeps_existing_query_and_drops_fragment) {
    auto request = sample_request();
    request.event = announce_event::none;
    request.numwant = -1;
    request.tracker_id = "id 1";
    const auto url = http::build_announce_url("https://t/a?passkey=xyz#frag", request);
    ASSERT_TRUE(url.has_value());
    EXPECT_EQ(url->rfind("https://t/a?passkey=xyz&info_hash=", 0), 0u) << *url;
    EXPECT_EQ(url->find("event="), std::string::npos);
    EXPECT_EQ(url->find("numwant="), std::string::npos);
    EXPECT_EQ(url->find('#'), std::string::npos);
    EXPECT_NE(url->find("&trackerid=id%201"), std::string::npos);

    const auto trailing = http::build_announce_url("http://t/a?x=1&", request);
    ASSERT_TRUE(trailing.has_value());
    EXPECT_EQ(trailing->rfind("http://t/a?x=1&info_hash=", 0), 0u);
    const auto bare = http::build_announce_url("http://t/a?", request);
    ASSERT_TRUE(bare.has_value());
    EXPECT_EQ(bare->rfind("http://t/a?info_hash=", 0), 0u);
}

TEST(http_codec, announce_url_round_trips_through_the_query_parser) {
    auto request = sample_request();
    request.tracker_id = "a&b=c";
    for (auto event : {announce_event::none, announce_event::started, announce_event::completed,
                       announce_event::stopped}) {
        request.event = event;
        const auto url = http::build_announce_url("http://t/announce?pk=1", request);
        ASSERT_TRUE(url.has_value());
        const auto query = http::parse_announce_query(url->substr(url->find('?') + 1));
        ASSERT_TRUE(query.has_value()) << query.error().message();
        EXPECT_EQ(query->request, request);
        EXPECT_TRUE(query->compact);
    }
}

TEST(http_codec, non_http_urls_are_refused) {
    EXPECT_EQ(error_of(http::build_announce_url("udp://t:80/announce", sample_request())),
              errc::bad_url);
    EXPECT_EQ(error_of(http::build_announce_url("http:///announce", sample_request())),
              errc::bad_url);
    EXPECT_EQ(error_of(http::build_announce_url("http://user@:80/", sample_request())),
              errc::bad_url);
    EXPECT_EQ(error_of(http::scrape_url_for("ftp://t/announce")), errc::bad_url);
    EXPECT_EQ(error_of(http::build_scrape_url("t/scrape", {})), errc::bad_url);
}

// ---- scrape URL (BEP 48) ----

TEST(http_codec, scrape_url_replaces_announce_in_last_component) {
    EXPECT_EQ(http::scrape_url_for("http://t/announce"), std::string("http://t/scrape"));
    EXPECT_EQ(http::scrape_url_for("http://t/x/announce.php?k=1"),
              std::string("http://t/x/scrape.php?k=1"));
    EXPECT_EQ(http::scrape_url_for("HTTPS://t:1/announce?a=/b"),
              std::string("HTTPS://t:1/scrape?a=/b"));
    EXPECT_EQ(error_of(http::scrape_url_for("http://t/announce/x?y")), errc::scrape_not_supported);
    EXPECT_EQ(error_of(http::scrape_url_for("http://t/a")), errc::scrape_not_supported);
    EXPECT_EQ(error_of(http::scrape_url_for("http://t/x/announce/")), errc::scrape_not_supported);
    EXPECT_EQ(error_of(http::scrape_url_for("http://t?announce")), errc::scrape_not_supported);
    EXPECT_EQ(error_of(http::scrape_url_for("http://t")), errc::scrape_not_supported);
}

TEST(http_codec, scrape_url_lists_every_hash) {
    const std::vector<sha1_digest> hashes{hash_of(0x41), hash_of(0)};
    const auto url = http::build_scrape_url("http://t/scrape?k=1", hashes);
    ASSERT_TRUE(url.has_value());
    EXPECT_EQ(*url, "http://t/scrape?k=1&info_hash=ABCDEFGHIJKLMNOPQRST"
                    "&info_hash=%00%01%02%03%04%05%06%07%08%09%0A%0B%0C%0D%0E%0F%10%11%12%13");
    EXPECT_EQ(http::parse_scrape_query(url->substr(url->find('?') + 1)), hashes);
    EXPECT_EQ(http::build_scrape_url("http://t/scrape?k=1", {}),
              std::string("http://t/scrape?k=1"));
}

// ---- announce responses ----

TEST(http_codec, parses_compact_response_with_every_field) {
    const std::string body = "d8:completei5e10:incompletei3e8:intervali1800e12:min intervali60e"
                             "5:peers12:\x7f\x00\x00\x01\x1a\xe1\x7f\x00\x00\x02\x00\x50"
                             "6:peers618:\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
                             "\x00\x01\x1a\xe1"
                             "10:tracker id3:abc15:warning message6:be\x1b[ok"
                             "e"s; // "s": the body holds NUL bytes
    const auto r = http::parse_announce_response(bytes(body));
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_EQ(r->interval, 1800s);
    EXPECT_EQ(r->min_interval, 60s);
    EXPECT_EQ(r->complete, 5u);
    EXPECT_EQ(r->incomplete, 3u);
    EXPECT_EQ(r->tracker_id, "abc");
    EXPECT_EQ(r->warning, "be?[ok");
    EXPECT_FALSE(r->failure);
    EXPECT_EQ(r->peers,
              (std::vector<endpoint>{ep("127.0.0.1:6881"), ep("127.0.0.2:80"), ep("[::1]:6881")}));
}

TEST(http_codec, parses_dictionary_peers_dropping_bad_entries) {
    const std::string body = "d8:intervali900e5:peersl"
                             "d2:ip9:127.0.0.17:peer id20:aaaaaaaaaaaaaaaaaaaa4:porti6881ee"
                             "d2:ip3:::14:porti7000ee"
                             "d2:ip11:example.com4:porti1ee"  // host name
                             "d2:ip9:127.0.0.14:porti0ee"     // port 0
                             "d2:ip9:127.0.0.14:porti65536ee" // port too large
                             "d4:porti5ee"                    // no ip
                             "i5e"                            // not a dict
                             "d2:ip9:127.0.0.14:porti6881ee"  // duplicate
                             "ee";
    const auto r = http::parse_announce_response(bytes(body));
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_EQ(r->peers, (std::vector<endpoint>{ep("127.0.0.1:6881"), ep("[::1]:7000")}));
    EXPECT_FALSE(r->complete);
    EXPECT_FALSE(r->min_interval);
}

TEST(http_codec, failure_reason_is_a_value_with_the_trackers_text) {
    const auto r = http::parse_announce_response(bytes("d14:failure reason13:not \x01 allowede"));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->failure, "not ? allowed");
    EXPECT_EQ(r->interval, 0s);
    EXPECT_TRUE(r->peers.empty());
    const auto encoded = http::encode_failure("unregistered torrent");
    EXPECT_EQ(encoded, "d14:failure reason20:unregistered torrente");
    EXPECT_EQ(http::parse_announce_response(bytes(encoded))->failure, "unregistered torrent");
    EXPECT_EQ(http::parse_scrape_response(bytes(encoded))->failure, "unregistered torrent");
    EXPECT_EQ(make_error_code(errc::tracker_failure).message(), "tracker refused the request");
}

TEST(http_codec, interval_is_required_and_bounded) {
    EXPECT_EQ(error_of(http::parse_announce_response(bytes("d5:peers0:e"))),
              errc::missing_interval);
    EXPECT_EQ(error_of(http::parse_announce_response(bytes("d8:interval4:1800e"))),
              errc::missing_interval);
    EXPECT_EQ(error_of(http::parse_announce_response(bytes("d8:intervali0ee"))),
              errc::bad_interval);
    EXPECT_EQ(error_of(http::parse_announce_response(bytes("d8:intervali-5ee"))),
              errc::bad_interval);
    const auto huge = http::parse_announce_response(
        bytes("d8:intervali9223372036854775807e12:min intervali-1ee"));
    ASSERT_TRUE(huge.has_value());
    EXPECT_EQ(huge->interval, max_interval);
    EXPECT_FALSE(huge->min_interval);
}

TEST(http_codec, unsorted_keys_and_out_of_range_counts_are_tolerated) {
    const auto r = http::parse_announce_response(
        bytes("d8:intervali60e8:completei-1e10:incompletei4294967296e5:peers0:e"));
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_FALSE(r->complete);
    EXPECT_FALSE(r->incomplete);
}

TEST(http_codec, malformed_announce_bodies_are_refused) {
    EXPECT_EQ(error_of(http::parse_announce_response(bytes("d8:intervali60e"))), errc::bad_bencode);
    EXPECT_EQ(error_of(http::parse_announce_response(bytes("<html>"))), errc::bad_bencode);
    EXPECT_EQ(error_of(http::parse_announce_response({})), errc::bad_bencode);
    EXPECT_EQ(error_of(http::parse_announce_response(bytes("l8:intervale"))),
              errc::not_a_dictionary);
    EXPECT_EQ(error_of(http::parse_announce_response(bytes("d8:intervali60e5:peers5:abcdee"))),
              errc::bad_compact_peers);
    EXPECT_EQ(error_of(http::parse_announce_response(bytes("d8:intervali60e6:peers66:abcdefe"))),
              errc::bad_compact_peers);
    EXPECT_EQ(error_of(http::parse_announce_response(bytes("d8:intervali60e5:peersi1ee"))),
              errc::bad_peers);
    EXPECT_EQ(error_of(http::parse_announce_response(bytes("d8:intervali60e6:peers6le"
                                                           "e"))),
              errc::bad_peers);
    const std::string big(http::max_body_size + 1, 'x');
    EXPECT_EQ(error_of(http::parse_announce_response(bytes(big))), errc::body_too_large);
}

TEST(http_codec, announce_response_round_trip_compact_and_dictionary) {
    const std::vector<endpoint> peers{ep("127.0.0.1:1"), ep("[::1]:2"), ep("10.0.0.1:3")};
    for (bool compact : {true, false}) {
        const auto body = http::encode_announce_response(1800s, 30s, 7, 8, peers, compact);
        const auto r = http::parse_announce_response(bytes(body));
        ASSERT_TRUE(r.has_value()) << r.error().message();
        EXPECT_EQ(r->interval, 1800s);
        EXPECT_EQ(r->min_interval, 30s);
        EXPECT_EQ(r->complete, 7u);
        EXPECT_EQ(r->incomplete, 8u);
        if (compact) {
            // v4 from "peers" come before v6 from "peers6".
            EXPECT_EQ(r->peers, (std::vector<endpoint>{peers[0], peers[2], peers[1]}));
        } else {
            EXPECT_EQ(r->peers, peers);
        }
    }
    EXPECT_EQ(http::encode_announce_response(60s, std::nullopt, 0, 0, {}, true),
              "d8:completei0e10:incompletei0e8:intervali60e5:peers0:e");
}

// ---- scrape responses ----

TEST(http_codec, scrape_response_round_trip_sorted_and_unique) {
    const std::vector<scrape_entry> entries{
        {hash_of(9), 1, 2, 3}, {hash_of(1), 4, 5, 6}, {hash_of(9), 7, 7, 7}};
    const auto body = http::encode_scrape_response(entries);
    const auto r = http::parse_scrape_response(bytes(body));
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_FALSE(r->failure);
    EXPECT_EQ(r->entries, (std::vector<scrape_entry>{entries[1], entries[0]}));
}

TEST(http_codec, scrape_response_skips_bad_entries) {
    const std::string body = "d5:filesd"
                             "3:abcd8:completei1ee"
                             "20:ABCDEFGHIJKLMNOPQRSTd8:completei-3e10:downloadedi99999999999e"
                             "10:incompletei2ee"
                             "20:BBCDEFGHIJKLMNOPQRSTi5e"
                             "ee";
    const auto r = http::parse_scrape_response(bytes(body));
    ASSERT_TRUE(r.has_value()) << r.error().message();
    ASSERT_EQ(r->entries.size(), 1u);
    EXPECT_EQ(r->entries[0].info_hash, hash_of(0x41));
    EXPECT_EQ(r->entries[0].complete, 0u);
    EXPECT_EQ(r->entries[0].downloaded, 0xffffffffu);
    EXPECT_EQ(r->entries[0].incomplete, 2u);
}

TEST(http_codec, malformed_scrape_bodies_are_refused) {
    EXPECT_EQ(error_of(http::parse_scrape_response(bytes("d5:filesle"))), errc::bad_bencode);
    EXPECT_EQ(error_of(http::parse_scrape_response(bytes("d5:filesleE"))), errc::bad_bencode);
    EXPECT_EQ(error_of(http::parse_scrape_response(bytes("i1e"))), errc::not_a_dictionary);
    EXPECT_EQ(error_of(http::parse_scrape_response(bytes("d5:filesleee"))), errc::bad_bencode);
    EXPECT_EQ(error_of(http::parse_scrape_response(bytes("d5:filesle"
                                                         "e"))),
              errc::missing_files);
    EXPECT_EQ(error_of(http::parse_scrape_response(bytes("de"))), errc::missing_files);
}

// ---- announce queries (server side) ----

std::string valid_query() {
    return "info_hash=" + std::string(encoded_hash) +
           "&peer_id=-SP0100-abcdefghijkl&port=6881&uploaded=1&downloaded=2&left=3";
}

TEST(http_codec, parses_a_minimal_query_with_defaults) {
    const auto q = http::parse_announce_query("info_hash=%00%01%02%03%04%05%06%07%08%09%0a%0b%0c"
                                              "%0d%0e%0f%10%11%12%13&peer_id=aaaaaaaaaaaaaaaaaaaa"
                                              "&port=1");
    ASSERT_TRUE(q.has_value()) << q.error().message();
    EXPECT_EQ(q->request.info_hash, hash_of(0));
    EXPECT_EQ(q->request.port, 1);
    EXPECT_EQ(q->request.left, 0u);
    EXPECT_EQ(q->request.numwant, -1);
    EXPECT_EQ(q->request.event, announce_event::none);
    EXPECT_TRUE(q->compact);
    EXPECT_FALSE(q->ip);
}

TEST(http_codec, parses_optional_query_fields) {
    const auto q = http::parse_announce_query(
        valid_query() + "&&compact=0&numwant=-7&key=ZZ&ip=10.0.0.9&event=paused&port=9&foo");
    ASSERT_TRUE(q.has_value()) << q.error().message();
    EXPECT_FALSE(q->compact);
    EXPECT_EQ(q->request.numwant, -1);
    EXPECT_EQ(q->request.key, 0u);
    EXPECT_EQ(q->ip, "10.0.0.9");
    EXPECT_EQ(q->request.event, announce_event::none);
    EXPECT_EQ(q->request.port, 6881); // the first port counts
    const auto big = http::parse_announce_query(valid_query() + "&numwant=99999999999&key=Ab");
    ASSERT_TRUE(big.has_value());
    EXPECT_EQ(big->request.numwant, 2147483647);
    EXPECT_EQ(big->request.key, 0xabu);
}

TEST(http_codec, query_errors_name_the_field) {
    const std::string hash = "info_hash=" + std::string(encoded_hash);
    const std::string peer = "&peer_id=-SP0100-abcdefghijkl";
    EXPECT_EQ(error_of(http::parse_announce_query(peer + "&port=1")), errc::missing_info_hash);
    EXPECT_EQ(error_of(http::parse_announce_query("info_hash=abc" + peer + "&port=1")),
              errc::bad_info_hash);
    EXPECT_EQ(error_of(http::parse_announce_query(hash + "%00" + peer + "&port=1")),
              errc::bad_info_hash);
    EXPECT_EQ(error_of(http::parse_announce_query(hash + "&port=1")), errc::missing_peer_id);
    EXPECT_EQ(error_of(http::parse_announce_query(hash + "&peer_id=short&port=1")),
              errc::bad_peer_id);
    EXPECT_EQ(error_of(http::parse_announce_query(hash + peer)), errc::missing_port);
    EXPECT_EQ(error_of(http::parse_announce_query(hash + peer + "&port=0")), errc::bad_port);
    EXPECT_EQ(error_of(http::parse_announce_query(hash + peer + "&port=65536")), errc::bad_port);
    EXPECT_EQ(error_of(http::parse_announce_query(hash + peer + "&port=-1")), errc::bad_port);
    EXPECT_EQ(error_of(http::parse_announce_query(hash + peer + "&port=")), errc::bad_port);
    EXPECT_EQ(error_of(http::parse_announce_query(valid_query() + "x")), errc::bad_number);
    EXPECT_EQ(error_of(http::parse_announce_query(hash + peer + "&port=1&uploaded=-1")),
              errc::bad_number);
    EXPECT_EQ(error_of(http::parse_announce_query(valid_query() + "&numwant=ten")),
              errc::bad_number);
    EXPECT_EQ(error_of(http::parse_announce_query(valid_query() + "&compact=yes")),
              errc::bad_number);
    EXPECT_EQ(error_of(http::parse_announce_query(valid_query() + "&event=finished")),
              errc::bad_event);
}

TEST(http_codec, bad_percent_escapes_are_refused) {
    for (std::string_view bad : {"%", "%4", "%4g", "%g4", "%%41"}) {
        EXPECT_EQ(error_of(http::parse_announce_query(valid_query() + "&x=" + std::string(bad))),
                  errc::bad_escape)
            << bad;
        EXPECT_EQ(error_of(http::parse_scrape_query("info_hash=" + std::string(bad))),
                  errc::bad_escape)
            << bad;
    }
}

TEST(http_codec, scrape_query_hashes_are_checked) {
    EXPECT_EQ(http::parse_scrape_query(""), std::vector<sha1_digest>{});
    EXPECT_EQ(http::parse_scrape_query("x=1&info_hash=ABCDEFGHIJKLMNOPQRST"),
              std::vector<sha1_digest>{hash_of(0x41)});
    EXPECT_EQ(error_of(http::parse_scrape_query("info_hash=ABCDEFGHIJKLMNOPQRS")),
              errc::bad_info_hash);
    std::string many;
    for (std::size_t i = 0; i <= http::max_scrape_query_hashes; ++i) {
        many += "info_hash=ABCDEFGHIJKLMNOPQRST&";
    }
    EXPECT_EQ(error_of(http::parse_scrape_query(many)), errc::too_many_info_hashes);
}

TEST(http_codec, event_names) {
    EXPECT_EQ(to_string(announce_event::none), "none");
    EXPECT_EQ(to_string(announce_event::started), "started");
    EXPECT_EQ(to_string(announce_event::completed), "completed");
    EXPECT_EQ(to_string(announce_event::stopped), "stopped");
}

} // namespace
