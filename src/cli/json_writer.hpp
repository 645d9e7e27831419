#pragma once
// A minimal JSON writer for the --json output of the commands: objects, arrays,
// strings (escaped per RFC 8259; bytes that are not valid UTF-8 are written as
// U+FFFD so the output always parses), integers and booleans.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace spate::cli {

class json_writer {
public:
    json_writer& begin_object();
    json_writer& end_object();
    json_writer& begin_array();
    json_writer& end_array();
    /// Inside an object: the key of the next value.
    json_writer& key(std::string_view name);
    json_writer& value(std::string_view text);
    json_writer& value(const char* text) { return value(std::string_view(text)); }
    json_writer& value(std::int64_t number);
    json_writer& value(std::uint64_t number);
    /// A number with three decimals (seconds, rates); NaN and infinity become null.
    json_writer& value(double number);
    json_writer& value(int number) { return value(static_cast<std::int64_t>(number)); }
    json_writer& value(bool flag);
    json_writer& null();

    /// The text written so far.
    [[nodiscard]] const std::string& str() const { return m_out; }

private:
    void separate();
    void write_string(std::string_view text);

    std::string m_out;
    // One entry per open container: true once it holds an element (so a comma is due).
    std::vector<bool> m_has_element;
    bool m_after_key = false;
};

} // namespace spate::cli
