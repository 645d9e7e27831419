#include <spate/tracker/http_tracker_client.hpp>

#include <spate/net/error.hpp>
#include <spate/tracker/error.hpp>

namespace spate::tracker {

namespace {

net::http_request_options request_options(const http_tracker_settings& settings,
                                          std::stop_token stop) {
    net::http_request_options options;
    options.max_body_size = settings.max_body_size;
    options.timeout = settings.timeout;
    options.stop = std::move(stop);
    return options;
}

// A non-200 reply is believed only when its body is a bencoded refusal: trackers send
// "failure reason" with 4xx statuses, and anything else is a web server's error page.
template <typename Response>
result<Response> judge(long status, result<Response> parsed) {
    if (status == 200) {
        return parsed;
    }
    if (parsed && parsed->failure) {
        return parsed;
    }
    return fail(net::http_status_error(status));
}

} // namespace

io::task<result<announce_response>> http_announce(net::http_client& client,
                                                   std::string announce_url,
                                                   announce_request request,
                                                   http_tracker_settings settings,
                                                   std::stop_token stop) {
    auto url = http::build_announce_url(announce_url, request);
    if (!url) {
        co_return fail(url.error());
    }
    auto reply = co_await client.get(std::move(*url), request_options(settings, std::move(stop)));
    if (!reply) {
        co_return fail(reply.error());
    }
    co_return judge(reply->status, http::parse_announce_response(reply->body));
}

io::task<result<http::scrape_response>> http_scrape(net::http_client& client,
                                                    std::string announce_url,
                                                    std::vector<sha1_digest> info_hashes,
                                                    http_tracker_settings settings,
                                                    std::stop_token stop) {
    auto scrape_url = http::scrape_url_for(announce_url);
    if (!scrape_url) {
        co_return fail(scrape_url.error());
    }
    auto url = http::build_scrape_url(*scrape_url, info_hashes);
    if (!url) {
        co_return fail(url.error());
    }
    auto reply = co_await client.get(std::move(*url), request_options(settings, std::move(stop)));
    if (!reply) {
        co_return fail(reply.error());
    }
    co_return judge(reply->status, http::parse_scrape_response(reply->body));
}

} // namespace spate::tracker
