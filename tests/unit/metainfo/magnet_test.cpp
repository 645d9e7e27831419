#include <spate/metainfo/error.hpp>
#include <spate/metainfo/magnet.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

using spate::file_index;
using spate::metainfo::errc;
using spate::metainfo::magnet_peer;
using spate::metainfo::parse_magnet;

constexpr std::string_view hex_hash = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a";
// The same 20 bytes in RFC 4648 base32.
constexpr std::string_view b32_hash = "YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK";

std::string with_hash(std::string_view rest) {
    return "magnet:?xt=urn:btih:" + std::string(hex_hash) + std::string(rest);
}

TEST(magnet, parses_every_known_parameter_in_order) {
    auto m =
        parse_magnet(with_hash("&dn=My+File%20%E2%9C%93&tr=udp%3A%2F%2Ft1%3A80&tr.1=http://t2/a?b"
                               "&ws=http://ws/&x.pe=10.0.0.1:6881&x.pe=%5B::1%5D:7000"
                               "&x.pe=peer.example:1&so=0,2,4-6&foo=bar&tr=http://t3/a+b"));
    ASSERT_TRUE(m.has_value()) << m.error().message();
    EXPECT_EQ(m->info_hash.hex(), hex_hash);
    EXPECT_EQ(m->display_name, "My File \xe2\x9c\x93");
    EXPECT_EQ(m->trackers,
              (std::vector<std::string>{"udp://t1:80", "http://t2/a?b", "http://t3/a+b"}));
    EXPECT_EQ(m->web_seeds, std::vector<std::string>{"http://ws/"});
    EXPECT_EQ(m->peers,
              (std::vector<magnet_peer>{{"10.0.0.1", 6881}, {"::1", 7000}, {"peer.example", 1}}));
    ASSERT_EQ(m->selected_files.size(), 3u);
    EXPECT_TRUE(m->selects(file_index(0)));
    EXPECT_FALSE(m->selects(file_index(1)));
    EXPECT_TRUE(m->selects(file_index(5)));
    EXPECT_FALSE(m->selects(file_index(7)));
}

TEST(magnet, base32_and_hex_give_the_same_hash_in_any_case) {
    auto a = parse_magnet("magnet:?xt=urn:btih:" + std::string(b32_hash));
    auto b = parse_magnet("MAGNET:?xt=URN:BTIH:" + std::string("yex6dqdlxisuvhoj6um3gnnkpqjwpkek"));
    auto c = parse_magnet("magnet:?xt=urn:btih:C12FE1C06BBA254A9DC9F519B335AA7C1367A88A");
    ASSERT_TRUE(a && b && c);
    EXPECT_EQ(a->info_hash.hex(), hex_hash);
    EXPECT_EQ(b->info_hash, a->info_hash);
    EXPECT_EQ(c->info_hash, a->info_hash);
    EXPECT_TRUE(a->selects(file_index(123)));
}

TEST(magnet, same_hash_twice_and_other_urns_are_accepted) {
    auto m = parse_magnet(with_hash("&xt.2=urn:btih:") + std::string(b32_hash) +
                          "&xt=urn:btmh:1220abcd&xt=urn:sha1:XYZ&&");
    ASSERT_TRUE(m.has_value()) << m.error().message();
    EXPECT_EQ(m->info_hash.hex(), hex_hash);
}

TEST(magnet, empty_trackers_are_dropped) {
    auto m = parse_magnet(with_hash("&tr=&tr&ws="));
    ASSERT_TRUE(m.has_value());
    EXPECT_TRUE(m->trackers.empty());
    EXPECT_TRUE(m->web_seeds.empty());
}

TEST(magnet, to_string_round_trips) {
    auto m = parse_magnet(with_hash("&dn=a%26b%3Dc+d%2B%25&tr=http://t/x?a=1%26b=2"
                                    "&x.pe=[fe80::1]:80&so=3,1-2"));
    ASSERT_TRUE(m.has_value());
    const auto text = to_string(*m);
    auto again = parse_magnet(text);
    ASSERT_TRUE(again.has_value()) << text;
    EXPECT_EQ(*again, *m) << text;
    EXPECT_EQ(again->display_name, "a&b=c d+%");
    EXPECT_EQ(to_string(*again), text);
    EXPECT_EQ(to_string(*parse_magnet(with_hash(""))), with_hash(""));
}

