#include "net/host_name.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using namespace spate::net::detail;

TEST(host_name, literal_addresses_parse_with_and_without_brackets) {
    auto v4 = literal_address("10.1.2.3", 80);
    ASSERT_TRUE(v4);
    EXPECT_EQ(v4->to_string(), "10.1.2.3:80");
    auto v6 = literal_address("[::1]", 443);
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->to_string(), "[::1]:443");
    auto bare_v6 = literal_address("fd00::7", 1);
    ASSERT_TRUE(bare_v6);
    EXPECT_FALSE(bare_v6->is_v4());
}

TEST(host_name, names_and_bracketed_v4_are_not_literals) {
    EXPECT_FALSE(literal_address("tracker.example", 80));
    EXPECT_FALSE(literal_address("[10.1.2.3]", 80));
    EXPECT_FALSE(literal_address("[::1", 80));
    EXPECT_FALSE(literal_address("", 80));
}

TEST(host_name, localhost_in_any_case_and_below_localhost) {
    EXPECT_TRUE(is_localhost("localhost"));
    EXPECT_TRUE(is_localhost("LocalHost."));
    EXPECT_TRUE(is_localhost("tracker.localhost"));
    EXPECT_FALSE(is_localhost("localhost.example"));
    EXPECT_FALSE(is_localhost("notlocalhost"));
    EXPECT_FALSE(is_localhost(".localhost"));
}

TEST(host_name, valid_names) {
    EXPECT_TRUE(is_valid_host_name("tracker.example"));
    EXPECT_TRUE(is_valid_host_name("tracker.example."));
    EXPECT_TRUE(is_valid_host_name("a_b-c.d1"));
    EXPECT_TRUE(is_valid_host_name(std::string(63, 'a') + ".com"));
}

TEST(host_name, invalid_names) {
    EXPECT_FALSE(is_valid_host_name(""));
    EXPECT_FALSE(is_valid_host_name("."));
    EXPECT_FALSE(is_valid_host_name("a..b"));
    EXPECT_FALSE(is_valid_host_name(".a"));
    EXPECT_FALSE(is_valid_host_name("exa mple.com"));
    EXPECT_FALSE(is_valid_host_name("tracker.example/announce"));
    EXPECT_FALSE(is_valid_host_name(std::string("a\0b", 3)));
    EXPECT_FALSE(is_valid_host_name(std::string(64, 'a') + ".com"));
    std::string long_name;
    for (int i = 0; i < 64; ++i) {
        long_name += "abc.";
    }
    EXPECT_FALSE(is_valid_host_name(long_name + "com"));
}

TEST(host_name, normalized_names_are_lower_case_without_final_dot) {
    EXPECT_EQ(normalize_host_name("Tracker.Example."), "tracker.example");
    EXPECT_EQ(normalize_host_name("a"), "a");
}

} // namespace
