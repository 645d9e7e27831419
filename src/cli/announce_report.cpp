#include "announce_report.hpp"

#include "json_writer.hpp"

#include <fmt/core.h>

namespace spate::cli {

namespace {

std::string refusal(const std::string& reason) {
    return fmt::format("tracker refused: {}", reason);
}

template <typename T>
void write_optional(json_writer& w, std::string_view key, const std::optional<T>& value) {
    w.key(key);
    if (value) {
        w.value(static_cast<std::uint64_t>(*value));
    } else {
        w.null();
    }
}

std::string count_or_unknown(const std::optional<std::uint32_t>& value) {
    return value ? fmt::format("{}", *value) : std::string("?");
}

} // namespace

void tracker_outcome::take(result<tracker::announce_response> answered) {
    if (!answered) {
        error = answered.error().message();
    } else if (answered->failure) {
        error = refusal(*answered->failure);
    } else {
        announce = std::move(*answered);
    }
}

void tracker_outcome::take(result<tracker::http::scrape_response> scraped) {
    if (!scraped) {
        error = scraped.error().message();
    } else if (scraped->failure) {
        error = refusal(*scraped->failure);
    } else {
        scrape = std::move(*scraped);
    }
}

void print_outcome(const tracker_outcome& outcome, bool scrape, bool json) {
    if (json) {
        json_writer w;
        w.begin_object();
        w.key("tracker").value(outcome.url);
        w.key("ok").value(outcome.ok());
        if (!outcome.ok()) {
            w.key("error").value(outcome.error);
        } else if (scrape) {
            const auto& entries = outcome.scrape->entries;
            w.key("complete").value(std::uint64_t{entries.empty() ? 0 : entries[0].complete});
            w.key("downloaded")
                .value(std::uint64_t{entries.empty() ? 0 : entries[0].downloaded});
            w.key("incomplete")
                .value(std::uint64_t{entries.empty() ? 0 : entries[0].incomplete});
        } else {
            const auto& a = *outcome.announce;
            w.key("interval").value(static_cast<std::int64_t>(a.interval.count()));
            w.key("min_interval");
            if (a.min_interval) {
                w.value(static_cast<std::int64_t>(a.min_interval->count()));
            } else {
                w.null();
            }
            write_optional(w, "complete", a.complete);
            write_optional(w, "incomplete", a.incomplete);
            w.key("warning").value(a.warning);
            w.key("peers").begin_array();
            for (const auto& peer : a.peers) {
                w.value(peer.to_string());
            }
            w.end_array();
        }
        w.end_object();
        fmt::print("{}\n", w.str());
        return;
    }
    if (!outcome.ok()) {
        fmt::print("{}: {}\n", outcome.url, outcome.error);
        return;
    }
    if (scrape) {
        const auto& entries = outcome.scrape->entries;
        if (entries.empty()) {
            fmt::print("{}: the tracker does not know this torrent\n", outcome.url);
        } else {
            fmt::print("{}: {} seeders, {} leechers, {} completed downloads\n", outcome.url,
                       entries[0].complete, entries[0].incomplete, entries[0].downloaded);
        }
        return;
    }
    const auto& a = *outcome.announce;
    fmt::print("{}: {} seeders, {} leechers, next announce in {} s, {} peers\n", outcome.url,
               count_or_unknown(a.complete), count_or_unknown(a.incomplete), a.interval.count(),
               a.peers.size());
    if (!a.warning.empty()) {
        fmt::print("  warning: {}\n", a.warning);
    }
    for (const auto& peer : a.peers) {
        fmt::print("  {}\n", peer.to_string());
    }
}

} // namespace spate::cli
