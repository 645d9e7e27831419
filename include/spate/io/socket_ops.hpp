#pragma once
/// Socket operations on the ring: accept, connect, recv, send, recvmsg, sendmsg.
///
/// Each function returns an immovable awaiter: `auto n = co_await io::recv(r, fd, buf);`.
/// Buffers are borrowed: they must stay valid until the co_await completes (which is
/// guaranteed when they live in the awaiting coroutine's frame or in a pool slot it owns).
/// Addresses and iovecs are copied into the awaiter, which the kernel reads from.

#include <array>
#include <cerrno>
#include <cstring>
#include <initializer_list>
#include <span>
#include <spate/io/error.hpp>
#include <spate/io/operation.hpp>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>

namespace spate::io {

/// accept4(2) through io_uring_prep_accept(3). Result: the new socket (SOCK_CLOEXEC
/// unless other `flags` are given); the caller owns it. getpeername(2) gives the peer.
class accept_op final : public detail::op<accept_op> {
public:
    accept_op(ring& owner, int listen_fd, int flags, const op_options& options) noexcept
        : op(owner, options), m_fd(listen_fd), m_flags(flags) {}
    void prepare(io_uring_sqe* sqe) noexcept {
        io_uring_prep_accept(sqe, m_fd, nullptr, nullptr, m_flags);
    }
    [[nodiscard]] result<int> await_resume() const { return detail::to_int(outcome()); }

private:
    int m_fd;
    int m_flags;
};

[[nodiscard]] inline accept_op accept(ring& owner, int listen_fd, const op_options& options = {},
                                      int flags = SOCK_CLOEXEC) noexcept {
    return accept_op(owner, listen_fd, flags, options);
}

/// connect(2) through io_uring_prep_connect(3); `address` is copied. Give it a deadline.
class connect_op final : public detail::op<connect_op> {
public:
    connect_op(ring& owner, int fd, const sockaddr* address, socklen_t length,
               const op_options& options) noexcept
        : op(owner, options), m_fd(fd),
          m_length(length < sizeof(m_address) ? length : sizeof(m_address)) {
        std::memcpy(&m_address, address, m_length);
    }
    void prepare(io_uring_sqe* sqe) noexcept {
        io_uring_prep_connect(sqe, m_fd, reinterpret_cast<const sockaddr*>(&m_address), m_length);
    }
    [[nodiscard]] result<void> await_resume() const { return detail::to_void(outcome()); }

private:
    int m_fd;
    socklen_t m_length;
    sockaddr_storage m_address{};
};

[[nodiscard]] inline connect_op connect(ring& owner, int fd, const sockaddr* address,
                                        socklen_t length, const op_options& options = {}) noexcept {
    return connect_op(owner, fd, address, length, options);
}

/// recv(2) through io_uring_prep_recv(3). Result: bytes received; 0 means the peer
/// closed its side. `into` is borrowed until completion.
class recv_op final : public detail::op<recv_op> {
public:
    recv_op(ring& owner, int fd, std::span<std::byte> into, int flags,
            const op_options& options) noexcept
        : op(owner, options), m_fd(fd), m_flags(flags), m_into(into) {}
    void prepare(io_uring_sqe* sqe) noexcept {
        io_uring_prep_recv(sqe, m_fd, m_into.data(), m_into.size(), m_flags);
    }
    [[nodiscard]] result<std::size_t> await_resume() const { return detail::to_size(outcome()); }

private:
    int m_fd;
    int m_flags;
    std::span<std::byte> m_into;
};

[[nodiscard]] inline recv_op recv(ring& owner, int fd, std::span<std::byte> into,
                                  const op_options& options = {}, int flags = 0) noexcept {
    return recv_op(owner, fd, into, flags, options);
}

/// send(2) through io_uring_prep_send(3), with MSG_NOSIGNAL so a closed peer is an EPIPE
/// result rather than a SIGPIPE. Result: bytes sent, which may be fewer than asked.
/// Keep one send in flight per socket, or bytes may be reordered.
class send_op final : public detail::op<send_op> {
public:
    send_op(ring& owner, int fd, std::span<const std::byte> from, int flags,
            const op_options& options) noexcept
        : op(owner, options), m_fd(fd), m_flags(flags | MSG_NOSIGNAL), m_from(from) {}
    void prepare(io_uring_sqe* sqe) noexcept {
        io_uring_prep_send(sqe, m_fd, m_from.data(), m_from.size(), m_flags);
    }
    [[nodiscard]] result<std::size_t> await_resume() const { return detail::to_size(outcome()); }

private:
    int m_fd;
    int m_flags;
    std::span<const std::byte> m_from;
};

[[nodiscard]] inline send_op send(ring& owner, int fd, std::span<const std::byte> from,
                                  const op_options& options = {}, int flags = 0) noexcept {
    return send_op(owner, fd, from, flags, options);
}

/// Bytes waiting in a socket's receive queue (ioctl(2) FIONREAD, synchronous and cheap: the
/// kernel already counts them). Errors: the errno.
[[nodiscard]] inline result<std::size_t> queued_bytes(int fd) noexcept {
    int count = 0;
    if (::ioctl(fd, FIONREAD, &count) != 0) {
        return fail(std::error_code(errno, std::system_category()));
    }
    return static_cast<std::size_t>(count < 0 ? 0 : count);
}

/// recvmsg(2) on a stream socket through io_uring_prep_recvmsg(3), scattering into the
/// buffers `parts` names in order: say the rest of a block's payload in its piece buffer,
/// the headers and payload slots of the blocks expected after it, and room for the next
/// message's header, so one read takes many blocks in place. Result: bytes received in
/// total, filling each buffer before the next; 0 means the peer closed. The iovecs and
/// the buffers they name are borrowed until completion; the msghdr lives in the awaiter.
class recv_vectored_op final : public detail::op<recv_vectored_op> {
public:
    recv_vectored_op(ring& owner, int fd, std::span<const iovec> parts,
                     const op_options& options) noexcept
        : op(owner, options), m_fd(fd) {
        m_msg.msg_iov = const_cast<iovec*>(parts.data()); // recvmsg(2) does not write it
        m_msg.msg_iovlen = parts.size();
    }
    void prepare(io_uring_sqe* sqe) noexcept { io_uring_prep_recvmsg(sqe, m_fd, &m_msg, 0); }
    [[nodiscard]] result<std::size_t> await_resume() const { return detail::to_size(outcome()); }

private:
    int m_fd;
    msghdr m_msg{};
};

[[nodiscard]] inline recv_vectored_op recv_vectored(ring& owner, int fd,
                                                    std::span<const iovec> parts,
                                                    const op_options& options = {}) noexcept {
    return recv_vectored_op(owner, fd, parts, options);
}

/// sendmsg(2) on a stream socket through io_uring_prep_sendmsg(3), gathering from the
/// buffers `parts` names in order, with MSG_NOSIGNAL (as send_op). Result: bytes sent,
/// which may be fewer than asked. The iovecs and their buffers are borrowed until
/// completion. Keep one send in flight per socket.
class send_vectored_op final : public detail::op<send_vectored_op> {
public:
    send_vectored_op(ring& owner, int fd, std::span<const iovec> parts,
                     const op_options& options) noexcept
        : op(owner, options), m_fd(fd) {
        m_msg.msg_iov = const_cast<iovec*>(parts.data()); // sendmsg(2) does not write it
        m_msg.msg_iovlen = parts.size();
    }
    void prepare(io_uring_sqe* sqe) noexcept {
        io_uring_prep_sendmsg(sqe, m_fd, &m_msg, MSG_NOSIGNAL);
    }
    [[nodiscard]] result<std::size_t> await_resume() const { return detail::to_size(outcome()); }

private:
    int m_fd;
    msghdr m_msg{};
};

[[nodiscard]] inline send_vectored_op send_vectored(ring& owner, int fd,
                                                    std::span<const iovec> parts,
                                                    const op_options& options = {}) noexcept {
    return send_vectored_op(owner, fd, parts, options);
}

/// What recvmsg delivered besides the payload.
struct datagram_info {
    std::size_t size = 0;      ///< payload bytes (the datagram was longer if `truncated`)
    sockaddr_storage from{};   ///< the sender
    socklen_t from_length = 0; ///< meaningful bytes of `from`
    bool truncated = false;    ///< MSG_TRUNC: the buffer was too small for the datagram
};

/// recvmsg(2) through io_uring_prep_recvmsg(3), for datagrams: one buffer and the
/// sender's address, which the msghdr in this awaiter receives.
class recvmsg_op final : public detail::op<recvmsg_op> {
public:
    recvmsg_op(ring& owner, int fd, std::span<std::byte> into, int flags,
               const op_options& options) noexcept
        : op(owner, options), m_fd(fd), m_flags(flags) {
        m_iov.iov_base = into.data();
        m_iov.iov_len = into.size();
        m_msg.msg_name = &m_from;
        m_msg.msg_namelen = sizeof(m_from);
        m_msg.msg_iov = &m_iov;
        m_msg.msg_iovlen = 1;
    }
    void prepare(io_uring_sqe* sqe) noexcept {
        io_uring_prep_recvmsg(sqe, m_fd, &m_msg, static_cast<unsigned>(m_flags));
    }
    [[nodiscard]] result<datagram_info> await_resume() const {
        int res = outcome();
        if (res < 0) {
            return fail(errno_code(-res));
        }
        datagram_info info;
        info.size = static_cast<std::size_t>(res);
        info.from = m_from;
        info.from_length = m_msg.msg_namelen;
        info.truncated = (m_msg.msg_flags & MSG_TRUNC) != 0;
        return info;
    }

private:
    int m_fd;
    int m_flags;
    iovec m_iov{};
    sockaddr_storage m_from{};
    msghdr m_msg{};
};

[[nodiscard]] inline recvmsg_op recvmsg(ring& owner, int fd, std::span<std::byte> into,
                                        const op_options& options = {}, int flags = 0) noexcept {
    return recvmsg_op(owner, fd, into, flags, options);
}

/// sendmsg(2) through io_uring_prep_sendmsg(3): gathers up to max_buffers spans into
/// one message (say a peer-wire header and a block from a piece buffer, uncopied), to
/// `address` when given (datagrams), else on the connected socket. The spans' memory is
/// borrowed until completion; the iovecs and the address are copied into the awaiter.
/// More than max_buffers spans completes with io::errc::too_many_buffers, unsubmitted.
class sendmsg_op final : public detail::op<sendmsg_op> {
public:
    static constexpr std::size_t max_buffers = 8;

