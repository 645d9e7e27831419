#pragma once
// What `spate seed` keeps for its session: the options, and one entry per torrent served.
// The status line and the seeding goals (seed_status.cpp) read them.

#include <spate/io/ring.hpp>
#include <spate/io/task.hpp>
#include <spate/metainfo/torrent_info.hpp>
#include <spate/picker/piece_picker.hpp>
#include <spate/session/torrent_download.hpp>
#include <spate/storage/file_storage.hpp>
#include <spate/tracker/announcer.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

namespace spate::cli {

struct seed_options {
    std::vector<std::string> sources; ///< .torrent files and folders of them
    std::string data;
    std::vector<std::string> peers;
    std::uint16_t port = 6881;
    std::size_t max_peers = 500;
    std::size_t upload_slots = 8;
    std::string memory = "64M";
    std::string max_up;
    std::string max_down;
    std::string torrent_max_up;
    std::string torrent_max_down;
    double seed_ratio = 0; ///< stop a torrent at this upload ratio; 0: no ratio goal
    std::string seed_time; ///< stop a torrent after seeding this long; empty: no time goal
    bool json = false;
    bool no_tracker = false;
    unsigned ring_entries = 1024; ///< io_uring submission queue size (a tuning knob)
};

/// Seeding prints no per-peer events; it counts bans for the status line.
class seed_observer final : public session::download_observer {
public:
    void peer_banned(const endpoint& /*peer*/, std::string_view /*reason*/) override { ++bans; }
    std::uint64_t bans = 0;
};

/// One torrent of the session. Held by unique_ptr: the download points at its members.
struct seeded {
    explicit seeded(metainfo::torrent_info t) : torrent(std::move(t)) {}
    metainfo::torrent_info torrent;
    std::unique_ptr<storage::file_storage> files;
    std::unique_ptr<picker::piece_picker> picker;
    std::unique_ptr<session::torrent_download> download;
    std::unique_ptr<tracker::announcer> announcer;
    seed_observer observer;
    /// Ends this torrent alone (a goal reached); Ctrl-C ends them all.
    std::stop_source stop;
    /// Ends its announcer, which then announces `stopped`.
    std::stop_source stop_announcing;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    bool ended = false;
    bool failed = false;
};

/// When a torrent has seeded enough: at `ratio` (uploaded / size) or after `time`, whichever
/// comes first; a zero value is no goal.
struct seed_goals {
    double ratio = 0;
    std::chrono::seconds time{0};
    [[nodiscard]] bool any() const noexcept { return ratio > 0 || time.count() > 0; }
};

/// Prints one event: a JSON object with `event`, `torrent` and `detail`, or "name: detail".
void say(bool json, std::string_view event, const std::string& name, std::string_view detail);

/// The status line (upload rate, peers, bytes sent, ratio) every second on a terminal,
/// every 5 s otherwise, until `stop`.
io::task<void> seed_status_loop(io::ring& ring, std::vector<std::unique_ptr<seeded>>& torrents,
                                bool json, std::stop_token stop);

/// Once a second, ends each torrent that reached a goal (saying which), until `stop`.
io::task<void> seed_goal_loop(io::ring& ring, std::vector<std::unique_ptr<seeded>>& torrents,
                              seed_goals goals, bool json, std::stop_token stop);

} // namespace spate::cli
