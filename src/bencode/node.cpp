// Node accessors that walk siblings or parse digits; the O(1) ones are inline.

#include <spate/bencode/document.hpp>

namespace spate::bencode {

std::int64_t node::as_int() const {
    if (!is_int()) {
        return 0;
    }
    // decode() checked the digits and the int64 range, so this cannot overflow; the
    // magnitude is accumulated unsigned because INT64_MIN has no positive counterpart.
    const auto digits = raw().subspan(1);
    std::size_t p = 0;
    const bool negative = digits[0] == std::byte{'-'};
    if (negative) {
        p = 1;
    }
    std::uint64_t magnitude = 0;
    for (; digits[p] != std::byte{'e'}; ++p) {
        magnitude = magnitude * 10 + (static_cast<std::uint64_t>(digits[p]) - '0');
    }
    return negative ? static_cast<std::int64_t>(std::uint64_t{0} - magnitude)
                    : static_cast<std::int64_t>(magnitude);
}

node node::at(std::size_t i) const {
    if (!is_list() || i >= size()) {
        return {};
    }
    std::uint32_t index = m_index + 1;
    for (; i > 0; --i) {
        index = m_doc->m_tokens[index].next;
    }
    return {m_doc, index};
}

node node::find(std::string_view key) const {
    for (const auto& [k, v] : dict_items()) {
        if (k == key) {
            return v;
        }
    }
    return {};
}

std::optional<std::string_view> node::find_string(std::string_view key) const {
    const node n = find(key);
    if (!n.is_string()) {
        return std::nullopt;
    }
    return n.as_string();
}

std::optional<std::int64_t> node::find_int(std::string_view key) const {
    const node n = find(key);
    if (!n.is_int()) {
        return std::nullopt;
    }
    return n.as_int();
}

node node::find_dict(std::string_view key) const {
    const node n = find(key);
    return n.is_dict() ? n : node{};
}

node node::find_list(std::string_view key) const {
    const node n = find(key);
    return n.is_list() ? n : node{};
}

} // namespace spate::bencode
