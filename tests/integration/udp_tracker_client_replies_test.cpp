// The UDP tracker client against a scripted fake tracker: replies it must not believe
// (wrong transaction id, wrong action, truncated, from another address, duplicated),
// reordered replies, error replies, scrape, requests it cannot encode, and IPv6.

#include "udp_client_test_support.hpp"

#include <spate/tracker/error.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace {

using namespace udp_client_test;

struct bad_reply_case {
    const char* name;
    reply_mode mode;
    udp::action on;
    std::uint64_t tracker::udp_client_stats::*counter;

    friend void PrintTo(const bad_reply_case& c, std::ostream* os) { *os << c.name; }
};

class udp_tracker_client_bad_reply : public ::testing::TestWithParam<bad_reply_case> {};

TEST_P(udp_tracker_client_bad_reply, is_ignored_and_the_good_reply_taken) {
    const bad_reply_case& param = GetParam();
    TEST_RING(ring);
    TEST_FAKE(fake, ring, "127.0.0.1");
    fake.peers = some_peers();
    fake.script(param.on, {step{param.mode, true}});
    tracker::udp_tracker_client client(ring, settings_with_base(1s));

    std::vector<result<tracker::announce_response>> got;
    ring.run(with_fake(fake, client, announce_n(client, fake.address(), 1, got)));

    ASSERT_EQ(got.size(), 1u);
    ASSERT_TRUE(got[0]) << got[0].error().message();
    EXPECT_FALSE(got[0]->failure);
    EXPECT_EQ(got[0]->peers, some_peers());
    EXPECT_EQ(got[0]->interval, 1800s);
    EXPECT_GE(client.stats().*param.counter, 1u);
    EXPECT_EQ(client.stats().accepted, 2u);
    // The connection id used is the one the good connect reply carried.
    auto announces = fake.seen(udp::action::announce);
    ASSERT_FALSE(announces.empty());
    EXPECT_EQ(announces.back().request.connection_id, fake.issued().back());
}

INSTANTIATE_TEST_SUITE_P(
    all, udp_tracker_client_bad_reply,
    ::testing::Values(
        bad_reply_case{"connect_wrong_transaction", reply_mode::wrong_transaction,
                       udp::action::connect,
                       &tracker::udp_client_stats::dropped_unknown_transaction},
        bad_reply_case{"connect_wrong_action", reply_mode::wrong_action, udp::action::connect,
                       &tracker::udp_client_stats::dropped_wrong_action},
        bad_reply_case{"connect_truncated", reply_mode::truncate, udp::action::connect,
                       &tracker::udp_client_stats::dropped_malformed},
        bad_reply_case{"connect_other_source", reply_mode::other_socket, udp::action::connect,
                       &tracker::udp_client_stats::dropped_wrong_source},
        bad_reply_case{"announce_wrong_transaction", reply_mode::wrong_transaction,
                       udp::action::announce,
                       &tracker::udp_client_stats::dropped_unknown_transaction},
        bad_reply_case{"announce_wrong_action", reply_mode::wrong_action, udp::action::announce,
                       &tracker::udp_client_stats::dropped_wrong_action},
        bad_reply_case{"announce_truncated", reply_mode::truncate, udp::action::announce,
                       &tracker::udp_client_stats::dropped_malformed},
        bad_reply_case{"announce_other_source", reply_mode::other_socket, udp::action::announce,
                       &tracker::udp_client_stats::dropped_wrong_source}),
    [](const ::testing::TestParamInfo<bad_reply_case>& case_info) { return case_info.param.name; });

TEST(udp_tracker_client, a_lone_bad_reply_leads_to_a_retransmission_not_a_result) {
    TEST_RING(ring);
    TEST_FAKE(fake, ring, "127.0.0.1");
    fake.peers = some_peers();
    // Each announce send gets only a bad reply, until the fourth, which is answered.
    fake.script(udp::action::announce, {step{reply_mode::truncate}, step{reply_mode::wrong_action},
                                        step{reply_mode::other_socket}});
    tracker::udp_tracker_client client(ring, settings_with_base(5ms));

    std::vector<result<tracker::announce_response>> got;
    ring.run(with_fake(fake, client, announce_n(client, fake.address(), 1, got)));

    ASSERT_EQ(got.size(), 1u);
    ASSERT_TRUE(got[0]) << got[0].error().message();
    EXPECT_EQ(got[0]->peers, some_peers());
    EXPECT_EQ(fake.seen(udp::action::announce).size(), 4u);
    EXPECT_EQ(client.stats().dropped_malformed, 1u);
    EXPECT_EQ(client.stats().dropped_wrong_action, 1u);
    EXPECT_EQ(client.stats().dropped_wrong_source, 1u);
}

