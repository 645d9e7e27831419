#include "download_report.hpp"

#include "json_writer.hpp"
#include "units.hpp"

#include <fmt/core.h>

#include <unistd.h>

#include <cstdio>

namespace spate::cli {

namespace {

void print_json(const json_writer& w) {
    std::fputs(w.str().c_str(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

std::string format_eta(double seconds) {
    if (!(seconds >= 0) || seconds > 99 * 3600) {
        return "--";
    }
    const auto s = static_cast<std::uint64_t>(seconds + 0.5);
    if (s >= 3600) {
        return fmt::format("{}h{:02}m", s / 3600, s % 3600 / 60);
    }
    if (s >= 60) {
        return fmt::format("{}m{:02}s", s / 60, s % 60);
    }
    return fmt::format("{}s", s);
}

} // namespace

report_style choose_report_style(bool json) {
    if (json) {
        return report_style::json;
    }
    return ::isatty(STDERR_FILENO) == 1 ? report_style::terminal : report_style::pipe;
}

download_report::download_report(report_style style, std::string name, std::uint64_t wanted_bytes)
    : m_style(style), m_name(std::move(name)), m_wanted(wanted_bytes) {}

download_report::~download_report() { clear_line(); }

void download_report::clear_line() {
    if (m_line_drawn) {
        std::fputs("\r\x1b[K", stderr);
        std::fflush(stderr);
        m_line_drawn = false;
    }
}

void download_report::piece_done(piece_index /*piece*/) {}

void download_report::piece_failed(piece_index piece) {
    if (m_style == report_style::json) {
        json_writer w;
        w.begin_object().key("event").value("piece_failed").key("piece").value(
            std::uint64_t{piece.value()});
        print_json(w.end_object());
    }
}

void download_report::peer_banned(const endpoint& peer, std::string_view reason) {
    ++m_bans;
    if (m_style == report_style::json) {
        json_writer w;
        w.begin_object().key("event").value("peer_banned").key("peer").value(peer.to_string());
        print_json(w.key("reason").value(reason).end_object());
    }
}

void download_report::peer_dropped(const endpoint& peer, std::string_view reason) {
    if (m_style == report_style::json) {
        json_writer w;
        w.begin_object().key("event").value("peer_dropped").key("peer").value(peer.to_string());
        print_json(w.key("reason").value(reason).end_object());
    }
}

void download_report::tracker_failed(const std::string& text) {
    if (m_style == report_style::json) {
        json_writer w;
        w.begin_object().key("event").value("tracker_error").key("detail").value(text);
        print_json(w.end_object());
        return;
    }
    clear_line();
    fmt::print(stderr, "spate: warning: announce failed: {}\n", text);
}

void download_report::download_complete() {
    if (m_download == nullptr || m_done_printed || !m_announce_completion) {
        return;
    }
    const session::download_stats s = m_download->stats();
    done(s, std::chrono::steady_clock::now() - m_started);
}

void download_report::progress(const session::download_stats& stats, std::uint64_t had_bytes) {
    const auto now = std::chrono::steady_clock::now();
    const auto interval = m_style == report_style::pipe ? std::chrono::seconds(5)
                                                        : std::chrono::seconds(1);
    if (m_last_print != std::chrono::steady_clock::time_point{} && now - m_last_print < interval &&
        m_style != report_style::terminal) {
        return;
    }
    m_last_print = now;
    const std::uint64_t have = had_bytes + stats.verified;
    const double percent =
        m_wanted == 0 ? 100.0 : 100.0 * static_cast<double>(have) / static_cast<double>(m_wanted);
    const double left = static_cast<double>(m_wanted > have ? m_wanted - have : 0);
    const double eta = stats.download_rate > 0 ? left / stats.download_rate : -1;
    const auto rate = static_cast<std::uint64_t>(stats.download_rate);
    const auto up = static_cast<std::uint64_t>(stats.upload_rate);
    if (m_style == report_style::json) {
        json_writer w;
        w.begin_object().key("event").value("progress");
        w.key("have").value(have).key("wanted").value(m_wanted);
        w.key("received").value(stats.payload_received);
        w.key("down_rate").value(rate).key("up_rate").value(std::uint64_t{0});
        w.key("peers").value(static_cast<std::uint64_t>(stats.peers));
        w.key("failed_pieces").value(stats.failed_pieces);
        print_json(w.end_object());
        return;
    }
    std::string line = fmt::format("{:5.1f}%  {} of {}  down {}/s  up {}/s  peers {}  ETA {}",
                                   percent, format_size(have), format_size(m_wanted),
                                   format_size(rate), format_size(up), stats.peers,
                                   format_eta(eta));
    if (m_style == report_style::terminal) {
        fmt::print(stderr, "\r{}\x1b[K", line);
        std::fflush(stderr);
        m_line_drawn = true;
    } else {
        fmt::print("{}\n", line);
        std::fflush(stdout);
    }
}

void download_report::listening(std::uint16_t port) {
    if (m_style == report_style::json) {
        json_writer w;
        w.begin_object().key("event").value("listening").key("port").value(std::uint64_t{port});
        print_json(w.end_object());
    }
}

void download_report::checked(std::uint32_t good, std::uint32_t total, bool fast_resume) {
    if (m_style == report_style::json) {
        json_writer w;
        w.begin_object().key("event").value("checked").key("good").value(std::uint64_t{good});
        w.key("pieces").value(std::uint64_t{total}).key("fast_resume").value(fast_resume);
        print_json(w.end_object());
        return;
    }
    clear_line();
    fmt::print("{}: {} of {} pieces already here{}\n", m_name, good, total,
               fast_resume ? " (resume file)" : " (checked)");
    std::fflush(stdout);
}

void download_report::done(const session::download_stats& stats,
                           std::chrono::duration<double> elapsed) {
    const std::uint64_t bytes = stats.verified;
    const std::uint64_t failed_pieces = stats.failed_pieces;
    const std::uint64_t banned = m_bans;
    if (m_done_printed) {
        return;
    }
    m_done_printed = true;
    const double seconds = elapsed.count();
    const auto rate =
        seconds > 0 ? static_cast<std::uint64_t>(static_cast<double>(bytes) / seconds) : 0;
    if (m_style == report_style::json) {
        json_writer w;
        w.begin_object().key("event").value("done").key("bytes").value(bytes);
        w.key("seconds").value(seconds);
        w.key("failed_pieces").value(failed_pieces).key("banned_peers").value(banned);
        // How the receive path did: reads per block near 1 means headers came with payloads.
        w.key("blocks").value(stats.blocks_received).key("socket_reads").value(stats.socket_reads);
        print_json(w.end_object());
        return;
    }
    clear_line();
    fmt::print("{}: done, {} in {:.1f} s ({}/s), {} failed pieces, {} peers banned\n", m_name,
               format_size(bytes), seconds, format_size(rate), failed_pieces, banned);
    std::fflush(stdout);
}

} // namespace spate::cli
