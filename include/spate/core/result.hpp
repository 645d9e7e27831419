#pragma once
/// result<T>: the one error channel of the engine (no exceptions cross it).

#include <system_error>

#include <tl/expected.hpp>

namespace spate {

/// A value or the error that prevented it. Every module reports errors as a
/// std::error_code of its own category, so callers can branch on the module's
/// `errc` enum and print `error.message()` for people.
template <typename T>
using result = tl::expected<T, std::error_code>;

/// Shorthand for returning an error: `return fail(errc::bad_thing);`.
template <typename E>
    requires std::is_error_code_enum_v<E>
[[nodiscard]] inline tl::unexpected<std::error_code> fail(E e) {
    return tl::unexpected<std::error_code>(make_error_code(e));
}

[[nodiscard]] inline tl::unexpected<std::error_code> fail(std::error_code ec) {
    return tl::unexpected<std::error_code>(ec);
}

/// An errno value (positive) as an error_code of the system category.
[[nodiscard]] inline std::error_code errno_code(int err) {
    return {err, std::system_category()};
}

} // namespace spate
