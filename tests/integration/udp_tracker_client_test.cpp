// The UDP tracker client (BEP 15, BEP 41) against a scripted fake tracker on loopback: the
// exchange, the retransmission schedule and giving up, connection id reuse and renewal
// (injected clock), cancellation and close.
//
// Timing is asserted as lower bounds only (gaps measured with the kernel's receive
// timestamps), never upper bounds: a loaded machine may be slow, never early.

#include "udp_client_test_support.hpp"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

namespace {

using namespace udp_client_test;

TEST(udp_tracker_client, announces_and_reuses_the_connection_id) {
    TEST_RING(ring);
    TEST_FAKE(fake, ring, "127.0.0.1");
    fake.peers = some_peers();
    tracker::udp_tracker_client client(ring, settings_with_base(1s));

    std::vector<result<tracker::announce_response>> got;
    ring.run(with_fake(fake, client, announce_n(client, fake.address(), 3, got)));

    ASSERT_EQ(got.size(), 3u);
    for (const auto& one : got) {
        ASSERT_TRUE(one) << one.error().message();
        EXPECT_FALSE(one->failure);
        EXPECT_EQ(one->peers, some_peers());
        EXPECT_EQ(one->interval, 1800s);
        EXPECT_EQ(one->complete, 5u);
        EXPECT_EQ(one->incomplete, 7u);
    }
    // One connect, then three announces under its id.
    auto connects = fake.seen(udp::action::connect);
    auto announces = fake.seen(udp::action::announce);
    ASSERT_EQ(connects.size(), 1u);
    ASSERT_EQ(announces.size(), 3u);
    ASSERT_EQ(fake.issued().size(), 1u);
    for (const auto& seen : announces) {
        EXPECT_EQ(seen.request.connection_id, fake.issued()[0]);
        const auto& body = std::get<udp::announce_body>(seen.request.body);
        EXPECT_EQ(body.request, make_request(1));
        EXPECT_EQ(body.url_data, "/announce");
        EXPECT_EQ(body.ip, (std::array<std::byte, 4>{}));
    }
    // Every request came from the client's one IPv4 socket.
    for (const auto& seen : fake.seen()) {
        EXPECT_EQ(seen.from.port(), announces[0].from.port());
    }
    EXPECT_EQ(fake.malformed(), 0u);
    EXPECT_EQ(client.stats().connects, 1u);
    EXPECT_EQ(client.stats().retransmits, 0u);
    EXPECT_EQ(client.running(), 0u);
}

TEST(udp_tracker_client, sends_a_long_url_as_bep41_url_data) {
    TEST_RING(ring);
    TEST_FAKE(fake, ring, "127.0.0.1");
    tracker::udp_tracker_client client(ring, settings_with_base(1s));
    std::string url = "/announce?passkey=" + std::string(600, 'k');

    std::optional<result<tracker::announce_response>> got;
    ring.run(with_fake(fake, client, announce_long_url(client, fake.address(), url, got)));

    ASSERT_TRUE(got && *got) << (got ? got->error().message() : "no result");
    auto announces = fake.seen(udp::action::announce);
    ASSERT_EQ(announces.size(), 1u);
    EXPECT_EQ(std::get<udp::announce_body>(announces[0].request.body).url_data, url);
}

TEST(udp_tracker_client, retransmits_dropped_requests_on_the_doubling_schedule) {
    TEST_RING(ring);
    TEST_FAKE(fake, ring, "127.0.0.1");
    fake.peers = some_peers();
    constexpr auto base = 20ms;
    // Connect: two sends lost, the third answered. Announce: one lost, then answered.
    fake.script(udp::action::connect, {step{reply_mode::drop}, step{reply_mode::drop}});
    fake.script(udp::action::announce, {step{reply_mode::drop}});
    tracker::udp_tracker_client client(ring, settings_with_base(base));

    std::vector<result<tracker::announce_response>> got;
    ring.run(with_fake(fake, client, announce_n(client, fake.address(), 1, got)));

    ASSERT_EQ(got.size(), 1u);
    ASSERT_TRUE(got[0]) << got[0].error().message();
    EXPECT_EQ(got[0]->peers, some_peers());

    auto connects = fake.seen(udp::action::connect);
    auto announces = fake.seen(udp::action::announce);
    ASSERT_EQ(connects.size(), 3u);
    ASSERT_EQ(announces.size(), 2u);
    // Order: every connect before the first announce.
    EXPECT_EQ(fake.seen()[3].request.action(), udp::action::announce);
    // Retransmissions repeat the same transaction id.
    EXPECT_EQ(connects[1].request.transaction_id, connects[0].request.transaction_id);
    EXPECT_EQ(connects[2].request.transaction_id, connects[0].request.transaction_id);
    EXPECT_EQ(announces[1].request.transaction_id, announces[0].request.transaction_id);
    EXPECT_EQ(announces[1].request, announces[0].request);
    // base * 2^n, n counting every unanswered send of the exchange: the connect waits
    // 20 and 40 ms, the announce (third send) 80 ms before its retransmission.
    EXPECT_GE(gap(connects, 0), base);
    EXPECT_GE(gap(connects, 1), 2 * base);
    EXPECT_GE(gap(announces, 0), 4 * base);
    EXPECT_EQ(client.stats().retransmits, 3u);
    EXPECT_EQ(client.stats().sent, 5u);
}

TEST(udp_tracker_client, gives_up_with_timed_out_after_the_ninth_send) {
    TEST_RING(ring);
    TEST_FAKE(fake, ring, "127.0.0.1");
    fake.drop_all(udp::action::connect);
    constexpr auto base = 1ms;
    tracker::udp_tracker_client client(ring, settings_with_base(base));

    std::vector<result<tracker::announce_response>> got;
    ring.run(with_fake(fake, client, announce_n(client, fake.address(), 1, got)));

    ASSERT_EQ(got.size(), 1u);
    ASSERT_FALSE(got[0]);
    EXPECT_EQ(got[0].error(), std::errc::timed_out) << got[0].error().message();
    auto connects = fake.seen(udp::action::connect);
    // n = 0..8: nine sends, then nothing more.
    ASSERT_EQ(connects.size(), 9u);
    EXPECT_TRUE(fake.seen(udp::action::announce).empty());
    for (std::size_t n = 0; n + 1 < connects.size(); ++n) {
        EXPECT_EQ(connects[n].request.transaction_id, connects[0].request.transaction_id);
        EXPECT_GE(gap(connects, n), base * (1 << n)) << "after send " << n;
    }
    EXPECT_EQ(client.stats().sent, 9u);
}

TEST(udp_tracker_client, an_unanswered_announce_also_gives_up_after_nine_sends) {
    TEST_RING(ring);
    TEST_FAKE(fake, ring, "127.0.0.1");
    fake.drop_all(udp::action::announce);
    tracker::udp_tracker_client client(ring, settings_with_base(1ms));

    std::vector<result<tracker::announce_response>> got;
    ring.run(with_fake(fake, client, announce_n(client, fake.address(), 1, got)));

    ASSERT_EQ(got.size(), 1u);
    ASSERT_FALSE(got[0]);
    EXPECT_EQ(got[0].error(), std::errc::timed_out);
    // The connect was answered at once, which does not count as a lost send: the
    // announce then gets all nine sends of the schedule.
    EXPECT_EQ(fake.seen(udp::action::connect).size(), 1u);
    EXPECT_EQ(fake.seen(udp::action::announce).size(), 9u);
}

io::task<void> announce_at_times(tracker::udp_tracker_client& client, endpoint to,
                                 manual_clock& clock, std::vector<std::chrono::seconds> steps,
                                 std::vector<result<tracker::announce_response>>& out) {
    for (auto advance : steps) {
        clock.now += advance;
        auto got = co_await client.announce(to, "/announce", make_request(1), {});
        out.push_back(std::move(got));
    }
}

TEST(udp_tracker_client, renews_the_connection_id_after_60_seconds) {
    TEST_RING(ring);
    TEST_FAKE(fake, ring, "127.0.0.1");
    manual_clock clock;
    tracker::udp_tracker_client client(ring, settings_with_base(1s),
                                       [&clock] { return clock.now; });

    // t = 0: connect + announce; t = 59 s: reuse; t = 61 s: a new connect; t = 100 s:
    // reuse of the new id (39 s old).
    std::vector<result<tracker::announce_response>> got;
    ring.run(with_fake(fake, client,
                       announce_at_times(client, fake.address(), clock, {0s, 59s, 2s, 39s}, got)));

    ASSERT_EQ(got.size(), 4u);
    for (const auto& one : got) {
        ASSERT_TRUE(one) << one.error().message();
        EXPECT_FALSE(one->failure);
    }
    ASSERT_EQ(fake.issued().size(), 2u);
    auto announces = fake.seen(udp::action::announce);
    ASSERT_EQ(announces.size(), 4u);
    EXPECT_EQ(announces[0].request.connection_id, fake.issued()[0]);
    EXPECT_EQ(announces[1].request.connection_id, fake.issued()[0]);
    EXPECT_EQ(announces[2].request.connection_id, fake.issued()[1]);
    EXPECT_EQ(announces[3].request.connection_id, fake.issued()[1]);
    // Order: connect, announce, announce, connect, announce, announce.
    std::vector<udp::action> order;
    for (const auto& seen : fake.seen()) {
        order.push_back(seen.request.action());
    }
    EXPECT_EQ(order, (std::vector<udp::action>{udp::action::connect, udp::action::announce,
                                               udp::action::announce, udp::action::connect,
                                               udp::action::announce, udp::action::announce}));
}

TEST(udp_tracker_client, reconnects_before_retransmitting_with_an_expired_id) {
    TEST_RING(ring);
    TEST_FAKE(fake, ring, "127.0.0.1");
    manual_clock clock;
    // The first announce is lost, and by its retransmission the id is 61 s old.
    fake.script(udp::action::announce, {step{reply_mode::drop}});
    fake.on_request = [&clock](const seen_request& seen) {
        if (seen.request.action() == udp::action::announce) {
            clock.now += 61s;
        }
    };
    tracker::udp_tracker_client client(ring, settings_with_base(10ms),
                                       [&clock] { return clock.now; });

    std::vector<result<tracker::announce_response>> got;
    ring.run(with_fake(fake, client, announce_n(client, fake.address(), 1, got)));

    ASSERT_EQ(got.size(), 1u);
    ASSERT_TRUE(got[0]) << got[0].error().message();
    EXPECT_FALSE(got[0]->failure);
    std::vector<udp::action> order;
    for (const auto& seen : fake.seen()) {
        order.push_back(seen.request.action());
    }
    EXPECT_EQ(order, (std::vector<udp::action>{udp::action::connect, udp::action::announce,
                                               udp::action::connect, udp::action::announce}));
    auto announces = fake.seen(udp::action::announce);
    ASSERT_EQ(announces.size(), 2u);
    ASSERT_EQ(fake.issued().size(), 2u);
    EXPECT_EQ(announces[0].request.connection_id, fake.issued()[0]);
    EXPECT_EQ(announces[1].request.connection_id, fake.issued()[1]);
    // A new packet: new connection id, new transaction id.
    EXPECT_NE(announces[1].request.transaction_id, announces[0].request.transaction_id);
}

// One bad reply of each kind, on the connect and on the announce; the good reply follows.
TEST(udp_tracker_client, stop_token_cancels_a_waiting_request) {
    TEST_RING(ring);
    TEST_FAKE(fake, ring, "127.0.0.1");
    fake.drop_all(udp::action::connect);
    std::stop_source stop;
    // Stop once the second connect (first retransmission) was seen.
    fake.on_request = [&stop, &fake](const seen_request&) {
        if (fake.seen().size() == 2) {
            stop.request_stop();
        }
    };
    tracker::udp_tracker_client client(ring, settings_with_base(5ms));

    std::optional<result<tracker::announce_response>> got;
    ring.run(with_fake(fake, client,
                       announce_into(client, fake.address(), "/announce", make_request(1),
                                     stop.get_token(), got)));

    ASSERT_TRUE(got);
    ASSERT_FALSE(*got);
    EXPECT_EQ(got->error(), std::errc::operation_canceled);
    EXPECT_EQ(fake.seen().size(), 2u);
    EXPECT_EQ(client.running(), 0u);
}

io::task<void> close_while_waiting(tracker::udp_tracker_client& client, endpoint to,
                                   std::optional<result<tracker::announce_response>>& got,
                                   std::optional<result<tracker::announce_response>>& after) {
    io::scope requests;
    requests.spawn(announce_into(client, to, "/announce", make_request(1), {}, got));
    // The request is now waiting for its connect reply, which never comes.
    co_await client.close();
    co_await requests.join();
    auto late = co_await client.announce(to, "/announce", make_request(1), {});
    after = std::move(late);
}

TEST(udp_tracker_client, close_cancels_running_requests_and_refuses_new_ones) {
    TEST_RING(ring);
    TEST_FAKE(fake, ring, "127.0.0.1");
    fake.drop_all(udp::action::connect);
    tracker::udp_tracker_client client(ring, settings_with_base(10s));

    std::optional<result<tracker::announce_response>> got;
    std::optional<result<tracker::announce_response>> after;
    ring.run(with_fake(fake, client, close_while_waiting(client, fake.address(), got, after)));

    ASSERT_TRUE(got && after);
    ASSERT_FALSE(*got);
    EXPECT_EQ(got->error(), std::errc::operation_canceled);
    ASSERT_FALSE(*after);
    EXPECT_EQ(after->error(), std::errc::operation_canceled);
    EXPECT_EQ(client.running(), 0u);
    EXPECT_FALSE(client.local_endpoint(spate::address_family::v4));
}

} // namespace
