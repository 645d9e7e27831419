#include "host_name.hpp"
#include "ring_poller.hpp"
#include "wake_signal.hpp"

#include <spate/net/error.hpp>
#include <spate/net/resolver.hpp>

#include <ares.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <unordered_map>
#include <utility>

namespace spate::net {

namespace {

using clock_type = std::chrono::steady_clock;

std::error_code map_ares_status(int status) {
    switch (status) {
    case ARES_ENOTFOUND:
        return errc::host_not_found;
    case ARES_ENODATA:
        return errc::no_address;
    case ARES_ESERVFAIL:
    case ARES_EREFUSED:
        return errc::dns_server_failure;
    case ARES_ECONNREFUSED:
        return errc::dns_unreachable;
    case ARES_ETIMEOUT:
        return errc::timed_out;
    case ARES_EBADRESP:
    case ARES_EFORMERR:
        return errc::dns_bad_reply;
    case ARES_EBADNAME:
    case ARES_EBADFAMILY:
        return errc::bad_host_name;
    case ARES_ECANCELLED:
    case ARES_EDESTRUCTION:
        return errc::cancelled;
    case ARES_ENOMEM:
        return std::make_error_code(std::errc::not_enough_memory);
    default:
        return errc::resolver_failed;
    }
}

// Answers worth remembering when negative: the name or its addresses do not exist.
bool is_cacheable_failure(const std::error_code& error) {
    return error == errc::host_not_found || error == errc::no_address;
}

// The addresses with `port`, ordered and filtered as the caller asked.
result<std::vector<endpoint>> shape(std::vector<endpoint> addresses, std::uint16_t port,
                                    address_family_preference preference) {
    for (endpoint& address : addresses) {
        address.set_port(port);
    }
    switch (preference) {
    case address_family_preference::prefer_v4:
        std::stable_partition(addresses.begin(), addresses.end(),
                              [](const endpoint& e) { return e.is_v4(); });
        break;
    case address_family_preference::prefer_v6:
        std::stable_partition(addresses.begin(), addresses.end(),
                              [](const endpoint& e) { return !e.is_v4(); });
        break;
    case address_family_preference::v4_only:
        std::erase_if(addresses, [](const endpoint& e) { return !e.is_v4(); });
        break;
    case address_family_preference::v6_only:
        std::erase_if(addresses, [](const endpoint& e) { return e.is_v4(); });
        break;
    }
    if (addresses.empty()) {
        return fail(errc::no_address_for_family);
    }
    return addresses;
}

std::vector<endpoint> loopback_addresses() {
    std::vector<endpoint> addresses;
    for (const char* text : {"127.0.0.1", "::1"}) {
        if (std::optional<endpoint> address = endpoint::parse_address(text, 0)) {
            addresses.push_back(*address);
        }
    }
    return addresses;
}

std::string server_list(const std::vector<endpoint>& servers) {
    std::string csv;
    for (const endpoint& server : servers) {
        if (!csv.empty()) {
            csv += ',';
        }
        // "1.2.3.4:53" or "[::1]:53", which is what ares_set_servers_ports_csv reads.
        csv += server.to_string();
    }
    return csv;
}

} // namespace

/// The resolver's state: the c-ares channel, its poller, the cache and the queries in flight.
class resolver::impl {
public:
    impl(io::ring& ring, resolver_options options) noexcept
        : m_ring(ring), m_options(std::move(options)),
          m_poller(ring, this, &impl::on_socket_ready, &impl::on_timer) {}

    impl(const impl&) = delete;
    impl& operator=(const impl&) = delete;
    impl(impl&&) = delete;
    impl& operator=(impl&&) = delete;

    ~impl() {
        if (m_waiting != 0) {
            std::fprintf(stderr, "spate::net::resolver destroyed with %zu lookup(s) waiting\n",
                         m_waiting);
            std::abort();
        }
        if (m_channel != nullptr) {
            // Queries nobody waits for end here (ARES_EDESTRUCTION); normally none is left,
            // since the last lookup to finish cancels them.
            ares_destroy(m_channel);
        }
    }

    result<void> init();

    // What a waiting lookup receives: addresses without ports, or the error.
    struct answer {
        std::vector<endpoint> addresses;
        std::error_code error;
    };

