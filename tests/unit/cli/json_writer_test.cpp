#include "cli/json_writer.hpp"

#include <gtest/gtest.h>

namespace {

using spate::cli::json_writer;

TEST(json_writer, writes_nested_objects_and_arrays_with_commas) {
    json_writer w;
    w.begin_object();
    w.key("name").value("demo");
    w.key("size").value(std::uint64_t{42});
    w.key("private").value(false);
    w.key("tiers").begin_array();
    w.begin_array().value("a").value("b").end_array();
    w.begin_array().end_array();
    w.end_array();
    w.key("none").null();
    w.end_object();
    EXPECT_EQ(w.str(),
              R"({"name":"demo","size":42,"private":false,"tiers":[["a","b"],[]],"none":null})");
}

TEST(json_writer, escapes_quotes_backslashes_and_control_characters) {
    json_writer w;
    w.value(std::string_view("a\"b\\c\n\x01\x7f", 8));
    EXPECT_EQ(w.str(), R"("a\"b\\c\n\u0001\u007f")");
}

TEST(json_writer, keeps_valid_utf8_and_replaces_invalid_bytes) {
    json_writer w;
    w.begin_array();
    w.value("caf\xc3\xa9");            // valid two-byte sequence
    w.value("\xff\xfe");               // never valid in UTF-8
    w.value("\xc0\xaf");               // overlong encoding of '/'
    w.value("\xed\xa0\x80");           // a UTF-16 surrogate
    w.value("\xe2\x82");               // truncated sequence
    w.end_array();
    EXPECT_EQ(w.str(),
              "[\"caf\xc3\xa9\",\"\\ufffd\\ufffd\",\"\\ufffd\\ufffd\",\"\\ufffd\\ufffd\\ufffd\","
              "\"\\ufffd\\ufffd\"]");
}

TEST(json_writer, writes_negative_and_large_integers) {
    json_writer w;
    w.begin_array().value(std::int64_t{-5}).value(std::uint64_t{18446744073709551615u}).end_array();
    EXPECT_EQ(w.str(), "[-5,18446744073709551615]");
}

} // namespace
