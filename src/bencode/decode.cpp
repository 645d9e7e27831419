// The decoder: one pass over the input, an explicit stack of open containers (no
// recursion, so depth costs no native stack), one token appended per value.

#include <spate/bencode/document.hpp>

#include <algorithm>
#include <cstring>
#include <limits>

namespace spate::bencode {
namespace {

using detail::frame;
using detail::token;
using detail::token_kind;

// Offsets are 32-bit and the sentinel sits one past the last byte.
constexpr std::size_t max_input_size = std::numeric_limits<std::uint32_t>::max() - 1;
// Container child counts live in 29 bits; every child needs at least one token.
constexpr std::size_t max_token_cap = std::size_t{1} << 28;

bool is_digit(std::byte b) {
    return b >= std::byte{'0'} && b <= std::byte{'9'};
}

std::uint32_t digit_value(std::byte b) {
    return static_cast<std::uint32_t>(b) - '0';
}

tl::unexpected<decode_error> error(errc e, std::size_t offset) {
    return tl::unexpected<decode_error>(decode_error{make_error_code(e), offset});
}

std::uint32_t pack(token_kind kind, std::uint32_t aux) {
    return (static_cast<std::uint32_t>(kind) << token::aux_bits) | (aux & token::aux_mask);
}

// Decoding state for one parse() call; writes into the document's vectors.
class parser {
public:
    parser(std::span<const std::byte> input, const limits& lim, std::vector<token>& tokens,
           std::vector<frame>& stack)
        : m_in(input), m_size(input.size()), m_lim(lim),
          m_max_tokens(std::min(lim.max_tokens, max_token_cap)), m_tokens(tokens), m_stack(stack) {}

    tl::expected<void, decode_error> run();

private:
    tl::expected<void, decode_error> push(token_kind kind, std::size_t offset, std::uint32_t aux);
    tl::expected<void, decode_error> parse_integer();
    tl::expected<void, decode_error> parse_string();
    tl::expected<void, decode_error> close_container();
    tl::expected<void, decode_error> check_key_order(const frame& f, std::size_t key_offset);

