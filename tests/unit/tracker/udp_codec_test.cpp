#include <spate/tracker/error.hpp>
#include <spate/tracker/udp_codec.hpp>

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace {

using namespace spate;
using namespace spate::tracker;
using namespace std::chrono_literals;
namespace udp = spate::tracker::udp;

// Bytes from hex text; spaces are ignored so packets can be laid out field by field.
std::vector<std::byte> hex(std::string_view text) {
    std::vector<std::byte> out;
    auto digit = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == ' ') {
            continue;
        }
        out.push_back(static_cast<std::byte>(digit(text[i]) * 16 + digit(text[i + 1])));
        ++i;
    }
    return out;
}

sha1_digest hash_of(unsigned char fill) {
    sha1_digest d;
    for (std::size_t i = 0; i < d.bytes.size(); ++i) {
        d.bytes[i] = static_cast<std::byte>(fill + i);
    }
    return d;
}

announce_request sample_request() {
    announce_request r;
    r.info_hash = hash_of(0x10);
    for (std::size_t i = 0; i < r.peer.size(); ++i) {
        r.peer[i] = static_cast<std::byte>(0xa0 + i);
    }
    r.port = 6881;
    r.uploaded = 0x0102030405060708;
    r.downloaded = 1000;
    r.left = 5;
    r.event = announce_event::started;
    r.numwant = -1;
    r.key = 0xdeadbeef;
    return r;
}

endpoint ep(std::string_view text) {
    return *endpoint::parse(text);
}

template <typename T> std::error_code error_of(const result<T>& r) {
    return r ? std::error_code{} : r.error();
}

// ---- layouts against hand-written packets ----

TEST(udp_codec, connect_request_layout) {
    const auto packet = udp::encode_connect_request(0x11223344);
    const auto expected = hex("0000041727101980 00000000 11223344");
    EXPECT_TRUE(std::equal(packet.begin(), packet.end(), expected.begin(), expected.end()));
}

TEST(udp_codec, announce_request_layout_at_bep15_offsets) {
    const auto packet = udp::encode_announce_request(0x0a0b0c0d0e0f1011, 7, sample_request(), "");
    ASSERT_TRUE(packet.has_value());
    std::string expected_hex = "0a0b0c0d0e0f1011 00000001 00000007";
    expected_hex += " 101112131415161718191a1b1c1d1e1f20212223"; // 16 info_hash
    expected_hex += " a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3"; // 36 peer_id
    expected_hex += " 00000000000003e8";                         // 56 downloaded
    expected_hex += " 0000000000000005";                         // 64 left
    expected_hex += " 0102030405060708";                         // 72 uploaded
    expected_hex += " 00000002 00000000 deadbeef ffffffff 1ae1"; // 80 event .. 96 port
    EXPECT_EQ(*packet, hex(expected_hex));
    EXPECT_EQ(packet->size(), udp::announce_request_size);
}

TEST(udp_codec, scrape_request_layout) {
    const std::vector<sha1_digest> hashes{hash_of(0), hash_of(0x40)};
    const auto packet = udp::encode_scrape_request(42, 9, hashes);
    ASSERT_TRUE(packet.has_value());
    EXPECT_EQ(*packet, hex("000000000000002a 00000002 00000009"
                           " 000102030405060708090a0b0c0d0e0f10111213"
                           " 404142434445464748494a4b4c4d4e4f50515253"));
}

TEST(udp_codec, decodes_hand_written_connect_reply) {
    const auto packet = hex("00000000 11223344 8877665544332211");
    const auto header = udp::decode_reply_header(packet);
    ASSERT_TRUE(header.has_value());
    EXPECT_EQ(header->action, udp::action::connect);
    EXPECT_EQ(header->transaction_id, 0x11223344u);
    EXPECT_EQ(udp::decode_connect_reply(packet), 0x8877665544332211u);
}

