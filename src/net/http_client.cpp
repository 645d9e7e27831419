#include "host_name.hpp"
#include "ring_poller.hpp"
#include "wake_signal.hpp"

#include <spate/net/error.hpp>
#include <spate/net/http_client.hpp>

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <curl/curl.h>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>

namespace spate::net {

namespace {

using clock_type = std::chrono::steady_clock;

// curl enforces each request's deadline itself (CURLOPT_TIMEOUT_MS); the ring wait adds
// this much on top only as a backstop, so a transfer can never wait forever.
constexpr std::chrono::seconds backstop_grace{2};

bool curl_ready() {
    // Once per process; never cleaned up, since other users of libcurl or OpenSSL may
    // still need it (the state stays reachable, so leak checkers do not report it).
    static const CURLcode initialised = curl_global_init(CURL_GLOBAL_DEFAULT);
    return initialised == CURLE_OK;
}

struct easy_deleter {
    void operator()(CURL* easy) const noexcept { curl_easy_cleanup(easy); }
};
using easy_ptr = std::unique_ptr<CURL, easy_deleter>;

struct slist_deleter {
    void operator()(curl_slist* list) const noexcept { curl_slist_free_all(list); }
};
using slist_ptr = std::unique_ptr<curl_slist, slist_deleter>;

struct url_deleter {
    void operator()(CURLU* url) const noexcept { curl_url_cleanup(url); }
};

struct curl_string_deleter {
    void operator()(char* text) const noexcept { curl_free(text); }
};
using curl_string = std::unique_ptr<char, curl_string_deleter>;

// What a hop needs from its URL: the scheme checked, and where to connect.
struct url_parts {
    std::string host; // as in the URL: a name, an IPv4 address, or "[v6]"
    std::uint16_t port = 0;
};

result<url_parts> parse_url(const std::string& url) {
    std::unique_ptr<CURLU, url_deleter> handle(curl_url());
    if (!handle) {
        return fail(std::make_error_code(std::errc::not_enough_memory));
    }
    const CURLUcode set = curl_url_set(handle.get(), CURLUPART_URL, url.c_str(), 0);
    if (set == CURLUE_UNSUPPORTED_SCHEME) {
        return fail(errc::unsupported_scheme);
    }
    if (set != CURLUE_OK) {
        return fail(errc::bad_url);
    }
    auto part = [&handle](CURLUPart which, unsigned flags) -> std::optional<std::string> {
        char* raw = nullptr;
        if (curl_url_get(handle.get(), which, &raw, flags) != CURLUE_OK || raw == nullptr) {
            return std::nullopt;
        }
        curl_string owned(raw);
        return std::string(owned.get());
    };
    std::optional<std::string> scheme = part(CURLUPART_SCHEME, 0);
    if (!scheme || (*scheme != "http" && *scheme != "https")) {
        return fail(errc::unsupported_scheme);
    }
    std::optional<std::string> host = part(CURLUPART_HOST, 0);
    std::optional<std::string> port = part(CURLUPART_PORT, CURLU_DEFAULT_PORT);
    if (!host || host->empty() || !port) {
        return fail(errc::bad_url);
    }
    url_parts parts;
    parts.host = std::move(*host);
    const char* end = port->data() + port->size();
    auto [stop, code] = std::from_chars(port->data(), end, parts.port);
    if (code != std::errc{} || stop != end || parts.port == 0) {
        return fail(errc::bad_url);
    }
    return parts;
}

bool is_redirect(long status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// One CURLOPT_RESOLVE entry: "host:port:addr,[v6addr],...".
std::string resolve_entry(const std::string& host, std::uint16_t port,
                          const std::vector<endpoint>& addresses) {
    std::string entry = host + ':' + std::to_string(port) + ':';
    bool first = true;
    for (const endpoint& address : addresses) {
        if (!first) {
            entry += ',';
        }
        first = false;
        entry += address.is_v4() ? address.address_string() : '[' + address.address_string() + ']';
    }
    return entry;
}

} // namespace

/// The client's state: the multi handle, its poller, and the count of requests in flight.
class http_client::impl {
public:
    impl(io::ring& ring, resolver& names, http_client_options options) noexcept
        : m_ring(ring), m_names(names), m_options(std::move(options)),
          m_poller(ring, this, &impl::on_socket_ready, &impl::on_timer) {}

