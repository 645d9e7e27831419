#include <spate/bencode/document.hpp>
#include <spate/bencode/encoder.hpp>
#include <spate/bencode/value.hpp>

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace {

namespace bc = spate::bencode;

TEST(bencode_encoder, writes_scalars) {
    std::string out;
    bc::encoder e(out);
    e.integer(0).integer(-42).integer(INT64_MIN).integer(INT64_MAX).string("").string("abc");
    EXPECT_EQ(out, "i0ei-42ei-9223372036854775808ei9223372036854775807e0:3:abc");
    EXPECT_TRUE(e.done());
}

TEST(bencode_encoder, writes_a_tracker_reply) {
    std::string out;
    bc::encoder e(out);
    const std::string compact("\x7f\x00\x00\x01\x1a\xe1", 6);
    e.begin_dict()
        .key("interval")
        .integer(1800)
        .key("peers")
        .string(compact)
        .key("warning message")
        .begin_list()
        .string("a")
        .integer(1)
        .end_list()
        .end_dict();
    EXPECT_TRUE(e.done());
    EXPECT_EQ(out, "d8:intervali1800e5:peers6:" + compact + "15:warning messagel1:ai1eee");

    auto doc = bc::decode(out);
    ASSERT_TRUE(doc) << doc.error().message();
    EXPECT_EQ(doc->root().find_int("interval"), 1800);
    EXPECT_EQ(doc->root().find_string("peers"), compact);
}

TEST(bencode_encoder, appends_to_byte_vectors_and_copies_raw_values) {
    const std::string_view info = "d4:name1:xe";
    std::vector<std::byte> out{std::byte{'#'}};
    bc::byte_encoder e(out);
    e.begin_dict().key("info").raw(std::as_bytes(std::span(info))).end_dict();
    const std::string_view text(reinterpret_cast<const char*>(out.data()), out.size());
    EXPECT_EQ(text, "#d4:infod4:name1:xee");
    EXPECT_TRUE(e.done());
}

TEST(bencode_encoder, done_is_false_while_a_container_is_open) {
    std::string out;
    bc::encoder e(out);
    e.begin_list().begin_dict();
    EXPECT_FALSE(e.done());
    e.end_dict();
    EXPECT_FALSE(e.done());
    e.end_list();
    EXPECT_TRUE(e.done());
    EXPECT_EQ(out, "ldee");
}

#ifndef NDEBUG
TEST(bencode_encoder_death, asserts_on_unsorted_or_repeated_keys) {
    EXPECT_DEATH(
        {
            std::string out;
            bc::encoder e(out);
            e.begin_dict().key("b").integer(1).key("a").integer(2);
        },
        "ascend");
    EXPECT_DEATH(
        {
            std::string out;
            bc::encoder e(out);
            e.begin_dict().key("a").integer(1).key("a").integer(2);
        },
        "ascend");
    EXPECT_DEATH(
        {
            std::string out;
            bc::encoder e(out);
            e.begin_dict().integer(1);
        },
        "keys must be strings");
}
#endif

TEST(bencode_value, sorts_dictionary_keys_by_raw_bytes) {
    bc::value v;
    v["zeta"] = 1;
    v["alpha"] = "x";
    v["\x80"] = bc::value::list{1, 2};
    v["al"] = bc::value::dict{};
    EXPECT_EQ(v.encode(), "d2:alde5:alpha1:x4:zetai1e1:\x80li1ei2eee");
}

TEST(bencode_value, accessors_and_lookups) {
    bc::value v = bc::value::dict{{"n", 5}, {"s", "text"}, {"l", bc::value::list{"a"}}};
    ASSERT_TRUE(v.is_dict());
    EXPECT_EQ(v.type(), bc::type::dict);
    ASSERT_NE(v.find("n"), nullptr);
    EXPECT_EQ(v.find("n")->as_int(), 5);
    EXPECT_EQ(v.find("s")->as_string(), "text");
    EXPECT_EQ(v.find("l")->as_list().size(), 1U);
    EXPECT_EQ(v.find("missing"), nullptr);
    // Reads of the wrong kind are empty; writes convert.
    EXPECT_EQ(v.find("s")->as_int(), 0);
    EXPECT_TRUE(v.find("n")->as_dict().empty());
    bc::value scalar = 7;
    EXPECT_EQ(scalar.find("x"), nullptr);
    scalar.as_list().push_back("y");
    EXPECT_EQ(scalar.encode(), "l1:ye");
    EXPECT_EQ(bc::value().encode(), "i0e");
    EXPECT_EQ(bc::value(std::uint32_t{4'000'000'000}).as_int(), 4'000'000'000);
}

TEST(bencode_value, round_trips_through_the_decoder) {
    bc::value torrent;
    torrent["announce"] = "http://127.0.0.1:6969/announce";
    torrent["creation date"] = 1'700'000'000;
    bc::value& info = torrent["info"];
    info["name"] = "dir";
    info["piece length"] = 16384;
    info["pieces"] = std::string(40, '\xab');
    bc::value::list files;
    for (int i = 0; i < 3; ++i) {
        bc::value& file = files.emplace_back();
        file["length"] = i * 1000 - 1;
        bc::value::list& path = file["path"].as_list();
        path.emplace_back("sub");
        path.emplace_back("file" + std::to_string(i));
    }
    info["files"] = std::move(files);

    const std::string encoded = torrent.encode();
    auto doc = bc::decode(encoded);
    ASSERT_TRUE(doc) << doc.error().message();
    const bc::value copy = bc::value::from(doc->root());
    EXPECT_EQ(copy, torrent);
    EXPECT_EQ(copy.encode(), encoded);

    const bc::node info_node = doc->root().find_dict("info");
    ASSERT_TRUE(info_node);
    const std::string_view raw_info(reinterpret_cast<const char*>(info_node.raw().data()),
                                    info_node.raw().size());
    EXPECT_EQ(raw_info, torrent.find("info")->encode());
    EXPECT_EQ(info_node.find_list("files").at(2).find_list("path").at(1).as_string(), "file2");
    EXPECT_EQ(info_node.find_list("files").at(0).find_int("length"), -1);
}

TEST(bencode_value, strict_inputs_reencode_byte_for_byte) {
    const std::vector<std::string_view> inputs = {
        "i-9223372036854775808e",
        "0:",
        "le",
        "de",
        "llleee",
        "d1:ad1:bl0:i0eeee",
        "d3:bar4:spam3:fooi42ee",
        "l4:spami-1ed0:0:ee",
    };
    for (const std::string_view input : inputs) {
        auto doc = bc::decode(input);
        ASSERT_TRUE(doc) << input << ": " << doc.error().message();
        EXPECT_EQ(bc::value::from(doc->root()).encode(), input);
    }
}

TEST(bencode_value, from_non_strict_document_sorts_and_keeps_first_of_repeated_keys) {
    auto doc = bc::decode("d1:bi1e1:ai2e1:bi3ee", bc::limits{.strict = false});
    ASSERT_TRUE(doc);
    EXPECT_EQ(bc::value::from(doc->root()).encode(), "d1:ai2e1:bi1ee");
    EXPECT_EQ(bc::value::from(bc::node{}), bc::value());
}

} // namespace
