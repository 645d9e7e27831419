#include <gtest/gtest.h>
#include <spate/session/peer_candidates.hpp>

using namespace std::chrono_literals;
using spate::endpoint;
using spate::session::peer_candidates;

namespace {
endpoint ep(const char* text) { return *endpoint::parse(text); }
const peer_candidates::clock::time_point t0{};
} // namespace

TEST(peer_candidates, dials_each_address_once_at_a_time) {
    peer_candidates c;
    c.add(ep("127.0.0.2:6881"));
    c.add(ep("127.0.0.2:6881"));
    auto first = c.next(t0);
    ASSERT_TRUE(first);
    EXPECT_EQ(*first, ep("127.0.0.2:6881"));
    EXPECT_FALSE(c.next(t0));
    EXPECT_EQ(c.connecting(), 1U);
    c.on_connected(*first);
    EXPECT_EQ(c.connecting(), 0U);
    EXPECT_EQ(c.connected(), 1U);
    EXPECT_TRUE(c.is_busy(*first));
}

TEST(peer_candidates, failures_back_off_exponentially_then_forget) {
    spate::session::candidate_settings s;
    s.first_backoff = 5s;
    s.max_failures = 3;
    peer_candidates c(s);
    const endpoint p = ep("127.0.0.3:1");
    c.add(p);
    ASSERT_TRUE(c.next(t0));
    c.on_failed(p, t0);
    EXPECT_FALSE(c.next(t0 + 4s));
    ASSERT_TRUE(c.next(t0 + 5s));
    c.on_failed(p, t0 + 5s);
    EXPECT_FALSE(c.next(t0 + 14s));
    ASSERT_TRUE(c.next(t0 + 15s));
    c.on_failed(p, t0 + 15s);
    EXPECT_EQ(c.known(), 0U);
    EXPECT_FALSE(c.next(t0 + 1000s));
}

TEST(peer_candidates, a_banned_address_is_never_dialled_again) {
    peer_candidates c;
    const endpoint p = ep("127.0.0.4:1");
    c.add(p);
    ASSERT_TRUE(c.next(t0));
    c.on_connected(p);
    c.ban(p);
    EXPECT_TRUE(c.is_banned(p));
    EXPECT_EQ(c.connected(), 0U);
    c.on_closed(p, t0);
    c.add(p);
    EXPECT_FALSE(c.next(t0 + 1000s));
}

TEST(peer_candidates, closed_connections_may_be_redialled_after_the_first_backoff) {
    peer_candidates c;
    const endpoint p = ep("[::1]:7000");
    c.add(p);
    ASSERT_TRUE(c.next(t0));
    c.on_connected(p);
    c.on_closed(p, t0);
    EXPECT_EQ(c.connected(), 0U);
    EXPECT_FALSE(c.next(t0 + 1s));
    EXPECT_TRUE(c.next(t0 + 5s));
}
