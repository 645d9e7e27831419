#include "file_io.hpp"

#include <spate/io/file_ops.hpp>
#include <spate/io/unique_fd.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <filesystem>

namespace spate::cli {

io::task<result<std::vector<std::byte>>> read_whole_file(io::ring& ring, std::string path,
                                                         std::size_t max_size) {
    auto opened = co_await io::openat(ring, AT_FDCWD, path.c_str(), O_RDONLY);
    if (!opened) {
        co_return fail(opened.error());
    }
    io::unique_fd fd(*opened);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        co_return fail(errno_code(errno));
    }
    if (S_ISDIR(st.st_mode)) {
        co_return fail(std::make_error_code(std::errc::is_a_directory));
    }
    // Read until end of file rather than trusting st_size, which is 0 for pipes and
    // /proc files; the cap is checked as bytes arrive.
    std::vector<std::byte> data;
    std::size_t chunk = 64 * 1024;
    for (;;) {
        const std::size_t used = data.size();
        data.resize(used + chunk);
        auto got = co_await io::read(ring, fd.get(), std::span(data).subspan(used), used);
        if (!got) {
            co_return fail(got.error());
        }
        data.resize(used + *got);
        if (*got == 0) {
            break;
        }
        if (data.size() > max_size) {
            co_return fail(std::make_error_code(std::errc::file_too_large));
        }
        chunk = std::min<std::size_t>(chunk * 2, 4 << 20);
    }
    co_return data;
}

io::task<result<void>> write_file_atomically(io::ring& ring, std::string path,
                                             std::span<const std::byte> data, bool replace) {
    std::error_code ec;
    if (!replace && std::filesystem::exists(std::filesystem::symlink_status(path, ec))) {
        co_return fail(std::make_error_code(std::errc::file_exists));
    }
    const std::filesystem::path target(path);
    std::filesystem::path temp = target;
    // Appended piece by piece: g++ 12 at -O3 warns (-Wrestrict, a false positive) on a
    // chain of operator+ that starts with a literal.
    std::string temp_file = ".";
    temp_file += target.filename().string();
    temp_file += ".spate-";
    temp_file += std::to_string(::getpid());
    temp_file += ".tmp";
    temp.replace_filename(temp_file);
    const std::string temp_name = temp.string();

    auto opened = co_await io::openat(ring, AT_FDCWD, temp_name.c_str(),
                                      O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (!opened) {
        co_return fail(opened.error());
    }
    io::unique_fd fd(*opened);
    auto failed = [&](std::error_code error) {
        fd.reset();
        ::unlink(temp_name.c_str());
        return fail(error);
    };
    std::size_t done = 0;
    while (done < data.size()) {
        auto wrote = co_await io::write(ring, fd.get(), data.subspan(done), done);
        if (!wrote) {
            co_return failed(wrote.error());
        }
        if (*wrote == 0) {
            co_return failed(std::make_error_code(std::errc::io_error));
        }
        done += *wrote;
    }
    auto synced = co_await io::fsync(ring, fd.get());
    if (!synced) {
        co_return failed(synced.error());
    }
    fd.reset();
    // RENAME_NOREPLACE closes the window between the check above and this rename.
    if (::renameat2(AT_FDCWD, temp_name.c_str(), AT_FDCWD, path.c_str(),
                    replace ? 0U : RENAME_NOREPLACE) != 0) {
        co_return failed(errno_code(errno));
    }
    co_return result<void>{};
}

} // namespace spate::cli
