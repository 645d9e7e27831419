#include <spate/io/socket_ops.hpp>
#include <spate/peer/dial.hpp>
#include <spate/peer/error.hpp>

#include <array>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace spate::peer {

io::task<result<io::unique_fd>> dial(io::ring& ring, endpoint remote,
                                     std::chrono::milliseconds timeout, std::stop_token stop) {
    io::unique_fd fd(::socket(remote.is_v4() ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_CLOEXEC,
                              IPPROTO_TCP));
    if (!fd) {
        co_return fail(errno_code(errno));
    }
    // Requests and haves are small; waiting to coalesce them only adds latency.
    int one = 1;
    static_cast<void>(::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)));
    sockaddr_storage address{};
    const socklen_t length = remote.to_sockaddr(address);
    io::op_options options;
    options.stop = stop;
    options.timeout = timeout;
    result<void> connected = co_await io::connect(
        ring, fd.get(), reinterpret_cast<const sockaddr*>(&address), length, options);
    if (!connected) {
        co_return fail(connected.error());
    }
    co_return fd;
}

namespace {

io::task<result<void>> send_handshake(io::ring& ring, int fd, const handshake& ours,
                                      io::op_options options) {
    std::array<std::byte, handshake_size> out{};
    encode_handshake(ours, out);
    std::span<const std::byte> rest = out;
    while (!rest.empty()) {
        result<std::size_t> sent = co_await io::send(ring, fd, rest, options);
        if (!sent) {
            co_return fail(sent.error());
        }
        rest = rest.subspan(*sent);
    }
    co_return result<void>{};
}

io::task<result<handshake>> receive_handshake(io::ring& ring, int fd, io::op_options options) {
    std::array<std::byte, handshake_size> in{};
    std::span<std::byte> room = in;
    while (!room.empty()) {
        result<std::size_t> got = co_await io::recv(ring, fd, room, options, MSG_WAITALL);
        if (!got) {
            co_return fail(got.error());
        }
        if (*got == 0) {
            co_return fail(std::make_error_code(std::errc::connection_reset));
        }
        room = room.subspan(*got);
    }
    co_return decode_handshake(in);
}

io::op_options within(std::stop_token stop, std::chrono::milliseconds timeout) {
    io::op_options options;
    options.stop = std::move(stop);
    options.deadline = std::chrono::steady_clock::now() + timeout;
    return options;
}

} // namespace

io::task<result<handshake>> exchange_handshake(io::ring& ring, int fd, handshake ours,
                                               std::chrono::milliseconds timeout,
                                               std::stop_token stop) {
    const io::op_options options = within(std::move(stop), timeout);
    result<void> sent = co_await send_handshake(ring, fd, ours, options);
    if (!sent) {
        co_return fail(sent.error());
    }
    result<handshake> theirs = co_await receive_handshake(ring, fd, options);
    if (!theirs) {
        co_return fail(theirs.error());
    }
    if (theirs->info_hash != ours.info_hash) {
        co_return fail(errc::wrong_info_hash);
    }
    co_return *theirs;
}

io::task<result<handshake>> answer_handshake(io::ring& ring, int fd,
                                             std::function<bool(const sha1_digest&)> serves,
                                             handshake ours, std::chrono::milliseconds timeout,
                                             std::stop_token stop) {
    const io::op_options options = within(std::move(stop), timeout);
    result<handshake> theirs = co_await receive_handshake(ring, fd, options);
    if (!theirs) {
        co_return fail(theirs.error());
    }
    if (!serves(theirs->info_hash)) {
        co_return fail(errc::unknown_info_hash);
    }
    ours.info_hash = theirs->info_hash;
    result<void> sent = co_await send_handshake(ring, fd, ours, options);
    if (!sent) {
        co_return fail(sent.error());
    }
    co_return *theirs;
}

} // namespace spate::peer
