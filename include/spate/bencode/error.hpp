#pragma once
/// Errors of the bencode module: why an input is not (strict) bencode, and where.

#include <cstddef>
#include <string>
#include <system_error>

namespace spate::bencode {

/// Why decode() refused an input. The offset in decode_error says where: the offending
/// byte for a bad byte, or the first byte of the value for a problem with a whole value.
enum class errc {
    /// The input ended inside a value (or was empty). Offset: the input size.
    unexpected_end = 1,
    /// A byte that starts no value, e.g. `x`, `-1:a`, or `e` at the top level.
    unexpected_character,
    /// `ie` or `i-e`. Offset: the `e`.
    empty_integer,
    /// A byte other than a digit inside an integer, e.g. `i1x2e`. Offset: that byte.
    invalid_digit,
    /// `i03e`, `i-03e` or `03:abc`. Offset: the leading `0`.
    leading_zero,
    /// `i-0e`. Offset: the `-`.
    negative_zero,
    /// An integer outside int64. Offset: the `i`.
    integer_overflow,
    /// A string length not followed by `:`, e.g. `3x`. Offset: the byte where `:` belongs.
    missing_colon,
    /// A string length that runs past the end of the input. Offset: its first digit.
    string_too_long,
    /// A dictionary key that is not a string. Offset: the key's first byte.
    key_not_string,
    /// A dictionary that ends after a key, e.g. `d1:ae`. Offset: the `e`.
    missing_value,
    /// Strict mode: a key not greater (by raw bytes) than the key before it. Offset: the key.
    unsorted_keys,
    /// Strict mode: a key equal to the key before it. Offset: the key.
    duplicate_key,
    /// Bytes after the root value. Offset: the first of them.
    trailing_data,
    /// More nested lists and dictionaries than limits::max_depth. Offset: the `l` or `d`.
    depth_exceeded,
    /// More tokens than limits::max_tokens. Offset: the value (or `e`) that needed one more.
    too_many_tokens,
    /// An input of 4 GiB or more (offsets are 32-bit). Offset: 0.
    input_too_large,
};

/// The category of bencode::errc; its name is "spate.bencode".
[[nodiscard]] const std::error_category& bencode_category() noexcept;

/// Makes bencode::errc usable as a std::error_code (found by argument-dependent lookup).
[[nodiscard]] inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), bencode_category()};
}

/// A decode failure: what went wrong and the byte offset in the input where it did.
struct decode_error {
    std::error_code code;
    std::size_t offset = 0;

    /// For people: "bencode: leading zero in a number at byte 17".
    [[nodiscard]] std::string message() const;

    friend bool operator==(const decode_error&, const decode_error&) = default;
};

} // namespace spate::bencode

template <> struct std::is_error_code_enum<spate::bencode::errc> : std::true_type {};
