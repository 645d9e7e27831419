#include <spate/bencode/encoder.hpp>

#include <algorithm>
#include <array>
#include <cassert>
#include <charconv>
#include <cstring>

namespace spate::bencode {
namespace {

std::string_view chars_of(std::span<const std::byte> bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// The bytes already written at [begin, begin + size) of the buffer.
template <typename Buffer>
std::string_view written(const Buffer& out, std::size_t begin, std::size_t size) {
    return {reinterpret_cast<const char*>(out.data()) + begin, size};
}

} // namespace

template <typename Buffer> void basic_encoder<Buffer>::append(std::string_view bytes) {
    if constexpr (std::is_same_v<Buffer, std::string>) {
        m_out->append(bytes);
    } else {
        const auto* first = reinterpret_cast<const std::byte*>(bytes.data());
        m_out->insert(m_out->end(), first, first + bytes.size());
    }
}

template <typename Buffer>
void basic_encoder<Buffer>::before_value([[maybe_unused]] bool is_string,
                                         [[maybe_unused]] std::string_view key_bytes) {
    if (m_open.empty()) {
        return;
    }
    open_container& top = m_open.back();
    if (top.is_dict && top.count % 2 == 0) {
        assert(is_string && "bencode dictionary keys must be strings");
        if (top.count > 0) {
            [[maybe_unused]] const std::string_view prev =
                written(*m_out, top.key_begin, top.key_size);
            assert(prev < key_bytes && "bencode dictionary keys must ascend without repeats");
        }
    }
    ++top.count;
}

template <typename Buffer> basic_encoder<Buffer>& basic_encoder<Buffer>::begin_dict() {
    before_value(false, {});
    append("d");
    m_open.push_back({true, 0, 0, 0});
    return *this;
}

template <typename Buffer> basic_encoder<Buffer>& basic_encoder<Buffer>::end_dict() {
    assert(!m_open.empty() && m_open.back().is_dict && "end_dict without begin_dict");
    assert(m_open.back().count % 2 == 0 && "bencode dictionary key without a value");
    m_open.pop_back();
    append("e");
    return *this;
}

template <typename Buffer> basic_encoder<Buffer>& basic_encoder<Buffer>::begin_list() {
    before_value(false, {});
    append("l");
    m_open.push_back({false, 0, 0, 0});
    return *this;
}

template <typename Buffer> basic_encoder<Buffer>& basic_encoder<Buffer>::end_list() {
    assert(!m_open.empty() && !m_open.back().is_dict && "end_list without begin_list");
    m_open.pop_back();
    append("e");
    return *this;
}

template <typename Buffer>
basic_encoder<Buffer>& basic_encoder<Buffer>::string(std::string_view s) {
    before_value(true, s);
    std::array<char, 24> header{};
    auto [end, ec] = std::to_chars(header.data(), header.data() + header.size() - 1, s.size());
    *end++ = ':';
    append({header.data(), static_cast<std::size_t>(end - header.data())});
    if (!m_open.empty() && m_open.back().is_dict && m_open.back().count % 2 == 1) {
        // Remember where this key's bytes live so the next key can be compared to it.
        m_open.back().key_begin = m_out->size();
        m_open.back().key_size = s.size();
    }
    append(s);
    return *this;
}

template <typename Buffer>
basic_encoder<Buffer>& basic_encoder<Buffer>::string(std::span<const std::byte> s) {
    return string(chars_of(s));
}

template <typename Buffer> basic_encoder<Buffer>& basic_encoder<Buffer>::integer(std::int64_t v) {
    before_value(false, {});
    std::array<char, 24> text{};
    text[0] = 'i';
    auto [end, ec] = std::to_chars(text.data() + 1, text.data() + text.size() - 1, v);
    *end++ = 'e';
    append({text.data(), static_cast<std::size_t>(end - text.data())});
    return *this;
}

template <typename Buffer>
basic_encoder<Buffer>& basic_encoder<Buffer>::raw(std::span<const std::byte> encoded) {
    // Keys are written with key(), never raw(): a raw value stands only in value position.
    before_value(false, {});
    append(chars_of(encoded));
    return *this;
}

template class basic_encoder<std::string>;
template class basic_encoder<std::vector<std::byte>>;

} // namespace spate::bencode