    impl(const impl&) = delete;
    impl& operator=(const impl&) = delete;
    impl(impl&&) = delete;
    impl& operator=(impl&&) = delete;

    ~impl() {
        if (m_active != 0) {
            std::fprintf(stderr, "spate::net::http_client destroyed with %zu request(s) running\n",
                         m_active);
            std::abort();
        }
        if (m_multi != nullptr) {
            curl_multi_cleanup(m_multi); // closes the cached connections
        }
    }

    result<void> init();
    [[nodiscard]] io::task<result<http_response>> run(std::string url,
                                                      http_request_options options);

    std::size_t m_active = 0;

private:
    // One hop of a request, alive in the request's frame from add to remove.
    struct transfer {
        easy_ptr easy;
        slist_ptr resolve;
        std::vector<std::byte> body;
        std::size_t max_body = 0;
        bool too_large = false;
        bool numeric_host = false;  // the URL's host is an address: curl converts it
        bool curl_resolved = false; // curl tried a lookup of its own (refused)
        detail::wake_signal signal;
        bool done = false;
        CURLcode code = CURLE_OK;
    };

    [[nodiscard]] io::task<result<http_response>>
    follow(std::string url, http_request_options options, clock_type::time_point deadline);
    [[nodiscard]] result<void> configure(transfer& hop, const std::string& url,
                                         const url_parts& parts,
                                         const std::vector<endpoint>& addresses,
                                         const http_request_options& options,
                                         std::chrono::milliseconds remaining) const;
    [[nodiscard]] static std::error_code error_of(const transfer& hop);
    void collect_done() noexcept;

    static std::size_t on_body(char* data, std::size_t size, std::size_t count,
                               void* user) noexcept;
    static int on_curl_socket(CURL* easy, curl_socket_t fd, int what, void* user,
                              void* socket_data) noexcept;
    static int on_curl_timer(CURLM* multi, long timeout_ms, void* user) noexcept;
    static int on_curl_resolve(void* resolver_state, void* reserved, void* user) noexcept;
    static void on_socket_ready(void* context, int fd, unsigned revents) noexcept;
    static void on_timer(void* context) noexcept;

