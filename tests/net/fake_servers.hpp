#pragma once
// Servers the net tests talk to, on the test's ring and on 127.0.0.1 only: a tiny DNS
// responder (UDP) and a tiny HTTP/1.1 server (one request per connection). Both count
// what they were asked, and stop when the stop token passed to serve() is requested.

#include <spate/core/endpoint.hpp>
#include <spate/io/ring.hpp>
#include <spate/io/scope.hpp>
#include <spate/io/task.hpp>
#include <spate/io/unique_fd.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <stop_token>
#include <string>
#include <vector>

namespace spate::net::testing {

/// Answers A and AAAA questions for the names it knows, NXDOMAIN for the rest, and
/// nothing at all for "silent" names.
class fake_dns {
public:
    struct record {
        std::vector<endpoint> addresses; // IPv4 ones answer A, IPv6 ones AAAA
        std::uint32_t ttl = 300;
    };

    explicit fake_dns(io::ring& ring);

    [[nodiscard]] endpoint address() const { return m_address; }
    void add(const std::string& name, record answer) { m_records[name] = std::move(answer); }
    void add_silent(const std::string& name) { m_silent.insert(name); }
    /// Questions received for `name` (any type).
    [[nodiscard]] int queries(const std::string& name) const;

    /// Answers until `stop` is requested (bounded by a large number of questions).
    [[nodiscard]] io::task<void> serve(std::stop_token stop);

private:
    std::vector<std::byte> answer(std::span<const std::byte> question_packet);

    io::ring& m_ring;
    io::unique_fd m_fd;
    endpoint m_address;
    std::map<std::string, record> m_records;
    std::set<std::string> m_silent;
    std::map<std::string, int> m_queries;
};

/// Serves canned replies by path; one request per connection, closed after the reply.
class fake_http {
public:
    /// A route's reply: the raw bytes to send, or hang (read until the client goes away).
    /// With `hold`, the connection stays open after the reply until the client closes it.
    struct route {
        std::string reply;
        bool hang = false;
        bool hold = false;
    };

    explicit fake_http(io::ring& ring);

    [[nodiscard]] std::uint16_t port() const { return m_port; }
    void add(const std::string& path, route reply) { m_routes[path] = std::move(reply); }
    /// Called when a hanging route is reached (say to cancel the request).
    void on_hang(std::function<void()> hook) { m_on_hang = std::move(hook); }
    /// Connections accepted and requests read.
    [[nodiscard]] int connections() const { return m_connections; }
    [[nodiscard]] int requests(const std::string& path) const;
    /// The head of the last request read (request line and headers).
    [[nodiscard]] const std::string& last_request() const { return m_last_request; }

    /// A reply with Content-Length, or, when `with_length` is false, one whose body ends
    /// when the connection closes.
    [[nodiscard]] static std::string reply(int status, const std::string& body,
                                           const std::string& headers = {},
                                           bool with_length = true);

    /// Accepts until `stop` is requested; every connection ends before serve() does.
    [[nodiscard]] io::task<void> serve(std::stop_token stop);

private:
    static io::task<void> handle(fake_http& self, int fd, std::stop_token stop);

    io::ring& m_ring;
    io::unique_fd m_listen;
    std::uint16_t m_port = 0;
    std::map<std::string, route> m_routes;
    std::map<std::string, int> m_requests;
    std::function<void()> m_on_hang;
    int m_connections = 0;
    std::string m_last_request;
};

/// Runs `body` while the given servers serve (either may be null), then stops them.
[[nodiscard]] io::task<void> with_servers(fake_http* http, fake_dns* dns, io::task<void> body);

} // namespace spate::net::testing
