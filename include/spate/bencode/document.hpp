#pragma once
/// The bencode decoder: a document is a flat array of tokens over borrowed input, and a
/// node is a cheap view of one value in it.
///
/// Token layout (one token per value, plus one per container end and a final sentinel):
///
///     input   d  4:name  3:abc  6:length  i5e  e
///     tokens  0  1       2      3         4    5    6
///             |  next=2  next=3 next=4    next=5    sentinel (offset = end of root)
///             next=6 (after its end token 5)
///
/// `next` is the index of the token after a value's subtree, so stepping to a sibling is
/// O(1), and the raw bytes of any value end where token `next` starts.

#include <spate/bencode/error.hpp>

#include <tl/expected.hpp>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

namespace spate::bencode {

/// Bounds on what decode() accepts. The input size is bounded by the caller (and by 4 GiB).
struct limits {
    /// Most lists and dictionaries open at once; one more is errc::depth_exceeded.
    std::size_t max_depth = 64;
    /// Most tokens: one per value plus one per container end. Capped at 2^28 whatever is set.
    std::size_t max_tokens = 3'000'000;
    /// Strict: dictionary keys must be in ascending raw-byte order and unique, so a decoded
    /// document re-encodes to exactly its input. Non-strict accepts keys in any order and
    /// repeated keys (find() then returns the first); every other rule still holds: keys are
    /// strings, no leading zeros, no -0, int64 range, no trailing data.
    bool strict = true;
};

/// The kind of a value. `none` is the kind of an invalid node (a failed find(), say).
enum class type : std::uint8_t { none, dict, list, string, integer };

namespace detail {

enum class token_kind : std::uint32_t { dict, list, string, integer, end };

/// One decoded value, 12 bytes, trivially copyable.
struct token {
    /// Byte offset of the value's first byte (`d`, `l`, `i`, first length digit, or `e`).
    std::uint32_t offset;
    /// Index of the first token after this value's subtree.
    std::uint32_t next;
    /// Bits 31..29: token_kind. Bits 28..0: for strings the header length (digits and
    /// `:`); for lists the element count; for dictionaries the key/value pair count.
    std::uint32_t info;

    static constexpr std::uint32_t aux_bits = 29;
    static constexpr std::uint32_t aux_mask = (std::uint32_t{1} << aux_bits) - 1;

    [[nodiscard]] token_kind kind() const { return static_cast<token_kind>(info >> aux_bits); }
    [[nodiscard]] std::uint32_t aux() const { return info & aux_mask; }
};

/// One open container while decoding.
struct frame {
    std::uint32_t token;    // index of the container's token
    std::uint32_t count;    // children so far (keys and values both count in a dict)
    std::uint32_t last_key; // token index of the dict's previous key, or no_key
    static constexpr std::uint32_t no_key = 0xffff'ffff;
};

} // namespace detail

class node;
class list_range;
class dict_range;

/// The result of decoding: tokens over the input. The document BORROWS the input: the
/// bytes must outlive the document and every node and string_view taken from it. Nodes
/// point at the document object, so moving or destroying the document invalidates them.
/// A document can be reused with parse(), which keeps its token capacity.
class document {
public:
    /// An empty document; root() is an invalid node.
    document() = default;

    /// Decodes `input` (borrowed) into this document, replacing what it held. On error the
    /// document is empty.
    tl::expected<void, decode_error> parse(std::span<const std::byte> input,
                                           const limits& lim = {});

    /// The root value; invalid when the document is empty.
    [[nodiscard]] node root() const;
    /// The whole input that was decoded (borrowed).
    [[nodiscard]] std::span<const std::byte> input() const { return m_input; }
    /// Tokens in use, the sentinel included; 0 when empty.
    [[nodiscard]] std::size_t token_count() const { return m_tokens.size(); }

private:
    friend class node;
    friend class list_range;
    friend class dict_range;

