#include "../io/test_support.hpp"
#include "fake_servers.hpp"

#include <spate/io/scope.hpp>
#include <spate/io/timer_ops.hpp>
#include <spate/net/error.hpp>
#include <spate/net/resolver.hpp>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using spate::endpoint;
using spate::result;
using spate::io::ring;
using spate::io::task;
using spate::net::address_family_preference;
using spate::net::errc;
using spate::net::resolve_options;
using spate::net::resolver;
using spate::net::resolver_options;
using spate::net::testing::fake_dns;
using spate::net::testing::with_servers;

using lookup = result<std::vector<endpoint>>;

endpoint ip(const char* text) {
    return *endpoint::parse_address(text, 0);
}

std::vector<std::string> strings(const lookup& found) {
    std::vector<std::string> out;
    if (found) {
        for (const endpoint& e : *found) {
            out.push_back(e.to_string());
        }
    }
    return out;
}

// A resolver that asks only the fake server: no /etc/hosts, no search domains, and so
// no real DNS server is ever asked. Its cache ages by `now`.
std::unique_ptr<resolver> make_resolver(ring& r, const fake_dns& dns,
                                        std::chrono::steady_clock::time_point* now = nullptr) {
    resolver_options options;
    options.servers = {dns.address()};
    options.use_hosts_file = false;
    options.use_search_domains = false;
    options.server_timeout = 300ms;
    options.tries = 2;
    if (now != nullptr) {
        options.clock = [now] { return *now; };
    }
    auto created = resolver::create(r, std::move(options));
    EXPECT_TRUE(created) << created.error().message();
    return created ? std::move(*created) : nullptr;
}

task<void> resolve_into(resolver& names, std::string host, std::uint16_t port,
                        address_family_preference preference, resolve_options options,
                        lookup& out) {
    task<lookup> resolving = names.resolve(std::move(host), port, preference, std::move(options));
    out = co_await resolving;
}

// One lookup while the fake server serves.
lookup resolve_once(ring& r, fake_dns& dns, resolver& names, std::string host,
                    address_family_preference preference = address_family_preference::prefer_v4,
                    resolve_options options = {}) {
    lookup out = spate::fail(errc::resolver_failed);
    r.run(with_servers(
        nullptr, &dns,
        resolve_into(names, std::move(host), 6969, preference, std::move(options), out)));
    return out;
}

fake_dns::record tracker_record(std::uint32_t ttl) {
    return {{ip("127.0.0.7"), ip("fd00::7")}, ttl};
}

TEST(resolver, literal_addresses_need_no_lookup) {
    SPATE_RING_OR_SKIP(r);
    fake_dns dns(r);
    auto names = make_resolver(r, dns);
    ASSERT_TRUE(names);
    EXPECT_EQ(strings(resolve_once(r, dns, *names, "10.1.2.3")),
              std::vector<std::string>{"10.1.2.3:6969"});
    EXPECT_EQ(strings(resolve_once(r, dns, *names, "fd00::1")),
              std::vector<std::string>{"[fd00::1]:6969"});
    EXPECT_EQ(strings(resolve_once(r, dns, *names, "[::1]")),
              std::vector<std::string>{"[::1]:6969"});
    lookup wrong_family =
        resolve_once(r, dns, *names, "10.1.2.3", address_family_preference::v6_only);
    ASSERT_FALSE(wrong_family);
    EXPECT_EQ(wrong_family.error(), errc::no_address_for_family);
    EXPECT_EQ(names->queries_started(), 0U);
}

TEST(resolver, localhost_is_loopback_without_lookup) {
    SPATE_RING_OR_SKIP(r);
    fake_dns dns(r);
    auto names = make_resolver(r, dns);
    ASSERT_TRUE(names);
    EXPECT_EQ(strings(resolve_once(r, dns, *names, "localhost")),
              (std::vector<std::string>{"127.0.0.1:6969", "[::1]:6969"}));
    EXPECT_EQ(
        strings(resolve_once(r, dns, *names, "LOCALHOST.", address_family_preference::prefer_v6)),
        (std::vector<std::string>{"[::1]:6969", "127.0.0.1:6969"}));
    EXPECT_EQ(
        strings(resolve_once(r, dns, *names, "x.localhost", address_family_preference::v4_only)),
        std::vector<std::string>{"127.0.0.1:6969"});
    EXPECT_EQ(names->queries_started(), 0U);
    EXPECT_EQ(dns.queries("localhost"), 0);
}