TEST(udp_codec, decodes_hand_written_ipv4_announce_reply) {
    const auto packet = hex("00000001 00000005 00000708 00000003 00000002"
                            " 7f000001 1ae1 7f000002 0050");
    const auto reply = udp::decode_announce_reply(packet, address_family::v4);
    ASSERT_TRUE(reply.has_value()) << reply.error().message();
    EXPECT_EQ(reply->interval, 1800s);
    EXPECT_EQ(reply->incomplete, 3u);
    EXPECT_EQ(reply->complete, 2u);
    EXPECT_EQ(reply->peers, (std::vector<endpoint>{ep("127.0.0.1:6881"), ep("127.0.0.2:80")}));
    EXPECT_FALSE(reply->failure);
}

TEST(udp_codec, ipv6_reply_peers_are_18_bytes) {
    const auto packet = hex("00000001 00000005 0000003c 00000000 00000001"
                            " 00000000000000000000000000000001 1ae1");
    const auto reply = udp::decode_announce_reply(packet, address_family::v6);
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->peers, std::vector<endpoint>{ep("[::1]:6881")});
    // 18 bytes are also three 6-byte peers: the packet's family alone decides.
    const auto as_v4 = udp::decode_announce_reply(packet, address_family::v4);
    ASSERT_TRUE(as_v4.has_value());
    // 0.0.0.0:0 twice (dropped for port 0), then 0.0.0.1:6881.
    EXPECT_EQ(as_v4->peers, std::vector<endpoint>{ep("0.0.0.1:6881")});
}

TEST(udp_codec, announce_reply_drops_port_zero_and_duplicates) {
    const auto packet = hex("00000001 00000005 00000708 00000000 00000000"
                            " 7f000001 1ae1 7f000001 0000 7f000001 1ae1 7f000003 0001");
    const auto reply = udp::decode_announce_reply(packet, address_family::v4);
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->peers, (std::vector<endpoint>{ep("127.0.0.1:6881"), ep("127.0.0.3:1")}));
}

TEST(udp_codec, announce_reply_clamps_a_huge_interval) {
    const auto packet = hex("00000001 00000005 ffffffff 00000000 00000000");
    const auto reply = udp::decode_announce_reply(packet, address_family::v4);
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->interval, max_interval);
}

TEST(udp_codec, decodes_hand_written_scrape_reply_in_request_order) {
    const std::vector<sha1_digest> hashes{hash_of(1), hash_of(2)};
    const auto packet = hex("00000002 00000009 0000000a 00000014 0000001e"
                            " 00000001 00000002 00000003");
    const auto entries = udp::decode_scrape_reply(packet, hashes);
    ASSERT_TRUE(entries.has_value());
    EXPECT_EQ(*entries, (std::vector<scrape_entry>{{hashes[0], 10, 20, 30}, {hashes[1], 1, 2, 3}}));
}

TEST(udp_codec, error_reply_message_is_printable) {
    const auto packet = hex("00000003 00000009 626164 1b5b 00 ff 6f6b");
    EXPECT_EQ(udp::decode_error_reply(packet), std::string("bad?[??ok"));
    EXPECT_EQ(udp::decode_error_reply(hex("00000003 00000009")), std::string());
}

TEST(udp_codec, oversized_error_text_is_cut) {
    auto packet = udp::encode_error_reply(1, "");
    packet.resize(packet.size() + 5000, std::byte{'x'});
    const auto message = udp::decode_error_reply(packet);
    ASSERT_TRUE(message.has_value());
    EXPECT_EQ(*message, std::string(max_tracker_text, 'x'));
    EXPECT_EQ(udp::encode_error_reply(1, std::string(5000, 'y')).size(),
              udp::reply_header_size + max_tracker_text);
}

// ---- BEP 41 ----

TEST(udp_codec, url_data_of_600_bytes_makes_three_options) {
    std::string path = "/announce?passkey=";
    path.resize(600, 'p');
    const auto packet = udp::encode_announce_request(1, 2, sample_request(), path);
    ASSERT_TRUE(packet.has_value());
    ASSERT_EQ(packet->size(), udp::announce_request_size + (2 + 255) + (2 + 255) + (2 + 90) + 1);
    const auto options = std::span(*packet).subspan(udp::announce_request_size);
    EXPECT_EQ(options[0], std::byte{2});
    EXPECT_EQ(options[1], std::byte{255});
    EXPECT_EQ(options[257], std::byte{2});
    EXPECT_EQ(options[258], std::byte{255});
    EXPECT_EQ(options[514], std::byte{2});
    EXPECT_EQ(options[515], std::byte{90});
    EXPECT_EQ(options.back(), std::byte{0});
    EXPECT_EQ(std::memcmp(options.data() + 2, path.data(), 255), 0);

    const auto decoded = udp::decode_request(*packet);
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(std::get<udp::announce_body>(decoded->body).url_data, path);
}