    std::span<const std::byte> m_input;
    std::vector<detail::token> m_tokens;
    std::vector<detail::frame> m_stack; // only used during parse(); kept for its capacity
};

/// Decodes `input` (borrowed: it must outlive the document). See limits for the rules.
[[nodiscard]] tl::expected<document, decode_error> decode(std::span<const std::byte> input,
                                                          const limits& lim = {});
/// The same over characters; `input` is borrowed likewise.
[[nodiscard]] tl::expected<document, decode_error> decode(std::string_view input,
                                                          const limits& lim = {});

/// A view of one value in a document: a document pointer and a token index, cheap to copy.
/// Valid while the document is alive and unmoved. Accessors of the wrong kind return an
/// empty result (empty string, 0, no children) rather than misbehave: check type() first.
class node {
public:
    /// An invalid node (type::none), as returned by a failed lookup.
    node() = default;

    [[nodiscard]] bool valid() const { return m_doc != nullptr; }
    explicit operator bool() const { return valid(); }
    [[nodiscard]] bencode::type type() const;

    [[nodiscard]] bool is_dict() const { return type() == bencode::type::dict; }
    [[nodiscard]] bool is_list() const { return type() == bencode::type::list; }
    [[nodiscard]] bool is_string() const { return type() == bencode::type::string; }
    [[nodiscard]] bool is_int() const { return type() == bencode::type::integer; }

    /// A string's bytes (borrowed from the input); empty for other kinds.
    [[nodiscard]] std::string_view as_string() const;
    /// A string's bytes as bytes, for binary strings such as `pieces`.
    [[nodiscard]] std::span<const std::byte> as_bytes() const;
    /// An integer's value (range-checked when decoded); 0 for other kinds.
    [[nodiscard]] std::int64_t as_int() const;

    /// The exact input bytes of this value, e.g. the `info` dictionary for the info-hash.
    [[nodiscard]] std::span<const std::byte> raw() const;
    /// Byte offset of this value in the input, for error messages.
    [[nodiscard]] std::size_t offset() const;

    /// Elements of a list, or key/value pairs of a dictionary; O(1). 0 for scalars.
    [[nodiscard]] std::size_t size() const;
    /// The i-th element of a list; O(i) sibling steps. Invalid when out of range.
    [[nodiscard]] node at(std::size_t i) const;
    /// A list's elements in order; empty for other kinds.
    [[nodiscard]] list_range list_items() const;
    /// A dictionary's (key, value) pairs in input order; empty for other kinds.
    [[nodiscard]] dict_range dict_items() const;

    /// The value under `key` in a dictionary (linear scan); invalid when absent or when
    /// this is not a dictionary.
    [[nodiscard]] node find(std::string_view key) const;
    /// find(), keeping only a value of the wanted kind.
    [[nodiscard]] std::optional<std::string_view> find_string(std::string_view key) const;
    [[nodiscard]] std::optional<std::int64_t> find_int(std::string_view key) const;
    [[nodiscard]] node find_dict(std::string_view key) const;
    [[nodiscard]] node find_list(std::string_view key) const;

    /// Same document and same value.
    friend bool operator==(const node&, const node&) = default;

private:
    friend class document;
    friend class list_range;
    friend class dict_range;

    node(const document* doc, std::uint32_t index) : m_doc(doc), m_index(index) {}
    [[nodiscard]] const detail::token& tok() const { return m_doc->m_tokens[m_index]; }
    [[nodiscard]] detail::token_kind kind() const { return tok().kind(); }
    [[nodiscard]] std::uint32_t end_offset() const;

    const document* m_doc = nullptr;
    std::uint32_t m_index = 0;
};

/// Forward range over a list's elements: each step follows `next`, O(1).
class list_range {
public:
    class iterator {
    public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = node;
        using difference_type = std::ptrdiff_t;
        using pointer = void;
        using reference = node;

        iterator() = default;
        node operator*() const { return node(m_doc, m_index); }
        iterator& operator++() {
            m_index = m_doc->m_tokens[m_index].next;
            return *this;
        }
        iterator operator++(int) {
            iterator old = *this;
            ++*this;
            return old;
        }
        friend bool operator==(const iterator& a, const iterator& b) {
            return a.m_index == b.m_index;
        }

    private:
        friend class list_range;
        iterator(const document* doc, std::uint32_t index) : m_doc(doc), m_index(index) {}
        const document* m_doc = nullptr;
        std::uint32_t m_index = 0;
    };

