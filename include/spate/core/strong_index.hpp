#pragma once
/// Strong index types, so a piece index is never passed where a file index is expected.

#include <compare>
#include <cstdint>
#include <functional>
#include <vector>

namespace spate {

/// An integer with a tag: same size and cost as the integer, but of a distinct type.
template <typename Tag, typename Int = std::uint32_t>
class strong_index {
public:
    using value_type = Int;

    constexpr strong_index() = default;
    constexpr explicit strong_index(Int v) : m_value(v) {}

    [[nodiscard]] constexpr Int value() const { return m_value; }

    constexpr auto operator<=>(const strong_index&) const = default;

    constexpr strong_index& operator++() {
        ++m_value;
        return *this;
    }
    constexpr strong_index operator++(int) {
        strong_index old = *this;
        ++m_value;
        return old;
    }

private:
    Int m_value{};
};

struct piece_index_tag {};
struct block_index_tag {};
struct file_index_tag {};

using piece_index = strong_index<piece_index_tag>;
using block_index = strong_index<block_index_tag>;
using file_index = strong_index<file_index_tag>;

/// A vector indexed by a strong index type only.
template <typename T, typename Index>
class index_vector : private std::vector<T> {
    using base = std::vector<T>;

public:
    using base::back;
    using base::begin;
    using base::base;
    using base::clear;
    using base::empty;
    using base::end;
    using base::front;
    using base::push_back;
    using base::emplace_back;
    using base::reserve;
    using base::resize;
    using typename base::const_iterator;
    using typename base::iterator;
    using typename base::value_type;

    [[nodiscard]] typename base::reference operator[](Index i) { return base::operator[](i.value()); }
    [[nodiscard]] typename base::const_reference operator[](Index i) const {
        return base::operator[](i.value());
    }
    [[nodiscard]] Index end_index() const {
        return Index(static_cast<typename Index::value_type>(base::size()));
    }
    [[nodiscard]] std::size_t size() const { return base::size(); }
};

} // namespace spate

template <typename Tag, typename Int>
struct std::hash<spate::strong_index<Tag, Int>> {
    std::size_t operator()(spate::strong_index<Tag, Int> i) const noexcept {
        return std::hash<Int>{}(i.value());
    }
};
