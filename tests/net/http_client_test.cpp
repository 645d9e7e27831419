#include "../io/test_support.hpp"
#include "fake_servers.hpp"

#include <spate/io/scope.hpp>
#include <spate/net/error.hpp>
#include <spate/net/http_client.hpp>
#include <spate/net/resolver.hpp>

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <array>
#include <chrono>
#include <memory>
#include <netinet/in.h>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using spate::endpoint;
using spate::result;
using spate::io::ring;
using spate::io::task;
using spate::net::errc;
using spate::net::http_client;
using spate::net::http_request_options;
using spate::net::http_response;
using spate::net::resolver;
using spate::net::resolver_options;
using spate::net::testing::fake_dns;
using spate::net::testing::fake_http;
using spate::net::testing::with_servers;

using fetched = result<http_response>;

std::string text(const std::vector<std::byte>& body) {
    return {reinterpret_cast<const char*>(body.data()), body.size()};
}

// A ring, a fake DNS server that knows tracker.test as 127.0.0.1, a fake HTTP server, and
// a client whose resolver asks only the fake DNS server.
struct setup {
    ring& r;
    fake_dns dns;
    fake_http http;
    std::unique_ptr<resolver> names;
    std::unique_ptr<http_client> client;

    explicit setup(ring& owner) : r(owner), dns(owner), http(owner) {
        dns.add("tracker.test", {{*endpoint::parse_address("127.0.0.1", 0)}, 300});
        resolver_options options;
        options.servers = {dns.address()};
        options.use_hosts_file = false;
        options.use_search_domains = false;
        options.server_timeout = 300ms;
        options.tries = 2;
        auto made = resolver::create(r, std::move(options));
        EXPECT_TRUE(made) << made.error().message();
        if (made) {
            names = std::move(*made);
            auto made_client = http_client::create(r, *names);
            EXPECT_TRUE(made_client) << made_client.error().message();
            if (made_client) {
                client = std::move(*made_client);
            }
        }
    }

    [[nodiscard]] std::string url(const std::string& path, const std::string& host = "127.0.0.1",
                                  const std::string& scheme = "http") const {
        return scheme + "://" + host + ":" + std::to_string(http.port()) + path;
    }

    fetched get(std::string target, http_request_options options = {}) {
        fetched out = spate::fail(errc::http_failed);
        r.run(with_servers(&http, &dns,
                           get_into(*client, std::move(target), std::move(options), out)));
        EXPECT_EQ(client->active(), 0U);
        return out;
    }

    static task<void> get_into(http_client& client, std::string target,
                               http_request_options options, fetched& out) {
        task<fetched> getting = client.get(std::move(target), std::move(options));
        out = co_await getting;
    }
};

TEST(http_client, gets_a_body) {
    SPATE_RING_OR_SKIP(r);
    setup s(r);
    ASSERT_TRUE(s.client);
    s.http.add("/announce?x=1", {fake_http::reply(200, "d8:intervali1800ee")});
    fetched got = s.get(s.url("/announce?x=1"));
    ASSERT_TRUE(got) << got.error().message();
    EXPECT_EQ(got->status, 200);
    EXPECT_EQ(text(got->body), "d8:intervali1800ee");
    EXPECT_EQ(got->effective_url, s.url("/announce?x=1"));
    EXPECT_EQ(s.http.requests("/announce?x=1"), 1);
    EXPECT_NE(s.http.last_request().find("User-Agent: spate/0.1.0\r\n"), std::string::npos);
    EXPECT_NE(s.http.last_request().find("Accept-Encoding: identity\r\n"), std::string::npos);
}