struct bad_magnet {
    std::string uri;
    errc expected;
};

class magnet_rejects : public testing::TestWithParam<bad_magnet> {};

TEST_P(magnet_rejects, with_its_specific_error) {
    auto m = parse_magnet(GetParam().uri);
    ASSERT_FALSE(m.has_value()) << GetParam().uri;
    EXPECT_EQ(m.error(), make_error_code(GetParam().expected))
        << GetParam().uri << ": " << m.error().message();
}

INSTANTIATE_TEST_SUITE_P(
    magnet, magnet_rejects,
    testing::Values(
        bad_magnet{"", errc::not_a_magnet},
        bad_magnet{"http://example.com/?xt=urn:btih:" + std::string(hex_hash), errc::not_a_magnet},
        bad_magnet{"magnet:xt=urn:btih:" + std::string(hex_hash), errc::not_a_magnet},
        bad_magnet{"magnet:?", errc::magnet_missing_info_hash},
        bad_magnet{"magnet:?dn=x&tr=http://t/", errc::magnet_missing_info_hash},
        bad_magnet{"magnet:?xt=urn:btmh:1220" + std::string(64, 'a'),
                   errc::magnet_missing_info_hash},
        bad_magnet{with_hash("&xt=urn:btih:") + std::string(40, 'b'),
                   errc::magnet_conflicting_info_hash},
        bad_magnet{"magnet:?xt=urn:btih:" + std::string(39, 'a'),
                   errc::magnet_bad_info_hash_length},
        bad_magnet{"magnet:?xt=urn:btih:" + std::string(41, 'a'),
                   errc::magnet_bad_info_hash_length},
        bad_magnet{"magnet:?xt=urn:btih:", errc::magnet_bad_info_hash_length},
        bad_magnet{"magnet:?xt=urn:btih:" + std::string(39, 'a') + "g", errc::magnet_bad_hex},
        bad_magnet{"magnet:?xt=urn:btih:" + std::string(31, 'A') + "1", errc::magnet_bad_base32},
        bad_magnet{"magnet:?xt=urn:btih:" + std::string(31, 'A') + "8", errc::magnet_bad_base32},
        bad_magnet{with_hash("&dn=%"), errc::magnet_bad_escape},
        bad_magnet{with_hash("&dn=%4"), errc::magnet_bad_escape},
        bad_magnet{with_hash("&tr=%zz"), errc::magnet_bad_escape},
        bad_magnet{"magnet:?xt=urn%3Abtih%3A" + std::string(hex_hash) + "%",
                   errc::magnet_bad_escape},
        bad_magnet{with_hash("&x.pe=1.2.3.4"), errc::magnet_bad_peer},
        bad_magnet{with_hash("&x.pe=1.2.3.4:0"), errc::magnet_bad_peer},
        bad_magnet{with_hash("&x.pe=1.2.3.4:65536"), errc::magnet_bad_peer},
        bad_magnet{with_hash("&x.pe=:80"), errc::magnet_bad_peer},
        bad_magnet{with_hash("&x.pe=[::1]80"), errc::magnet_bad_peer},
        bad_magnet{with_hash("&x.pe=[::1:80"), errc::magnet_bad_peer},
        bad_magnet{with_hash("&x.pe=[]:80"), errc::magnet_bad_peer},
        bad_magnet{with_hash("&x.pe=::1:80"), errc::magnet_bad_peer},
        bad_magnet{with_hash("&x.pe=a b:80"), errc::magnet_bad_peer},
        bad_magnet{with_hash("&so="), errc::magnet_bad_file_selection},
        bad_magnet{with_hash("&so=1,,2"), errc::magnet_bad_file_selection},
        bad_magnet{with_hash("&so=6-4"), errc::magnet_bad_file_selection},
        bad_magnet{with_hash("&so=1-"), errc::magnet_bad_file_selection},
        bad_magnet{with_hash("&so=x"), errc::magnet_bad_file_selection},
        bad_magnet{with_hash("&so=4294967296"), errc::magnet_bad_file_selection}));

} // namespace
