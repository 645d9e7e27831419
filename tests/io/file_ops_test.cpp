#include "test_support.hpp"

#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <gtest/gtest.h>
#include <spate/io/buffer_pool.hpp>
#include <spate/io/file_ops.hpp>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace {

using spate::result;
using spate::io::buffer_pool;
using spate::io::ring;
using spate::io::task;

// A fresh directory under the system temp dir, removed with everything in it.
class temp_dir {
public:
    temp_dir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "spate-io-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            ADD_FAILURE() << "mkdtemp failed";
        }
        m_path = pattern;
        m_fd = ::open(m_path.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    ~temp_dir() {
        ::close(m_fd);
        std::error_code ignored;
        std::filesystem::remove_all(m_path, ignored);
    }
    [[nodiscard]] int fd() const { return m_fd; }
    [[nodiscard]] const std::filesystem::path& path() const { return m_path; }

private:
    std::filesystem::path m_path;
    int m_fd = -1;
};

std::vector<std::byte> pattern(std::size_t size, unsigned seed) {
    std::vector<std::byte> data(size);
    for (std::size_t i = 0; i < size; ++i) {
        data[i] = static_cast<std::byte>((i * 131 + seed) >> 3);
    }
    return data;
}

task<std::string> write_read_fsync(ring& r, int dir_fd) {
    result<int> fd = co_await spate::io::openat(r, dir_fd, "data.bin", O_RDWR | O_CREAT, 0600);
    if (!fd) {
        co_return "openat: " + fd.error().message();
    }
    std::vector<std::byte> out = pattern(100'000, 7);
    result<std::size_t> written = co_await spate::io::write(r, *fd, out, 4096);
    if (!written || *written != out.size()) {
        co_return "write";
    }
    // The fsync is awaited after the write completed, so it covers it.
    result<void> synced = co_await spate::io::fsync(r, *fd);
    if (!synced) {
        co_return "fsync: " + synced.error().message();
    }
    result<void> data_synced = co_await spate::io::fsync(r, *fd, true);
    if (!data_synced) {
        co_return "fdatasync";
    }
    std::vector<std::byte> in(out.size());
    result<std::size_t> got = co_await spate::io::read(r, *fd, in, 4096);
    if (!got || *got != in.size() || in != out) {
        co_return "read back differs";
    }
    // Reading past the end gives 0, not an error.
    result<std::size_t> eof = co_await spate::io::read(r, *fd, in, 1'000'000);
    if (!eof || *eof != 0) {
        co_return "eof";
    }
    result<void> closed = co_await spate::io::close(r, *fd);
    if (!closed) {
        co_return "close";
    }
    co_return "ok";
}

task<std::string> fixed_round_trip(ring& r, int dir_fd, buffer_pool& pool) {
    result<int> fd = co_await spate::io::openat(r, dir_fd, "fixed.bin", O_RDWR | O_CREAT, 0600);
    if (!fd) {
        co_return "openat";
    }
    std::optional<spate::io::buffer_slot> out = pool.acquire();
    std::optional<spate::io::buffer_slot> in = pool.acquire();
    if (!out || !in) {
        co_return "acquire";
    }
    std::vector<std::byte> data = pattern(out->span().size(), 3);
    std::memcpy(out->span().data(), data.data(), data.size());
    result<std::size_t> written =
        co_await spate::io::write_fixed(r, *fd, out->span(), out->index(), 0);
    if (!written || *written != data.size()) {
        co_return "write_fixed: " +
            (written ? std::to_string(*written) : written.error().message());
    }
    result<std::size_t> got = co_await spate::io::read_fixed(r, *fd, in->span(), in->index(), 0);
    if (!got || *got != data.size()) {
        co_return "read_fixed";
    }
    if (std::memcmp(in->span().data(), data.data(), data.size()) != 0) {
        co_return "fixed data differs";
    }
    result<void> closed = co_await spate::io::close(r, *fd);
    co_return closed ? "ok" : "close";
}

task<std::string> allocate_and_close(ring& r, int dir_fd) {
    result<int> fd = co_await spate::io::openat(r, dir_fd, "big.bin", O_RDWR | O_CREAT, 0600);
    if (!fd) {
        co_return "openat";
    }
    result<void> allocated = co_await spate::io::fallocate(r, *fd, 0, 0, 1 << 20);
    if (!allocated) {
        co_return "fallocate: " + allocated.error().message();
    }
    struct stat info {};
    if (::fstat(*fd, &info) != 0 || info.st_size != (1 << 20)) {
        co_return "size after fallocate";
    }
    result<void> closed = co_await spate::io::close(r, *fd);
    if (!closed) {
        co_return "close";
    }
    result<void> again = co_await spate::io::close(r, *fd);
    if (again || again.error() != std::errc::bad_file_descriptor) {
        co_return "second close should be EBADF";
    }
    result<int> missing = co_await spate::io::openat(r, dir_fd, "missing", O_RDONLY);
    if (missing || missing.error() != std::errc::no_such_file_or_directory) {
        co_return "missing file should be ENOENT";
    }
    co_return "ok";
}

task<std::string> openat2_stays_beneath(ring& r, int dir_fd) {
    open_how how{};
    how.flags = O_RDONLY;
    how.resolve = RESOLVE_BENEATH;
    result<int> escaped = co_await spate::io::openat2(r, dir_fd, "../etc/passwd", how);
    if (escaped) {
        ::close(*escaped);
        co_return "escaped the folder";
    }
    how.flags = O_RDWR | O_CREAT;
    how.mode = 0600;
    result<int> inside = co_await spate::io::openat2(r, dir_fd, "inside.bin", how);
    if (!inside) {
        co_return "openat2: " + inside.error().message();
    }
    result<void> closed = co_await spate::io::close(r, *inside);
    co_return closed ? "ok" : "close";
}

TEST(file_ops, write_read_fsync_at_offsets) {
    SPATE_RING_OR_SKIP(r);
    temp_dir dir;
    EXPECT_EQ(r.run(write_read_fsync(r, dir.fd())), "ok");
}

TEST(file_ops, write_fixed_read_fixed_with_pool_slots) {
    SPATE_RING_OR_SKIP(r);
    temp_dir dir;
    auto pool = buffer_pool::create(r, 64 * 1024, 4);
    ASSERT_TRUE(pool) << pool.error().message();
    EXPECT_EQ(r.run(fixed_round_trip(r, dir.fd(), *pool)), "ok");
    EXPECT_EQ(pool->available(), 4u);
}

TEST(file_ops, openat_fallocate_close_and_errors) {
    SPATE_RING_OR_SKIP(r);
    temp_dir dir;
    EXPECT_EQ(r.run(allocate_and_close(r, dir.fd())), "ok");
}

TEST(file_ops, openat2_resolve_beneath_refuses_escapes) {
    SPATE_RING_OR_SKIP(r);
    temp_dir dir;
    EXPECT_EQ(r.run(openat2_stays_beneath(r, dir.fd())), "ok");
}

} // namespace