TEST(http_client, kept_alive_connection_is_released_with_the_client) {
    SPATE_RING_OR_SKIP(r);
    setup s(r);
    ASSERT_TRUE(s.client);
    // No "Connection: close", and the server keeps the connection open: curl caches it.
    // The request must still leave no watcher behind, or destroying the client aborts.
    s.http.add(
        "/keep",
        {.reply = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nkept", .hang = false, .hold = true});
    fetched got = s.get(s.url("/keep"));
    ASSERT_TRUE(got) << got.error().message();
    EXPECT_EQ(text(got->body), "kept");
    s.client.reset();
}

TEST(http_client, error_status_is_a_response) {
    SPATE_RING_OR_SKIP(r);
    setup s(r);
    ASSERT_TRUE(s.client);
    fetched got = s.get(s.url("/missing"));
    ASSERT_TRUE(got) << got.error().message();
    EXPECT_EQ(got->status, 404);
    EXPECT_EQ(text(got->body), "no such path");
}

TEST(http_client, host_names_go_through_our_resolver) {
    SPATE_RING_OR_SKIP(r);
    setup s(r);
    ASSERT_TRUE(s.client);
    s.http.add("/ok", {fake_http::reply(200, "named")});
    // tracker.test exists only on the fake DNS server: curl's own resolver cannot know it.
    fetched got = s.get(s.url("/ok", "tracker.test"));
    ASSERT_TRUE(got) << got.error().message();
    EXPECT_EQ(text(got->body), "named");
    EXPECT_GE(s.dns.queries("tracker.test"), 1);
    fetched upper = s.get(s.url("/ok", "TRACKER.test"));
    ASSERT_TRUE(upper) << upper.error().message();
    fetched local = s.get(s.url("/ok", "localhost"));
    ASSERT_TRUE(local) << local.error().message();
    EXPECT_EQ(text(local->body), "named");
}

TEST(http_client, unknown_host_is_host_not_found) {
    SPATE_RING_OR_SKIP(r);
    setup s(r);
    ASSERT_TRUE(s.client);
    fetched got = s.get(s.url("/ok", "nowhere.test"));
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error(), errc::host_not_found);
}

TEST(http_client, body_over_the_cap_is_refused) {
    SPATE_RING_OR_SKIP(r);
    setup s(r);
    ASSERT_TRUE(s.client);
    const std::string big(5000, 'x');
    s.http.add("/length", {fake_http::reply(200, big)});
    s.http.add("/stream", {fake_http::reply(200, big, {}, false)});
    s.http.add("/fits", {fake_http::reply(200, std::string(1000, 'y'), {}, false)});
    http_request_options options;
    options.max_body_size = 1000;
    for (const char* path : {"/length", "/stream"}) {
        fetched got = s.get(s.url(path), options);
        ASSERT_FALSE(got) << path;
        EXPECT_EQ(got.error(), errc::body_too_large) << path << ": " << got.error().message();
    }
    fetched fits = s.get(s.url("/fits"), options);
    ASSERT_TRUE(fits) << fits.error().message();
    EXPECT_EQ(fits->body.size(), 1000U);
}

TEST(http_client, silent_server_times_out) {
    SPATE_RING_OR_SKIP(r);
    setup s(r);
    ASSERT_TRUE(s.client);
    s.http.add("/hang", {.reply = {}, .hang = true, .hold = false});
    http_request_options options;
    options.timeout = 200ms;
    fetched got = s.get(s.url("/hang"), options);
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error(), errc::timed_out);
    EXPECT_EQ(got.error(), std::errc::timed_out);
}

TEST(http_client, follows_a_redirect) {
    SPATE_RING_OR_SKIP(r);
    setup s(r);
    ASSERT_TRUE(s.client);
    s.http.add("/old", {fake_http::reply(302, "", "Location: /new\r\n")});
    s.http.add("/to-name",
               {fake_http::reply(301, "", "Location: " + s.url("/new", "tracker.test") + "\r\n")});
    s.http.add("/new", {fake_http::reply(200, "moved")});
    fetched got = s.get(s.url("/old"));
    ASSERT_TRUE(got) << got.error().message();
    EXPECT_EQ(got->status, 200);
    EXPECT_EQ(text(got->body), "moved");
    EXPECT_EQ(got->effective_url, s.url("/new"));
    fetched named = s.get(s.url("/to-name"));
    ASSERT_TRUE(named) << named.error().message();
    EXPECT_EQ(named->effective_url, s.url("/new", "tracker.test"));
}

TEST(http_client, redirect_loop_stops_after_max_redirects) {
    SPATE_RING_OR_SKIP(r);
    setup s(r);
    ASSERT_TRUE(s.client);
    s.http.add("/loop", {fake_http::reply(302, "", "Location: /loop\r\n")});
    http_request_options options;
    options.max_redirects = 3;
    fetched got = s.get(s.url("/loop"), options);
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error(), errc::too_many_redirects);
    EXPECT_EQ(s.http.requests("/loop"), 4); // the request and 3 redirects
}

TEST(http_client, redirect_to_another_scheme_is_refused) {
    SPATE_RING_OR_SKIP(r);
    setup s(r);
    ASSERT_TRUE(s.client);
    s.http.add("/ftp", {fake_http::reply(302, "", "Location: ftp://127.0.0.1/file\r\n")});
    fetched got = s.get(s.url("/ftp"));
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error(), errc::redirect_not_http);
}

TEST(http_client, bad_urls_are_refused) {
    SPATE_RING_OR_SKIP(r);
    setup s(r);
    ASSERT_TRUE(s.client);
    fetched udp = s.get("udp://127.0.0.1:6969/announce");
    ASSERT_FALSE(udp);
    EXPECT_EQ(udp.error(), errc::unsupported_scheme);
    fetched ftp = s.get("ftp://127.0.0.1/file");
    ASSERT_FALSE(ftp);
    EXPECT_EQ(ftp.error(), errc::unsupported_scheme);
    fetched junk = s.get("http://");
    ASSERT_FALSE(junk);
    EXPECT_EQ(junk.error(), errc::bad_url);
}