TEST(udp_codec, url_data_exact_chunk_multiple) {
    const std::string path(255, '/');
    const auto packet = udp::encode_announce_request(1, 2, sample_request(), path);
    ASSERT_TRUE(packet.has_value());
    EXPECT_EQ(packet->size(), udp::announce_request_size + 2 + 255 + 1);
}

TEST(udp_codec, server_reads_nop_and_stops_at_unknown_option) {
    auto packet = *udp::encode_announce_request(1, 2, sample_request(), "");
    for (auto b : hex("01 0203 2f6162 01 0201 63 09 0205 7a7a7a7a7a")) {
        packet.push_back(b);
    }
    const auto decoded = udp::decode_request(packet);
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(std::get<udp::announce_body>(decoded->body).url_data, "/abc");
}

TEST(udp_codec, url_data_too_long_is_refused_both_ways) {
    const std::string path(udp::max_url_data + 1, 'a');
    EXPECT_EQ(error_of(udp::encode_announce_request(1, 2, sample_request(), path)),
              errc::url_data_too_long);

    auto packet = *udp::encode_announce_request(1, 2, sample_request(), "");
    for (std::size_t i = 0; i <= udp::max_url_data / 255; ++i) {
        packet.push_back(std::byte{2});
        packet.push_back(std::byte{255});
        packet.resize(packet.size() + 255, std::byte{'a'});
    }
    EXPECT_EQ(error_of(udp::decode_request(packet)), errc::url_data_too_long);
}

// ---- round trips client <-> server ----

TEST(udp_codec, connect_round_trip) {
    const auto request = udp::decode_request(udp::encode_connect_request(77));
    ASSERT_TRUE(request.has_value());
    EXPECT_EQ(request->action(), udp::action::connect);
    EXPECT_EQ(request->connection_id, udp::protocol_id);
    EXPECT_EQ(request->transaction_id, 77u);

    const auto reply = udp::encode_connect_reply(77, 0xfeedface12345678);
    EXPECT_EQ(udp::decode_reply_header(reply), (udp::reply_header{udp::action::connect, 77}));
    EXPECT_EQ(udp::decode_connect_reply(reply), 0xfeedface12345678u);
}

TEST(udp_codec, announce_round_trip) {
    const auto sent = sample_request();
    const auto packet = udp::encode_announce_request(0x99, 3, sent, "/announce");
    ASSERT_TRUE(packet.has_value());
    const auto request = udp::decode_request(*packet);
    ASSERT_TRUE(request.has_value());
    EXPECT_EQ(request->action(), udp::action::announce);
    EXPECT_EQ(request->connection_id, 0x99u);
    EXPECT_EQ(request->transaction_id, 3u);
    const auto& body = std::get<udp::announce_body>(request->body);
    EXPECT_EQ(body.request, sent);
    EXPECT_EQ(body.ip, (std::array<std::byte, 4>{}));
    EXPECT_EQ(body.url_data, "/announce");

    const std::vector<endpoint> peers{ep("127.0.0.1:1"), ep("[::1]:2"), ep("127.0.0.2:3")};
    const auto reply = udp::encode_announce_reply(3, 900s, 4, 5, address_family::v4, peers);
    EXPECT_EQ(reply.size(), udp::announce_reply_header_size + 2 * 6);
    const auto decoded = udp::decode_announce_reply(reply, address_family::v4);
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(decoded->interval, 900s);
    EXPECT_EQ(decoded->incomplete, 4u);
    EXPECT_EQ(decoded->complete, 5u);
    EXPECT_EQ(decoded->peers, (std::vector<endpoint>{peers[0], peers[2]}));

    const auto reply6 = udp::encode_announce_reply(3, 0s, 0, 0, address_family::v6, peers);
    const auto decoded6 = udp::decode_announce_reply(reply6, address_family::v6);
    ASSERT_TRUE(decoded6.has_value());
    EXPECT_EQ(decoded6->interval, 1s); // 0 is clamped to the minimum
    EXPECT_EQ(decoded6->peers, std::vector<endpoint>{peers[1]});
}