TEST(udp_tracker_client, drops_a_duplicate_reply) {
    TEST_RING(ring);
    TEST_FAKE(fake, ring, "127.0.0.1");
    fake.script(udp::action::announce, {step{reply_mode::twice}});
    tracker::udp_tracker_client client(ring, settings_with_base(1s));

    // The second announce's reply comes after the duplicate, which is read first.
    std::vector<result<tracker::announce_response>> got;
    ring.run(with_fake(fake, client, announce_n(client, fake.address(), 2, got)));

    ASSERT_EQ(got.size(), 2u);
    EXPECT_TRUE(got[0] && got[1]);
    EXPECT_EQ(client.stats().dropped_unknown_transaction, 1u);
    EXPECT_EQ(client.stats().accepted, 3u);
}

io::task<void> two_at_once(tracker::udp_tracker_client& client, endpoint to,
                           std::optional<result<tracker::announce_response>>& first,
                           std::optional<result<tracker::announce_response>>& second) {
    io::scope requests;
    requests.spawn(announce_into(client, to, "/a", make_request(1), {}, first));
    requests.spawn(announce_into(client, to, "/b", make_request(2), {}, second));
    co_await requests.join();
}

TEST(udp_tracker_client, routes_reordered_replies_by_transaction_id) {
    TEST_RING(ring);
    TEST_FAKE(fake, ring, "127.0.0.1");
    // Each torrent gets peers of its own: port 1000 + the first info-hash byte.
    fake.peers_for = [](const udp::announce_body& body) {
        auto port = static_cast<std::uint16_t>(
            1000 + std::to_integer<int>(body.request.info_hash.bytes[0]));
        return std::vector<endpoint>{*endpoint::parse_address("127.0.0.5", port)};
    };
    // The first announce's reply is held back until after the second's.
    fake.script(udp::action::announce, {step{reply_mode::hold}});
    tracker::udp_tracker_client client(ring, settings_with_base(1s));

    std::optional<result<tracker::announce_response>> first;
    std::optional<result<tracker::announce_response>> second;
    ring.run(with_fake(fake, client, two_at_once(client, fake.address(), first, second)));

    ASSERT_TRUE(first && *first) << (first ? first->error().message() : "no result");
    ASSERT_TRUE(second && *second) << (second ? second->error().message() : "no result");
    ASSERT_EQ((*first)->peers.size(), 1u);
    ASSERT_EQ((*second)->peers.size(), 1u);
    EXPECT_EQ((*first)->peers[0].port(), 1001);
    EXPECT_EQ((*second)->peers[0].port(), 1002);
    // Two announces only: the held reply was taken, not retransmitted for.
    EXPECT_EQ(fake.seen(udp::action::announce).size(), 2u);
}

TEST(udp_tracker_client, an_error_reply_surfaces_the_tracker_message) {
    TEST_RING(ring);
    TEST_FAKE(fake, ring, "127.0.0.1");
    fake.script(udp::action::announce, {step{reply_mode::error}});
    fake.error_message = "info_hash not registered";
    tracker::udp_tracker_client client(ring, settings_with_base(1s));

    std::vector<result<tracker::announce_response>> got;
    ring.run(with_fake(fake, client, announce_n(client, fake.address(), 2, got)));

    ASSERT_EQ(got.size(), 2u);
    ASSERT_TRUE(got[0]) << got[0].error().message();
    ASSERT_TRUE(got[0]->failure);
    EXPECT_EQ(*got[0]->failure, "info_hash not registered");
    EXPECT_TRUE(got[0]->peers.empty());
    // A refusal drops the connection id: the next announce connects again, and succeeds.
    ASSERT_TRUE(got[1]);
    EXPECT_FALSE(got[1]->failure);
    EXPECT_EQ(fake.seen(udp::action::connect).size(), 2u);
}

TEST(udp_tracker_client, an_error_reply_to_connect_surfaces_too) {
    TEST_RING(ring);
    TEST_FAKE(fake, ring, "127.0.0.1");
    fake.script(udp::action::connect, {step{reply_mode::error}});
    fake.error_message = "go away";
    tracker::udp_tracker_client client(ring, settings_with_base(1s));

    std::vector<result<tracker::announce_response>> got;
    ring.run(with_fake(fake, client, announce_n(client, fake.address(), 1, got)));

    ASSERT_EQ(got.size(), 1u);
    ASSERT_TRUE(got[0]);
    ASSERT_TRUE(got[0]->failure);
    EXPECT_EQ(*got[0]->failure, "go away");
    EXPECT_TRUE(fake.seen(udp::action::announce).empty());
}

