#include "json_writer.hpp"

#include <fmt/format.h>

#include <cmath>
#include <string>

namespace spate::cli {

namespace {

// Length of the valid UTF-8 sequence starting at text[i], or 0 when it is invalid.
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    unsigned char lead = byte(i);
    std::size_t len = 0;
    std::uint32_t min = 0;
    std::uint32_t cp = 0;
    if (lead < 0x80) {
        return 1;
    } else if ((lead & 0xe0) == 0xc0) {
        len = 2, min = 0x80, cp = lead & 0x1fu;
    } else if ((lead & 0xf0) == 0xe0) {
        len = 3, min = 0x800, cp = lead & 0x0fu;
    } else if ((lead & 0xf8) == 0xf0) {
        len = 4, min = 0x10000, cp = lead & 0x07u;
    } else {
        return 0;
    }
    if (i + len > text.size()) {
        return 0;
    }
    for (std::size_t k = 1; k < len; ++k) {
        if ((byte(i + k) & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (byte(i + k) & 0x3fu);
    }
    // Reject overlong forms, surrogates and code points past U+10FFFF.
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }
    return len;
}

} // namespace

void json_writer::separate() {
    if (m_after_key) {
        m_after_key = false;
        return;
    }
    if (!m_has_element.empty()) {
        if (m_has_element.back()) {
            m_out += ',';
        }
        m_has_element.back() = true;
    }
}

json_writer& json_writer::begin_object() {
    separate();
    m_out += '{';
    m_has_element.push_back(false);
    return *this;
}

json_writer& json_writer::end_object() {
    m_out += '}';
    m_has_element.pop_back();
    return *this;
}

json_writer& json_writer::begin_array() {
    separate();
    m_out += '[';
    m_has_element.push_back(false);
    return *this;
}

json_writer& json_writer::end_array() {
    m_out += ']';
    m_has_element.pop_back();
    return *this;
}

json_writer& json_writer::key(std::string_view name) {
    separate();
    write_string(name);
    m_out += ':';
    m_after_key = true;
    return *this;
}

json_writer& json_writer::value(std::string_view text) {
    separate();
    write_string(text);
    return *this;
}

json_writer& json_writer::value(std::int64_t number) {
    separate();
    m_out += fmt::format("{}", number);
    return *this;
}

json_writer& json_writer::value(double number) {
    separate();
    // JSON has no NaN or infinity.
    m_out += std::isfinite(number) ? fmt::format("{:.3f}", number) : std::string("null");
    return *this;
}

json_writer& json_writer::value(std::uint64_t number) {
    separate();
    m_out += fmt::format("{}", number);
    return *this;
}

json_writer& json_writer::value(bool flag) {
    separate();
    m_out += flag ? "true" : "false";
    return *this;
}

json_writer& json_writer::null() {
    separate();
    m_out += "null";
    return *this;
}

void json_writer::write_string(std::string_view text) {
    m_out += '"';
    for (std::size_t i = 0; i < text.size();) {
        auto c = static_cast<unsigned char>(text[i]);
        if (c == '"' || c == '\\') {
            m_out += '\\';
            m_out += static_cast<char>(c);
        } else if (c == '\n') {
            m_out += "\\n";
        } else if (c == '\t') {
            m_out += "\\t";
        } else if (c == '\r') {
            m_out += "\\r";
        } else if (c < 0x20 || c == 0x7f) {
            m_out += fmt::format("\\u{:04x}", c);
        } else if (c >= 0x80) {
            std::size_t len = utf8_sequence_length(text, i);
            if (len == 0) {
                m_out += "\\ufffd";
                ++i;
                continue;
            }
            m_out.append(text.substr(i, len));
            i += len;
            continue;
        } else {
            m_out += static_cast<char>(c);
        }
        ++i;
    }
    m_out += '"';
}

} // namespace spate::cli