TEST(resolver, bad_names_are_refused_without_lookup) {
    SPATE_RING_OR_SKIP(r);
    fake_dns dns(r);
    auto names = make_resolver(r, dns);
    ASSERT_TRUE(names);
    lookup found = resolve_once(r, dns, *names, "exa mple.test");
    ASSERT_FALSE(found);
    EXPECT_EQ(found.error(), errc::bad_host_name);
    EXPECT_EQ(names->queries_started(), 0U);
}

TEST(resolver, resolves_ipv4_and_ipv6_from_the_server) {
    SPATE_RING_OR_SKIP(r);
    fake_dns dns(r);
    dns.add("tracker.test", tracker_record(300));
    auto names = make_resolver(r, dns);
    ASSERT_TRUE(names);
    EXPECT_EQ(strings(resolve_once(r, dns, *names, "tracker.test")),
              (std::vector<std::string>{"127.0.0.7:6969", "[fd00::7]:6969"}));
    EXPECT_EQ(
        strings(resolve_once(r, dns, *names, "tracker.test", address_family_preference::prefer_v6)),
        (std::vector<std::string>{"[fd00::7]:6969", "127.0.0.7:6969"}));
    EXPECT_EQ(
        strings(resolve_once(r, dns, *names, "tracker.test", address_family_preference::v6_only)),
        std::vector<std::string>{"[fd00::7]:6969"});
}

TEST(resolver, answers_are_cached_for_their_ttl) {
    SPATE_RING_OR_SKIP(r);
    fake_dns dns(r);
    dns.add("tracker.test", tracker_record(300));
    auto now = std::chrono::steady_clock::time_point{} + 1000h;
    auto names = make_resolver(r, dns, &now);
    ASSERT_TRUE(names);
    ASSERT_TRUE(resolve_once(r, dns, *names, "tracker.test"));
    const int asked = dns.queries("tracker.test");
    EXPECT_GE(asked, 2); // A and AAAA
    now += 299s;
    // Cached: no question reaches the server, whatever the case of the name.
    EXPECT_TRUE(resolve_once(r, dns, *names, "TRACKER.test."));
    EXPECT_EQ(dns.queries("tracker.test"), asked);
    EXPECT_EQ(names->queries_started(), 1U);
    now += 2s;
    EXPECT_TRUE(resolve_once(r, dns, *names, "tracker.test"));
    EXPECT_GT(dns.queries("tracker.test"), asked);
    EXPECT_EQ(names->queries_started(), 2U);
}

TEST(resolver, ttl_is_floored_and_capped) {
    SPATE_RING_OR_SKIP(r);
    fake_dns dns(r);
    dns.add("zero.test", {{ip("127.0.0.8")}, 0});
    dns.add("long.test", {{ip("127.0.0.9")}, 7 * 24 * 3600});
    auto now = std::chrono::steady_clock::time_point{} + 1000h;
    auto names = make_resolver(r, dns, &now);
    ASSERT_TRUE(names);
    ASSERT_TRUE(resolve_once(r, dns, *names, "zero.test"));
    ASSERT_TRUE(resolve_once(r, dns, *names, "long.test"));
    EXPECT_EQ(names->queries_started(), 2U);
    now += 9s; // below the 10 s floor: TTL 0 is still cached
    ASSERT_TRUE(resolve_once(r, dns, *names, "zero.test"));
    EXPECT_EQ(names->queries_started(), 2U);
    now += 2s;
    ASSERT_TRUE(resolve_once(r, dns, *names, "zero.test"));
    EXPECT_EQ(names->queries_started(), 3U);
    now += 3600s; // past the 1 h cap, long before the week the record asked for
    ASSERT_TRUE(resolve_once(r, dns, *names, "long.test"));
    EXPECT_EQ(names->queries_started(), 4U);
}

TEST(resolver, unknown_name_is_host_not_found_and_cached_briefly) {
    SPATE_RING_OR_SKIP(r);
    fake_dns dns(r);
    auto now = std::chrono::steady_clock::time_point{} + 1000h;
    auto names = make_resolver(r, dns, &now);
    ASSERT_TRUE(names);
    lookup found = resolve_once(r, dns, *names, "nowhere.test");
    ASSERT_FALSE(found);
    EXPECT_EQ(found.error(), errc::host_not_found);
    EXPECT_EQ("cannot resolve nowhere.test: " + found.error().message(),
              "cannot resolve nowhere.test: no such host");
    const int asked = dns.queries("nowhere.test");
    EXPECT_GE(asked, 1);
    lookup again = resolve_once(r, dns, *names, "nowhere.test");
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error(), errc::host_not_found);
    EXPECT_EQ(dns.queries("nowhere.test"), asked);
    now += 31s;
    EXPECT_FALSE(resolve_once(r, dns, *names, "nowhere.test"));
    EXPECT_GT(dns.queries("nowhere.test"), asked);
}

