#include <spate/tracker/connection_ids.hpp>

#include <gtest/gtest.h>

#include <set>

namespace {

using namespace spate;
using namespace spate::tracker;
using namespace std::chrono_literals;
using time_point = connection_ids::clock::time_point;

// On a whole second, so "two minutes after issue" is an exact time point.
const time_point t0{std::chrono::hours(5000)};

std::array<std::byte, connection_ids::key_size> key_of(unsigned char fill) {
    std::array<std::byte, connection_ids::key_size> key{};
    key.fill(static_cast<std::byte>(fill));
    return key;
}

endpoint at(std::string_view text) {
    auto e = endpoint::parse(text);
    EXPECT_TRUE(e.has_value()) << text;
    return e.value_or(endpoint{});
}

TEST(connection_ids, accepts_a_fresh_id_from_the_same_client) {
    connection_ids ids(key_of(1));
    const endpoint client = at("127.0.0.1:6881");
    const std::uint64_t id = ids.issue(client, t0);
    EXPECT_TRUE(ids.valid(id, client, t0));
    EXPECT_TRUE(ids.valid(id, client, t0 + 1s));
    EXPECT_TRUE(ids.valid(id, client, t0 + 60s));
}

TEST(connection_ids, expires_exactly_two_minutes_after_issue) {
    connection_ids ids(key_of(1));
    const endpoint client = at("127.0.0.1:6881");
    const std::uint64_t id = ids.issue(client, t0);
    EXPECT_TRUE(ids.valid(id, client, t0 + 120s - 1ns));
    EXPECT_FALSE(ids.valid(id, client, t0 + 120s));
    EXPECT_FALSE(ids.valid(id, client, t0 + 121s));
    EXPECT_FALSE(ids.valid(id, client, t0 + 1h));
}

TEST(connection_ids, never_lives_longer_than_two_minutes_when_issued_mid_second) {
    connection_ids ids(key_of(1));
    const endpoint client = at("127.0.0.1:6881");
    const time_point issued = t0 + 700ms;
    const std::uint64_t id = ids.issue(client, issued);
    EXPECT_TRUE(ids.valid(id, client, issued + 119s));
    // Counted from the start of the second it was issued in: gone 119.3 s after issue.
    EXPECT_FALSE(ids.valid(id, client, issued + 119300ms));
    EXPECT_FALSE(ids.valid(id, client, issued + 120s));
}

TEST(connection_ids, stamp_wraparound_does_not_revive_old_ids) {
    connection_ids ids(key_of(1));
    const endpoint client = at("127.0.0.1:6881");
    const std::uint64_t id = ids.issue(client, t0);
    // 65,536 s later the 16-bit stamp reads as "just issued"; the hash, over the full
    // time, tells it apart.
    EXPECT_FALSE(ids.valid(id, client, t0 + 65536s));
    EXPECT_FALSE(ids.valid(id, client, t0 + 65536s + 10s));
}

TEST(connection_ids, refuses_an_id_for_another_address_or_port) {
    connection_ids ids(key_of(1));
    const std::uint64_t id = ids.issue(at("127.0.0.1:6881"), t0);
    EXPECT_FALSE(ids.valid(id, at("127.0.0.2:6881"), t0));
    EXPECT_FALSE(ids.valid(id, at("127.0.0.1:6882"), t0));
    EXPECT_FALSE(ids.valid(id, at("[::1]:6881"), t0));
}

TEST(connection_ids, refuses_an_id_from_another_key) {
    const endpoint client = at("127.0.0.1:6881");
    const std::uint64_t id = connection_ids(key_of(1)).issue(client, t0);
    EXPECT_FALSE(connection_ids(key_of(2)).valid(id, client, t0));
}

TEST(connection_ids, refuses_forged_ids) {
    connection_ids ids(key_of(1));
    const endpoint client = at("[::1]:6881");
    const std::uint64_t id = ids.issue(client, t0);
    // Any one flipped bit, in the hash or the stamp, is refused.
    for (int bit = 0; bit < 64; ++bit) {
        EXPECT_FALSE(ids.valid(id ^ (std::uint64_t{1} << bit), client, t0 + 1s)) << bit;
    }
    EXPECT_FALSE(ids.valid(0, client, t0));
    EXPECT_FALSE(ids.valid(0x41727101980, client, t0));
    // An id with the current stamp and a guessed hash.
    const std::uint64_t stamp_only = id & ~((std::uint64_t{1} << 48) - 1);
    EXPECT_FALSE(ids.valid(stamp_only, client, t0));
}

TEST(connection_ids, ids_differ_between_clients_and_seconds) {
    connection_ids ids(key_of(1));
    std::set<std::uint64_t> seen;
    for (std::uint16_t port = 1; port <= 50; ++port) {
        seen.insert(ids.issue(at("127.0.0.1:" + std::to_string(port)), t0));
        seen.insert(ids.issue(at("127.0.0.1:" + std::to_string(port)), t0 + 1s));
    }
    EXPECT_EQ(seen.size(), 100U);
}

TEST(connection_ids, create_uses_a_random_key) {
    auto a = connection_ids::create();
    auto b = connection_ids::create();
    ASSERT_TRUE(a && b);
    const endpoint client = at("127.0.0.1:6881");
    const std::uint64_t id = a->issue(client, t0);
    EXPECT_TRUE(a->valid(id, client, t0));
    EXPECT_FALSE(b->valid(id, client, t0));
}

} // namespace
