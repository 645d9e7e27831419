#include <spate/tracker/redacted_url.hpp>

#include <gtest/gtest.h>

namespace {

using spate::tracker::redacted_url;

TEST(redacted_url, plain_announce_urls_are_unchanged) {
    EXPECT_EQ(redacted_url("udp://tracker.example:6969/announce"),
              "udp://tracker.example:6969/announce");
    EXPECT_EQ(redacted_url("http://[::1]:8080/announce.php"), "http://[::1]:8080/announce.php");
    EXPECT_EQ(redacted_url("https://t.example/"), "https://t.example/");
}

TEST(redacted_url, query_values_are_hidden_and_names_kept) {
    EXPECT_EQ(redacted_url("http://t.example/announce?passkey=SECRETKEY&uid=42"),
              "http://t.example/announce?passkey=***&uid=***");
    EXPECT_EQ(redacted_url("http://t.example/a?flag&empty=&0123456789abcdef0123"),
              "http://t.example/a?flag&empty=&***");
}

TEST(redacted_url, user_info_is_hidden) {
    EXPECT_EQ(redacted_url("http://user:secret@127.0.0.1:8000/announce"),
              "http://***@127.0.0.1:8000/announce");
    EXPECT_EQ(redacted_url("udp://a@b@host:1/x"), "udp://***@host:1/x");
}

TEST(redacted_url, passkeys_in_the_path_are_hidden) {
    EXPECT_EQ(redacted_url("http://127.0.0.1:8000/0123456789abcdef0123456789abcdef/announce"),
              "http://127.0.0.1:8000/***/announce");
    EXPECT_EQ(redacted_url("https://t.example/announce/aB3dE6gH9jK2mN5p"),
              "https://t.example/announce/***");
    // Long words without a digit are names, not keys.
    EXPECT_EQ(redacted_url("http://t.example/announcements_for_all/announce"),
              "http://t.example/announcements_for_all/announce");
}

TEST(redacted_url, fragment_is_dropped_and_odd_text_survives) {
    EXPECT_EQ(redacted_url("http://t.example/announce#secret"), "http://t.example/announce");
    EXPECT_EQ(redacted_url(""), "");
    EXPECT_EQ(redacted_url("not a url?key=value"), "not a url?key=***");
    EXPECT_EQ(redacted_url("http://"), "http://");
    EXPECT_EQ(redacted_url("http://user@"), "http://***@");
}

} // namespace