TEST(http_client, closed_port_is_connection_refused) {
    SPATE_RING_OR_SKIP(r);
    setup s(r);
    ASSERT_TRUE(s.client);
    // A port that was just bound and released: nothing listens on it.
    int probe = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    ASSERT_EQ(::bind(probe, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    ASSERT_EQ(::getsockname(probe, reinterpret_cast<sockaddr*>(&address), &length), 0);
    ::close(probe);
    fetched got = s.get("http://127.0.0.1:" + std::to_string(ntohs(address.sin_port)) + "/");
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error(), errc::connection_refused);
    EXPECT_EQ(got.error(), std::errc::connection_refused);
    EXPECT_EQ(got.error().message(), "connection refused");
}

TEST(http_client, literal_ipv6_host_is_not_looked_up_by_curl) {
    SPATE_RING_OR_SKIP(r);
    setup s(r);
    ASSERT_TRUE(s.client);
    // Nothing listens on [::1] here; what matters is that curl connected (refused, or
    // unreachable without IPv6) rather than starting a lookup of its own.
    fetched got = s.get("http://[::1]:" + std::to_string(s.http.port()) + "/");
    ASSERT_FALSE(got);
    EXPECT_TRUE(got.error() == errc::connection_refused || got.error() == errc::connect_failed)
        << got.error().message();
}

TEST(http_client, stop_request_cancels_a_request) {
    SPATE_RING_OR_SKIP(r);
    setup s(r);
    ASSERT_TRUE(s.client);
    s.http.add("/hang", {.reply = {}, .hang = true, .hold = false});
    std::stop_source stop;
    // The server asks for the stop once the request reached it, so the cancel hits a
    // transfer in flight.
    s.http.on_hang([&stop] { stop.request_stop(); });
    http_request_options options;
    options.stop = stop.get_token();
    fetched got = s.get(s.url("/hang"), options);
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error(), errc::cancelled);
    EXPECT_EQ(got.error(), std::errc::operation_canceled);
    // The client goes on working.
    s.http.add("/ok", {fake_http::reply(200, "after")});
    fetched after = s.get(s.url("/ok"));
    ASSERT_TRUE(after) << after.error().message();
    EXPECT_EQ(text(after->body), "after");
}

task<void> get_many(http_client& client, std::vector<std::string> urls, std::vector<fetched>& out) {
    spate::io::scope requests;
    out.assign(urls.size(), spate::fail(errc::http_failed));
    for (std::size_t i = 0; i < urls.size(); ++i) {
        requests.spawn(setup::get_into(client, urls[i], {}, out[i]));
    }
    co_await requests.join();
}

TEST(http_client, twenty_concurrent_requests_on_one_ring) {
    SPATE_RING_OR_SKIP(r);
    setup s(r);
    ASSERT_TRUE(s.client);
    std::vector<std::string> urls;
    for (int i = 0; i < 20; ++i) {
        const std::string path = "/n" + std::to_string(i);
        s.http.add(path, {fake_http::reply(200, "body " + std::to_string(i))});
        urls.push_back(s.url(path, i % 2 == 0 ? "127.0.0.1" : "tracker.test"));
    }
    std::vector<fetched> got;
    r.run(with_servers(&s.http, &s.dns, get_many(*s.client, urls, got)));
    ASSERT_EQ(got.size(), 20U);
    for (int i = 0; i < 20; ++i) {
        ASSERT_TRUE(got[i]) << i << ": " << got[i].error().message();
        EXPECT_EQ(got[i]->status, 200);
        EXPECT_EQ(text(got[i]->body), "body " + std::to_string(i));
    }
    EXPECT_EQ(s.client->active(), 0U);
}

TEST(http_client, https_to_a_plain_server_is_a_tls_error) {
    SPATE_RING_OR_SKIP(r);
    setup s(r);
    ASSERT_TRUE(s.client);
    http_request_options options;
    options.timeout = 10s; // a hang would show as timed_out, not as tls_failed
    fetched got = s.get(s.url("/", "127.0.0.1", "https"), options);
    ASSERT_FALSE(got);
    // Without a CA bundle (a minimal machine) curl stops at loading it, before the
    // handshake: either way the request ends in a TLS error, not a hang.
    EXPECT_TRUE(got.error() == errc::tls_failed || got.error() == errc::tls_verify_failed)
        << got.error().message();
}

} // namespace