    [[nodiscard]] std::optional<answer> cached(const std::string& key) const;
    [[nodiscard]] io::task<answer> look_up(std::string key, resolve_options options);
    [[nodiscard]] io::task<void> wind_down();

    io::ring& m_ring;
    resolver_options m_options;
    ares_channel m_channel = nullptr;
    detail::ring_poller m_poller;

    struct cache_entry {
        std::vector<endpoint> addresses;
        std::error_code error;
        clock_type::time_point stored;
        clock_type::time_point expires;
    };
    std::unordered_map<std::string, cache_entry> m_cache;

    std::size_t m_lookups = 0; // look_up() calls running
    std::size_t m_waiting = 0; // of those, registered with a query
    std::size_t m_started = 0;

private:
    struct waiter {
        detail::wake_signal signal;
        answer outcome;
        bool done = false;
    };
    struct query {
        impl* owner = nullptr;
        std::string key;
        std::vector<waiter*> waiters;
    };

    [[nodiscard]] clock_type::time_point now() const {
        return m_options.clock ? m_options.clock() : clock_type::now();
    }
    void finish(query& done, int status, ares_addrinfo* info) noexcept;
    void store(const std::string& key, const answer& outcome,
               std::optional<std::chrono::seconds> ttl);
    void update_timer();

    static void on_sock_state(void* data, ares_socket_t fd, int readable, int writable) noexcept;
    static void on_addrinfo(void* arg, int status, int timeouts, ares_addrinfo* info) noexcept;
    static void on_socket_ready(void* context, int fd, unsigned revents) noexcept;
    static void on_timer(void* context) noexcept;