    io::ring& m_ring;
    resolver& m_names;
    http_client_options m_options;
    CURLM* m_multi = nullptr;
    detail::ring_poller m_poller;
};

result<void> http_client::impl::init() {
    if (!curl_ready()) {
        return fail(errc::http_init_failed);
    }
    m_multi = curl_multi_init();
    if (m_multi == nullptr) {
        return fail(errc::http_init_failed);
    }
    bool ok =
        curl_multi_setopt(m_multi, CURLMOPT_SOCKETFUNCTION, &impl::on_curl_socket) == CURLM_OK;
    ok = ok && curl_multi_setopt(m_multi, CURLMOPT_SOCKETDATA, this) == CURLM_OK;
    ok = ok && curl_multi_setopt(m_multi, CURLMOPT_TIMERFUNCTION, &impl::on_curl_timer) == CURLM_OK;
    ok = ok && curl_multi_setopt(m_multi, CURLMOPT_TIMERDATA, this) == CURLM_OK;
    if (!ok) {
        return fail(errc::http_init_failed);
    }
    return {};
}

io::task<result<http_response>> http_client::impl::run(std::string url,
                                                       http_request_options options) {
    const clock_type::time_point deadline = clock_type::now() + options.timeout;
    ++m_active;
    // The task is made in a statement of its own: g++ 12 may destroy temporaries of a
    // co_await expression twice.
    io::task<result<http_response>> following =
        follow(std::move(url), std::move(options), deadline);
    result<http_response> outcome = co_await following;
    if (--m_active == 0) {
        // Nothing runs: curl has released its sockets (their watchers are winding down)
        // and needs no timer. Waiting for the watchers here is what lets the caller
        // destroy the client as soon as its last request returned.
        m_poller.clear_timer();
        co_await m_poller.settle();
    }
    co_return outcome;
}

io::task<result<http_response>> http_client::impl::follow(std::string url,
                                                          http_request_options options,
                                                          clock_type::time_point deadline) {
    for (int hop = 0;; ++hop) {
        result<url_parts> parts = parse_url(url);
        if (!parts) {
            co_return fail(parts.error());
        }
        std::vector<endpoint> addresses;
        if (!detail::literal_address(parts->host, parts->port)) {
            const auto left =
                std::chrono::ceil<std::chrono::milliseconds>(deadline - clock_type::now());
            io::task<result<std::vector<endpoint>>> resolving = m_names.resolve(
                parts->host, parts->port, options.family, {.stop = options.stop, .timeout = left});
            result<std::vector<endpoint>> found = co_await resolving;
            if (!found) {
                co_return fail(found.error());
            }
            addresses = std::move(*found);
        }
        const auto remaining =
            std::chrono::ceil<std::chrono::milliseconds>(deadline - clock_type::now());
        if (remaining.count() <= 0) {
            co_return fail(errc::timed_out);
        }

        transfer current;
        if (result<void> set = configure(current, url, *parts, addresses, options, remaining);
            !set) {
            co_return fail(set.error());
        }
        if (curl_multi_add_handle(m_multi, current.easy.get()) != CURLM_OK) {
            co_return fail(errc::http_failed);
        }
        // curl now asks for a timer at once (CURLMOPT_TIMERFUNCTION); its expiry starts
        // the transfer from the loop.
        {
            std::stop_callback on_stop(options.stop,
                                       [&current]() noexcept { current.signal.notify(); });
            if (!current.done) {
                result<void> slept =
                    co_await current.signal.wait_until(m_ring, deadline + backstop_grace);
                (void)slept; // finished, stopped, or the backstop: told apart below
            }
        }
        // Not from inside a curl callback: we were resumed by the loop.
        curl_multi_remove_handle(m_multi, current.easy.get());
        if (!current.done) {
            co_return fail(options.stop.stop_requested() ? errc::cancelled : errc::timed_out);
        }
        if (current.code != CURLE_OK) {
            co_return fail(error_of(current));
        }

        http_response response;
        curl_easy_getinfo(current.easy.get(), CURLINFO_RESPONSE_CODE, &response.status);
        char* effective = nullptr;
        curl_easy_getinfo(current.easy.get(), CURLINFO_EFFECTIVE_URL, &effective);
        response.effective_url = effective != nullptr ? effective : url;
        char* location = nullptr;
        curl_easy_getinfo(current.easy.get(), CURLINFO_REDIRECT_URL, &location);
        if (!is_redirect(response.status) || location == nullptr) {
            response.body = std::move(current.body);
            co_return response;
        }
        if (hop >= options.max_redirects) {
            co_return fail(errc::too_many_redirects);
        }
        std::string next = location;
        if (result<url_parts> target = parse_url(next);
            !target && target.error() == errc::unsupported_scheme) {
            co_return fail(errc::redirect_not_http);
        }
        url = std::move(next);
    }
}

result<void> http_client::impl::configure(transfer& hop, const std::string& url,
                                          const url_parts& parts,
                                          const std::vector<endpoint>& addresses,
                                          const http_request_options& options,
                                          std::chrono::milliseconds remaining) const {
    hop.easy.reset(curl_easy_init());
    if (!hop.easy) {
        return fail(errc::http_init_failed);
    }
    hop.max_body = options.max_body_size;
    CURL* easy = hop.easy.get();
    bool ok = true;
    // A name gets an entry with the addresses we found: curl finds it in its DNS cache
    // and never starts a lookup of its own. A numeric host needs none (curl 7.88 could
    // not even express "[::1]" there): curl converts it with inet_pton, no lookup.
    hop.numeric_host = addresses.empty();
    if (!hop.numeric_host) {
        const std::string entry = resolve_entry(parts.host, parts.port, addresses);
        hop.resolve.reset(curl_slist_append(nullptr, entry.c_str()));
        if (!hop.resolve) {
            return fail(std::make_error_code(std::errc::not_enough_memory));
        }
        ok = ok && curl_easy_setopt(easy, CURLOPT_RESOLVE, hop.resolve.get()) == CURLE_OK;
    }
    const auto max_body = static_cast<curl_off_t>(std::min<std::size_t>(
        options.max_body_size, static_cast<std::size_t>(std::numeric_limits<curl_off_t>::max())));
    ok = ok && curl_easy_setopt(easy, CURLOPT_URL, url.c_str()) == CURLE_OK;
    ok = ok && curl_easy_setopt(easy, CURLOPT_PRIVATE, &hop) == CURLE_OK;
    ok = ok && curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &impl::on_body) == CURLE_OK;
    ok = ok && curl_easy_setopt(easy, CURLOPT_WRITEDATA, &hop) == CURLE_OK;
    ok = ok && curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
    ok = ok && curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK;
    // Redirects are followed by follow(), so that their hosts go through our resolver.
    ok = ok && curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK;
    ok = ok && curl_easy_setopt(easy, CURLOPT_USERAGENT, m_options.user_agent.c_str()) == CURLE_OK;
    // Unencoded bodies: the size cap then bounds exactly what we keep.
    ok = ok && curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "identity") == CURLE_OK;
    // Setting an Accept-Encoding also turns on curl's decoding of whatever the server
    // sends; a tracker that compresses anyway gets its bytes taken as they are (and
    // refused as bencode), so a small compressed reply cannot expand in our memory.
    ok = ok && curl_easy_setopt(easy, CURLOPT_HTTP_CONTENT_DECODING, 0L) == CURLE_OK;
    // Refused up front when Content-Length says too much; on_body enforces it otherwise.
    ok = ok && curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, max_body) == CURLE_OK;
    ok = ok && curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(remaining.count())) ==
                   CURLE_OK;
    ok = ok && curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                                static_cast<long>(remaining.count())) == CURLE_OK;
    // No proxy, even when http_proxy is set: a proxy's name would be looked up by curl's
    // own (threaded) resolver.
    ok = ok && curl_easy_setopt(easy, CURLOPT_PROXY, "") == CURLE_OK;
    ok = ok && curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK;
    ok = ok && curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK;
    if (!m_options.ca_file.empty()) {
        ok = ok && curl_easy_setopt(easy, CURLOPT_CAINFO, m_options.ca_file.c_str()) == CURLE_OK;
    }
    ok = ok && curl_easy_setopt(easy, CURLOPT_RESOLVER_START_FUNCTION, &impl::on_curl_resolve) ==
                   CURLE_OK;
    ok = ok && curl_easy_setopt(easy, CURLOPT_RESOLVER_START_DATA, &hop) == CURLE_OK;
    if (!ok) {
        return fail(errc::http_failed);
    }
    return {};
}

