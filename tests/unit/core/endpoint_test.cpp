#include <spate/core/endpoint.hpp>

#include <gtest/gtest.h>

#include <unordered_set>

namespace {

using spate::endpoint;

TEST(endpoint, parses_and_prints_ipv4_and_ipv6) {
    auto v4 = endpoint::parse("127.0.0.2:6881");
    ASSERT_TRUE(v4);
    EXPECT_TRUE(v4->is_v4());
    EXPECT_EQ(v4->port(), 6881);
    EXPECT_EQ(v4->to_string(), "127.0.0.2:6881");
    EXPECT_TRUE(v4->is_loopback());

    auto v6 = endpoint::parse("[::1]:80");
    ASSERT_TRUE(v6);
    EXPECT_FALSE(v6->is_v4());
    EXPECT_EQ(v6->to_string(), "[::1]:80");
    EXPECT_TRUE(v6->is_loopback());
    EXPECT_EQ(v6->address_bytes().size(), 16u);
}

TEST(endpoint, refuses_malformed_text) {
    for (const char* bad : {"", "1.2.3.4", "1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:-1",
                            "1.2.3:80", "::1:80", "[1.2.3.4]:80", "[::1]80", "[::1]:",
                            "host.example:80", "1.2.3.4:80x"}) {
        EXPECT_FALSE(endpoint::parse(bad)) << bad;
    }
}

TEST(endpoint, round_trips_through_sockaddr) {
    for (const char* text : {"10.1.2.3:1", "[2001:db8::7]:65535"}) {
        auto e = endpoint::parse(text);
        ASSERT_TRUE(e);
        sockaddr_storage storage{};
        socklen_t len = e->to_sockaddr(storage);
        auto back = endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&storage), len);
        ASSERT_TRUE(back);
        EXPECT_EQ(*back, *e);
    }
}

TEST(endpoint, from_bytes_takes_only_4_or_16_bytes) {
    std::array<std::byte, 6> six{};
    EXPECT_FALSE(endpoint::from_bytes(six, 1));
    EXPECT_TRUE(endpoint::from_bytes(std::span(six).first(4), 1));
}

TEST(endpoint, equal_endpoints_deduplicate_in_a_set) {
    std::unordered_set<endpoint> set;
    set.insert(*endpoint::parse("127.0.0.1:1"));
    set.insert(*endpoint::parse("127.0.0.1:1"));
    set.insert(*endpoint::parse("127.0.0.1:2"));
    EXPECT_EQ(set.size(), 2u);
}

} // namespace