    [[nodiscard]] iterator begin() const { return {m_doc, m_first}; }
    [[nodiscard]] iterator end() const { return {m_doc, m_end}; }
    [[nodiscard]] bool empty() const { return m_first == m_end; }

private:
    friend class node;
    list_range() = default;
    list_range(const document* doc, std::uint32_t first, std::uint32_t end)
        : m_doc(doc), m_first(first), m_end(end) {}
    const document* m_doc = nullptr;
    std::uint32_t m_first = 0;
    std::uint32_t m_end = 0;
};

/// Forward range over a dictionary's (key, value) pairs; each step is O(1).
class dict_range {
public:
    class iterator {
    public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = std::pair<std::string_view, node>;
        using difference_type = std::ptrdiff_t;
        using pointer = void;
        using reference = value_type;

        iterator() = default;
        value_type operator*() const {
            const node key(m_doc, m_index);
            return {key.as_string(), node(m_doc, m_index + 1)};
        }
        iterator& operator++() {
            // A key is always one string token, so its value is the next token.
            m_index = m_doc->m_tokens[m_index + 1].next;
            return *this;
        }
        iterator operator++(int) {
            iterator old = *this;
            ++*this;
            return old;
        }
        friend bool operator==(const iterator& a, const iterator& b) {
            return a.m_index == b.m_index;
        }

    private:
        friend class dict_range;
        iterator(const document* doc, std::uint32_t index) : m_doc(doc), m_index(index) {}
        const document* m_doc = nullptr;
        std::uint32_t m_index = 0;
    };

    [[nodiscard]] iterator begin() const { return {m_doc, m_first}; }
    [[nodiscard]] iterator end() const { return {m_doc, m_end}; }
    [[nodiscard]] bool empty() const { return m_first == m_end; }

private:
    friend class node;
    dict_range() = default;
    dict_range(const document* doc, std::uint32_t first, std::uint32_t end)
        : m_doc(doc), m_first(first), m_end(end) {}
    const document* m_doc = nullptr;
    std::uint32_t m_first = 0;
    std::uint32_t m_end = 0;
};

inline node document::root() const {
    if (m_tokens.empty()) {
        return {};
    }
    return {this, 0};
}

inline bencode::type node::type() const {
    if (m_doc == nullptr) {
        return bencode::type::none;
    }
    switch (kind()) {
    case detail::token_kind::dict:
        return bencode::type::dict;
    case detail::token_kind::list:
        return bencode::type::list;
    case detail::token_kind::string:
        return bencode::type::string;
    case detail::token_kind::integer:
        return bencode::type::integer;
    case detail::token_kind::end:
        break;
    }
    return bencode::type::none;
}

inline std::uint32_t node::end_offset() const {
    return m_doc->m_tokens[tok().next].offset;
}

inline std::string_view node::as_string() const {
    if (!is_string()) {
        return {};
    }
    const std::uint32_t begin = tok().offset + tok().aux();
    // The input holds bytes; string_view over the same storage is how callers read text.
    const auto* chars = reinterpret_cast<const char*>(m_doc->m_input.data());
    return {chars + begin, end_offset() - begin};
}

inline std::span<const std::byte> node::as_bytes() const {
    if (!is_string()) {
        return {};
    }
    const std::uint32_t begin = tok().offset + tok().aux();
    return m_doc->m_input.subspan(begin, end_offset() - begin);
}

inline std::span<const std::byte> node::raw() const {
    if (m_doc == nullptr) {
        return {};
    }
    return m_doc->m_input.subspan(tok().offset, end_offset() - tok().offset);
}

inline std::size_t node::offset() const {
    return m_doc == nullptr ? 0 : tok().offset;
}

inline std::size_t node::size() const {
    if (!is_list() && !is_dict()) {
        return 0;
    }
    return tok().aux();
}

inline list_range node::list_items() const {
    if (!is_list()) {
        return {};
    }
    // Children start right after the list token; the end token sits just before `next`.
    return {m_doc, m_index + 1, tok().next - 1};
}

inline dict_range node::dict_items() const {
    if (!is_dict()) {
        return {};
    }
    return {m_doc, m_index + 1, tok().next - 1};
}

} // namespace spate::bencode
