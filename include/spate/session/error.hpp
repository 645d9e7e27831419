#pragma once
/// Error codes of the session module: why the engine dropped a peer or stopped a torrent.

#include <system_error>

namespace spate::session {

enum class errc {
    banned_for_bad_data = 1,
    request_timeout,
    connected_to_self,
    /// A piece read back from disk to upload fails its hash: its file changed under us.
    data_changed_on_disk,
};

/// The category of every session error; its name is "spate.session".
[[nodiscard]] const std::error_category& session_category() noexcept;
[[nodiscard]] std::error_code make_error_code(errc e) noexcept;

} // namespace spate::session

template <> struct std::is_error_code_enum<spate::session::errc> : std::true_type {};
