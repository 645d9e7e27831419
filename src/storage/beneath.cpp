#include "beneath.hpp"

#include <spate/io/file_ops.hpp>
#include <spate/storage/error.hpp>

#include <linux/openat2.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

namespace spate::storage::detail {

namespace {

open_how beneath_how(int flags, mode_t mode) {
    open_how how{};
    how.flags = static_cast<std::uint64_t>(flags) | O_CLOEXEC;
    // The kernel refuses a mode without O_CREAT / O_TMPFILE.
    how.mode = (flags & O_CREAT) != 0 ? mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS;
    return how;
}

} // namespace

std::error_code resolve_error(std::error_code error) {
    // ELOOP: a symbolic link on the way (RESOLVE_NO_SYMLINKS); EXDEV: the path would
    // leave the folder (RESOLVE_BENEATH).
    if (error == std::errc::too_many_symbolic_link_levels ||
        error == std::errc::cross_device_link) {
        return make_error_code(errc::unsafe_path);
    }
    return error;
}

result<io::unique_fd> open_folder(const std::string& path, bool create) {
    if (create) {
        std::error_code ec;
        std::filesystem::create_directories(path, ec);
        if (ec) {
            return fail(ec);
        }
    }
    io::unique_fd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) {
        const int err = errno;
        if (err == ENOENT) {
            return fail(errc::folder_missing);
        }
        return fail(errno_code(err));
    }
    return fd;
}

io::task<result<io::unique_fd>> open_beneath(io::ring& ring, int dir_fd, std::string relative,
                                             int flags, mode_t mode) {
    const open_how how = beneath_how(flags, mode);
    auto opened = co_await io::openat2(ring, dir_fd, relative.c_str(), how);
    if (!opened) {
        co_return fail(resolve_error(opened.error()));
    }
    co_return io::unique_fd(*opened);
}

result<io::unique_fd> open_beneath_now(int dir_fd, const std::string& relative, int flags,
                                       mode_t mode) {
    open_how how = beneath_how(flags, mode);
    const long fd = ::syscall(SYS_openat2, dir_fd, relative.c_str(), &how, sizeof(how));
    if (fd < 0) {
        return fail(resolve_error(errno_code(errno)));
    }
    return io::unique_fd(static_cast<int>(fd));
}

result<void> make_folders_beneath(int dir_fd, const std::string& relative) {
    io::unique_fd current;
    int parent = dir_fd;
    for (const auto& part : std::filesystem::path(relative)) {
        const std::string name = part.string();
        if (name.empty() || name == "." || name == "..") {
            return fail(errc::unsafe_path);
        }
        // mkdirat never follows a link in its last component: an existing link is EEXIST,
        // and the open below refuses it.
        if (::mkdirat(parent, name.c_str(), 0755) != 0 && errno != EEXIST) {
            return fail(errno_code(errno));
        }
        auto next = open_beneath_now(parent, name, O_RDONLY | O_DIRECTORY, 0);
        if (!next) {
            return fail(next.error());
        }
        current = std::move(*next);
        parent = current.get();
    }
    return {};
}

} // namespace spate::storage::detail