    sendmsg_op(ring& owner, int fd, std::span<const std::span<const std::byte>> buffers,
               const sockaddr* address, socklen_t length, int flags,
               const op_options& options) noexcept;
    [[nodiscard]] bool await_ready() noexcept { return m_too_many || stopped_before_start(); }
    void prepare(io_uring_sqe* sqe) noexcept {
        io_uring_prep_sendmsg(sqe, m_fd, &m_msg, static_cast<unsigned>(m_flags));
    }
    [[nodiscard]] result<std::size_t> await_resume() const {
        if (m_too_many) {
            return fail(errc::too_many_buffers);
        }
        return detail::to_size(outcome());
    }

private:
    int m_fd;
    int m_flags;
    bool m_too_many = false;
    std::array<iovec, max_buffers> m_iov{};
    sockaddr_storage m_to{};
    msghdr m_msg{};
};

[[nodiscard]] inline sendmsg_op sendmsg(ring& owner, int fd,
                                        std::span<const std::span<const std::byte>> buffers,
                                        const sockaddr* address, socklen_t length,
                                        const op_options& options = {}, int flags = 0) noexcept {
    return sendmsg_op(owner, fd, buffers, address, length, flags, options);
}

/// One-buffer form of sendmsg, the usual shape of a UDP datagram.
[[nodiscard]] inline sendmsg_op sendmsg(ring& owner, int fd, std::span<const std::byte> datagram,
                                        const sockaddr* address, socklen_t length,
                                        const op_options& options = {}, int flags = 0) noexcept {
    // The span of spans is read by the constructor only.
    return sendmsg_op(owner, fd, std::span<const std::span<const std::byte>>(&datagram, 1), address,
                      length, flags, options);
}

} // namespace spate::io
