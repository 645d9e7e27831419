#include "test_support.hpp"

#include <cstdint>
#include <gtest/gtest.h>
#include <set>
#include <spate/io/buffer_pool.hpp>
#include <unistd.h>
#include <utility>
#include <vector>

namespace {

using spate::io::buffer_pool;
using spate::io::buffer_slot;

TEST(buffer_pool, slots_are_page_aligned_distinct_and_sized_in_pages) {
    SPATE_RING_OR_SKIP(r);
    auto pool = buffer_pool::create(r, 10'000, 8);
    ASSERT_TRUE(pool) << pool.error().message();
    auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    EXPECT_EQ(pool->slot_size() % page, 0u);
    EXPECT_GE(pool->slot_size(), 10'000u);
    std::vector<buffer_slot> slots;
    std::set<std::uint16_t> indices;
    for (int i = 0; i < 8; ++i) {
        auto slot = pool->acquire();
        ASSERT_TRUE(slot);
        EXPECT_EQ(reinterpret_cast<std::uintptr_t>(slot->span().data()) % page, 0u);
        EXPECT_EQ(slot->span().size(), pool->slot_size());
        indices.insert(slot->index());
        slots.push_back(std::move(*slot));
    }
    EXPECT_EQ(indices.size(), 8u);
    EXPECT_EQ(pool->available(), 0u);
}

TEST(buffer_pool, acquire_when_empty_is_nullopt_and_release_refills) {
    SPATE_RING_OR_SKIP(r);
    auto pool = buffer_pool::create(r, 4096, 2);
    ASSERT_TRUE(pool);
    auto a = pool->acquire();
    auto b = pool->acquire();
    ASSERT_TRUE(a && b);
    EXPECT_FALSE(pool->acquire().has_value());
    a->reset();
    EXPECT_FALSE(static_cast<bool>(*a));
    EXPECT_EQ(pool->available(), 1u);
    auto c = pool->acquire();
    ASSERT_TRUE(c);
    b.reset(); // optional's reset destroys the slot, which returns it
    EXPECT_EQ(pool->available(), 1u);
}

TEST(buffer_pool, moving_a_slot_or_the_pool_keeps_ownership_single) {
    SPATE_RING_OR_SKIP(r);
    auto created = buffer_pool::create(r, 4096, 3);
    ASSERT_TRUE(created);
    buffer_pool pool = std::move(*created);
    buffer_slot first = std::move(*pool.acquire());
    buffer_slot second = std::move(first);
    EXPECT_FALSE(static_cast<bool>(first)); // NOLINT(bugprone-use-after-move)
    EXPECT_TRUE(static_cast<bool>(second));
    EXPECT_EQ(pool.available(), 2u);
    second = buffer_slot{};
    EXPECT_EQ(pool.available(), 3u);
}

TEST(buffer_pool, rejects_bad_geometry_and_a_second_registration) {
    SPATE_RING_OR_SKIP(r);
    EXPECT_EQ(buffer_pool::create(r, 0, 4).error(), spate::io::errc::bad_pool_geometry);
    EXPECT_EQ(buffer_pool::create(r, 4096, 0).error(), spate::io::errc::bad_pool_geometry);
    EXPECT_EQ(buffer_pool::create(r, 4096, 20'000).error(), spate::io::errc::bad_pool_geometry);
    auto first = buffer_pool::create(r, 4096, 1);
    ASSERT_TRUE(first);
    auto second = buffer_pool::create(r, 4096, 1);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error(), spate::io::errc::buffers_already_registered);
    EXPECT_FALSE(second.error().message().empty());
}

} // namespace
