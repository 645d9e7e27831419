#include <spate/metainfo/error.hpp>
#include <spate/metainfo/path.hpp>

#include <algorithm>

namespace spate::metainfo {

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