std::error_code http_client::impl::error_of(const transfer& hop) {
    switch (hop.code) {
    case CURLE_WRITE_ERROR:
        return hop.too_large ? errc::body_too_large : errc::http_failed;
    case CURLE_FILESIZE_EXCEEDED:
        return errc::body_too_large;
    case CURLE_OPERATION_TIMEDOUT:
        return errc::timed_out;
    case CURLE_COULDNT_CONNECT: {
        long os_error = 0;
        curl_easy_getinfo(hop.easy.get(), CURLINFO_OS_ERRNO, &os_error);
        return os_error == ECONNREFUSED ? errc::connection_refused : errc::connect_failed;
    }
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
        return errc::tls_verify_failed;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_USE_SSL_FAILED:
        return errc::tls_failed;
    case CURLE_SEND_ERROR:
        return errc::send_failed;
    case CURLE_RECV_ERROR:
        return errc::recv_failed;
    case CURLE_GOT_NOTHING:
        return errc::empty_reply;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_BAD_CONTENT_ENCODING:
        return errc::bad_reply;
    case CURLE_PARTIAL_FILE:
        return errc::truncated_body;
    case CURLE_URL_MALFORMAT:
        return errc::bad_url;
    case CURLE_UNSUPPORTED_PROTOCOL:
        // Schemes were checked before the transfer: at this point curl means a reply
        // without an HTTP status line (HTTP/0.9, or another protocol answering).
        return errc::bad_reply;
    case CURLE_COULDNT_RESOLVE_HOST:
        // Only when curl tried to resolve a name itself, which on_curl_resolve refused.
        return hop.curl_resolved ? errc::resolver_failed : errc::host_not_found;
    case CURLE_TOO_MANY_REDIRECTS:
        return errc::too_many_redirects;
    case CURLE_OUT_OF_MEMORY:
        return std::make_error_code(std::errc::not_enough_memory);
    default:
        return errc::http_failed;
    }
}

