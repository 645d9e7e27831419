#include <spate/session/handshake_gate.hpp>

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <utility>

namespace {

using spate::session::handshake_gate;

// A connected pair: [0] is "our" accepted socket, [1] the peer's end.
struct pair {
    std::array<int, 2> fd{-1, -1};
    pair() { EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fd.data()), 0); }
    ~pair() {
        ::close(fd[0]);
        ::close(fd[1]);
    }
    // True once our side was shut down: the peer reads end of stream.
    [[nodiscard]] bool shut() const {
        char c = 0;
        return ::recv(fd[1], &c, 1, 0) == 0;
    }
};

TEST(handshake_gate, admits_up_to_its_capacity) {
    handshake_gate gate(2);
    pair a, b;
    auto ta = gate.admit(a.fd[0]);
    auto tb = gate.admit(b.fd[0]);
    EXPECT_EQ(gate.pending(), 2U);
    EXPECT_EQ(gate.evicted(), 0U);
    EXPECT_FALSE(a.shut());
    EXPECT_FALSE(b.shut());
}

TEST(handshake_gate, a_full_gate_shuts_the_oldest_pending_socket) {
    handshake_gate gate(2);
    pair a, b, c;
    auto ta = gate.admit(a.fd[0]);
    auto tb = gate.admit(b.fd[0]);
    auto tc = gate.admit(c.fd[0]);
    EXPECT_EQ(gate.pending(), 2U);
    EXPECT_EQ(gate.evicted(), 1U);
    EXPECT_TRUE(a.shut());
    EXPECT_FALSE(b.shut());
    EXPECT_FALSE(c.shut());
    ta.release(); // the evicted one's ticket finds itself gone: nothing else leaves
    EXPECT_EQ(gate.pending(), 2U);
}

TEST(handshake_gate, released_and_destroyed_tickets_leave_the_gate) {
    handshake_gate gate(2);
    pair a, b, c;
    auto ta = gate.admit(a.fd[0]);
    {
        auto tb = gate.admit(b.fd[0]);
        ta.release();
        EXPECT_EQ(gate.pending(), 1U);
    }
    EXPECT_EQ(gate.pending(), 0U);
    auto moved = gate.admit(c.fd[0]);
    handshake_gate::ticket holder = std::move(moved);
    EXPECT_EQ(gate.pending(), 1U);
    holder.release();
    EXPECT_EQ(gate.pending(), 0U);
    EXPECT_FALSE(c.shut());
}

} // namespace