TEST(udp_tracker_client, scrapes_in_request_order) {
    TEST_RING(ring);
    TEST_FAKE(fake, ring, "127.0.0.1");
    fake.script(udp::action::scrape, {step{reply_mode::drop}});
    tracker::udp_tracker_client client(ring, settings_with_base(5ms));
    std::vector<sha1_digest> hashes(3);
    for (std::size_t i = 0; i < hashes.size(); ++i) {
        hashes[i].bytes.fill(static_cast<std::byte>(0x40 + i));
    }

    std::vector<result<tracker::http::scrape_response>> got;
    ring.run(with_fake(fake, client, scrape_into(client, fake.address(), hashes, got)));

    ASSERT_EQ(got.size(), 1u);
    ASSERT_TRUE(got[0]) << got[0].error().message();
    EXPECT_FALSE(got[0]->failure);
    ASSERT_EQ(got[0]->entries.size(), 3u);
    for (std::size_t i = 0; i < hashes.size(); ++i) {
        EXPECT_EQ(got[0]->entries[i],
                  (tracker::scrape_entry{hashes[i], fake.seeders, fake.completed, fake.leechers}));
    }
    auto scrapes = fake.seen(udp::action::scrape);
    ASSERT_EQ(scrapes.size(), 2u);
    EXPECT_EQ(std::get<udp::scrape_body>(scrapes[0].request.body).info_hashes, hashes);
}

TEST(udp_tracker_client, a_scrape_error_reply_surfaces_the_tracker_message) {
    TEST_RING(ring);
    TEST_FAKE(fake, ring, "127.0.0.1");
    fake.script(udp::action::scrape, {step{reply_mode::error}});
    fake.error_message = "scrape disabled";
    tracker::udp_tracker_client client(ring, settings_with_base(1s));

    std::vector<result<tracker::http::scrape_response>> got;
    ring.run(with_fake(fake, client,
                       scrape_into(client, fake.address(), std::vector<sha1_digest>(1), got)));

    ASSERT_EQ(got.size(), 1u);
    ASSERT_TRUE(got[0]) << got[0].error().message();
    ASSERT_TRUE(got[0]->failure);
    EXPECT_EQ(*got[0]->failure, "scrape disabled");
    EXPECT_TRUE(got[0]->entries.empty());
}

TEST(udp_tracker_client, refuses_requests_the_codec_cannot_encode_before_sending) {
    TEST_RING(ring);
    TEST_FAKE(fake, ring, "127.0.0.1");
    tracker::udp_tracker_client client(ring, settings_with_base(1s));

    std::vector<result<tracker::http::scrape_response>> none;
    std::vector<result<tracker::http::scrape_response>> too_many;
    std::optional<result<tracker::announce_response>> long_url;
    ring.run(with_fake(fake, client, scrape_into(client, fake.address(), {}, none)));
    // The client is closed now; make a new one for the other cases.
    tracker::udp_tracker_client second(ring, settings_with_base(1s));
    ring.run(with_fake(
        fake, second, scrape_into(second, fake.address(), std::vector<sha1_digest>(75), too_many)));
    tracker::udp_tracker_client third(ring, settings_with_base(1s));
    ring.run(with_fake(fake, third,
                       announce_long_url(third, fake.address(),
                                         "/" + std::string(udp::max_url_data + 1, 'x'), long_url)));

    ASSERT_EQ(none.size(), 1u);
    EXPECT_EQ(none[0].error(), tracker::errc::no_info_hashes);
    ASSERT_EQ(too_many.size(), 1u);
    EXPECT_EQ(too_many[0].error(), tracker::errc::too_many_info_hashes);
    ASSERT_TRUE(long_url);
    EXPECT_EQ(long_url->error(), tracker::errc::url_data_too_long);
    EXPECT_TRUE(fake.seen().empty());
}

TEST(udp_tracker_client, ipv6_announce_returns_18_byte_peers) {
    TEST_RING(ring);
    auto fake_created = fake_udp_tracker::create(ring, "::1");
    if (!fake_created) {
        GTEST_SKIP() << "no IPv6 loopback: " << fake_created.error().message();
    }
    fake_udp_tracker& fake = **fake_created;
    std::vector<endpoint> v6_peers{*endpoint::parse("[::1]:6881"),
                                   *endpoint::parse("[fe80::1:2:3:4]:51413")};
    // A v4 peer in the list is not sent over IPv6.
    fake.peers = v6_peers;
    fake.peers.push_back(*endpoint::parse("127.0.0.9:1"));
    tracker::udp_tracker_client client(ring, settings_with_base(1s, true));

    std::vector<result<tracker::announce_response>> got;
    ring.run(with_fake(fake, client, announce_n(client, fake.address(), 1, got)));

    ASSERT_EQ(got.size(), 1u);
    ASSERT_TRUE(got[0]) << got[0].error().message();
    EXPECT_EQ(got[0]->peers, v6_peers);
    auto announces = fake.seen(udp::action::announce);
    ASSERT_EQ(announces.size(), 1u);
    EXPECT_FALSE(announces[0].from.is_v4());
    EXPECT_FALSE(client.local_endpoint(spate::address_family::v4));
}

} // namespace
