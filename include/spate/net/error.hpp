#pragma once
/// Error codes of the net module: name resolution (c-ares) and HTTP transfers (libcurl).
/// Each code's message names the one problem it stands for; callers add the host or URL
/// ("cannot resolve tracker.example: no such host").
///
/// `timed_out`, `cancelled` and `connection_refused` compare equal to std::errc::timed_out,
/// std::errc::operation_canceled and std::errc::connection_refused, so callers can branch
/// on them the same way as on the io module's errno results.

#include <system_error>

namespace spate::net {

/// Why a lookup or an HTTP request failed.
enum class errc {
    // set-up
    resolver_init_failed = 1,
    http_init_failed,

    // name resolution
    bad_host_name,
    host_not_found,
    no_address,
    no_address_for_family,
    dns_server_failure,
    dns_unreachable,
    dns_bad_reply,
    resolver_failed,

    // HTTP
    bad_url,
    unsupported_scheme,
    connection_refused,
    connect_failed,
    tls_failed,
    tls_verify_failed,
    send_failed,
    recv_failed,
    empty_reply,
    bad_reply,
    truncated_body,
    body_too_large,
    too_many_redirects,
    redirect_not_http,
    http_failed,

    // outcomes shared by both
    timed_out,
    cancelled,
};

/// The category of every net error; its name is "spate.net".
[[nodiscard]] const std::error_category& net_category() noexcept;

/// Lets `std::error_code ec = errc::host_not_found;` and `fail(errc::...)` work.
[[nodiscard]] std::error_code make_error_code(errc e) noexcept;

/// An HTTP reply whose status was not what the request needed: the code's value is the
/// status ("HTTP status 404 (not found)"); category "spate.http_status".
[[nodiscard]] const std::error_category& http_status_category() noexcept;
[[nodiscard]] std::error_code http_status_error(long status) noexcept;

} // namespace spate::net

template <> struct std::is_error_code_enum<spate::net::errc> : std::true_type {};
