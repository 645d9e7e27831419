#include "test_support.hpp"

#include <arpa/inet.h>
#include <array>
#include <chrono>
#include <cstring>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <spate/io/file_ops.hpp>
#include <spate/io/poll_ops.hpp>
#include <spate/io/scope.hpp>
#include <spate/io/socket_ops.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace std::chrono_literals;
using spate::result;
using spate::io::op_options;
using spate::io::ring;
using spate::io::scope;
using spate::io::task;
using spate::io::testing::socket_pair;

std::span<const std::byte> bytes_of(std::string_view s) {
    return std::as_bytes(std::span(s));
}

std::string string_of(std::span<const std::byte> b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// Sends all of `data`, a send at a time (one in flight per socket).
task<bool> send_all(ring& r, int fd, std::span<const std::byte> data) {
    while (!data.empty()) {
        result<std::size_t> sent = co_await spate::io::send(r, fd, data);
        if (!sent || *sent == 0) {
            co_return false;
        }
        data = data.subspan(*sent);
    }
    co_return true;
}

// Echoes until the peer closes.
task<void> echo_server(ring& r, int fd) {
    std::array<std::byte, 1024> buffer{};
    for (int rounds = 0; rounds < 10'000; ++rounds) {
        result<std::size_t> got = co_await spate::io::recv(r, fd, buffer);
        if (!got || *got == 0) {
            break;
        }
        bool ok = co_await send_all(r, fd, std::span(buffer).first(*got));
        if (!ok) {
            break;
        }
    }
}

task<std::string> echo_client(ring& r, int fd, std::string message) {
    bool ok = co_await send_all(r, fd, bytes_of(message));
    if (!ok) {
        co_return "send failed";
    }
    std::string echoed;
    std::array<std::byte, 300> buffer{};
    while (echoed.size() < message.size()) {
        result<std::size_t> got = co_await spate::io::recv(r, fd, buffer);
        if (!got || *got == 0) {
            co_return "recv failed";
        }
        echoed += string_of(std::span(buffer).first(*got));
    }
    co_return echoed;
}

task<std::string> echo_over_pair(ring& r, int server_fd, int client_fd, std::string message) {
    scope s;
    s.spawn(echo_server(r, server_fd));
    std::string echoed = co_await echo_client(r, client_fd, std::move(message));
    // Closing our side ends the server's loop with a 0-byte receive.
    result<void> closed = co_await spate::io::close(r, client_fd);
    if (!closed) {
        echoed = "close failed";
    }
    co_await s.join();
    co_return echoed;
}

int bound_socket(int type, sockaddr_in& address) {
    int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
    address = {};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof(address);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        ADD_FAILURE() << "cannot bind a loopback socket";
    }
    return fd;
}

task<void> accept_one(ring& r, int listen_fd, int& accepted) {
    op_options options;
    options.timeout = 5s;
    result<int> fd = co_await spate::io::accept(r, listen_fd, options);
    accepted = fd ? *fd : -1;
}

task<std::string> tcp_round_trip(ring& r, int listen_fd, sockaddr_in server) {
    scope s;
    int accepted = -1;
    s.spawn(accept_one(r, listen_fd, accepted));
    int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    op_options options;
    options.timeout = 5s;
    result<void> connected = co_await spate::io::connect(
        r, client, reinterpret_cast<const sockaddr*>(&server), sizeof(server), options);
    co_await s.join();
    if (!connected || accepted < 0) {
        ::close(client);
        if (accepted >= 0) {
            ::close(accepted);
        }
        co_return "connect or accept failed";
    }
    std::string echoed = co_await echo_over_pair(r, accepted, client, "over tcp");
    ::close(accepted);
    co_return echoed;
}

task<std::string> udp_exchange(ring& r, int a, sockaddr_in a_address, int b,
                               sockaddr_in b_address) {
    std::string_view head = "tracker ";
    std::string_view tail = "announce";
    std::array<std::span<const std::byte>, 2> gather{bytes_of(head), bytes_of(tail)};
    result<std::size_t> sent = co_await spate::io::sendmsg(
        r, a, gather, reinterpret_cast<const sockaddr*>(&b_address), sizeof(b_address));
    if (!sent || *sent != head.size() + tail.size()) {
        co_return "sendmsg failed";
    }
    std::array<std::byte, 64> buffer{};
    op_options options;
    options.timeout = 5s;
    result<spate::io::datagram_info> got = co_await spate::io::recvmsg(r, b, buffer, options);
    if (!got) {
        co_return "recvmsg failed: " + got.error().message();
    }
    const auto* from = reinterpret_cast<const sockaddr_in*>(&got->from);
    if (got->from_length != sizeof(sockaddr_in) || from->sin_port != a_address.sin_port ||
        got->truncated) {
        co_return "wrong sender";
    }
    co_return string_of(std::span(buffer).first(got->size));
}

task<std::error_code> too_many_buffers(ring& r, int fd) {
    std::array<std::span<const std::byte>, spate::io::sendmsg_op::max_buffers + 1> spans{};
    result<std::size_t> sent = co_await spate::io::sendmsg(r, fd, spans, nullptr, 0);
    co_return sent ? std::error_code{} : sent.error();
}

task<unsigned> poll_readable(ring& r, int fd) {
    result<unsigned> events = co_await spate::io::poll_add(r, fd, POLLIN);
    co_return events ? *events : 0U;
}

TEST(socket_ops, socketpair_echo) {
    SPATE_RING_OR_SKIP(r);
    socket_pair pair;
    std::string message(5000, 'x');
    for (std::size_t i = 0; i < message.size(); ++i) {
        message[i] = static_cast<char>('a' + i % 26);
    }
    int client = pair.fds[1];
    pair.fds[1] = -1; // closed by the test coroutine on the ring
    EXPECT_EQ(r.run(echo_over_pair(r, pair.fds[0], client, message)), message);
    EXPECT_EQ(r.in_flight(), 0u);
}

TEST(socket_ops, tcp_accept_connect_echo_on_loopback) {
    SPATE_RING_OR_SKIP(r);
    sockaddr_in server{};
    int listen_fd = bound_socket(SOCK_STREAM, server);
    ASSERT_EQ(::listen(listen_fd, 4), 0);
    EXPECT_EQ(r.run(tcp_round_trip(r, listen_fd, server)), "over tcp");
    ::close(listen_fd);
}

TEST(socket_ops, udp_sendmsg_recvmsg_on_loopback) {
    SPATE_RING_OR_SKIP(r);
    sockaddr_in a_address{};
    sockaddr_in b_address{};
    int a = bound_socket(SOCK_DGRAM, a_address);
    int b = bound_socket(SOCK_DGRAM, b_address);
    EXPECT_EQ(r.run(udp_exchange(r, a, a_address, b, b_address)), "tracker announce");
    ::close(a);
    ::close(b);
}

TEST(socket_ops, sendmsg_refuses_more_buffers_than_it_carries) {
    SPATE_RING_OR_SKIP(r);
    socket_pair pair;
    EXPECT_EQ(r.run(too_many_buffers(r, pair.fds[0])), spate::io::errc::too_many_buffers);
    EXPECT_EQ(r.in_flight(), 0u);
}

TEST(socket_ops, poll_add_reports_readiness) {
    SPATE_RING_OR_SKIP(r);
    socket_pair pair;
    ASSERT_EQ(::write(pair.fds[1], "x", 1), 1);
    EXPECT_NE(r.run(poll_readable(r, pair.fds[0])) & POLLIN, 0U);
}

} // namespace
