// spate info <file.torrent | magnet:URI> [--json]: what a torrent or a magnet link holds.

#include "command.hpp"
#include "json_writer.hpp"
#include "torrent_source.hpp"
#include "units.hpp"

#include <spate/io/ring.hpp>
#include <spate/metainfo/magnet.hpp>
#include <spate/metainfo/torrent_info.hpp>
#include <spate/tracker/redacted_url.hpp>

#include <fmt/core.h>

#include <memory>
#include <string>

namespace spate::cli {

namespace {

struct info_options {
    std::string source;
    bool json = false;
};

std::string joined_path(const metainfo::torrent_file& file) {
    std::string out;
    for (const auto& component : file.path) {
        if (!out.empty()) {
            out += '/';
        }
        out += component;
    }
    return out;
}

void print_torrent(const metainfo::torrent_info& t) {
    fmt::print("name:        {}\n", t.name());
    fmt::print("info-hash:   {}\n", t.info_hash().hex());
    fmt::print("size:        {} ({} bytes)\n", format_size(t.total_size()), t.total_size());
    fmt::print("pieces:      {} of {}\n", t.piece_count(), format_size(t.piece_length()));
    fmt::print("private:     {}\n", t.is_private() ? "yes" : "no");
    if (!t.comment().empty()) {
        fmt::print("comment:     {}\n", t.comment());
    }
    if (!t.created_by().empty()) {
        fmt::print("created by:  {}\n", t.created_by());
    }
    if (t.trackers().empty()) {
        fmt::print("trackers:    none\n");
    } else {
        fmt::print("trackers:\n");
        for (std::size_t tier = 0; tier < t.trackers().size(); ++tier) {
            for (const auto& url : t.trackers()[tier]) {
                fmt::print("  tier {}: {}\n", tier + 1, tracker::redacted_url(url));
            }
        }
    }
    if (!t.web_seeds().empty()) {
        fmt::print("web seeds:\n");
        for (const auto& url : t.web_seeds()) {
            fmt::print("  {}\n", tracker::redacted_url(url));
        }
    }
    std::size_t pads = 0;
    for (const auto& file : t.files()) {
        pads += file.pad ? 1 : 0;
    }
    fmt::print("files:       {}{}\n", t.files().size() - pads,
               pads != 0 ? fmt::format(" (and {} pad files)", pads) : std::string());
    for (const auto& file : t.files()) {
        if (!file.pad) {
            fmt::print("  {:>10}  {}\n", format_size(file.length), joined_path(file));
        }
    }
}

void print_torrent_json(const metainfo::torrent_info& t) {
    json_writer w;
    w.begin_object();
    w.key("type").value("torrent");
    w.key("name").value(t.name());
    w.key("info_hash").value(t.info_hash().hex());
    w.key("total_size").value(t.total_size());
    w.key("piece_length").value(t.piece_length());
    w.key("piece_count").value(std::uint64_t{t.piece_count()});
    w.key("private").value(t.is_private());
    w.key("comment").value(t.comment());
    w.key("created_by").value(t.created_by());
    w.key("creation_date");
    if (auto date = t.creation_date()) {
        w.value(*date);
    } else {
        w.null();
    }
    w.key("trackers").begin_array();
    for (const auto& tier : t.trackers()) {
        w.begin_array();
        for (const auto& url : tier) {
            w.value(tracker::redacted_url(url));
        }
        w.end_array();
    }
    w.end_array();
    w.key("web_seeds").begin_array();
    for (const auto& url : t.web_seeds()) {
        w.value(tracker::redacted_url(url));
    }
    w.end_array();
    w.key("files").begin_array();
    for (const auto& file : t.files()) {
        w.begin_object();
        w.key("path").value(joined_path(file));
        w.key("length").value(file.length);
        w.key("offset").value(file.offset);
        w.key("pad").value(file.pad);
        w.end_object();
    }
    w.end_array();
    w.end_object();
    fmt::print("{}\n", w.str());
}

void print_magnet(const metainfo::magnet_uri& m) {
    fmt::print("info-hash:   {}\n", m.info_hash.hex());
    fmt::print("name:        {}\n", m.display_name.empty() ? "(not given)" : m.display_name);
    fmt::print("{}", m.trackers.empty() ? "trackers:    none\n" : "trackers:\n");
    for (const auto& url : m.trackers) {
        fmt::print("  {}\n", tracker::redacted_url(url));
    }
    if (!m.web_seeds.empty()) {
        fmt::print("web seeds:\n");
        for (const auto& url : m.web_seeds) {
            fmt::print("  {}\n", tracker::redacted_url(url));
        }
    }
    if (!m.peers.empty()) {
        fmt::print("peers:\n");
        for (const auto& peer : m.peers) {
            if (peer.host.find(':') != std::string::npos) {
                fmt::print("  [{}]:{}\n", peer.host, peer.port);
            } else {
                fmt::print("  {}:{}\n", peer.host, peer.port);
            }
        }
    }
    if (!m.selected_files.empty()) {
        std::string list;
        for (const auto& range : m.selected_files) {
            list += list.empty() ? "" : ",";
            list += range.first == range.last
                        ? fmt::format("{}", range.first.value())
                        : fmt::format("{}-{}", range.first.value(), range.last.value());
        }
        fmt::print("files:       {}\n", list);
    }
    fmt::print("(a magnet link carries no file list: spate fetches it from peers)\n");
}

void print_magnet_json(const metainfo::magnet_uri& m) {
    json_writer w;
    w.begin_object();
    w.key("type").value("magnet");
    w.key("info_hash").value(m.info_hash.hex());
    w.key("name").value(m.display_name);
    w.key("trackers").begin_array();
    for (const auto& url : m.trackers) {
        w.value(tracker::redacted_url(url));
    }
    w.end_array();
    w.key("web_seeds").begin_array();
    for (const auto& url : m.web_seeds) {
        w.value(tracker::redacted_url(url));
    }
    w.end_array();
    w.key("peers").begin_array();
    for (const auto& peer : m.peers) {
        w.begin_object().key("host").value(peer.host).key("port").value(int{peer.port}).end_object();
    }
    w.end_array();
    w.key("selected_files").begin_array();
    for (const auto& range : m.selected_files) {
        w.begin_array()
            .value(std::uint64_t{range.first.value()})
            .value(std::uint64_t{range.last.value()})
            .end_array();
    }
    w.end_array();
    w.end_object();
    fmt::print("{}\n", w.str());
}

int run_info(const info_options& options) {
    auto ring = io::ring::create();
    if (!ring) {
        return report_ring_failure(ring.error());
    }
    auto target = load_torrent_target(*ring, options.source);
    if (!target) {
        return report_error(exit_bad_input, target.error());
    }
    if (target->magnet) {
        options.json ? print_magnet_json(*target->magnet) : print_magnet(*target->magnet);
    } else {
        options.json ? print_torrent_json(*target->torrent) : print_torrent(*target->torrent);
    }
    return exit_ok;
}

} // namespace

void add_info_command(CLI::App& app, command_main& selected) {
    auto options = std::make_shared<info_options>();
    CLI::App* sub = app.add_subcommand("info", "Show what a .torrent file or a magnet link holds");
    sub->add_option("source", options->source, "a .torrent file or a magnet: URI")->required();
    sub->add_flag("--json", options->json, "print one JSON object");
    sub->callback([options, &selected] { selected = [options] { return run_info(*options); }; });
}

} // namespace spate::cli