    std::unordered_map<std::string, std::unique_ptr<query>> m_queries;
};

result<void> resolver::impl::init() {
    static const int library = ares_library_init(ARES_LIB_INIT_ALL);
    if (library != ARES_SUCCESS) {
        return fail(errc::resolver_init_failed);
    }
    ares_options options{};
    int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_LOOKUPS;
    options.sock_state_cb = &impl::on_sock_state;
    options.sock_state_cb_data = this;
    const auto timeout_ms = std::clamp<std::chrono::milliseconds::rep>(
        m_options.server_timeout.count(), 1, std::numeric_limits<int>::max());
    options.timeout = static_cast<int>(timeout_ms);
    options.tries = std::max(m_options.tries, 1);
    // "f": /etc/hosts, "b": DNS. c-ares only reads the string.
    static char hosts_then_dns[] = "fb";
    static char dns_only[] = "b";
    options.lookups = m_options.use_hosts_file ? hosts_then_dns : dns_only;
    if (!m_options.use_search_domains) {
        mask |= ARES_OPT_FLAGS | ARES_OPT_DOMAINS;
        options.flags = ARES_FLAG_NOSEARCH;
        options.domains = nullptr;
        options.ndomains = 0;
    }
    if (ares_init_options(&m_channel, &options, mask) != ARES_SUCCESS) {
        m_channel = nullptr;
        return fail(errc::resolver_init_failed);
    }
    if (!m_options.servers.empty()) {
        const std::string csv = server_list(m_options.servers);
        if (ares_set_servers_ports_csv(m_channel, csv.c_str()) != ARES_SUCCESS) {
            return fail(errc::resolver_init_failed);
        }
    }
    return {};
}

std::optional<resolver::impl::answer> resolver::impl::cached(const std::string& key) const {
    auto it = m_cache.find(key);
    if (it == m_cache.end() || now() >= it->second.expires) {
        return std::nullopt;
    }
    return answer{it->second.addresses, it->second.error};
}

void resolver::impl::store(const std::string& key, const answer& outcome,
                           std::optional<std::chrono::seconds> ttl) {
    if (m_options.max_cache_entries == 0) {
        return;
    }
    const clock_type::time_point stored = now();
    std::chrono::seconds keep = m_options.negative_ttl;
    if (ttl) {
        keep = std::clamp(*ttl, m_options.min_ttl, std::max(m_options.min_ttl, m_options.max_ttl));
    }
    if (m_cache.size() >= m_options.max_cache_entries && !m_cache.contains(key)) {
        std::erase_if(m_cache,
                      [stored](const auto& entry) { return stored >= entry.second.expires; });
    }
    if (m_cache.size() >= m_options.max_cache_entries && !m_cache.contains(key)) {
        auto oldest =
            std::min_element(m_cache.begin(), m_cache.end(), [](const auto& a, const auto& b) {
                return a.second.stored < b.second.stored;
            });
        m_cache.erase(oldest);
    }
    m_cache[key] = cache_entry{outcome.addresses, outcome.error, stored, stored + keep};
}

io::task<resolver::impl::answer> resolver::impl::look_up(std::string key, resolve_options options) {
    waiter self;
    query* shared = nullptr;
    bool start = false;
    if (auto it = m_queries.find(key); it != m_queries.end()) {
        shared = it->second.get();
    } else {
        auto fresh = std::make_unique<query>();
        fresh->owner = this;
        fresh->key = key;
        shared = fresh.get();
        m_queries.emplace(key, std::move(fresh));
        start = true;
    }
    // Registered before the query starts: c-ares may answer inside ares_getaddrinfo.
    shared->waiters.push_back(&self);
    ++m_waiting;
    if (start) {
        ++m_started;
        ares_addrinfo_hints hints{};
        hints.ai_family = AF_UNSPEC;
        // No RFC 6724 sorting: it probes routes with extra sockets, and callers order by
        // their own address_family_preference.
        hints.ai_flags = ARES_AI_NOSORT;
        ares_getaddrinfo(m_channel, key.c_str(), nullptr, &hints, &impl::on_addrinfo, shared);
        // `shared` may be gone now, if the answer came at once.
        update_timer();
    }

    std::stop_callback on_stop(options.stop, [&self]() noexcept { self.signal.notify(); });
    if (!self.done) {
        result<void> slept =
            co_await self.signal.wait_until(m_ring, clock_type::now() + options.timeout);
        (void)slept; // done, stopped or deadline: told apart below
    }
    if (self.done) {
        co_return std::move(self.outcome);
    }
    // Deadline or stop before the answer: leave the query, which may go on for others.
    if (auto it = m_queries.find(key); it != m_queries.end()) {
        std::erase(it->second->waiters, &self);
    }
    --m_waiting;
    co_return answer{{},
                     options.stop.stop_requested() ? make_error_code(errc::cancelled)
                                                   : make_error_code(errc::timed_out)};
}

io::task<void> resolver::impl::wind_down() {
    // No lookup is running: queries left behind by lookups that gave up are cancelled
    // (nobody waits for them), which makes c-ares close its sockets; then the frames
    // that watched them are allowed to end.
    if (!m_queries.empty()) {
        ares_cancel(m_channel);
    }
    update_timer();
    co_await m_poller.settle();
}

void resolver::impl::finish(query& done, int status, ares_addrinfo* info) noexcept {
    answer outcome;
    std::optional<std::chrono::seconds> ttl;
    if (status == ARES_SUCCESS && info != nullptr) {
        int shortest = std::numeric_limits<int>::max();
        for (const ares_addrinfo_node* node = info->nodes; node != nullptr; node = node->ai_next) {
            std::optional<endpoint> address =
                endpoint::from_sockaddr(node->ai_addr, static_cast<socklen_t>(node->ai_addrlen));
            if (!address) {
                continue;
            }
            address->set_port(0);
            if (std::find(outcome.addresses.begin(), outcome.addresses.end(), *address) ==
                outcome.addresses.end()) {
                outcome.addresses.push_back(*address);
            }
            shortest = std::min(shortest, node->ai_ttl);
        }
        for (const ares_addrinfo_cname* alias = info->cnames; alias != nullptr;
             alias = alias->next) {
            shortest = std::min(shortest, alias->ttl);
        }
        if (outcome.addresses.empty()) {
            outcome.error = errc::no_address;
        } else {
            ttl = std::chrono::seconds(std::max(shortest, 0));
        }
    } else {
        outcome.error = map_ares_status(status);
    }
    if (info != nullptr) {
        ares_freeaddrinfo(info);
    }
    if (!outcome.error || is_cacheable_failure(outcome.error)) {
        store(done.key, outcome, ttl);
    }
    for (waiter* waiting : done.waiters) {
        waiting->outcome = outcome;
        waiting->done = true;
        waiting->signal.notify(); // resumes it through the ring, not from inside c-ares
    }
    m_waiting -= done.waiters.size();
    m_queries.erase(done.key); // frees `done`
}

void resolver::impl::update_timer() {
    timeval tv{};
    if (ares_timeout(m_channel, nullptr, &tv) == nullptr) {
        m_poller.clear_timer();
        return;
    }
    const auto wait = std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec);
    // Whole milliseconds, so an unchanged c-ares deadline does not re-arm the ring timer.
    m_poller.set_timer(std::chrono::ceil<std::chrono::milliseconds>(clock_type::now() + wait));
}

