#pragma once
/// ring: the one io_uring of a thread, and the loop that drives coroutines on it.

#include <array>
#include <cstddef>
#include <cstdint>
#include <liburing.h>
#include <spate/core/result.hpp>
#include <spate/io/completion.hpp>
#include <spate/io/task.hpp>
#include <vector>

namespace spate::io {

/// How to size a ring.
struct ring_options {
    /// Submission queue entries (a power of two is used; the kernel clamps to its maximum).
    /// A full queue is flushed to the kernel, so this bounds batching, not concurrency.
    unsigned entries = 256;
    /// Completion queue entries; 0 means the kernel default of twice `entries`.
    /// Completions beyond it wait in the kernel's overflow list, so none is lost.
    unsigned cq_entries = 0;
};

namespace detail {
struct ring_tag {
    explicit ring_tag() = default;
};
[[noreturn]] void ring_stalled() noexcept;
} // namespace detail

/// Owns one io_uring instance; used by one thread only (it is set up with
/// IORING_SETUP_SINGLE_ISSUER where the kernel has it). Operations submit through it and
/// hold a reference to it until they complete, so a ring does not move and must
/// outlive every operation, buffer pool and task that uses it.
///
/// The loop submits once per turn, waits for at least one completion, reaps them in
/// batches and resumes the awaiting coroutines inline.
class ring {
public:
    /// Sets up an io_uring, asking for the newest flags first and retrying with fewer
    /// when the kernel answers EINVAL. Fails with errc::ring_unavailable when the kernel
    /// refuses io_uring altogether (ENOSYS, EPERM), or with the errno otherwise.
    [[nodiscard]] static result<ring> create(const ring_options& options = {});

    /// For create() only (through tl::in_place); takes over an initialised io_uring.
    ring(detail::ring_tag, const io_uring& initialised, unsigned setup_flags);
    ring(const ring&) = delete;
    ring& operator=(const ring&) = delete;
    ring(ring&&) = delete;
    ring& operator=(ring&&) = delete;
    /// Aborts when operations are still in flight: their frames would wait forever on
    /// memory the kernel no longer completes.
    ~ring();

    /// Runs `root` until it completes and returns its value. Completions resume the
    /// coroutines they belong to; spawned tasks progress as long as the root does.
    /// Aborts if the root waits while nothing is in flight (nothing could wake it).
    template <typename T> T run(task<T> root);

    /// One turn of the loop: submit what is queued, wait for a completion when `wait` is
    /// true and something is in flight, then reap and resume. Returns the CQEs handled.
    unsigned run_once(bool wait = true);

    /// A free submission queue entry, flushing the queue to the kernel when it is full.
    /// The caller must fill it and call track() before anything else uses the ring.
    [[nodiscard]] io_uring_sqe* get_sqe() noexcept;
    /// Makes sure `count` entries are free, so that `count` get_sqe() calls in a row
    /// return adjacent entries that reach the kernel in one submission (linked chains).
    void reserve(unsigned count) noexcept;
    /// Names `record` as the receiver of the CQE for `sqe` and counts it as in flight.
    void track(io_uring_sqe* sqe, const detail::completion& record,
               detail::cqe_role role) noexcept {
        io_uring_sqe_set_data64(sqe, record.user_data(role));
        ++m_in_flight;
    }

    /// Submissions whose final CQE has not been handled yet.
    [[nodiscard]] std::size_t in_flight() const noexcept { return m_in_flight; }
    /// The IORING_SETUP_* flags the kernel accepted.
    [[nodiscard]] unsigned setup_flags() const noexcept { return m_setup_flags; }
    /// The underlying io_uring, for registration calls (buffers, files, probes).
    [[nodiscard]] io_uring* native() noexcept { return &m_ring; }

private:
    struct stashed_cqe {
        std::uint64_t user_data;
        int res;
        std::uint32_t flags;
    };

    void flush_for_space(unsigned count) noexcept;
    unsigned reap(bool dispatch_now) noexcept;
    void deliver(const stashed_cqe& cqe) noexcept;

    io_uring m_ring{};
    unsigned m_setup_flags = 0;
    std::size_t m_in_flight = 0;
    // CQEs taken off the queue while freeing submission space (the kernel answered
    // EBUSY); delivered at the start of the next turn, never from inside get_sqe().
    std::vector<stashed_cqe> m_stash;
};

template <typename T> T ring::run(task<T> root) {
    auto frame = root.handle();
    frame.resume();
    while (!frame.done()) {
        if (m_in_flight == 0 && m_stash.empty()) {
            detail::ring_stalled();
        }
        run_once(true);
    }
    return frame.promise().take();
}

} // namespace spate::io
