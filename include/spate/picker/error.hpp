#pragma once
/// Error codes of the picker module: torrent geometry the picker cannot work with. Each
/// code's message names the one problem it stands for.

#include <system_error>

namespace spate::picker {

/// Why a piece geometry was refused.
enum class errc {
    no_pieces = 1,
    piece_length_zero,
    total_size_mismatch,
    piece_too_large,
};

/// The category of every picker error; its name is "spate.picker".
[[nodiscard]] const std::error_category& picker_category() noexcept;

/// Lets `std::error_code ec = errc::no_pieces;` and `fail(errc::...)` work.
[[nodiscard]] std::error_code make_error_code(errc e) noexcept;

} // namespace spate::picker

template <> struct std::is_error_code_enum<spate::picker::errc> : std::true_type {};
