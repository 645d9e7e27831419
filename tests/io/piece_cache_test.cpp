// piece_cache: whole verified pieces in pool slots, least recently used out first.
#include "test_support.hpp"

#include <spate/io/buffer_pool.hpp>
#include <spate/session/piece_cache.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>

namespace {

using spate::piece_index;
using spate::io::buffer_pool;
using spate::io::buffer_slot;
using spate::session::piece_cache;
using clock_type = piece_cache::clock;

buffer_slot filled(buffer_pool& pool, unsigned char value) {
    buffer_slot slot = std::move(*pool.acquire());
    std::memset(slot.span().data(), value, slot.span().size());
    return slot;
}

TEST(piece_cache, finds_what_was_inserted_with_its_size) {
    SPATE_RING_OR_SKIP(r);
    auto pool = buffer_pool::create(r, 4096, 4);
    ASSERT_TRUE(pool);
    piece_cache cache(2);
    const auto t0 = clock_type::now();
    EXPECT_TRUE(cache.find(piece_index(3), t0).empty());
    cache.insert(piece_index(3), filled(*pool, 0x33), 1000, t0);
    auto bytes = cache.find(piece_index(3), t0);
    ASSERT_EQ(bytes.size(), 1000u);
    EXPECT_EQ(bytes[999], std::byte{0x33});
    EXPECT_TRUE(cache.find(piece_index(4), t0).empty());
    EXPECT_EQ(pool->available(), 3u);
}

TEST(piece_cache, evicts_the_least_recently_used_and_returns_its_slot) {
    SPATE_RING_OR_SKIP(r);
    auto pool = buffer_pool::create(r, 4096, 4);
    ASSERT_TRUE(pool);
    piece_cache cache(2);
    const auto t0 = clock_type::now();
    cache.insert(piece_index(1), filled(*pool, 1), 4096, t0);
    cache.insert(piece_index(2), filled(*pool, 2), 4096, t0 + std::chrono::seconds(1));
    // Piece 1 is used again, so piece 2 is now the oldest.
    EXPECT_FALSE(cache.find(piece_index(1), t0 + std::chrono::seconds(2)).empty());
    cache.insert(piece_index(3), filled(*pool, 3), 4096, t0 + std::chrono::seconds(3));
    EXPECT_EQ(cache.size(), 2u);
    EXPECT_TRUE(cache.find(piece_index(2), t0).empty());
    EXPECT_FALSE(cache.find(piece_index(1), t0).empty());
    EXPECT_FALSE(cache.find(piece_index(3), t0).empty());
    EXPECT_EQ(pool->available(), 2u); // piece 2's slot went back
}

TEST(piece_cache, reinserting_a_piece_replaces_it) {
    SPATE_RING_OR_SKIP(r);
    auto pool = buffer_pool::create(r, 4096, 4);
    ASSERT_TRUE(pool);
    piece_cache cache(4);
    const auto t0 = clock_type::now();
    cache.insert(piece_index(7), filled(*pool, 1), 100, t0);
    cache.insert(piece_index(7), filled(*pool, 2), 200, t0);
    EXPECT_EQ(cache.size(), 1u);
    auto bytes = cache.find(piece_index(7), t0);
    ASSERT_EQ(bytes.size(), 200u);
    EXPECT_EQ(bytes[0], std::byte{2});
    EXPECT_EQ(pool->available(), 3u);
}

TEST(piece_cache, take_oldest_hands_out_a_slot_and_forgets_the_piece) {
    SPATE_RING_OR_SKIP(r);
    auto pool = buffer_pool::create(r, 4096, 2);
    ASSERT_TRUE(pool);
    piece_cache cache(2);
    EXPECT_FALSE(static_cast<bool>(cache.take_oldest()));
    const auto t0 = clock_type::now();
    cache.insert(piece_index(5), filled(*pool, 5), 4096, t0);
    cache.insert(piece_index(6), filled(*pool, 6), 4096, t0 + std::chrono::seconds(1));
    buffer_slot slot = cache.take_oldest();
    ASSERT_TRUE(static_cast<bool>(slot));
    EXPECT_EQ(slot.span()[0], std::byte{5});
    EXPECT_TRUE(cache.find(piece_index(5), t0).empty());
    EXPECT_EQ(cache.size(), 1u);
}

TEST(piece_cache, release_idle_gives_back_only_unused_pieces) {
    SPATE_RING_OR_SKIP(r);
    auto pool = buffer_pool::create(r, 4096, 3);
    ASSERT_TRUE(pool);
    piece_cache cache(3);
    const auto t0 = clock_type::now();
    cache.insert(piece_index(1), filled(*pool, 1), 4096, t0);
    cache.insert(piece_index(2), filled(*pool, 2), 4096, t0 + std::chrono::seconds(50));
    cache.release_idle(t0 + std::chrono::seconds(10));
    EXPECT_EQ(cache.size(), 1u);
    EXPECT_FALSE(cache.find(piece_index(2), t0).empty());
    EXPECT_EQ(pool->available(), 2u);
}

TEST(piece_cache, capacity_zero_keeps_nothing) {
    SPATE_RING_OR_SKIP(r);
    auto pool = buffer_pool::create(r, 4096, 1);
    ASSERT_TRUE(pool);
    piece_cache cache(0);
    cache.insert(piece_index(1), filled(*pool, 1), 4096, clock_type::now());
    EXPECT_EQ(cache.size(), 0u);
    EXPECT_EQ(pool->available(), 1u);
}

} // namespace
