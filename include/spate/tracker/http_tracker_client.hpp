#pragma once
/// HTTP(S) tracker announce and scrape (BEP 3, 7, 23, 48): the HTTP codec over the
/// session's http_client, which runs libcurl on the ring.

#include <spate/core/result.hpp>
#include <spate/io/task.hpp>
#include <spate/net/http_client.hpp>
#include <spate/tracker/announce.hpp>
#include <spate/tracker/http_codec.hpp>

#include <chrono>
#include <stop_token>
#include <string>
#include <vector>

namespace spate::tracker {

struct http_tracker_settings {
    /// Largest reply body read (DESIGN.md: 1 MiB).
    std::size_t max_body_size = 1024 * 1024;
    /// Deadline of one request, redirects included.
    std::chrono::milliseconds timeout{30'000};
};

/// Announces `request` to `announce_url`. A tracker's "failure reason" is an answer: the
/// response has only `failure` set. A reply that is not 200 and not a bencoded refusal
/// fails with net::http_status_error(status) ("HTTP status 404 (not found)"); other errors
/// come from the HTTP client and the codec.
/// `client` is borrowed until the task completes; everything else is taken by value.
[[nodiscard]] io::task<result<announce_response>>
http_announce(net::http_client& client, std::string announce_url, announce_request request,
              http_tracker_settings settings = {}, std::stop_token stop = {});

/// Scrapes `info_hashes` through the scrape URL that BEP 48 derives from `announce_url`
/// (errc::scrape_not_supported when it cannot be derived).
[[nodiscard]] io::task<result<http::scrape_response>>
http_scrape(net::http_client& client, std::string announce_url,
            std::vector<sha1_digest> info_hashes, http_tracker_settings settings = {},
            std::stop_token stop = {});

} // namespace spate::tracker