TEST(udp_codec, scrape_round_trip) {
    const std::vector<sha1_digest> hashes{hash_of(1), hash_of(2), hash_of(3)};
    const auto packet = udp::encode_scrape_request(5, 6, hashes);
    ASSERT_TRUE(packet.has_value());
    const auto request = udp::decode_request(*packet);
    ASSERT_TRUE(request.has_value());
    EXPECT_EQ(request->action(), udp::action::scrape);
    EXPECT_EQ(std::get<udp::scrape_body>(request->body).info_hashes, hashes);

    const std::vector<scrape_entry> entries{
        {hashes[0], 1, 2, 3}, {hashes[1], 0, 0, 0}, {hashes[2], 0xffffffff, 7, 8}};
    const auto reply = udp::encode_scrape_reply(6, entries);
    EXPECT_EQ(udp::decode_scrape_reply(reply, hashes), entries);
}

TEST(udp_codec, error_round_trip) {
    const auto reply = udp::encode_error_reply(8, "torrent not registered");
    EXPECT_EQ(udp::decode_reply_header(reply), (udp::reply_header{udp::action::error, 8}));
    EXPECT_EQ(udp::decode_error_reply(reply), std::string("torrent not registered"));
}

TEST(udp_codec, max_scrape_of_74_hashes_round_trips) {
    std::vector<sha1_digest> hashes(udp::max_scrape_hashes);
    for (std::size_t i = 0; i < hashes.size(); ++i) {
        hashes[i] = hash_of(static_cast<unsigned char>(i));
    }
    const auto packet = udp::encode_scrape_request(1, 1, hashes);
    ASSERT_TRUE(packet.has_value());
    const auto request = udp::decode_request(*packet);
    ASSERT_TRUE(request.has_value());
    EXPECT_EQ(std::get<udp::scrape_body>(request->body).info_hashes, hashes);
}

// ---- malformed input ----

TEST(udp_codec, short_packets_are_refused) {
    EXPECT_EQ(error_of(udp::decode_reply_header(hex("00000000 000000"))), errc::packet_too_short);
    EXPECT_EQ(error_of(udp::decode_reply_header({})), errc::packet_too_short);
    EXPECT_EQ(error_of(udp::decode_connect_reply(hex("00000000 00000001 00112233445566"))),
              errc::packet_too_short);
    EXPECT_EQ(error_of(udp::decode_announce_reply(hex("00000001 00000001 00000708 00000000 000000"),
                                                  address_family::v4)),
              errc::packet_too_short);
    EXPECT_EQ(error_of(udp::decode_error_reply(hex("00000003 0000"))), errc::packet_too_short);
    EXPECT_EQ(error_of(udp::decode_request(hex("0000041727101980 00000000 112233"))),
              errc::packet_too_short);
    auto announce = *udp::encode_announce_request(1, 2, sample_request(), "");
    announce.pop_back();
    EXPECT_EQ(error_of(udp::decode_request(announce)), errc::packet_too_short);
}

TEST(udp_codec, wrong_action_is_refused) {
    const auto connect = udp::encode_connect_reply(1, 2);
    EXPECT_EQ(error_of(udp::decode_announce_reply(connect, address_family::v4)),
              errc::wrong_action);
    EXPECT_EQ(error_of(udp::decode_error_reply(connect)), errc::wrong_action);
    const auto error = udp::encode_error_reply(1, "no");
    EXPECT_EQ(error_of(udp::decode_connect_reply(error)), errc::wrong_action);
    EXPECT_EQ(error_of(udp::decode_scrape_reply(error, {})), errc::wrong_action);
}

