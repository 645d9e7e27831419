#pragma once
/// Errors of the io module: what goes wrong setting the ring up, as opposed to the
/// results of operations, which stay errno values of the system category
/// (`std::error_code(-cqe->res, std::system_category())`).

#include <system_error>

namespace spate::io {

/// Set-up failures with a message a person can act on.
enum class errc {
    /// io_uring_setup(2) refused: the kernel lacks io_uring, or it is disabled
    /// (sysctl kernel.io_uring_disabled, a seccomp filter, a container policy).
    ring_unavailable = 1,
    /// io_uring_register_buffers(3) hit the locked-memory limit (RLIMIT_MEMLOCK).
    memlock_limit,
    /// The ring already has a registered buffer table (one pool per ring).
    buffers_already_registered,
    /// A buffer pool asked for more slots than io_uring can register (16,384) or
    /// for slots of size zero or over 1 GiB.
    bad_pool_geometry,
    /// More scatter/gather buffers than an operation carries inline.
    too_many_buffers,
};

/// The category of io::errc; name "spate.io".
[[nodiscard]] const std::error_category& io_category() noexcept;

/// Makes io::errc usable as a std::error_code (found by argument-dependent lookup).
[[nodiscard]] inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), io_category()};
}

} // namespace spate::io

template <> struct std::is_error_code_enum<spate::io::errc> : std::true_type {};
