#pragma once
/// signal_set: signals (SIGINT, SIGTERM, ...) blocked for the thread and read through a
/// signalfd polled on the ring, so Ctrl-C becomes a stop request instead of a kill.

#include <initializer_list>
#include <signal.h>
#include <spate/core/result.hpp>
#include <spate/io/ring.hpp>
#include <spate/io/task.hpp>
#include <stop_token>

namespace spate::io {

/// Owns a signalfd and the blocking of its signals in the calling thread. Create it
/// before starting other threads (they inherit the mask) and destroy it on the same
/// thread: signals of the set still pending are discarded, the previous mask restored
/// and the descriptor closed. Move-only.
class signal_set {
public:
    /// Blocks `signals` (pthread_sigmask(3)) and opens a non-blocking signalfd(2) for them.
    [[nodiscard]] static result<signal_set> create(std::initializer_list<int> signals);

    signal_set(signal_set&& other) noexcept;
    signal_set& operator=(signal_set&&) = delete;
    signal_set(const signal_set&) = delete;
    signal_set& operator=(const signal_set&) = delete;
    ~signal_set();

    /// The next signal's number. Completes with operation_canceled when `stop` is
    /// requested first. The set and the ring are borrowed until the task completes.
    [[nodiscard]] task<result<int>> wait(ring& owner, std::stop_token stop = {});

    /// The signalfd, owned by this set.
    [[nodiscard]] int fd() const noexcept { return m_fd; }

private:
    signal_set(int fd, const sigset_t& previous) noexcept : m_fd(fd), m_previous(previous) {}

    int m_fd = -1;
    sigset_t m_previous{};
};

/// Waits for one signal of `signals`, then requests stop on `to_stop`. Returns early
/// (without requesting anything) when `to_stop` is stopped by someone else. Spawn it in
/// the scope whose work it stops; `signals` and `owner` are borrowed until it returns.
[[nodiscard]] task<void> stop_on_signal(ring& owner, signal_set& signals, std::stop_source to_stop);

} // namespace spate::io
