#include <spate/core/peer_address_policy.hpp>

#include <gtest/gtest.h>

namespace {

using spate::endpoint;
using spate::judge_peer_address;
using spate::peer_address_verdict;

peer_address_verdict judge(const char* text, spate::peer_address_rules rules = {}) {
    auto peer = endpoint::parse(text);
    EXPECT_TRUE(peer) << text;
    return peer ? judge_peer_address(*peer, rules) : peer_address_verdict::dialable;
}

TEST(peer_address_policy, ordinary_peers_are_dialable) {
    for (const char* ok : {"127.0.0.2:6881", "10.1.2.3:1024", "203.0.113.9:65535",
                           "[::1]:51413", "[2001:db8::1]:6881", "[::ffff:198.51.100.7]:6881"}) {
        EXPECT_EQ(judge(ok), peer_address_verdict::dialable) << ok;
    }
}

TEST(peer_address_policy, privileged_ports_only_when_allowed) {
    EXPECT_EQ(judge("127.0.0.2:25"), peer_address_verdict::privileged_port);
    EXPECT_EQ(judge("[::1]:1023"), peer_address_verdict::privileged_port);
    EXPECT_EQ(judge("127.0.0.2:25", {.allow_privileged_ports = true}),
              peer_address_verdict::dialable);
    EXPECT_EQ(judge("127.0.0.2:0", {.allow_privileged_ports = true}),
              peer_address_verdict::port_zero);
}

TEST(peer_address_policy, multicast_broadcast_and_unspecified_are_never_dialled) {
    EXPECT_EQ(judge("224.0.0.1:6881"), peer_address_verdict::multicast);
    EXPECT_EQ(judge("239.255.255.250:6881"), peer_address_verdict::multicast);
    EXPECT_EQ(judge("[ff02::1]:6881"), peer_address_verdict::multicast);
    EXPECT_EQ(judge("[::ffff:224.0.0.251]:6881"), peer_address_verdict::multicast);
    EXPECT_EQ(judge("255.255.255.255:6881"), peer_address_verdict::broadcast);
    EXPECT_EQ(judge("240.0.0.1:6881"), peer_address_verdict::broadcast);
    EXPECT_EQ(judge("[::ffff:255.255.255.255]:6881"), peer_address_verdict::broadcast);
    EXPECT_EQ(judge("0.0.0.0:6881"), peer_address_verdict::unspecified);
    EXPECT_EQ(judge("0.1.2.3:6881"), peer_address_verdict::unspecified);
    EXPECT_EQ(judge("[::]:6881"), peer_address_verdict::unspecified);
    // The address rule wins over the port rule, whatever the port.
    EXPECT_EQ(judge("224.0.0.1:80", {.allow_privileged_ports = true}),
              peer_address_verdict::multicast);
}

TEST(peer_address_policy, every_verdict_but_dialable_is_described) {
    EXPECT_EQ(spate::describe(peer_address_verdict::dialable), "");
    EXPECT_EQ(spate::describe(peer_address_verdict::multicast), "multicast address");
    EXPECT_EQ(spate::describe(peer_address_verdict::privileged_port), "privileged port");
}

} // namespace
