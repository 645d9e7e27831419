#include <spate/core/result.hpp>
#include <spate/peer/error.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace {

using spate::peer::errc;

TEST(peer_error, category_is_named_spate_peer) {
    const std::error_code ec = errc::bad_block;
    EXPECT_STREQ(ec.category().name(), "spate.peer");
    EXPECT_EQ(ec, errc::bad_block);
    EXPECT_NE(ec, errc::bad_message_length);
}

TEST(peer_error, every_code_has_its_own_message) {
    std::vector<std::string> seen;
    for (int v = static_cast<int>(errc::bad_protocol_string);
         v <= static_cast<int>(errc::inconsistent_sizes); ++v) {
        const std::string text = make_error_code(static_cast<errc>(v)).message();
        EXPECT_NE(text, "unknown peer error") << v;
        EXPECT_EQ(std::count(seen.begin(), seen.end(), text), 0) << text;
        seen.push_back(text);
    }
    EXPECT_EQ(make_error_code(static_cast<errc>(0)).message(), "unknown peer error");
}

TEST(peer_error, fail_carries_the_code) {
    const spate::result<int> r = spate::fail(errc::request_too_long);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::request_too_long);
}

} // namespace
