// Fuzz target for the path sanitiser (metainfo/path.hpp). The input is a list of paths:
// byte 0x02 separates paths, byte 0x01 separates components (both are control bytes, so
// no accepted component contains them). Whatever the sanitiser accepts must be safe:
//   - a joined path is relative, has no "", "." or ".." element, and stays beneath any
//     folder it is appended to, however lexically normalised;
//   - no accepted component holds '/', NUL, a control byte or a bidi control, or exceeds
//     NAME_MAX bytes;
//   - check_unique_paths() accepts a list only if no path equals or prefixes another
//     (checked here by brute force).
// A violated rule aborts, so libFuzzer and the replay program report it as a crash.

#include <spate/metainfo/path.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace {

void require(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "path invariant violated: %s\n", what);
        std::abort();
    }
}

std::vector<std::string> split(std::string_view text, char separator) {
    std::vector<std::string> parts;
    while (true) {
        const std::size_t at = text.find(separator);
        parts.emplace_back(text.substr(0, at));
        if (at == std::string_view::npos) {
            return parts;
        }
        text.remove_prefix(at + 1);
    }
}

bool has_forbidden_byte(const std::string& component) {
    for (const char c : component) {
        const auto b = static_cast<unsigned char>(c);
        if (b < 0x20 || b == 0x7f || c == '/') {
            return true;
        }
    }
    // U+202E, the right-to-left override, the most abused of the bidi controls.
    return component.find("\xe2\x80\xae") != std::string::npos;
}

void check_accepted_path(const std::vector<std::string>& components) {
    for (const std::string& c : components) {
        require(!c.empty() && c != "." && c != "..", "dot or empty component accepted");
        require(!has_forbidden_byte(c), "forbidden byte accepted");
        require(c.size() <= spate::metainfo::max_path_component, "overlong component accepted");
    }
    auto joined = spate::metainfo::to_relative_path(components);
    require(joined.has_value(), "check_path accepts what to_relative_path refuses");
    require(joined->is_relative() && !joined->has_root_path(), "joined path is not relative");
    std::size_t elements = 0;
    for (const auto& element : *joined) {
        require(element != ".." && element != "." && !element.empty(), "joined path can climb");
        ++elements;
    }
    require(elements == components.size(), "components were merged or split");
    const std::filesystem::path folder = "/download/folder";
    const std::filesystem::path inside = (folder / *joined).lexically_normal();
    const std::filesystem::path relative = inside.lexically_relative(folder);
    require(!relative.empty() && *relative.begin() != "..", "path leaves the folder");
}

bool equal_or_prefix(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    const std::size_t n = std::min(a.size(), b.size());
    for (std::size_t i = 0; i < n; ++i) {
        if (a[i] != b[i]) {
            return false;
        }
    }
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    std::vector<std::vector<std::string>> paths;
    for (const std::string& path : split(text, '\x02')) {
        paths.push_back(split(path, '\x01'));
        if (paths.size() > 64) {
            break; // the brute-force check below is quadratic
        }
    }

    bool all_ok = true;
    for (const auto& components : paths) {
        const bool single_ok = spate::metainfo::check_path_component(components.front()).has_value();
        const bool ok = spate::metainfo::check_path(components).has_value();
        require(ok || !single_ok || components.size() > 1, "one good component refused as a path");
        if (ok) {
            check_accepted_path(components);
        } else {
            require(!spate::metainfo::to_relative_path(components), "bad path joined");
        }
        all_ok = all_ok && ok;
    }
    if (!all_ok) {
        return 0;
    }
    bool clash = false;
    for (std::size_t i = 0; i < paths.size() && !clash; ++i) {
        for (std::size_t j = i + 1; j < paths.size() && !clash; ++j) {
            clash = equal_or_prefix(paths[i], paths[j]);
        }
    }
    const bool unique = spate::metainfo::check_unique_paths(paths).has_value();
    require(unique != clash, "check_unique_paths disagrees with brute force");
    return 0;
}