TEST(resolver, ipv4_only_name_has_no_ipv6_address) {
    SPATE_RING_OR_SKIP(r);
    fake_dns dns(r);
    dns.add("v4.test", {{ip("127.0.0.10")}, 300});
    auto names = make_resolver(r, dns);
    ASSERT_TRUE(names);
    EXPECT_EQ(strings(resolve_once(r, dns, *names, "v4.test")),
              std::vector<std::string>{"127.0.0.10:6969"});
    lookup v6 = resolve_once(r, dns, *names, "v4.test", address_family_preference::v6_only);
    ASSERT_FALSE(v6);
    EXPECT_EQ(v6.error(), errc::no_address_for_family);
}

task<void> resolve_many(resolver& names, std::array<lookup, 5>& out) {
    spate::io::scope lookups;
    for (lookup& slot : out) {
        lookups.spawn(resolve_into(names, "tracker.test", 80, address_family_preference::prefer_v4,
                                   {}, slot));
    }
    co_await lookups.join();
}

TEST(resolver, concurrent_lookups_of_one_name_share_one_query) {
    SPATE_RING_OR_SKIP(r);
    fake_dns dns(r);
    dns.add("tracker.test", tracker_record(300));
    auto names = make_resolver(r, dns);
    ASSERT_TRUE(names);
    std::array<lookup, 5> found;
    found.fill(spate::fail(errc::resolver_failed));
    r.run(with_servers(nullptr, &dns, resolve_many(*names, found)));
    for (const lookup& one : found) {
        EXPECT_EQ(strings(one), (std::vector<std::string>{"127.0.0.7:80", "[fd00::7]:80"}));
    }
    EXPECT_EQ(names->queries_started(), 1U);
    EXPECT_EQ(dns.queries("tracker.test"), 2); // one A, one AAAA
}

TEST(resolver, silent_server_ends_at_the_lookup_deadline) {
    SPATE_RING_OR_SKIP(r);
    fake_dns dns(r);
    dns.add_silent("silent.test");
    dns.add("tracker.test", tracker_record(300));
    auto names = make_resolver(r, dns);
    ASSERT_TRUE(names);
    lookup found = resolve_once(r, dns, *names, "silent.test", address_family_preference::prefer_v4,
                                {.stop = {}, .timeout = 100ms});
    ASSERT_FALSE(found);
    EXPECT_EQ(found.error(), errc::timed_out);
    EXPECT_EQ(found.error(), std::errc::timed_out);
    // The resolver is still usable, and nothing failed is cached.
    EXPECT_TRUE(resolve_once(r, dns, *names, "tracker.test"));
    EXPECT_EQ(names->cache_size(), 1U);
}

TEST(resolver, silent_server_gives_up_after_its_tries) {
    SPATE_RING_OR_SKIP(r);
    fake_dns dns(r);
    dns.add_silent("silent.test");
    auto names = make_resolver(r, dns);
    ASSERT_TRUE(names);
    lookup found = resolve_once(r, dns, *names, "silent.test");
    ASSERT_FALSE(found);
    EXPECT_EQ(found.error(), errc::timed_out);
    EXPECT_EQ(names->cache_size(), 0U);
}

task<void> stop_after(ring& r, std::stop_source stop, std::chrono::milliseconds delay) {
    result<void> slept = co_await spate::io::sleep_for(r, delay);
    (void)slept;
    stop.request_stop();
}

task<void> resolve_and_cancel(ring& r, resolver& names, lookup& out) {
    spate::io::scope helpers;
    std::stop_source stop;
    helpers.spawn(stop_after(r, stop, 20ms));
    task<lookup> resolving = names.resolve("silent.test", 80, address_family_preference::prefer_v4,
                                           {.stop = stop.get_token(), .timeout = 10s});
    out = co_await resolving;
    co_await helpers.join();
}

TEST(resolver, stop_request_cancels_a_lookup) {
    SPATE_RING_OR_SKIP(r);
    fake_dns dns(r);
    dns.add_silent("silent.test");
    auto names = make_resolver(r, dns);
    ASSERT_TRUE(names);
    lookup found = spate::fail(errc::resolver_failed);
    r.run(with_servers(nullptr, &dns, resolve_and_cancel(r, *names, found)));
    ASSERT_FALSE(found);
    EXPECT_EQ(found.error(), errc::cancelled);
    EXPECT_EQ(found.error(), std::errc::operation_canceled);
}

} // namespace
