#include <spate/picker/block_state.hpp>

#include <gtest/gtest.h>

#include <vector>

namespace {

using spate::picker::block_state;
using spate::picker::peer_key;

TEST(block_state, request_receive_and_drop_keep_counts) {
    block_state st(4);
    EXPECT_TRUE(st.untouched());
    EXPECT_TRUE(st.request(0, 1));
    EXPECT_TRUE(st.request(1, 1));
    EXPECT_EQ(st.open_count(), 2u);
    EXPECT_EQ(st.requested_count(), 2u);
    EXPECT_TRUE(st.has_peer(1));
    EXPECT_FALSE(st.has_peer(2));

    std::vector<peer_key> others;
    EXPECT_TRUE(st.receive(0, 1, others));
    EXPECT_TRUE(others.empty());
    EXPECT_EQ(st.received_count(), 1u);
    EXPECT_FALSE(st.receive(0, 1, others)) << "a block is received once";

    EXPECT_TRUE(st.drop(1, 1));
    EXPECT_FALSE(st.drop(1, 1));
    EXPECT_FALSE(st.has_peer(1));
    EXPECT_EQ(st.open_count(), 3u);
    EXPECT_FALSE(st.untouched());
    st.check_invariants(0);
}

TEST(block_state, never_the_same_peer_twice_and_at_most_two_requesters) {
    block_state st(1);
    EXPECT_TRUE(st.request(0, 1));
    EXPECT_FALSE(st.request(0, 1));
    EXPECT_TRUE(st.request(0, 2));
    EXPECT_FALSE(st.request(0, 3));
    EXPECT_EQ(st.block(0).requester_count, 2);
    st.check_invariants(0);
}

TEST(block_state, receive_lists_the_other_requesters_for_cancel) {
    block_state st(1);
    ASSERT_TRUE(st.request(0, 7));
    ASSERT_TRUE(st.request(0, 9));
    std::vector<peer_key> others;
    EXPECT_FALSE(st.receive(0, 8, others)) << "not requested from 8";
    EXPECT_TRUE(st.receive(0, 9, others));
    EXPECT_EQ(others, std::vector<peer_key>{7});
    EXPECT_TRUE(st.complete());
    EXPECT_TRUE(st.peers().empty());
    st.check_invariants(0);
}

TEST(block_state, drop_of_one_requester_keeps_block_requested_by_the_other) {
    block_state st(2);
    ASSERT_TRUE(st.request(0, 1));
    ASSERT_TRUE(st.request(0, 2));
    EXPECT_TRUE(st.drop(0, 1));
    EXPECT_EQ(st.open_count(), 1u);
    EXPECT_TRUE(st.block(0).requested_from(2));
    EXPECT_FALSE(st.block(0).requested_from(1));
    st.check_invariants(0);
}

TEST(block_state, drop_peer_removes_all_its_requests) {
    block_state st(5);
    for (std::uint32_t b = 0; b < 5; ++b) {
        ASSERT_TRUE(st.request(b, b % 2 == 0 ? 1 : 2));
    }
    EXPECT_EQ(st.drop_peer(1), 3u);
    EXPECT_EQ(st.drop_peer(1), 0u);
    EXPECT_EQ(st.open_count(), 3u);
    ASSERT_EQ(st.peers().size(), 1u);
    EXPECT_EQ(st.peers()[0], (std::pair<peer_key, std::uint32_t>{2, 2}));
    st.check_invariants(0);
}

} // namespace
