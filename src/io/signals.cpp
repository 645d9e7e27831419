#include <cerrno>
#include <pthread.h>
#include <spate/io/poll_ops.hpp>
#include <spate/io/signals.hpp>
#include <sys/signalfd.h>
#include <unistd.h>
#include <utility>

namespace spate::io {

result<signal_set> signal_set::create(std::initializer_list<int> signals) {
    sigset_t mask;
    sigemptyset(&mask);
    for (int signal : signals) {
        if (sigaddset(&mask, signal) != 0) {
            return fail(errno_code(errno));
        }
    }
    sigset_t previous;
    // pthread_sigmask(3) returns the error number instead of setting errno.
    if (int err = pthread_sigmask(SIG_BLOCK, &mask, &previous); err != 0) {
        return fail(errno_code(err));
    }
    // signalfd(2): non-blocking, so a spurious wake-up reads EAGAIN, never blocks the loop.
    int fd = ::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        pthread_sigmask(SIG_SETMASK, &previous, nullptr);
        return fail(errno_code(err));
    }
    return signal_set(fd, previous);
}

signal_set::signal_set(signal_set&& other) noexcept
    : m_fd(std::exchange(other.m_fd, -1)), m_previous(other.m_previous) {}

signal_set::~signal_set() {
    if (m_fd >= 0) {
        // Drain what is still pending, or restoring the mask would deliver it with its
        // default action (termination) in the middle of an orderly shutdown.
        signalfd_siginfo info{};
        for (int i = 0; i < 64 && ::read(m_fd, &info, sizeof(info)) == sizeof(info); ++i) {
        }
        ::close(m_fd);
        pthread_sigmask(SIG_SETMASK, &m_previous, nullptr);
    }
}

task<result<int>> signal_set::wait(ring& owner, std::stop_token stop) {
    // Read with read(2) after a ring poll rather than a ring read: a signalfd yields the
    // signals of the thread that reads it, which must be this one, not an io-wq worker.
    // Bounded by wake-ups: each round either reads a signal or waits for one.
    for (;;) {
        signalfd_siginfo info{};
        ssize_t n = ::read(m_fd, &info, sizeof(info));
        if (n == static_cast<ssize_t>(sizeof(info))) {
            co_return static_cast<int>(info.ssi_signo);
        }
        if (n >= 0) {
            co_return fail(errno_code(EIO));
        }
        if (errno != EAGAIN && errno != EINTR) {
            co_return fail(errno_code(errno));
        }
        op_options options;
        options.stop = stop;
        result<unsigned> ready = co_await poll_add(owner, m_fd, POLLIN, options);
        if (!ready) {
            co_return fail(ready.error());
        }
    }
}

task<void> stop_on_signal(ring& owner, signal_set& signals, std::stop_source to_stop) {
    result<int> got = co_await signals.wait(owner, to_stop.get_token());
    if (got) {
        to_stop.request_stop();
    }
}

} // namespace spate::io
