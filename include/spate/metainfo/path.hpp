#pragma once
/// Path sanitising: turns path components read from a torrent (or given to the writer)
/// into a relative path that can never leave the download folder.
///
/// Policy: every unsafe component is *rejected*, never rewritten. Rewriting ("..",
/// "a/b" -> "a_b") would make two torrents that name different files map to the same
/// file on disk, and would hide a hostile torrent from the user. Rejected are:
///
/// | component                        | error                            |
/// |----------------------------------|----------------------------------|
/// | "" (empty)                       | errc::empty_path_component       |
/// | "."                              | errc::dot_path_component         |
/// | ".."                             | errc::dot_dot_path_component     |
/// | starts with '/'                  | errc::absolute_path              |
/// | contains '/' elsewhere           | errc::path_component_has_separator |
/// | contains a NUL byte              | errc::path_component_has_nul     |
/// | a control byte (1-31, 127), a C1 | errc::path_component_has_control |
/// |   control in UTF-8 (U+0080-9F),  |                                  |
/// |   U+2028 or U+2029               |                                  |
/// | a bidi control (U+061C, U+200E,  | errc::path_component_has_bidi_control |
/// |   U+200F, U+202A-E, U+2066-9)    |                                  |
/// | longer than 255 bytes (NAME_MAX) | errc::path_component_too_long    |
///
/// Control bytes (a newline, an escape sequence) in a name rewrite the terminal that lists
/// it, and bidirectional controls make "exe.txt" display as "txt.exe": a torrent carrying
/// them is hostile or broken, so it is refused like the rest.
/// A path with no components is errc::empty_path. Backslashes, leading dots (".hidden")
/// and other non-UTF-8 bytes are legal in Linux file names and are kept as they are. Duplicate
/// paths are a property of a whole file list; see check_unique_paths().

#include <spate/core/result.hpp>

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace spate::metainfo {

/// The longest file name component Linux accepts (NAME_MAX).
inline constexpr std::size_t max_path_component = 255;

/// Checks one path component (or a torrent name) against the table above.
[[nodiscard]] result<void> check_path_component(std::string_view component);

/// Checks every component of a path, and that there is at least one.
[[nodiscard]] result<void> check_path(std::span<const std::string> components);

/// Joins checked components into a relative path ("a", "b" -> "a/b"). The result is
/// never absolute and never contains "." or ".." elements, so `folder / path` stays
/// beneath `folder`.
[[nodiscard]] result<std::filesystem::path>
to_relative_path(std::span<const std::string> components);

/// Checks that no two paths are equal and that no path is a proper prefix of another
/// (a file "a" and a file "a/b" cannot both exist). Each path is assumed already checked.
/// Returns errc::duplicate_file_path or errc::file_path_conflict otherwise.
[[nodiscard]] result<void> check_unique_paths(std::span<const std::vector<std::string>> paths);

} // namespace spate::metainfo
