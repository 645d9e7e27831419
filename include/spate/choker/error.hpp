#pragma once
/// Error codes of the choker module: choker settings and token bucket limits that cannot
/// work. Each code's message names the one problem it stands for.

#include <system_error>

namespace spate::choker {

/// Why choker settings or token bucket limits were refused.
enum class errc {
    no_upload_slots = 1,
    optimistic_interval_not_positive,
    new_peer_weight_zero,
    new_peer_window_negative,
    burst_zero,
};

/// The category of every choker error; its name is "spate.choker".
[[nodiscard]] const std::error_category& choker_category() noexcept;

/// Lets `std::error_code ec = errc::burst_zero;` and `fail(errc::...)` work.
[[nodiscard]] std::error_code make_error_code(errc e) noexcept;

} // namespace spate::choker

template <> struct std::is_error_code_enum<spate::choker::errc> : std::true_type {};
