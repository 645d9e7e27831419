#pragma once
/// An owning bencode value tree, for building torrents and messages in memory and for
/// copying decoded values out of a document that is about to go away.

#include <spate/bencode/document.hpp>
#include <spate/bencode/encoder.hpp>

#include <concepts>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace spate::bencode {

/// An integer, string, list or dictionary that owns all its parts. Dictionaries are a
/// std::map, so keys are unique and always encode in the sorted order bencode requires.
///
///     value v = value::dict{{"announce", "http://t/announce"}, {"info", info}};
///     std::string bytes = v.encode();
class value {
public:
    using list = std::vector<value>;
    // std::map of an incomplete mapped type: supported by libstdc++ and libc++ alike.
    using dict = std::map<std::string, value, std::less<>>;

    /// The integer 0.
    value() = default;
    template <std::integral I>
    value(I v) : m_data(static_cast<std::int64_t>(v)) {} // NOLINT: implicit on purpose
    value(std::string s) : m_data(std::move(s)) {}
    value(std::string_view s) : m_data(std::string(s)) {}
    value(const char* s) : m_data(std::string(s)) {}
    value(list l) : m_data(std::move(l)) {}
    value(dict d) : m_data(std::move(d)) {}

    /// A deep copy of a decoded node; an invalid node gives the integer 0.
    [[nodiscard]] static value from(node n);

    [[nodiscard]] bencode::type type() const;
    [[nodiscard]] bool is_int() const { return std::holds_alternative<std::int64_t>(m_data); }
    [[nodiscard]] bool is_string() const { return std::holds_alternative<std::string>(m_data); }
    [[nodiscard]] bool is_list() const { return std::holds_alternative<list>(m_data); }
    [[nodiscard]] bool is_dict() const { return std::holds_alternative<dict>(m_data); }

    /// Read access; a value of another kind reads as 0 or empty.
    [[nodiscard]] std::int64_t as_int() const;
    [[nodiscard]] const std::string& as_string() const;
    [[nodiscard]] const list& as_list() const;
    [[nodiscard]] const dict& as_dict() const;

    /// Write access; a value of another kind is first replaced by an empty one of this kind.
    [[nodiscard]] std::string& as_string();
    [[nodiscard]] list& as_list();
    [[nodiscard]] dict& as_dict();
    /// as_dict()[key]: makes this a dictionary if it is not one, inserts 0 if absent.
    value& operator[](std::string_view key);
    /// The value under `key`, or nullptr when absent or when this is not a dictionary.
    [[nodiscard]] const value* find(std::string_view key) const;

    /// Appends the encoding to `e`.
    template <typename Buffer> void encode(basic_encoder<Buffer>& e) const;
    /// The encoding as a new string.
    [[nodiscard]] std::string encode() const;

    friend bool operator==(const value&, const value&) = default;

private:
    std::variant<std::int64_t, std::string, list, dict> m_data;
};

extern template void value::encode(basic_encoder<std::string>&) const;
extern template void value::encode(basic_encoder<std::vector<std::byte>>&) const;

} // namespace spate::bencode
