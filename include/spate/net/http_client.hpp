#pragma once
/// http_client: HTTP(S) GET on the ring through libcurl's multi-socket interface. curl's
/// sockets are polled on the ring and its timer is a ring timer: no curl thread, no
/// blocking call. Host names are looked up by net::resolver (c-ares on the ring) and
/// handed to curl as CURLOPT_RESOLVE entries, so curl never runs its own resolver (which
/// in Debian's build is a thread per lookup); redirects are followed here, hop by hop,
/// so that every host is looked up the same way.

#include <spate/core/result.hpp>
#include <spate/io/ring.hpp>
#include <spate/io/task.hpp>
#include <spate/net/resolver.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

namespace spate::net {

/// How one GET is made and bounded.
struct http_request_options {
    /// Most body bytes kept; a longer body (by Content-Length, or as it arrives) aborts
    /// the transfer with errc::body_too_large, with no more than this buffered.
    /// Bodies are asked for and taken unencoded (Accept-Encoding: identity).
    std::size_t max_body_size = 1024 * 1024;
    /// Deadline of the whole request, every redirect and lookup included:
    /// errc::timed_out.
    std::chrono::milliseconds timeout{30'000};
    /// Redirects (301, 302, 303, 307, 308) followed, to http:// and https:// URLs only;
    /// one more is errc::too_many_redirects.
    int max_redirects = 5;
    /// Stop request: the transfer is removed and the request completes with
    /// errc::cancelled.
    std::stop_token stop;
    /// Which addresses of the server's name are tried (curl races IPv4 and IPv6 when it
    /// gets both, "happy eyeballs").
    address_family_preference family = address_family_preference::prefer_v4;
};

/// A completed exchange. Any status counts as completed (trackers send 4xx and 5xx with
/// bodies worth reading); the caller judges it.
struct http_response {
    long status = 0;
    std::vector<std::byte> body;
    /// The URL of the last hop, after redirects.
    std::string effective_url;
};

/// Fixed for the client's life.
struct http_client_options {
    std::string user_agent = "spate/0.1.0";
    /// Certificate authorities for https (a PEM file); empty: the system's. Verification
    /// of the peer and of its host name is always on.
    std::string ca_file;
};

/// One per session, on the session's ring. Owns libcurl's multi handle (its connection
/// cache is shared by every request); borrows the ring and the resolver, which must
/// outlive it. Not movable (curl holds its address). Destroy it only after every get()
/// has completed (the last one to finish waits until curl's sockets are released);
/// the destructor aborts if a request or a socket watcher is still alive.
class http_client {
public:
    /// Fails with errc::http_init_failed when libcurl cannot be set up.
    [[nodiscard]] static result<std::unique_ptr<http_client>>
    create(io::ring& ring, resolver& names, http_client_options options = {});

    http_client(const http_client&) = delete;
    http_client& operator=(const http_client&) = delete;
    http_client(http_client&&) = delete;
    http_client& operator=(http_client&&) = delete;
    ~http_client();

    /// GETs `url` (http:// or https://). Errors: errc::bad_url, unsupported_scheme, the
    /// resolver's errors, connection_refused, connect_failed, tls_failed,
    /// tls_verify_failed, send_failed, recv_failed, empty_reply, bad_reply,
    /// truncated_body, body_too_large, too_many_redirects, redirect_not_http,
    /// http_failed, timed_out, cancelled.
    [[nodiscard]] io::task<result<http_response>> get(std::string url,
                                                      http_request_options options = {});

    /// Requests in flight.
    [[nodiscard]] std::size_t active() const noexcept;

private:
    class impl;
    explicit http_client(std::unique_ptr<impl> state) noexcept;

    std::unique_ptr<impl> m_impl;
};

} // namespace spate::net
