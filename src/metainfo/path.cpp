#include <spate/metainfo/error.hpp>
#include <spate/metainfo/path.hpp>

#include <algorithm>
#include <cstddef>

namespace spate::metainfo {
namespace {

bool is_control_byte(char c) {
    const auto b = static_cast<unsigned char>(c);
    return b < 0x20 || b == 0x7f;
}

// The C1 controls U+0080..U+009F in UTF-8 (C2 80..C2 9F: U+009B is a terminal's CSI) and
// the line and paragraph separators U+2028/U+2029 (E2 80 A8/A9). Raw bytes 0x80..0x9F
// stay: legacy 8-bit names use them for letters and signs.
bool has_utf8_control(std::string_view s) {
    for (std::size_t i = 0; i + 1 < s.size(); ++i) {
        const auto a = static_cast<unsigned char>(s[i]);
        const auto b = static_cast<unsigned char>(s[i + 1]);
        if (a == 0xc2 && b >= 0x80 && b <= 0x9f) {
            return true;
        }
        if (a == 0xe2 && b == 0x80 && i + 2 < s.size()) {
            const auto c = static_cast<unsigned char>(s[i + 2]);
            if (c == 0xa8 || c == 0xa9) {
                return true;
            }
        }
    }
    return false;
}

// The UTF-8 encodings of the bidirectional text controls: U+061C (D8 9C), U+200E and
// U+200F (E2 80 8E/8F), U+202A..U+202E (E2 80 AA..AE), U+2066..U+2069 (E2 81 A6..A9).
bool has_bidi_control(std::string_view s) {
    for (std::size_t i = 0; i + 1 < s.size(); ++i) {
        const auto a = static_cast<unsigned char>(s[i]);
        const auto b = static_cast<unsigned char>(s[i + 1]);
        if (a == 0xd8 && b == 0x9c) {
            return true;
        }
        if (a != 0xe2 || i + 2 >= s.size()) {
            continue;
        }
        const auto c = static_cast<unsigned char>(s[i + 2]);
        if ((b == 0x80 && (c == 0x8e || c == 0x8f || (c >= 0xaa && c <= 0xae))) ||
            (b == 0x81 && c >= 0xa6 && c <= 0xa9)) {
            return true;
        }
    }
    return false;
}

} // namespace

result<void> check_path_component(std::string_view component) {
    if (component.empty()) {
        return fail(errc::empty_path_component);
    }
    if (component == ".") {
        return fail(errc::dot_path_component);
    }
    if (component == "..") {
        return fail(errc::dot_dot_path_component);
    }
    if (component.front() == '/') {
        return fail(errc::absolute_path);
    }
    if (component.find('/') != std::string_view::npos) {
        return fail(errc::path_component_has_separator);
    }
    if (component.find('\0') != std::string_view::npos) {
        return fail(errc::path_component_has_nul);
    }
    if (std::any_of(component.begin(), component.end(), is_control_byte) ||
        has_utf8_control(component)) {
        return fail(errc::path_component_has_control);
    }
    if (has_bidi_control(component)) {
        return fail(errc::path_component_has_bidi_control);
    }
    if (component.size() > max_path_component) {
        return fail(errc::path_component_too_long);
    }
    return {};
}

result<void> check_path(std::span<const std::string> components) {
    if (components.empty()) {
        return fail(errc::empty_path);
    }
    for (const auto& c : components) {
        if (auto ok = check_path_component(c); !ok) {
            return ok;
        }
    }
    return {};
}

result<std::filesystem::path> to_relative_path(std::span<const std::string> components) {
    if (auto ok = check_path(components); !ok) {
        return fail(ok.error());
    }
    std::filesystem::path out;
    for (const auto& c : components) {
        out /= c;
    }
    return out;
}

result<void> check_unique_paths(std::span<const std::vector<std::string>> paths) {
    // Sorting pointers by component-wise comparison puts each path right before the
    // paths it is a prefix of, so one pass over neighbours finds every clash.
    std::vector<const std::vector<std::string>*> sorted;
    sorted.reserve(paths.size());
    for (const auto& p : paths) {
        sorted.push_back(&p);
    }
    std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return *a < *b; });
    for (std::size_t i = 1; i < sorted.size(); ++i) {
        const auto& prev = *sorted[i - 1];
        const auto& cur = *sorted[i];
        if (prev == cur) {
            return fail(errc::duplicate_file_path);
        }
        if (prev.size() < cur.size() && std::equal(prev.begin(), prev.end(), cur.begin())) {
            return fail(errc::file_path_conflict);
        }
    }
    return {};
}

} // namespace spate::metainfo
