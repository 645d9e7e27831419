#include <spate/core/strong_index.hpp>

#include <gtest/gtest.h>

#include <type_traits>

namespace {

TEST(strong_index, distinct_tags_are_distinct_types) {
    static_assert(!std::is_convertible_v<spate::piece_index, spate::file_index>);
    static_assert(!std::is_convertible_v<std::uint32_t, spate::piece_index>);
    static_assert(sizeof(spate::piece_index) == sizeof(std::uint32_t));
    SUCCEED();
}

TEST(strong_index, orders_and_increments_like_its_integer) {
    spate::piece_index a(3);
    spate::piece_index b = a;
    ++b;
    EXPECT_LT(a, b);
    EXPECT_EQ(b.value(), 4u);
    EXPECT_EQ((b++).value(), 4u);
    EXPECT_EQ(b.value(), 5u);
}

TEST(strong_index, index_vector_is_indexed_by_its_index_type) {
    spate::index_vector<int, spate::file_index> v;
    v.push_back(10);
    v.push_back(20);
    EXPECT_EQ(v[spate::file_index(1)], 20);
    EXPECT_EQ(v.end_index(), spate::file_index(2));
}

} // namespace
