#include "cli/descriptor_budget.hpp"

#include <gtest/gtest.h>

namespace {

using spate::cli::plan_descriptors;
using spate::cli::reserved_descriptors;

TEST(descriptor_budget, a_usual_limit_gives_what_was_asked) {
    auto b = plan_descriptors(500, 1, 1024);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->peers, 500U);
    EXPECT_EQ(b->files, 128U);
    EXPECT_EQ(b->pending_handshakes, 50U);
    EXPECT_LE(b->peers + b->files + b->pending_handshakes + reserved_descriptors, 1024U);
}

TEST(descriptor_budget, a_small_limit_shrinks_every_part_and_is_never_exceeded) {
    for (std::uint64_t limit : {40U, 64U, 100U, 256U, 600U}) {
        auto b = plan_descriptors(500, 1, limit);
        ASSERT_TRUE(b) << limit;
        EXPECT_GE(b->peers, 4U) << limit;
        EXPECT_GE(b->files, 4U) << limit;
        EXPECT_GE(b->pending_handshakes, 2U) << limit;
        EXPECT_LE(b->peers + b->files + b->pending_handshakes + reserved_descriptors, limit)
            << limit;
    }
    auto tight = plan_descriptors(200, 1, 64);
    ASSERT_TRUE(tight);
    EXPECT_LT(tight->peers, 200U);
}

TEST(descriptor_budget, many_torrents_get_more_files_within_the_limit) {
    auto b = plan_descriptors(500, 20, 100'000);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->files, 20U * 128U);
    EXPECT_EQ(b->peers, 500U);
}

TEST(descriptor_budget, too_low_a_limit_is_an_error_naming_it) {
    auto b = plan_descriptors(200, 1, 20);
    ASSERT_FALSE(b);
    EXPECT_NE(b.error().find("(20)"), std::string::npos) << b.error();
    EXPECT_NE(b.error().find("ulimit -n"), std::string::npos) << b.error();
}

} // namespace
