#pragma once
/// Helpers for the iovec lists of gathered and scattered operations (sendmsg, recvmsg,
/// writev), which may complete part-way.

#include <cstddef>
#include <span>
#include <sys/uio.h>

namespace spate::io {

/// Drops the first `done` bytes from `parts` (as a short write or send leaves them): whole
/// iovecs go, and the first one left starts later. `done` must not exceed the bytes in
/// `parts`. The iovecs themselves are modified.
inline void consume_iovecs(std::span<iovec>& parts, std::size_t done) noexcept {
    while (!parts.empty() && done >= parts.front().iov_len) {
        done -= parts.front().iov_len;
        parts = parts.subspan(1);
    }
    if (done > 0) {
        parts.front().iov_base = static_cast<std::byte*>(parts.front().iov_base) + done;
        parts.front().iov_len -= done;
    }
}

} // namespace spate::io