void resolver::impl::on_sock_state(void* data, ares_socket_t fd, int readable,
                                   int writable) noexcept {
    auto& self = *static_cast<impl*>(data);
    if (readable == 0 && writable == 0) {
        self.m_poller.unwatch(fd);
        return;
    }
    self.m_poller.watch(fd, (readable != 0 ? POLLIN : 0U) | (writable != 0 ? POLLOUT : 0U));
}

void resolver::impl::on_addrinfo(void* arg, int status, int /*timeouts*/,
                                 ares_addrinfo* info) noexcept {
    auto& done = *static_cast<query*>(arg);
    done.owner->finish(done, status, info);
}

void resolver::impl::on_socket_ready(void* context, int fd, unsigned revents) noexcept {
    auto& self = *static_cast<impl*>(context);
    const bool writable = (revents & POLLOUT) != 0;
    // Errors and hang-ups surface through a read, which c-ares handles per server.
    const bool readable = (revents & ~static_cast<unsigned>(POLLOUT)) != 0 || !writable;
    ares_process_fd(self.m_channel, readable ? fd : ARES_SOCKET_BAD,
                    writable ? fd : ARES_SOCKET_BAD);
    self.update_timer();
}

void resolver::impl::on_timer(void* context) noexcept {
    auto& self = *static_cast<impl*>(context);
    ares_process_fd(self.m_channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    self.update_timer();
}

// ---------------------------------------------------------------------------------------

result<std::unique_ptr<resolver>> resolver::create(io::ring& ring, resolver_options options) {
    auto state = std::make_unique<impl>(ring, std::move(options));
    if (result<void> ready = state->init(); !ready) {
        return fail(ready.error());
    }
    return std::unique_ptr<resolver>(new resolver(std::move(state)));
}

resolver::resolver(std::unique_ptr<impl> state) noexcept : m_impl(std::move(state)) {}

resolver::~resolver() = default;

io::task<result<std::vector<endpoint>>> resolver::resolve(std::string host, std::uint16_t port,
                                                          address_family_preference preference,
                                                          resolve_options options) {
    if (std::optional<endpoint> literal = detail::literal_address(host, port)) {
        co_return shape({*literal}, port, preference);
    }
    if (detail::is_localhost(host)) {
        co_return shape(loopback_addresses(), port, preference);
    }
    if (!detail::is_valid_host_name(host)) {
        co_return fail(errc::bad_host_name);
    }
    impl& self = *m_impl;
    std::string key = detail::normalize_host_name(host);
    std::optional<impl::answer> outcome = self.cached(key);
    if (!outcome) {
        ++self.m_lookups;
        // The task is made in a statement of its own: g++ 12 may destroy temporaries of a
        // co_await expression twice.
        io::task<impl::answer> looking = self.look_up(std::move(key), std::move(options));
        impl::answer looked_up = co_await looking;
        outcome = std::move(looked_up);
        if (--self.m_lookups == 0) {
            co_await self.wind_down();
        }
    }
    if (outcome->error) {
        co_return fail(outcome->error);
    }
    co_return shape(std::move(outcome->addresses), port, preference);
}

std::size_t resolver::cache_size() const noexcept {
    return m_impl->m_cache.size();
}

void resolver::clear_cache() noexcept {
    m_impl->m_cache.clear();
}

std::size_t resolver::queries_started() const noexcept {
    return m_impl->m_started;
}

} // namespace spate::net
