#include <spate/net/error.hpp>

#include <string>

namespace spate::net {

namespace {

class category final : public std::error_category {
public:
    [[nodiscard]] const char* name() const noexcept override { return "spate.net"; }

    [[nodiscard]] std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
        case errc::resolver_init_failed:
            return "cannot set up the DNS resolver (c-ares)";
        case errc::http_init_failed:
            return "cannot set up the HTTP client (libcurl)";
        case errc::bad_host_name:
            return "not a valid host name";
        case errc::host_not_found:
            return "no such host";
        case errc::no_address:
            return "host has no IPv4 or IPv6 address";
        case errc::no_address_for_family:
            return "host has no address of the requested family";
        case errc::dns_server_failure:
            return "DNS server failed or refused to answer";
        case errc::dns_unreachable:
            return "cannot reach a DNS server";
        case errc::dns_bad_reply:
            return "malformed reply from the DNS server";
        case errc::resolver_failed:
            return "name resolution failed";
        case errc::bad_url:
            return "malformed URL";
        case errc::unsupported_scheme:
            return "URL is not http:// or https://";
        case errc::connection_refused:
            return "connection refused";
        case errc::connect_failed:
            return "cannot connect to the server";
        case errc::tls_failed:
            return "TLS handshake failed";
        case errc::tls_verify_failed:
            return "server's TLS certificate could not be verified";
        case errc::send_failed:
            return "sending the HTTP request failed";
        case errc::recv_failed:
            return "receiving the HTTP reply failed";
        case errc::empty_reply:
            return "server closed the connection without replying";
        case errc::bad_reply:
            return "malformed HTTP reply";
        case errc::truncated_body:
            return "HTTP reply body ended early";
        case errc::body_too_large:
            return "HTTP reply body is larger than the limit";
        case errc::too_many_redirects:
            return "too many HTTP redirects";
        case errc::redirect_not_http:
            return "HTTP redirect to a URL that is not http:// or https://";
        case errc::http_failed:
            return "HTTP transfer failed";
        case errc::timed_out:
            return "timed out";
        case errc::cancelled:
            return "cancelled";
        }
        return "unknown net error";
    }

    [[nodiscard]] std::error_condition default_error_condition(int value) const noexcept override {
        switch (static_cast<errc>(value)) {
        case errc::timed_out:
            return std::errc::timed_out;
        case errc::cancelled:
            return std::errc::operation_canceled;
        case errc::connection_refused:
            return std::errc::connection_refused;
        default:
            return {value, *this};
        }
    }
};

// The error value is the HTTP status itself, so the message can name it.
class http_status_category_impl final : public std::error_category {
public:
    [[nodiscard]] const char* name() const noexcept override { return "spate.http_status"; }
    [[nodiscard]] std::string message(int status) const override {
        const char* meaning = status == 404   ? " (not found)"
                              : status == 403 ? " (forbidden)"
                              : status == 401 ? " (unauthorized)"
                              : status == 429 ? " (too many requests)"
                              : status == 503 ? " (service unavailable)"
                              : status >= 500 ? " (server error)"
                                              : "";
        return "HTTP status " + std::to_string(status) + meaning;
    }
};

} // namespace

const std::error_category& http_status_category() noexcept {
    static const http_status_category_impl instance;
    return instance;
}

std::error_code http_status_error(long status) noexcept {
    if (status < 1 || status > 999) {
        return make_error_code(errc::http_failed); // never a value 0, which means success
    }
    return {static_cast<int>(status), http_status_category()};
}

const std::error_category& net_category() noexcept {
    static const category instance;
    return instance;
}

std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), net_category()};
}

} // namespace spate::net
