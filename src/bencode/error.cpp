#include <spate/bencode/error.hpp>

#include <string>

namespace spate::bencode {
namespace {

class category final : public std::error_category {
public:
    [[nodiscard]] const char* name() const noexcept override { return "spate.bencode"; }

    [[nodiscard]] std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
        case errc::unexpected_end:
            return "unexpected end of input";
        case errc::unexpected_character:
            return "unexpected character";
        case errc::empty_integer:
            return "empty integer";
        case errc::invalid_digit:
            return "invalid digit in integer";
        case errc::leading_zero:
            return "leading zero in a number";
        case errc::negative_zero:
            return "negative zero";
        case errc::integer_overflow:
            return "integer out of 64-bit range";
        case errc::missing_colon:
            return "expected ':' after string length";
        case errc::string_too_long:
            return "string length exceeds the input";
        case errc::key_not_string:
            return "dictionary key is not a string";
        case errc::missing_value:
            return "dictionary key without a value";
        case errc::unsorted_keys:
            return "dictionary keys out of order";
        case errc::duplicate_key:
            return "duplicate dictionary key";
        case errc::trailing_data:
            return "trailing data after the root value";
        case errc::depth_exceeded:
            return "nesting too deep";
        case errc::too_many_tokens:
            return "too many values";
        case errc::input_too_large:
            return "input of 4 GiB or more";
        }
        return "unknown spate.bencode error";
    }
};

} // namespace

const std::error_category& bencode_category() noexcept {
    static const category instance;
    return instance;
}

std::string decode_error::message() const {
    return "bencode: " + code.message() + " at byte " + std::to_string(offset);
}

} // namespace spate::bencode
