#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <spate/io/error.hpp>
#include <spate/io/ring.hpp>

namespace spate::io {
namespace detail {

void ring_stalled() noexcept {
    std::fprintf(stderr, "spate::io::ring::run: the root task waits but nothing is in flight; "
                         "a coroutine awaits something no completion will ever resume\n");
    std::abort();
}

} // namespace detail

namespace {

// CQEs handled per peek; a turn takes up to max_batches of them before it goes back to
// submitting, so a flood of completions cannot starve submissions.
constexpr unsigned batch_size = 64;
constexpr unsigned max_batches = 16;

[[noreturn]] void fatal(const char* what, int err) noexcept {
    std::fprintf(stderr, "spate::io::ring: %s failed: %s\n", what, std::strerror(err));
    std::abort();
}

} // namespace

result<ring> ring::create(const ring_options& options) {
    // Newest first. DEFER_TASKRUN runs completion work only when we enter the kernel to
    // wait, which the loop does once per turn anyway; it needs SINGLE_ISSUER (6.1).
    // SUBMIT_ALL keeps one bad entry from holding back the rest of a batch (5.18).
    // COOP_TASKRUN avoids interrupting the thread to post completions (5.19).
    constexpr unsigned attempts[] = {
        IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
        IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN,
        IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN,
        0U,
    };
    int last_error = EINVAL;
    for (unsigned flags : attempts) {
        io_uring_params params{};
        params.flags = flags | IORING_SETUP_CLAMP;
        if (options.cq_entries != 0) {
            params.flags |= IORING_SETUP_CQSIZE;
            params.cq_entries = options.cq_entries;
        }
        io_uring raw{};
        // io_uring_queue_init_params(3) returns -errno.
        int rc = io_uring_queue_init_params(options.entries, &raw, &params);
        if (rc == 0) {
            return result<ring>(tl::in_place, detail::ring_tag{}, raw, params.flags);
        }
        last_error = -rc;
        if (last_error != EINVAL) {
            break;
        }
    }
    if (last_error == ENOSYS || last_error == EPERM) {
        return fail(errc::ring_unavailable);
    }
    return fail(errno_code(last_error));
}

ring::ring(detail::ring_tag, const io_uring& initialised, unsigned setup_flags)
    : m_ring(initialised), m_setup_flags(setup_flags) {
    m_stash.reserve(batch_size);
}

ring::~ring() {
    if (m_in_flight != 0) {
        std::fprintf(stderr, "spate::io::ring destroyed with %zu operation(s) in flight\n",
                     m_in_flight);
        std::abort();
    }
    io_uring_queue_exit(&m_ring);
}

io_uring_sqe* ring::get_sqe() noexcept {
    if (io_uring_sqe* sqe = io_uring_get_sqe(&m_ring)) {
        return sqe;
    }
    flush_for_space(1);
    io_uring_sqe* sqe = io_uring_get_sqe(&m_ring);
    if (sqe == nullptr) {
        fatal("io_uring_get_sqe after flush", EBUSY);
    }
    return sqe;
}

void ring::reserve(unsigned count) noexcept {
    if (io_uring_sq_space_left(&m_ring) < count) {
        flush_for_space(count);
    }
}

void ring::flush_for_space(unsigned count) noexcept {
    // Bounded: each round either submits (the kernel consumes the whole queue) or takes
    // completions off a full completion queue so the next submit can go through.
    for (int round = 0; round < 1000; ++round) {
        if (io_uring_sq_space_left(&m_ring) >= count) {
            return;
        }
        // io_uring_submit(3)
        int rc = io_uring_submit(&m_ring);
        if (rc >= 0 || rc == -EINTR) {
            continue;
        }
        if (rc == -EBUSY || rc == -EAGAIN) {
            if (reap(false) == 0) {
                // Nothing to take yet: wait for one completion, without submitting more.
                io_uring_cqe* cqe = nullptr;
                int wrc = io_uring_wait_cqe(&m_ring, &cqe);
                if (wrc < 0 && wrc != -EINTR) {
                    fatal("io_uring_wait_cqe", -wrc);
                }
            }
            continue;
        }
        fatal("io_uring_submit", -rc);
    }
    fatal("freeing submission queue space", EBUSY);
}

void ring::deliver(const stashed_cqe& cqe) noexcept {
    // A CQE flagged MORE is followed by another for the same submission (zero-copy send
    // notifications, multishot); the submission stays in flight until the last.
    if ((cqe.flags & IORING_CQE_F_MORE) == 0) {
        --m_in_flight;
    }
    detail::completion::dispatch(cqe.user_data, cqe.res, cqe.flags);
}

unsigned ring::reap(bool dispatch_now) noexcept {
    unsigned total = 0;
    std::array<io_uring_cqe*, batch_size> cqes{};
    std::array<stashed_cqe, batch_size> copies{};
    for (unsigned batch = 0; batch < max_batches; ++batch) {
        // io_uring_peek_batch_cqe(3): also flushes the kernel's overflow list.
        unsigned n = io_uring_peek_batch_cqe(&m_ring, cqes.data(), batch_size);
        if (n == 0) {
            break;
        }
        // Copy, then release the slots before any coroutine runs: resumed code may submit
        // and complete more work, and must find the completion queue as free as possible.
        for (unsigned i = 0; i < n; ++i) {
            copies[i] = {cqes[i]->user_data, cqes[i]->res, cqes[i]->flags};
        }
        io_uring_cq_advance(&m_ring, n);
        total += n;
        for (unsigned i = 0; i < n; ++i) {
            if (dispatch_now) {
                deliver(copies[i]);
            } else {
                m_stash.push_back(copies[i]);
            }
        }
        if (n < batch_size) {
            break;
        }
    }
    return total;
}

unsigned ring::run_once(bool wait) {
    if (!m_stash.empty()) {
        // Completions taken while freeing queue space; deliver them before anything new.
        std::vector<stashed_cqe> pending;
        pending.swap(m_stash);
        for (const stashed_cqe& cqe : pending) {
            deliver(cqe);
        }
        auto handled = static_cast<unsigned>(pending.size());
        if (m_stash.empty()) {
            pending.clear();
            m_stash.swap(pending); // keep the capacity
        }
        return handled;
    }
    // One enter per turn: submit everything queued and wait for at least one completion.
    // io_uring_submit_and_wait(3); without waiting, io_uring_submit_and_get_events(3) still
    // runs deferred completion work (DEFER_TASKRUN).
    int rc = (wait && m_in_flight != 0) ? io_uring_submit_and_wait(&m_ring, 1)
                                        : io_uring_submit_and_get_events(&m_ring);
    if (rc < 0 && rc != -EINTR && rc != -EBUSY && rc != -EAGAIN && rc != -ETIME) {
        fatal("io_uring_submit_and_wait", -rc);
    }
    return reap(true);
}

} // namespace spate::io
