#pragma once
/// stop_after: a deadline for work that takes a stop token.

#include <spate/io/ring.hpp>
#include <spate/io/task.hpp>
#include <spate/io/timer_ops.hpp>

#include <chrono>
#include <stop_token>

namespace spate::io {

/// Sleeps for `duration`, then requests stop on `to_stop`; returns at once, requesting
/// nothing, when `to_stop` is stopped first (the work finished, or someone else stopped
/// it). Spawn it beside the work and request stop on `to_stop` when the work is done, so
/// the timer ends too. `*fired` (when not null) is set to true when the deadline made the
/// stop request. The ring and `fired` are borrowed until the task completes.
[[nodiscard]] inline task<void> stop_after(ring& owner, std::chrono::nanoseconds duration,
                                           std::stop_source to_stop, bool* fired = nullptr) {
    auto slept = co_await sleep_for(owner, duration, to_stop.get_token());
    if (slept && to_stop.request_stop() && fired != nullptr) {
        *fired = true;
    }
}

} // namespace spate::io
