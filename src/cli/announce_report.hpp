#pragma once
// What one tracker answered to `spate announce`, and how it is printed.

#include <spate/core/result.hpp>
#include <spate/tracker/announce.hpp>
#include <spate/tracker/http_codec.hpp>

#include <optional>
#include <string>

namespace spate::cli {

struct tracker_outcome {
    std::string url;
    /// Set when the tracker answered an announce (and did not refuse it).
    std::optional<tracker::announce_response> announce;
    /// Set when the tracker answered a scrape (and did not refuse it).
    std::optional<tracker::http::scrape_response> scrape;
    /// Why there is no answer: the tracker's refusal or what went wrong; empty when ok.
    std::string error;

    [[nodiscard]] bool ok() const { return error.empty() && (announce || scrape); }
    /// Records a client's result; a refusal becomes an error quoting the tracker.
    void take(result<tracker::announce_response> answered);
    void take(result<tracker::http::scrape_response> scraped);
};

/// One line (or a few) per tracker on stdout: text for people, or one JSON object.
void print_outcome(const tracker_outcome& outcome, bool scrape, bool json);

} // namespace spate::cli