void http_client::impl::collect_done() noexcept {
    int left = 0;
    while (CURLMsg* message = curl_multi_info_read(m_multi, &left)) {
        if (message->msg != CURLMSG_DONE) {
            continue;
        }
        char* owner = nullptr;
        curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, &owner);
        auto* hop = static_cast<transfer*>(static_cast<void*>(owner));
        hop->code = message->data.result;
        hop->done = true;
        hop->signal.notify(); // resumes the request through the ring, not from here
    }
}

std::size_t http_client::impl::on_body(char* data, std::size_t size, std::size_t count,
                                       void* user) noexcept {
    auto& hop = *static_cast<transfer*>(user);
    const std::size_t length = size * count;
    if (length > hop.max_body - hop.body.size()) {
        hop.too_large = true;
        return 0; // anything but `length` makes curl abort with CURLE_WRITE_ERROR
    }
    const auto* bytes = reinterpret_cast<const std::byte*>(data);
    hop.body.insert(hop.body.end(), bytes, bytes + length);
    return length;
}

int http_client::impl::on_curl_socket(CURL* /*easy*/, curl_socket_t fd, int what, void* user,
                                      void* /*socket_data*/) noexcept {
    auto& self = *static_cast<impl*>(user);
    switch (what) {
    case CURL_POLL_IN:
        self.m_poller.watch(fd, POLLIN);
        break;
    case CURL_POLL_OUT:
        self.m_poller.watch(fd, POLLOUT);
        break;
    case CURL_POLL_INOUT:
        self.m_poller.watch(fd, POLLIN | POLLOUT);
        break;
    case CURL_POLL_REMOVE:
    default:
        self.m_poller.unwatch(fd);
        break;
    }
    return 0;
}

int http_client::impl::on_curl_timer(CURLM* /*multi*/, long timeout_ms, void* user) noexcept {
    auto& self = *static_cast<impl*>(user);
    if (timeout_ms < 0) {
        self.m_poller.clear_timer();
    } else {
        // Not acted on here: curl must not be re-entered from its own callback.
        self.m_poller.set_timer(clock_type::now() + std::chrono::milliseconds(timeout_ms));
    }
    return 0;
}

int http_client::impl::on_curl_resolve(void* /*resolver_state*/, void* /*reserved*/,
                                       void* user) noexcept {
    // curl calls this before converting a numeric host (no lookup follows: allowed) and
    // before a real lookup, which would only happen if it missed our CURLOPT_RESOLVE
    // entry. Its resolver would block or start a thread: refuse, and fail the request.
    auto& hop = *static_cast<transfer*>(user);
    if (hop.numeric_host) {
        return 0;
    }
    hop.curl_resolved = true;
    return 1;
}

void http_client::impl::on_socket_ready(void* context, int fd, unsigned revents) noexcept {
    auto& self = *static_cast<impl*>(context);
    int flags = 0;
    if ((revents & (POLLIN | POLLHUP)) != 0) {
        flags |= CURL_CSELECT_IN;
    }
    if ((revents & POLLOUT) != 0) {
        flags |= CURL_CSELECT_OUT;
    }
    if ((revents & (POLLERR | POLLNVAL)) != 0) {
        // A read is what surfaces the socket error to curl.
        flags |= CURL_CSELECT_ERR | CURL_CSELECT_IN;
    }
    int running = 0;
    curl_multi_socket_action(self.m_multi, fd, flags, &running);
    self.collect_done();
}

void http_client::impl::on_timer(void* context) noexcept {
    auto& self = *static_cast<impl*>(context);
    int running = 0;
    curl_multi_socket_action(self.m_multi, CURL_SOCKET_TIMEOUT, 0, &running);
    self.collect_done();
}

// ---------------------------------------------------------------------------------------

result<std::unique_ptr<http_client>> http_client::create(io::ring& ring, resolver& names,
                                                         http_client_options options) {
    auto state = std::make_unique<impl>(ring, names, std::move(options));
    if (result<void> ready = state->init(); !ready) {
        return fail(ready.error());
    }
    return std::unique_ptr<http_client>(new http_client(std::move(state)));
}

http_client::http_client(std::unique_ptr<impl> state) noexcept : m_impl(std::move(state)) {}

http_client::~http_client() = default;

io::task<result<http_response>> http_client::get(std::string url, http_request_options options) {
    return m_impl->run(std::move(url), std::move(options));
}

std::size_t http_client::active() const noexcept {
    return m_impl->m_active;
}

} // namespace spate::net
