#include <spate/peer/error.hpp>
#include <spate/peer/extension_handshake.hpp>
#include <spate/peer/handshake.hpp>

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace {

using namespace std::string_literals;
using spate::peer::decode_extension_handshake;
using spate::peer::encode_extension_handshake;
using spate::peer::errc;
using spate::peer::extension_handshake;

std::span<const std::byte> bytes(std::string_view s) {
    return std::as_bytes(std::span(s.data(), s.size()));
}

TEST(extension_handshake, reads_what_libtorrent_sends) {
    // Keys out of order, as some clients send them, and an unknown key.
    const std::string payload = "d1:md11:ut_metadatai2e6:ut_pexi1ee1:pi6881e4:reqqi500e"
                                "1:v17:libtorrent 2.0.8 6:yourip4:\x7f\x00\x00\x01"
                                "13:metadata_sizei31235e7:unknowni1ee"s;
    auto h = decode_extension_handshake(bytes(payload));
    ASSERT_TRUE(h) << h.error().message();
    EXPECT_EQ(h->messages.at("ut_metadata"), 2);
    EXPECT_EQ(h->messages.at("ut_pex"), 1);
    EXPECT_EQ(h->listen_port, 6881);
    EXPECT_EQ(h->request_queue, 500U);
    EXPECT_EQ(h->client, "libtorrent 2.0.8 ");
    ASSERT_EQ(h->your_ip.size(), 4U);
    EXPECT_EQ(h->your_ip[0], std::byte{0x7f});
    EXPECT_EQ(h->metadata_size, 31235U);
}

TEST(extension_handshake, values_out_of_range_or_of_the_wrong_type_are_ignored) {
    const std::string payload = "d1:md1:ai0e1:bi256e1:c3:xyz1:di7ee1:pi70000e4:reqqi0e"
                                "1:vi5e6:yourip3:abc13:metadata_sizei-4ee";
    auto h = decode_extension_handshake(bytes(payload));
    ASSERT_TRUE(h);
    ASSERT_EQ(h->messages.size(), 1U); // id 0 disables, 256 and a string are not ids
    EXPECT_EQ(h->messages.at("d"), 7);
    EXPECT_FALSE(h->listen_port);
    EXPECT_FALSE(h->request_queue);
    EXPECT_TRUE(h->client.empty());
    EXPECT_TRUE(h->your_ip.empty());
    EXPECT_FALSE(h->metadata_size);
}

TEST(extension_handshake, anything_but_a_dictionary_is_refused) {
    for (std::string_view bad : {"", "i1e", "l1:ae", "d1:m", "garbage", "d1:mde trailing"}) {
        auto h = decode_extension_handshake(bytes(bad));
        ASSERT_FALSE(h) << bad;
        EXPECT_EQ(h.error(), make_error_code(errc::bad_extension_handshake));
    }
    const std::string huge = "d1:v" + std::to_string(70'000) + ":" + std::string(70'000, 'x') + "e";
    EXPECT_FALSE(decode_extension_handshake(bytes(huge)));
}

TEST(extension_handshake, long_names_and_clients_are_bounded) {
    std::string payload = "d1:md";
    for (int i = 0; i < 100; ++i) {
        const std::string name = "ext" + std::to_string(100 + i);
        payload += std::to_string(name.size()) + ":" + name + "i1e";
    }
    payload += "65:" + std::string(65, 'n') + "i3e";
    payload += "e1:v100:" + std::string(100, 'v') + "e";
    auto h = decode_extension_handshake(bytes(payload));
    ASSERT_TRUE(h);
    EXPECT_EQ(h->messages.size(), spate::peer::max_extension_names);
    EXPECT_EQ(h->client.size(), spate::peer::max_client_name);
}

TEST(extension_handshake, encodes_sorted_and_reads_back) {
    extension_handshake h;
    h.messages = {{"ut_pex", 3}, {"ut_metadata", 1}};
    h.listen_port = 51413;
    h.request_queue = 500;
    h.client = "spate 0.1.0";
    h.your_ip = {std::byte{127}, std::byte{0}, std::byte{0}, std::byte{2}};
    h.metadata_size = 1234;
    const auto out = encode_extension_handshake(h);
    const std::string text(reinterpret_cast<const char*>(out.data()), out.size());
    EXPECT_EQ(text, "d1:md11:ut_metadatai1e6:ut_pexi3ee13:metadata_sizei1234e1:pi51413e"
                    "4:reqqi500e1:v11:spate 0.1.06:yourip4:\x7f\x00\x00\x02" "e"s);
    auto back = decode_extension_handshake(out);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, h);
}

TEST(extension_handshake, reserved_bit_is_bep_10s) {
    spate::peer::handshake h;
    EXPECT_FALSE(spate::peer::supports_extensions(h));
    spate::peer::advertise_extensions(h);
    EXPECT_TRUE(spate::peer::supports_extensions(h));
    EXPECT_EQ(h.reserved[5], std::byte{0x10});
}

} // namespace
