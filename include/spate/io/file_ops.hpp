#pragma once
/// File operations on the ring: read/write at an offset, their registered-buffer forms,
/// openat/openat2, close, fsync, fallocate.
///
/// Each function returns an immovable awaiter. Buffers and paths are borrowed until the
/// co_await completes. An fsync is ordered after earlier writes only when those writes
/// were awaited first (or linked): the ring may run independent operations in any order.

#include <cstdint>
#include <fcntl.h>
#include <linux/openat2.h>
#include <span>
#include <sys/uio.h>
#include <spate/io/operation.hpp>

namespace spate::io {

/// pread(2) through io_uring_prep_read(3). Result: bytes read, 0 at end of file.
/// An offset of -1 (as uint64) reads at the file position, as read(2) does.
class read_op final : public detail::op<read_op> {
public:
    read_op(ring& owner, int fd, std::span<std::byte> into, std::uint64_t offset,
            const op_options& options) noexcept
        : op(owner, options), m_fd(fd), m_into(into), m_offset(offset) {}
    void prepare(io_uring_sqe* sqe) noexcept {
        io_uring_prep_read(sqe, m_fd, m_into.data(), static_cast<unsigned>(m_into.size()),
                           m_offset);
    }
    [[nodiscard]] result<std::size_t> await_resume() const { return detail::to_size(outcome()); }

private:
    int m_fd;
    std::span<std::byte> m_into;
    std::uint64_t m_offset;
};

[[nodiscard]] inline read_op read(ring& owner, int fd, std::span<std::byte> into,
                                  std::uint64_t offset, const op_options& options = {}) noexcept {
    return read_op(owner, fd, into, offset, options);
}

/// pwrite(2) through io_uring_prep_write(3). Result: bytes written (maybe fewer).
class write_op final : public detail::op<write_op> {
public:
    write_op(ring& owner, int fd, std::span<const std::byte> from, std::uint64_t offset,
             const op_options& options) noexcept
        : op(owner, options), m_fd(fd), m_from(from), m_offset(offset) {}
    void prepare(io_uring_sqe* sqe) noexcept {
        io_uring_prep_write(sqe, m_fd, m_from.data(), static_cast<unsigned>(m_from.size()),
                            m_offset);
    }
    [[nodiscard]] result<std::size_t> await_resume() const { return detail::to_size(outcome()); }

private:
    int m_fd;
    std::span<const std::byte> m_from;
    std::uint64_t m_offset;
};

[[nodiscard]] inline write_op write(ring& owner, int fd, std::span<const std::byte> from,
                                    std::uint64_t offset, const op_options& options = {}) noexcept {
    return write_op(owner, fd, from, offset, options);
}

/// io_uring_prep_read_fixed(3): a read into registered buffer `buffer_index` (a
/// buffer_slot's index()); `into` must lie inside that registered buffer.
class read_fixed_op final : public detail::op<read_fixed_op> {
public:
    read_fixed_op(ring& owner, int fd, std::span<std::byte> into, std::uint16_t buffer_index,
                  std::uint64_t offset, const op_options& options) noexcept
        : op(owner, options), m_fd(fd), m_into(into), m_offset(offset), m_index(buffer_index) {}
    void prepare(io_uring_sqe* sqe) noexcept {
        io_uring_prep_read_fixed(sqe, m_fd, m_into.data(), static_cast<unsigned>(m_into.size()),
                                 m_offset, m_index);
    }
    [[nodiscard]] result<std::size_t> await_resume() const { return detail::to_size(outcome()); }

private:
    int m_fd;
    std::span<std::byte> m_into;
    std::uint64_t m_offset;
    std::uint16_t m_index;
};

[[nodiscard]] inline read_fixed_op read_fixed(ring& owner, int fd, std::span<std::byte> into,
                                              std::uint16_t buffer_index, std::uint64_t offset,
                                              const op_options& options = {}) noexcept {
    return read_fixed_op(owner, fd, into, buffer_index, offset, options);
}

/// io_uring_prep_writev(3): a write gathered from the buffers `parts` names, in order, at
/// `offset`. The iovecs and their buffers are borrowed until completion. For writes that
/// span several registered buffers (write_fixed takes one).
class writev_op final : public detail::op<writev_op> {
public:
    writev_op(ring& owner, int fd, std::span<const iovec> parts, std::uint64_t offset,
              const op_options& options) noexcept
        : op(owner, options), m_fd(fd), m_parts(parts), m_offset(offset) {}
    void prepare(io_uring_sqe* sqe) noexcept {
        io_uring_prep_writev(sqe, m_fd, m_parts.data(), static_cast<unsigned>(m_parts.size()),
                             m_offset);
    }
    [[nodiscard]] result<std::size_t> await_resume() const { return detail::to_size(outcome()); }

private:
    int m_fd;
    std::span<const iovec> m_parts;
    std::uint64_t m_offset;
};

[[nodiscard]] inline writev_op writev(ring& owner, int fd, std::span<const iovec> parts,
                                      std::uint64_t offset,
                                      const op_options& options = {}) noexcept {
    return writev_op(owner, fd, parts, offset, options);
}

/// io_uring_prep_write_fixed(3): a write from registered buffer `buffer_index`.
class write_fixed_op final : public detail::op<write_fixed_op> {
public:
    write_fixed_op(ring& owner, int fd, std::span<const std::byte> from, std::uint16_t buffer_index,
                   std::uint64_t offset, const op_options& options) noexcept
        : op(owner, options), m_fd(fd), m_from(from), m_offset(offset), m_index(buffer_index) {}
    void prepare(io_uring_sqe* sqe) noexcept {
        io_uring_prep_write_fixed(sqe, m_fd, m_from.data(), static_cast<unsigned>(m_from.size()),
                                  m_offset, m_index);
    }
    [[nodiscard]] result<std::size_t> await_resume() const { return detail::to_size(outcome()); }

private:
    int m_fd;
    std::span<const std::byte> m_from;
    std::uint64_t m_offset;
    std::uint16_t m_index;
};

[[nodiscard]] inline write_fixed_op write_fixed(ring& owner, int fd,
                                                std::span<const std::byte> from,
                                                std::uint16_t buffer_index, std::uint64_t offset,
                                                const op_options& options = {}) noexcept {
    return write_fixed_op(owner, fd, from, buffer_index, offset, options);
}

/// openat(2) through io_uring_prep_openat(3). Result: the new descriptor, owned by the
/// caller. `path` (NUL-terminated) is borrowed until completion. O_CLOEXEC is added.
class openat_op final : public detail::op<openat_op> {
public:
    openat_op(ring& owner, int dir_fd, const char* path, int flags, mode_t mode,
              const op_options& options) noexcept
        : op(owner, options), m_dir_fd(dir_fd), m_path(path), m_flags(flags | O_CLOEXEC),
          m_mode(mode) {}
    void prepare(io_uring_sqe* sqe) noexcept {
        io_uring_prep_openat(sqe, m_dir_fd, m_path, m_flags, m_mode);
    }
    [[nodiscard]] result<int> await_resume() const { return detail::to_int(outcome()); }

private:
    int m_dir_fd;
    const char* m_path;
    int m_flags;
    mode_t m_mode;
};

[[nodiscard]] inline openat_op openat(ring& owner, int dir_fd, const char* path, int flags,
                                      mode_t mode = 0, const op_options& options = {}) noexcept {
    return openat_op(owner, dir_fd, path, flags, mode, options);
}

/// openat2(2) through io_uring_prep_openat2(3): `how` is copied into the awaiter, so
/// resolve flags such as RESOLVE_BENEATH keep payload files under the download folder.
/// O_CLOEXEC is added to how.flags.
class openat2_op final : public detail::op<openat2_op> {
public:
    openat2_op(ring& owner, int dir_fd, const char* path, const open_how& how,
               const op_options& options) noexcept
        : op(owner, options), m_dir_fd(dir_fd), m_path(path), m_how(how) {
        m_how.flags |= O_CLOEXEC;
    }
    void prepare(io_uring_sqe* sqe) noexcept {
        io_uring_prep_openat2(sqe, m_dir_fd, m_path, &m_how);
    }
    [[nodiscard]] result<int> await_resume() const { return detail::to_int(outcome()); }

private:
    int m_dir_fd;
    const char* m_path;
    open_how m_how;
};

[[nodiscard]] inline openat2_op openat2(ring& owner, int dir_fd, const char* path,
                                        const open_how& how,
                                        const op_options& options = {}) noexcept {
    return openat2_op(owner, dir_fd, path, how, options);
}

/// close(2) through io_uring_prep_close(3). The descriptor is gone whatever the result.
class close_op final : public detail::op<close_op> {
public:
    close_op(ring& owner, int fd) noexcept : op(owner, op_options{}), m_fd(fd) {}
    void prepare(io_uring_sqe* sqe) noexcept { io_uring_prep_close(sqe, m_fd); }
    [[nodiscard]] result<void> await_resume() const { return detail::to_void(outcome()); }

private:
    int m_fd;
};

[[nodiscard]] inline close_op close(ring& owner, int fd) noexcept {
    return close_op(owner, fd);
}

/// fsync(2) / fdatasync(2) through io_uring_prep_fsync(3).
class fsync_op final : public detail::op<fsync_op> {
public:
    fsync_op(ring& owner, int fd, bool data_only, const op_options& options) noexcept
        : op(owner, options), m_fd(fd), m_data_only(data_only) {}
    void prepare(io_uring_sqe* sqe) noexcept {
        io_uring_prep_fsync(sqe, m_fd, m_data_only ? IORING_FSYNC_DATASYNC : 0U);
    }
    [[nodiscard]] result<void> await_resume() const { return detail::to_void(outcome()); }

private:
    int m_fd;
    bool m_data_only;
};

[[nodiscard]] inline fsync_op fsync(ring& owner, int fd, bool data_only = false,
                                    const op_options& options = {}) noexcept {
    return fsync_op(owner, fd, data_only, options);
}

/// fallocate(2) through io_uring_prep_fallocate(3).
class fallocate_op final : public detail::op<fallocate_op> {
public:
    fallocate_op(ring& owner, int fd, int mode, std::uint64_t offset, std::uint64_t length,
                 const op_options& options) noexcept
        : op(owner, options), m_fd(fd), m_mode(mode), m_offset(offset), m_length(length) {}
    void prepare(io_uring_sqe* sqe) noexcept {
        io_uring_prep_fallocate(sqe, m_fd, m_mode, static_cast<off_t>(m_offset),
                                static_cast<off_t>(m_length));
    }
    [[nodiscard]] result<void> await_resume() const { return detail::to_void(outcome()); }

private:
    int m_fd;
    int m_mode;
    std::uint64_t m_offset;
    std::uint64_t m_length;
};

[[nodiscard]] inline fallocate_op fallocate(ring& owner, int fd, int mode, std::uint64_t offset,
                                            std::uint64_t length,
                                            const op_options& options = {}) noexcept {
    return fallocate_op(owner, fd, mode, offset, length, options);
}

} // namespace spate::io
