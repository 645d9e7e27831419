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
    EXPECT_LE(b->peers + b->files + b->pending_handshakes + reserved_descriptors + 2, 1024U);
}

TEST(descriptor_budget, hundreds_of_torrents_fit_a_usual_limit) {
    auto b = plan_descriptors(500, 300, 1024);
    ASSERT_TRUE(b) << b.error();
    EXPECT_GE(b->files, 300U); // one each at least
    EXPECT_GE(b->peers, 4U);
    EXPECT_LE(b->peers + b->files + b->pending_handshakes + reserved_descriptors + 2 * 300,
              1024U);
}

TEST(descriptor_budget, the_limit_an_error_names_is_enough) {
    for (std::size_t torrents : {1U, 10U, 400U}) {
        auto refused = plan_descriptors(200, torrents, 30 + torrents);
        ASSERT_FALSE(refused) << torrents;
        const std::string& text = refused.error();
        const std::string lead = "raise it (ulimit -n) to ";
        ASSERT_NE(text.find(lead), std::string::npos) << text;
        const std::uint64_t named = std::stoull(text.substr(text.find(lead) + lead.size()));
        EXPECT_TRUE(plan_descriptors(200, torrents, named)) << text;
        EXPECT_FALSE(plan_descriptors(200, torrents, named - 1)) << text;
    }
}

TEST(descriptor_budget, a_small_limit_shrinks_every_part_and_is_never_exceeded) {
    for (std::uint64_t limit : {40U, 64U, 100U, 256U, 600U}) {
        auto b = plan_descriptors(500, 1, limit);
        ASSERT_TRUE(b) << limit;
        EXPECT_GE(b->peers, 4U) << limit;
        EXPECT_GE(b->files, 1U) << limit;
        EXPECT_GE(b->pending_handshakes, 2U) << limit;
        EXPECT_LE(b->peers + b->files + b->pending_handshakes + reserved_descriptors + 2, limit)
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
    EXPECT_NE(b.error().find("1 torrent"), std::string::npos) << b.error();
    EXPECT_NE(b.error().find("ulimit -n"), std::string::npos) << b.error();
}

} // namespace