    std::span<const std::byte> m_in;
    std::size_t m_size;
    const limits& m_lim;
    std::size_t m_max_tokens;
    std::vector<token>& m_tokens;
    std::vector<frame>& m_stack;
    std::size_t m_pos = 0;
};

tl::expected<void, decode_error> parser::push(token_kind kind, std::size_t offset,
                                              std::uint32_t aux) {
    if (m_tokens.size() >= m_max_tokens) {
        return error(errc::too_many_tokens, offset);
    }
    const auto index = static_cast<std::uint32_t>(m_tokens.size());
    // Scalars and end tokens are one token; containers get their real `next` when closed.
    m_tokens.push_back(token{static_cast<std::uint32_t>(offset), index + 1, pack(kind, aux)});
    return {};
}

tl::expected<void, decode_error> parser::parse_integer() {
    const std::size_t start = m_pos;
    std::size_t p = m_pos + 1;
    bool negative = false;
    if (p < m_size && m_in[p] == std::byte{'-'}) {
        negative = true;
        ++p;
    }
    if (p == m_size) {
        return error(errc::unexpected_end, m_size);
    }
    if (m_in[p] == std::byte{'e'}) {
        return error(errc::empty_integer, p);
    }
    if (!is_digit(m_in[p])) {
        return error(errc::invalid_digit, p);
    }
    if (m_in[p] == std::byte{'0'}) {
        if (p + 1 < m_size && is_digit(m_in[p + 1])) {
            return error(errc::leading_zero, p);
        }
        if (negative) {
            return error(errc::negative_zero, p - 1);
        }
    }
    // The magnitude of INT64_MIN is one more than INT64_MAX.
    const std::uint64_t bound =
        negative ? std::uint64_t{1} << 63
                 : static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    std::uint64_t magnitude = 0;
    for (; p < m_size && is_digit(m_in[p]); ++p) {
        const std::uint32_t d = digit_value(m_in[p]);
        if (magnitude > (bound - d) / 10) {
            return error(errc::integer_overflow, start);
        }
        magnitude = magnitude * 10 + d;
    }
    if (p == m_size) {
        return error(errc::unexpected_end, m_size);
    }
    if (m_in[p] != std::byte{'e'}) {
        return error(errc::invalid_digit, p);
    }
    if (auto pushed = push(token_kind::integer, start, 0); !pushed) {
        return pushed;
    }
    m_pos = p + 1;
    return {};
}

tl::expected<void, decode_error> parser::parse_string() {
    const std::size_t start = m_pos;
    if (m_in[start] == std::byte{'0'} && start + 1 < m_size && is_digit(m_in[start + 1])) {
        return error(errc::leading_zero, start);
    }
    // Never trust the length: it may not exceed what is left, checked digit by digit so
    // that a 20-digit length cannot overflow either.
    const std::size_t remaining = m_size - start;
    std::size_t length = 0;
    std::size_t p = start;
    for (; p < m_size && is_digit(m_in[p]); ++p) {
        length = length * 10 + digit_value(m_in[p]);
        if (length > remaining) {
            return error(errc::string_too_long, start);
        }
    }
    if (p == m_size) {
        return error(errc::unexpected_end, m_size);
    }
    if (m_in[p] != std::byte{':'}) {
        return error(errc::missing_colon, p);
    }
    ++p;
    if (length > m_size - p) {
        return error(errc::string_too_long, start);
    }
    if (auto pushed = push(token_kind::string, start, static_cast<std::uint32_t>(p - start));
        !pushed) {
        return pushed;
    }
    m_pos = p + length;
    return {};
}

tl::expected<void, decode_error> parser::check_key_order(const frame& f, std::size_t key_offset) {
    if (!m_lim.strict || f.last_key == frame::no_key) {
        return {};
    }
    const token& prev = m_tokens[f.last_key];
    const token& cur = m_tokens.back();
    // A key's bytes end where the next token (its value) will start; for the previous key
    // that token exists, for this one its end is the parse position.
    const std::size_t prev_begin = prev.offset + prev.aux();
    const std::size_t prev_len = m_tokens[f.last_key + 1].offset - prev_begin;
    const std::size_t cur_begin = cur.offset + cur.aux();
    const std::size_t cur_len = m_pos - cur_begin;
    const int cmp =
        std::memcmp(m_in.data() + prev_begin, m_in.data() + cur_begin, std::min(prev_len, cur_len));
    if (cmp < 0 || (cmp == 0 && prev_len < cur_len)) {
        return {};
    }
    if (cmp == 0 && prev_len == cur_len) {
        return error(errc::duplicate_key, key_offset);
    }
    return error(errc::unsorted_keys, key_offset);
}

tl::expected<void, decode_error> parser::close_container() {
    frame& f = m_stack.back();
    const bool is_dict = m_tokens[f.token].kind() == token_kind::dict;
    if (is_dict && f.count % 2 != 0) {
        return error(errc::missing_value, m_pos);
    }
    if (auto pushed = push(token_kind::end, m_pos, 0); !pushed) {
        return pushed;
    }
    token& container = m_tokens[f.token];
    container.next = static_cast<std::uint32_t>(m_tokens.size());
    container.info = pack(container.kind(), is_dict ? f.count / 2 : f.count);
    m_stack.pop_back();
    ++m_pos;
    return {};
}

tl::expected<void, decode_error> parser::run() {
    for (;;) {
        if (m_pos == m_size) {
            return error(errc::unexpected_end, m_size);
        }
        const std::byte c = m_in[m_pos];
        const bool key_expected = !m_stack.empty() &&
                                  m_tokens[m_stack.back().token].kind() == token_kind::dict &&
                                  m_stack.back().count % 2 == 0;

        if (c == std::byte{'e'} && !m_stack.empty()) {
            if (auto closed = close_container(); !closed) {
                return closed;
            }
        } else if (key_expected && !is_digit(c)) {
            return error(errc::key_not_string, m_pos);
        } else if (c == std::byte{'d'} || c == std::byte{'l'}) {
            if (m_stack.size() >= m_lim.max_depth) {
                return error(errc::depth_exceeded, m_pos);
            }
            const auto kind = c == std::byte{'d'} ? token_kind::dict : token_kind::list;
            if (auto pushed = push(kind, m_pos, 0); !pushed) {
                return pushed;
            }
            m_stack.push_back(
                frame{static_cast<std::uint32_t>(m_tokens.size() - 1), 0, frame::no_key});
            ++m_pos;
            continue; // the container is a finished value only at its `e`
        } else if (c == std::byte{'i'}) {
            if (auto parsed = parse_integer(); !parsed) {
                return parsed;
            }
        } else if (is_digit(c)) {
            const std::size_t start = m_pos;
            if (auto parsed = parse_string(); !parsed) {
                return parsed;
            }
            if (key_expected) {
                if (auto ordered = check_key_order(m_stack.back(), start); !ordered) {
                    return ordered;
                }
                m_stack.back().last_key = static_cast<std::uint32_t>(m_tokens.size() - 1);
            }
        } else {
            return error(errc::unexpected_character, m_pos);
        }

        // A value is complete: count it in its parent, or stop at the end of the root.
        if (m_stack.empty()) {
            break;
        }
        ++m_stack.back().count;
    }
    if (m_pos != m_size) {
        return error(errc::trailing_data, m_pos);
    }
    // The sentinel marks where the root ends; it does not count against max_tokens.
    m_tokens.push_back(token{static_cast<std::uint32_t>(m_pos),
                             static_cast<std::uint32_t>(m_tokens.size() + 1),
                             pack(token_kind::end, 0)});
    return {};
}

} // namespace

tl::expected<void, decode_error> document::parse(std::span<const std::byte> input,
                                                 const limits& lim) {
    m_input = {};
    m_tokens.clear();
    m_stack.clear();
    if (input.size() > max_input_size) {
        return error(errc::input_too_large, 0);
    }
    parser p(input, lim, m_tokens, m_stack);
    if (auto done = p.run(); !done) {
        m_tokens.clear();
        m_stack.clear();
        return done;
    }
    m_stack.clear();
    m_input = input;
    return {};
}

tl::expected<document, decode_error> decode(std::span<const std::byte> input, const limits& lim) {
    document doc;
    if (auto parsed = doc.parse(input, lim); !parsed) {
        return tl::unexpected<decode_error>(parsed.error());
    }
    return doc;
}

tl::expected<document, decode_error> decode(std::string_view input, const limits& lim) {
    return decode(std::as_bytes(std::span(input.data(), input.size())), lim);
}

} // namespace spate::bencode