TEST(udp_codec, unknown_action_is_refused) {
    EXPECT_EQ(error_of(udp::decode_reply_header(hex("00000004 00000001"))), errc::unknown_action);
    EXPECT_EQ(error_of(udp::decode_connect_reply(hex("ffffffff 00000001 0000000000000000"))),
              errc::unknown_action);
    // Clients never send the error action.
    EXPECT_EQ(error_of(udp::decode_request(hex("0000000000000001 00000003 00000001"))),
              errc::unknown_action);
}

TEST(udp_codec, connect_without_protocol_id_is_refused) {
    EXPECT_EQ(error_of(udp::decode_request(hex("0000041727101981 00000000 00000001"))),
              errc::bad_protocol_id);
}

TEST(udp_codec, peers_not_a_multiple_of_6_or_18_are_refused) {
    const auto v4 = hex("00000001 00000005 00000708 00000000 00000000 7f000001 1ae1 7f00");
    EXPECT_EQ(error_of(udp::decode_announce_reply(v4, address_family::v4)),
              errc::bad_compact_peers);
    // 24 bytes: four IPv4 peers, one and a third IPv6 peers.
    const auto v6 = hex("00000001 00000005 00000708 00000000 00000000 7f000001 1ae1 7f000001 1ae1"
                        " 7f000001 1ae1 7f000001 1ae1");
    EXPECT_EQ(error_of(udp::decode_announce_reply(v6, address_family::v6)),
              errc::bad_compact_peers);
}

TEST(udp_codec, zero_interval_is_refused) {
    EXPECT_EQ(error_of(udp::decode_announce_reply(
                  hex("00000001 00000005 00000000 00000000 00000000"), address_family::v4)),
              errc::bad_interval);
}

TEST(udp_codec, scrape_reply_size_and_count_are_checked) {
    const std::vector<sha1_digest> hashes{hash_of(1), hash_of(2)};
    EXPECT_EQ(
        error_of(udp::decode_scrape_reply(hex("00000002 00000009 0000000a 00000014"), hashes)),
        errc::bad_packet_size);
    EXPECT_EQ(error_of(udp::decode_scrape_reply(hex("00000002 00000009 0000000a 00000014 0000001e"),
                                                hashes)),
              errc::scrape_count_mismatch);
}

TEST(udp_codec, scrape_request_limits) {
    EXPECT_EQ(error_of(udp::encode_scrape_request(1, 1, {})), errc::no_info_hashes);
    const std::vector<sha1_digest> too_many(udp::max_scrape_hashes + 1);
    EXPECT_EQ(error_of(udp::encode_scrape_request(1, 1, too_many)), errc::too_many_info_hashes);

    EXPECT_EQ(error_of(udp::decode_request(hex("0000000000000001 00000002 00000001"))),
              errc::no_info_hashes);
    auto partial = *udp::encode_scrape_request(1, 1, std::vector<sha1_digest>(1));
    partial.pop_back();
    EXPECT_EQ(error_of(udp::decode_request(partial)), errc::bad_packet_size);
    auto big = hex("0000000000000001 00000002 00000001");
    big.resize(big.size() + 20 * (udp::max_scrape_hashes + 1));
    EXPECT_EQ(error_of(udp::decode_request(big)), errc::too_many_info_hashes);
}

TEST(udp_codec, bad_event_is_refused) {
    auto packet = *udp::encode_announce_request(1, 2, sample_request(), "");
    packet[83] = std::byte{4};
    EXPECT_EQ(error_of(udp::decode_request(packet)), errc::bad_event);
}

TEST(udp_codec, truncated_option_is_refused) {
    auto packet = *udp::encode_announce_request(1, 2, sample_request(), "/announce");
    packet.resize(packet.size() - 3); // cut inside the URLData payload
    EXPECT_EQ(error_of(udp::decode_request(packet)), errc::bad_option);
    auto lone = *udp::encode_announce_request(1, 2, sample_request(), "");
    lone.push_back(std::byte{2}); // a type without its length byte
    EXPECT_EQ(error_of(udp::decode_request(lone)), errc::bad_option);
}

} // namespace
