#pragma once
// What `spate download` prints while it runs: a live line on a terminal, a status line
// every few seconds on a pipe, or one JSON object per event with --json.

#include <spate/core/endpoint.hpp>
#include <spate/session/torrent_download.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace spate::cli {

enum class report_style { terminal, pipe, json };

/// Chooses the style: --json wins; else a terminal on stderr gets the live line.
[[nodiscard]] report_style choose_report_style(bool json);

class download_report final : public session::download_observer {
public:
    download_report(report_style style, std::string name, std::uint64_t wanted_bytes);
    ~download_report() override;
    download_report(const download_report&) = delete;
    download_report& operator=(const download_report&) = delete;

    void piece_done(piece_index piece) override;
    void piece_failed(piece_index piece) override;
    void peer_banned(const endpoint& peer, std::string_view reason) override;
    void peer_dropped(const endpoint& peer, std::string_view reason) override;
    /// An announce failed ("<url>: <reason>", secrets already redacted): a JSON event, or
    /// a warning on stderr. The announcer tells each distinct failure once.
    void tracker_failed(const std::string& text);
    /// Prints the done line (with the stats last given to progress()).
    void download_complete() override;
    [[nodiscard]] bool done_printed() const noexcept { return m_done_printed; }

    /// The download whose stats the done line reports (borrowed; set before it runs).
    /// With `announce_completion` (seeding on afterwards) the done line is printed as the
    /// last piece is written; otherwise the command prints it after the final fsync.
    void watch(session::torrent_download* download, bool announce_completion) noexcept {
        m_download = download;
        m_announce_completion = announce_completion;
        m_started = std::chrono::steady_clock::now();
    }
    /// Called about twice a second; prints when the style's interval has passed.
    /// `already` is what was had before this run started (not counted in the rate).
    void progress(const session::download_stats& stats, std::uint64_t had_bytes);
    /// The port peers can dial us on (a JSON event; silent otherwise).
    void listening(std::uint16_t port);
    /// A line about the recheck of existing data.
    void checked(std::uint32_t good, std::uint32_t total, bool fast_resume);
    /// The last word of a completed download.
    void done(const session::download_stats& stats, std::chrono::duration<double> elapsed);
    /// Erases the live line (before an error is printed to stderr).
    void clear_line();

    [[nodiscard]] std::uint64_t bans() const noexcept { return m_bans; }

private:
    report_style m_style;
    std::string m_name;
    std::uint64_t m_wanted;
    std::uint64_t m_bans = 0;
    bool m_line_drawn = false;
    bool m_done_printed = false;
    std::chrono::steady_clock::time_point m_started = std::chrono::steady_clock::now();
    session::torrent_download* m_download = nullptr;
    bool m_announce_completion = false;
    std::chrono::steady_clock::time_point m_last_print{};
};

} // namespace spate::cli
