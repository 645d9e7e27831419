#include <spate/tracker/error.hpp>
#include <spate/tracker/tracker_url.hpp>

#include <gtest/gtest.h>

namespace {

using spate::tracker::parse_tracker_url;
using spate::tracker::tracker_scheme;

TEST(tracker_url, splits_udp_http_and_https_urls) {
    auto udp = parse_tracker_url("udp://tracker.example:6969/announce?passkey=x#frag");
    ASSERT_TRUE(udp);
    EXPECT_EQ(udp->scheme, tracker_scheme::udp);
    EXPECT_EQ(udp->host, "tracker.example");
    EXPECT_EQ(udp->port, 6969);
    EXPECT_EQ(udp->path_and_query, "/announce?passkey=x");

    auto http = parse_tracker_url("HTTP://127.0.0.1/announce");
    ASSERT_TRUE(http);
    EXPECT_EQ(http->scheme, tracker_scheme::http);
    EXPECT_EQ(http->port, 80);

    auto https = parse_tracker_url("https://[::1]:8443?x");
    ASSERT_TRUE(https);
    EXPECT_EQ(https->scheme, tracker_scheme::https);
    EXPECT_EQ(https->host, "::1");
    EXPECT_EQ(https->port, 8443);
    EXPECT_EQ(https->path_and_query, "?x");

    auto bare = parse_tracker_url("udp://[::1]:1");
    ASSERT_TRUE(bare);
    EXPECT_EQ(bare->path_and_query, "");
}

TEST(tracker_url, refuses_what_is_not_a_tracker_url) {
    for (const char* bad :
         {"", "ftp://x/announce", "udp://host/announce", "udp://:80", "http:///announce",
          "http://host:0/", "http://host:65536/", "http://host:80x/", "http://user@host/",
          "udp://[::1/announce", "udp://[::1]x:80", "http://ho st/", "wss://x:1"}) {
        auto parsed = parse_tracker_url(bad);
        ASSERT_FALSE(parsed) << bad;
        EXPECT_EQ(parsed.error(), spate::tracker::errc::bad_url) << bad;
    }
}

} // namespace
