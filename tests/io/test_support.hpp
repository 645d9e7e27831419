#pragma once
// Helpers shared by the io tests: a ring or a skip, and a probe that counts lives.

#include <array>
#include <cstdlib>
#include <gtest/gtest.h>
#include <optional>
#include <spate/io/error.hpp>
#include <spate/io/ring.hpp>
#include <spate/io/task.hpp>
#include <sys/socket.h>
#include <unistd.h>

namespace spate::io::testing {

// Declares `spate::io::ring& NAME`, or skips the test when the kernel refuses io_uring
// (and only then: any other failure fails the test).
#define SPATE_RING_OR_SKIP(NAME, ...)                                                              \
    auto NAME##_created = ::spate::io::ring::create(__VA_ARGS__);                                  \
    if (!NAME##_created && NAME##_created.error() == ::spate::io::errc::ring_unavailable) {        \
        GTEST_SKIP() << NAME##_created.error().message();                                          \
    }                                                                                              \
    ASSERT_TRUE(NAME##_created) << NAME##_created.error().message();                               \
    ::spate::io::ring& NAME = *NAME##_created

// Counts constructions and destructions, to prove every coroutine frame (and what it
// holds) is destroyed exactly once.
struct counted {
    static inline int constructed = 0;
    static inline int destroyed = 0;

    counted() noexcept { ++constructed; }
    counted(const counted&) noexcept { ++constructed; }
    counted(counted&&) noexcept { ++constructed; }
    counted& operator=(const counted&) = default;
    counted& operator=(counted&&) = default;
    ~counted() { ++destroyed; }

    static void reset() noexcept { constructed = destroyed = 0; }
    static int alive() noexcept { return constructed - destroyed; }
};

// Drives a task that never suspends on I/O; fails the test if it did not finish.
template <typename T> T run_ready(task<T> work) {
    auto frame = work.handle();
    frame.resume();
    if (!frame.done()) {
        ADD_FAILURE() << "task suspended without a ring";
        std::abort();
    }
    return frame.promise().take();
}

// A connected AF_UNIX stream pair, closed at scope exit.
struct socket_pair {
    std::array<int, 2> fds{-1, -1};
    socket_pair() {
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds.data()) != 0) {
            ADD_FAILURE() << "socketpair failed";
        }
    }
    socket_pair(const socket_pair&) = delete;
    socket_pair& operator=(const socket_pair&) = delete;
    ~socket_pair() {
        for (int fd : fds) {
            if (fd >= 0) {
                ::close(fd);
            }
        }
    }
};

} // namespace spate::io::testing
