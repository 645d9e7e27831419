#pragma once
// Opening paths beneath a folder descriptor without ever leaving it: every open is
// openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, and folders are made one
// component at a time (mkdirat(2) on the last opened folder), so a symbolic link planted
// anywhere inside the download folder is refused instead of followed.

#include <spate/core/result.hpp>
#include <spate/io/ring.hpp>
#include <spate/io/task.hpp>
#include <spate/io/unique_fd.hpp>

#include <sys/types.h>

#include <string>

namespace spate::storage::detail {

/// Opens the download folder itself (a path the user chose, so links in it are followed),
/// creating it and its parents first when `create` is true. Errors: errc::folder_missing
/// when it does not exist (and `create` is false), or the errno.
[[nodiscard]] result<io::unique_fd> open_folder(const std::string& path, bool create);

/// openat2 on the ring of `relative` beneath `dir_fd`, refusing symbolic links and escapes
/// (errc::unsafe_path). `relative` is taken by value: it is used after suspension.
[[nodiscard]] io::task<result<io::unique_fd>>
open_beneath(io::ring& ring, int dir_fd, std::string relative, int flags, mode_t mode);

/// The same as a plain system call, for the few synchronous callers (stat at save time).
[[nodiscard]] result<io::unique_fd> open_beneath_now(int dir_fd, const std::string& relative,
                                                     int flags, mode_t mode);

/// Makes the folder `relative` (and every folder above it) beneath `dir_fd`, refusing any
/// component that is a symbolic link or not a folder (errc::unsafe_path). Synchronous:
/// mkdirat has no ring operation here, and it runs only while storage is being opened.
[[nodiscard]] result<void> make_folders_beneath(int dir_fd, const std::string& relative);

/// Maps the errno values openat2 uses for a refused resolution to errc::unsafe_path.
[[nodiscard]] std::error_code resolve_error(std::error_code error);

} // namespace spate::storage::detail
