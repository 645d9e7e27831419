#include "beneath.hpp"

#include <spate/io/file_ops.hpp>
#include <spate/io/unique_fd.hpp>
#include <spate/storage/error.hpp>
#include <spate/storage/resume_store.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <span>
#include <vector>

namespace spate::storage {

namespace {

// Largest resume file read: far above any real one (a bitfield of 2^21 pieces is 256 KiB);
// decode_resume() applies the exact bound for the torrent.
constexpr std::size_t max_resume_read = std::size_t{64} << 20;

} // namespace

std::string resume_path(const sha1_digest& info_hash) {
    std::string path = resume_folder;
    path += '/';
    path += info_hash.hex();
    path += ".resume";
    return path;
}

io::task<result<void>> save_resume(io::ring& ring, std::string root, const resume_data& data) {
    // Everything from `data` is taken now, before the first suspension.
    const std::vector<std::byte> bytes = encode_resume(data);
    std::string final_name = data.info_hash.hex();
    final_name += ".resume";
    std::string temp_name = ".";
    temp_name += final_name;
    temp_name += '.';
    temp_name += std::to_string(::getpid());
    temp_name += ".tmp";

    auto root_fd = detail::open_folder(root, false);
    if (!root_fd) {
        co_return fail(root_fd.error());
    }
    bool made_folder = false;
    if (::mkdirat(root_fd->get(), resume_folder, 0755) == 0) {
        made_folder = true;
    } else if (errno != EEXIST) {
        co_return fail(errno_code(errno));
    }
    auto folder = co_await detail::open_beneath(ring, root_fd->get(), resume_folder,
                                                O_RDONLY | O_DIRECTORY, 0);
    if (!folder) {
        co_return fail(folder.error());
    }
    const int folder_fd = folder->get();

    auto opened = co_await detail::open_beneath(ring, folder_fd, temp_name,
                                                O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (!opened) {
        co_return fail(opened.error());
    }
    io::unique_fd file = std::move(*opened);
    std::error_code error;
    std::size_t done = 0;
    while (done < bytes.size()) {
        auto wrote = co_await io::write(ring, file.get(), std::span(bytes).subspan(done), done);
        if (!wrote || *wrote == 0) {
            error = wrote ? std::make_error_code(std::errc::io_error) : wrote.error();
            break;
        }
        done += *wrote;
    }
    if (!error) {
        // The data must be durable before the rename makes it the resume file.
        auto synced = co_await io::fsync(ring, file.get());
        if (!synced) {
            error = synced.error();
        }
    }
    auto closed = co_await io::close(ring, file.release());
    if (!error && !closed) {
        error = closed.error();
    }
    if (!error && ::renameat(folder_fd, temp_name.c_str(), folder_fd, final_name.c_str()) != 0) {
        error = errno_code(errno);
    }
    if (error) {
        ::unlinkat(folder_fd, temp_name.c_str(), 0);
        co_return fail(error);
    }
    // The rename is durable once the folder is; a new folder needs its own entry synced.
    auto folder_synced = co_await io::fsync(ring, folder_fd);
    if (!folder_synced) {
        co_return fail(folder_synced.error());
    }
    if (made_folder) {
        auto root_synced = co_await io::fsync(ring, root_fd->get());
        if (!root_synced) {
            co_return fail(root_synced.error());
        }
    }
    co_return result<void>{};
}

io::task<result<std::optional<resume_data>>> load_resume(io::ring& ring, std::string root,
                                                         sha1_digest info_hash,
                                                         std::uint32_t piece_count,
                                                         std::size_t file_count) {
    auto root_fd = detail::open_folder(root, false);
    if (!root_fd) {
        if (root_fd.error() == errc::folder_missing) {
            co_return std::optional<resume_data>{};
        }
        co_return fail(root_fd.error());
    }
    auto opened =
        co_await detail::open_beneath(ring, root_fd->get(), resume_path(info_hash), O_RDONLY, 0);
    if (!opened) {
        if (opened.error() == std::errc::no_such_file_or_directory) {
            co_return std::optional<resume_data>{};
        }
        co_return fail(opened.error());
    }
    io::unique_fd file = std::move(*opened);
    std::vector<std::byte> bytes;
    std::size_t chunk = 64 * 1024;
    for (;;) {
        const std::size_t used = bytes.size();
        bytes.resize(used + chunk);
        auto got = co_await io::read(ring, file.get(), std::span(bytes).subspan(used), used);
        if (!got) {
            co_return fail(got.error());
        }
        bytes.resize(used + *got);
        if (*got == 0) {
            break;
        }
        if (bytes.size() > max_resume_read) {
            co_return fail(errc::resume_corrupt);
        }
        chunk = std::min<std::size_t>(chunk * 2, std::size_t{4} << 20);
    }
    auto decoded = decode_resume(bytes, info_hash, piece_count, file_count);
    if (!decoded) {
        co_return fail(decoded.error());
    }
    co_return std::optional<resume_data>(std::move(*decoded));
}

} // namespace spate::storage
