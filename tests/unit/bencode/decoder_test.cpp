#include <spate/bencode/document.hpp>
#include <spate/core/hash.hpp>

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace {

namespace bc = spate::bencode;
using bc::errc;

std::string_view text_of(std::span<const std::byte> bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

TEST(bencode_decoder, decodes_integers_across_the_int64_range) {
    const std::vector<std::pair<std::string_view, std::int64_t>> cases = {
        {"i0e", 0},
        {"i42e", 42},
        {"i-42e", -42},
        {"i9223372036854775807e", INT64_MAX},
        {"i-9223372036854775808e", INT64_MIN},
    };
    for (const auto& [input, expected] : cases) {
        auto doc = bc::decode(input);
        ASSERT_TRUE(doc) << input << ": " << doc.error().message();
        const bc::node root = doc->root();
        EXPECT_EQ(root.type(), bc::type::integer) << input;
        EXPECT_EQ(root.as_int(), expected) << input;
        EXPECT_EQ(text_of(root.raw()), input);
    }
}

TEST(bencode_decoder, decodes_strings_including_empty_and_binary) {
    auto empty = bc::decode("0:");
    ASSERT_TRUE(empty);
    EXPECT_TRUE(empty->root().is_string());
    EXPECT_EQ(empty->root().as_string(), "");

    const std::string binary("5:a\0\xff\n", 6);
    auto doc = bc::decode(binary);
    // 5 bytes announced, only 4 present after the header
    ASSERT_FALSE(doc);
    const std::string full = binary + "z";
    doc = bc::decode(full);
    ASSERT_TRUE(doc) << doc.error().message();
    EXPECT_EQ(doc->root().as_string(), std::string_view("a\0\xff\nz", 5));
    EXPECT_EQ(doc->root().as_bytes().size(), 5U);
    // Borrowed, not copied: the bytes are the input's, just past the "5:" header.
    EXPECT_EQ(doc->root().as_bytes().data(), std::as_bytes(std::span(full)).data() + 2);
}

TEST(bencode_decoder, walks_nested_lists_and_dicts) {
    const std::string_view input = "d4:listli1e3:twoli3eelee4:name3:abc4:sizei-7ee";
    auto doc = bc::decode(input);
    ASSERT_TRUE(doc) << doc.error().message();
    const bc::node root = doc->root();
    ASSERT_TRUE(root.is_dict());
    EXPECT_EQ(root.size(), 3U);

    std::vector<std::string_view> keys;
    for (const auto& [key, val] : root.dict_items()) {
        keys.push_back(key);
        EXPECT_TRUE(val.valid());
    }
    EXPECT_EQ(keys, (std::vector<std::string_view>{"list", "name", "size"}));

    const bc::node list = root.find_list("list");
    ASSERT_TRUE(list);
    EXPECT_EQ(list.size(), 4U);
    EXPECT_EQ(list.at(0).as_int(), 1);
    EXPECT_EQ(list.at(1).as_string(), "two");
    ASSERT_TRUE(list.at(2).is_list());
    EXPECT_EQ(list.at(2).size(), 1U);
    EXPECT_EQ(list.at(2).at(0).as_int(), 3);
    ASSERT_TRUE(list.at(3).is_list());
    EXPECT_EQ(list.at(3).size(), 0U);
    EXPECT_TRUE(list.at(3).list_items().empty());
    EXPECT_FALSE(list.at(4));

    std::size_t count = 0;
    for (const bc::node element : list.list_items()) {
        EXPECT_EQ(element, list.at(count));
        ++count;
    }
    EXPECT_EQ(count, 4U);

    EXPECT_EQ(root.find_string("name"), "abc");
    EXPECT_EQ(root.find_int("size"), -7);
    EXPECT_EQ(root.find_int("name"), std::nullopt);
    EXPECT_EQ(root.find_string("missing"), std::nullopt);
    EXPECT_FALSE(root.find_dict("list"));
    EXPECT_FALSE(root.find("nope"));
    EXPECT_EQ(root.find("nope").type(), bc::type::none);
}

TEST(bencode_decoder, raw_spans_cover_exact_bytes_and_give_the_info_hash) {
    const std::string_view info = "d6:lengthi5e4:name1:x12:piece lengthi16384e6:pieces0:e";
    const std::string input = "d8:announce9:http://t/4:info" + std::string(info) + "e";
    auto doc = bc::decode(input);
    ASSERT_TRUE(doc) << doc.error().message();
    const bc::node root = doc->root();
    EXPECT_EQ(text_of(root.raw()), input);
    EXPECT_EQ(root.raw().data(), doc->input().data());

    const bc::node info_node = root.find_dict("info");
    ASSERT_TRUE(info_node);
    EXPECT_EQ(text_of(info_node.raw()), info);
    EXPECT_EQ(info_node.offset(), input.find("d6:"));
    EXPECT_EQ(spate::sha1(info_node.raw()), spate::sha1(std::as_bytes(std::span(info))));
    EXPECT_EQ(text_of(info_node.find("length").raw()), "i5e");
    EXPECT_EQ(text_of(info_node.find("name").raw()), "1:x");
    EXPECT_EQ(text_of(root.find("announce").raw()), "9:http://t/");
}

TEST(bencode_decoder, wrong_kind_accessors_return_empty_values) {
    auto doc = bc::decode("li5e3:abce");
    ASSERT_TRUE(doc);
    const bc::node root = doc->root();
    EXPECT_EQ(root.as_int(), 0);
    EXPECT_EQ(root.as_string(), "");
    EXPECT_TRUE(root.dict_items().empty());
    EXPECT_FALSE(root.find("a"));
    EXPECT_EQ(root.at(0).as_string(), "");
    EXPECT_EQ(root.at(0).size(), 0U);
    EXPECT_TRUE(root.at(1).list_items().empty());

    const bc::node invalid;
    EXPECT_FALSE(invalid.valid());
    EXPECT_EQ(invalid.type(), bc::type::none);
    EXPECT_TRUE(invalid.raw().empty());
    EXPECT_EQ(invalid.size(), 0U);
    EXPECT_FALSE(invalid.find("x"));
}

struct malformed_case {
    std::string_view input;
    errc code;
    std::size_t offset;
};

class bencode_malformed : public testing::TestWithParam<malformed_case> {};

TEST_P(bencode_malformed, fails_with_specific_error_and_offset) {
    const malformed_case& c = GetParam();
    auto doc = bc::decode(c.input);
    ASSERT_FALSE(doc) << "accepted: " << c.input;
    EXPECT_EQ(doc.error().code, bc::make_error_code(c.code))
        << c.input << ": " << doc.error().message();
    EXPECT_EQ(doc.error().offset, c.offset) << c.input << ": " << doc.error().message();
}

INSTANTIATE_TEST_SUITE_P(
    bencode_decoder, bencode_malformed,
    testing::Values(
        malformed_case{"", errc::unexpected_end, 0}, malformed_case{"i12", errc::unexpected_end, 3},
        malformed_case{"i-", errc::unexpected_end, 2}, malformed_case{"l", errc::unexpected_end, 1},
        malformed_case{"li1e", errc::unexpected_end, 4},
        malformed_case{"d1:a", errc::unexpected_end, 4},
        malformed_case{"lde", errc::unexpected_end, 3},
        malformed_case{"x", errc::unexpected_character, 0},
        malformed_case{"e", errc::unexpected_character, 0},
        malformed_case{"-1:a", errc::unexpected_character, 0},
        malformed_case{"d1:ax", errc::unexpected_character, 4},
        malformed_case{"ie", errc::empty_integer, 1}, malformed_case{"i-e", errc::empty_integer, 2},
        malformed_case{"i1x2e", errc::invalid_digit, 2},
        malformed_case{"i+1e", errc::invalid_digit, 1},
        malformed_case{"i03e", errc::leading_zero, 1},
        malformed_case{"i-03e", errc::leading_zero, 2},
        malformed_case{"03:abc", errc::leading_zero, 0},
        malformed_case{"l00:e", errc::leading_zero, 1},
        malformed_case{"i-0e", errc::negative_zero, 1},
        malformed_case{"i9223372036854775808e", errc::integer_overflow, 0},
        malformed_case{"li-9223372036854775809ee", errc::integer_overflow, 1},
        malformed_case{"i99999999999999999999999e", errc::integer_overflow, 0},
        malformed_case{"3xabc", errc::missing_colon, 1},
        malformed_case{"5:abc", errc::string_too_long, 0},
        malformed_case{"l1:a1:", errc::string_too_long, 4},
        malformed_case{"99999999999999999999:x", errc::string_too_long, 0},
        malformed_case{"4294967296:x", errc::string_too_long, 0},
        malformed_case{"di1ei2ee", errc::key_not_string, 1},
        malformed_case{"dlei1ee", errc::key_not_string, 1},
        malformed_case{"d1:ae", errc::missing_value, 4},
        malformed_case{"d1:bi1e1:ai2ee", errc::unsorted_keys, 7},
        malformed_case{"d2:aai1e1:ai2ee", errc::unsorted_keys, 8},
        malformed_case{"d1:ai1e1:ai2ee", errc::duplicate_key, 7},
        malformed_case{"i1ei2e", errc::trailing_data, 3},
        malformed_case{"d1:a1:be1:c", errc::trailing_data, 8},
        malformed_case{"le\n", errc::trailing_data, 2}));

TEST(bencode_decoder, strict_key_order_compares_raw_bytes_unsigned) {
    // 0x80 sorts after 'z' as a byte, and a prefix sorts before its extensions.
    EXPECT_TRUE(bc::decode("d1:zi1e1:\x80i2ee"));
    EXPECT_TRUE(bc::decode("d1:ai1e2:aai2ee"));
    EXPECT_TRUE(bc::decode("d0:i1e1:ai2ee"));
    EXPECT_FALSE(bc::decode("d1:\x80i1e1:zi2ee"));
}

TEST(bencode_decoder, non_strict_accepts_unsorted_and_repeated_keys) {
    const bc::limits lax{.strict = false};
    auto doc = bc::decode("d1:bi1e1:ai2e1:bi3ee", lax);
    ASSERT_TRUE(doc) << doc.error().message();
    EXPECT_EQ(doc->root().size(), 3U);
    EXPECT_EQ(doc->root().find_int("a"), 2);
    EXPECT_EQ(doc->root().find_int("b"), 1); // the first one wins

    // Every other rule still holds.
    auto bad = bc::decode("di1ei2ee", lax);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, bc::make_error_code(errc::key_not_string));
    EXPECT_FALSE(bc::decode("i03e", lax));
}

std::string nested_lists(std::size_t depth) {
    return std::string(depth, 'l') + std::string(depth, 'e');
}

TEST(bencode_decoder, depth_limit_is_64_by_default) {
    auto ok = bc::decode(nested_lists(64));
    ASSERT_TRUE(ok) << ok.error().message();
    EXPECT_EQ(ok->root().raw().size(), 128U);

    auto deep = bc::decode(nested_lists(65));
    ASSERT_FALSE(deep);
    EXPECT_EQ(deep.error().code, bc::make_error_code(errc::depth_exceeded));
    EXPECT_EQ(deep.error().offset, 64U);

    // Deep nesting far beyond the limit fails the same way, without recursion.
    auto very_deep = bc::decode(nested_lists(1'000'000));
    ASSERT_FALSE(very_deep);
    EXPECT_EQ(very_deep.error().code, bc::make_error_code(errc::depth_exceeded));

    const bc::limits shallow{.max_depth = 2};
    EXPECT_TRUE(bc::decode("ld1:ai1eee", shallow));
    auto too_deep = bc::decode("ld1:aleee", shallow);
    ASSERT_FALSE(too_deep);
    EXPECT_EQ(too_deep.error().offset, 5U);
}

TEST(bencode_decoder, token_limit_counts_values_and_container_ends) {
    // l, 1:a, 1:b and the list's end: four tokens.
    EXPECT_TRUE(bc::decode("l1:a1:be", bc::limits{.max_tokens = 4}));
    auto over = bc::decode("l1:a1:be", bc::limits{.max_tokens = 3});
    ASSERT_FALSE(over);
    EXPECT_EQ(over.error().code, bc::make_error_code(errc::too_many_tokens));
    EXPECT_EQ(over.error().offset, 7U);

    auto scalar = bc::decode("i1e", bc::limits{.max_tokens = 0});
    ASSERT_FALSE(scalar);
    EXPECT_EQ(scalar.error().code, bc::make_error_code(errc::too_many_tokens));
    EXPECT_EQ(scalar.error().offset, 0U);
}

TEST(bencode_decoder, document_is_reusable_and_empty_after_failure) {
    bc::document doc;
    EXPECT_FALSE(doc.root());
    const std::string_view first = "li1ei2ei3ee";
    ASSERT_TRUE(doc.parse(std::as_bytes(std::span(first))));
    EXPECT_EQ(doc.root().size(), 3U);
    EXPECT_EQ(doc.token_count(), 6U); // list, 3 integers, end, sentinel

    const std::string_view bad = "li1e";
    auto failed = doc.parse(std::as_bytes(std::span(bad)));
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code, bc::make_error_code(errc::unexpected_end));
    EXPECT_FALSE(doc.root());
    EXPECT_EQ(doc.token_count(), 0U);

    const std::string_view second = "3:abc";
    ASSERT_TRUE(doc.parse(std::as_bytes(std::span(second))));
    EXPECT_EQ(doc.root().as_string(), "abc");
}

TEST(bencode_decoder, list_of_many_items_iterates_in_order) {
    std::string input = "l";
    for (int i = 0; i < 10'000; ++i) {
        input += 'i';
        input += std::to_string(i);
        input += 'e';
    }
    input += "e";
    auto doc = bc::decode(input);
    ASSERT_TRUE(doc);
    EXPECT_EQ(doc->root().size(), 10'000U);
    std::int64_t expected = 0;
    for (const bc::node element : doc->root().list_items()) {
        ASSERT_EQ(element.as_int(), expected);
        ++expected;
    }
    EXPECT_EQ(expected, 10'000);
    EXPECT_EQ(doc->root().at(9'999).as_int(), 9'999);
}

TEST(bencode_decoder, error_message_names_problem_and_byte) {
    auto doc = bc::decode("li1ei03ee");
    ASSERT_FALSE(doc);
    EXPECT_EQ(doc.error().message(), "bencode: leading zero in a number at byte 5");
    EXPECT_STREQ(doc.error().code.category().name(), "spate.bencode");
    const std::error_code ec = errc::trailing_data;
    EXPECT_EQ(ec.message(), "trailing data after the root value");
}

} // namespace
