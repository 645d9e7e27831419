// synthetic_identity: loopback addresses that skip .0 and .255, and distinct peer ids.
#include <spate/swarm/synthetic_identity.hpp>

#include <gtest/gtest.h>

#include <set>

namespace {

using namespace spate::swarm;

TEST(synthetic_identity, addresses_count_up_skipping_network_and_broadcast_endings) {
    auto got = synthetic_addresses(0x7F0000FD, 4); // 127.0.0.253
    ASSERT_TRUE(got);
    EXPECT_EQ(*got, (std::vector<std::uint32_t>{0x7F0000FD, 0x7F0000FE, 0x7F000101,
                                                0x7F000102}));
    EXPECT_EQ(synthetic_endpoint((*got)[2], 6881).to_string(), "127.0.1.1:6881");
}

TEST(synthetic_identity, addresses_never_leave_127_0_0_0_slash_8) {
    EXPECT_FALSE(synthetic_addresses(0x7FFFFFFE, 3));
    EXPECT_FALSE(synthetic_addresses(0x0A000001, 1));
    EXPECT_TRUE(synthetic_addresses(0x7FFFFFFD, 1));
}

TEST(synthetic_identity, peer_ids_are_distinct_and_tagged) {
    std::set<spate::peer::peer_id> ids;
    for (std::size_t i = 0; i < 1000; ++i) {
        ids.insert(synthetic_peer_id("SW", i));
    }
    EXPECT_EQ(ids.size(), 1000u);
    const auto id = synthetic_peer_id("SL", 7);
    EXPECT_EQ(static_cast<char>(id[1]), 'S');
    EXPECT_EQ(static_cast<char>(id[2]), 'L');
    EXPECT_EQ(static_cast<char>(id[19]), '7');
}

} // namespace
