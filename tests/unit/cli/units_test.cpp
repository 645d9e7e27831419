#include "cli/units.hpp"

#include <gtest/gtest.h>

namespace {

using spate::cli::format_size;
using spate::cli::parse_size;
using spate::cli::parse_duration;

TEST(units, formats_sizes_in_binary_units) {
    EXPECT_EQ(format_size(0), "0 B");
    EXPECT_EQ(format_size(1023), "1023 B");
    EXPECT_EQ(format_size(1024), "1.0 KiB");
    EXPECT_EQ(format_size(1536 * 1024), "1.5 MiB");
    EXPECT_EQ(format_size(std::uint64_t{3} << 40), "3.0 TiB");
}

TEST(units, parses_plain_bytes_and_binary_suffixes) {
    EXPECT_EQ(parse_size("16384"), 16384u);
    EXPECT_EQ(parse_size("256K"), 256u * 1024);
    EXPECT_EQ(parse_size("256kib"), 256u * 1024);
    EXPECT_EQ(parse_size("1M"), 1u << 20);
    EXPECT_EQ(parse_size("2GiB"), std::uint64_t{2} << 30);
    EXPECT_EQ(parse_size("1T"), std::uint64_t{1} << 40);
}

TEST(units, refuses_malformed_or_overflowing_sizes) {
    EXPECT_FALSE(parse_size(""));
    EXPECT_FALSE(parse_size("K"));
    EXPECT_FALSE(parse_size("-1"));
    EXPECT_FALSE(parse_size("1.5M"));
    EXPECT_FALSE(parse_size("12 M"));
    EXPECT_FALSE(parse_size("1X"));
    EXPECT_FALSE(parse_size("18446744073709551616"));
    EXPECT_FALSE(parse_size("17179869184G"));
}

TEST(units, parses_durations_with_units) {
    using std::chrono::seconds;
    EXPECT_EQ(parse_duration("90"), seconds(90));
    EXPECT_EQ(parse_duration("90s"), seconds(90));
    EXPECT_EQ(parse_duration("30m"), seconds(1800));
    EXPECT_EQ(parse_duration("2h"), seconds(7200));
    EXPECT_EQ(parse_duration("1d"), seconds(86400));
    EXPECT_EQ(parse_duration("0"), seconds(0));
}

TEST(units, refuses_malformed_or_huge_durations) {
    EXPECT_FALSE(parse_duration(""));
    EXPECT_FALSE(parse_duration("m"));
    EXPECT_FALSE(parse_duration("-5m"));
    EXPECT_FALSE(parse_duration("1.5h"));
    EXPECT_FALSE(parse_duration("5 m"));
    EXPECT_FALSE(parse_duration("5w"));
    EXPECT_FALSE(parse_duration("99999999999"));
    EXPECT_FALSE(parse_duration("40000d"));
}

} // namespace
