#pragma once
/// announcer: the tracker conversation of one torrent (BEP 12), as one coroutine on the ring.
///
/// run() announces `started` to the first tracker that answers in tier order (tier_list),
/// then announces again (event none) whenever announce_schedule says, and `completed` once
/// completed() was called, no sooner than the tracker's min interval allows. A round in
/// which every tracker failed (no answer within the timeout, an unreachable host, or a
/// refusal) backs off exponentially. Peers from every answer are handed on once each. When
/// stop is requested, `stopped` goes to the last tracker that answered, bounded by a short
/// deadline, and run() completes.

#include <spate/core/endpoint.hpp>
#include <spate/core/hash.hpp>
#include <spate/core/peer_address_policy.hpp>
#include <spate/core/result.hpp>
#include <spate/io/ring.hpp>
#include <spate/io/task.hpp>
#include <spate/net/http_client.hpp>
#include <spate/net/resolver.hpp>
#include <spate/tracker/announce.hpp>
#include <spate/tracker/announce_schedule.hpp>
#include <spate/tracker/tier_list.hpp>
#include <spate/tracker/udp_tracker_client.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <span>
#include <stop_token>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace spate::tracker {

/// The session's services an announcer uses, all borrowed: each must outlive every
/// announcer that holds them (and every run() task).
struct tracker_services {
    io::ring& ring;
    net::resolver& resolver;
    net::http_client& http;
    udp_tracker_client& udp;
};

/// Who announces: fixed for the torrent's life.
struct announce_identity {
    sha1_digest info_hash;
    peer_id peer{};
    /// The port this client accepts peer connections on.
    std::uint16_t port = 0;
    /// Fixed per session (see announce_request::key).
    std::uint32_t key = 0;
};

/// The transfer numbers an announce reports, read afresh for every announce.
struct announce_numbers {
    std::uint64_t uploaded = 0;
    std::uint64_t downloaded = 0;
    std::uint64_t left = 0;
};

struct announcer_settings {
    /// Deadline of one announce to one tracker (name lookup included); on expiry the round
    /// moves on to the next tracker.
    std::chrono::milliseconds request_timeout{30'000};
    /// Deadline of the `stopped` announce sent when run() is stopped.
    std::chrono::milliseconds stopped_timeout{5'000};
    /// Re-announce and backoff timing.
    schedule_settings schedule;
    /// Peers asked for per announce; -1 lets the tracker choose.
    std::int32_t numwant = 50;
    /// Largest HTTP reply body read.
    std::size_t max_http_body = 1024 * 1024;
    /// Most peers remembered for deduplication. When the set is full it is cleared, so a
    /// long life in a churning swarm keeps finding peers; a peer may then come again.
    std::size_t max_known_peers = 50'000;
    /// Which peers a reply may make us dial (privileged ports, multicast... are dropped).
    peer_address_rules peer_rules;
};

/// Counters since the announcer was made, for display and tests.
struct announcer_stats {
    std::uint64_t answered = 0;        ///< announces a tracker answered (refusals excluded)
    std::uint64_t failed = 0;          ///< announces that failed (timeouts, errors, refusals)
    std::uint64_t failed_rounds = 0;   ///< rounds in which every tracker failed
    std::uint64_t peers_delivered = 0; ///< peers handed to the peers callback
    std::uint64_t peers_refused = 0;   ///< peers dropped by settings.peer_rules
    bool started_sent = false;         ///< a tracker answered `started`
    bool completed_sent = false;       ///< a tracker answered `completed`
    bool stopped_sent = false;         ///< a tracker answered `stopped`
};

/// The announcer of one torrent. Owns its tier order, schedule, the set of peers seen and
/// the tracker ids received; borrows the services. Not movable: run() points at it. Every
/// call happens on the ring's thread.
class announcer {
public:
    using numbers_function = std::function<announce_numbers()>;
    /// Receives peers never delivered before (see announcer_settings::max_known_peers).
    /// The span is borrowed for the call only. Called from inside run(); it must not
    /// destroy the announcer.
    using peers_function = std::function<void(std::span<const endpoint>)>;
    /// Receives "<url>: <reason>" (secrets redacted) when an announce fails, unless that
    /// tracker's previous failure said the same with no answer from it between: a dead
    /// tracker is told once.
    using failure_function = std::function<void(const std::string&)>;

    /// `tiers` is the torrent's announce-list (or one tier holding its announce URL);
    /// each tier is shuffled once, from a generator seeded by std::random_device.
    announcer(std::vector<std::vector<std::string>> tiers, announce_identity identity,
              tracker_services services, announcer_settings settings, numbers_function numbers,
              peers_function on_peers);
    announcer(const announcer&) = delete;
    announcer& operator=(const announcer&) = delete;
    announcer(announcer&&) = delete;
    announcer& operator=(announcer&&) = delete;
    ~announcer() = default;

    /// Announces until `stop` is requested, then sends `stopped` to the last tracker that
    /// answered (bounded by stopped_timeout) and completes. Run it once; the announcer must
    /// outlive the task. Completes at once when the torrent names no usable tracker.
    [[nodiscard]] io::task<void> run(std::stop_token stop);

    /// The torrent finished downloading: `completed` is sent at the next opportunity, no
    /// sooner than the schedule's earliest() (after `started` was answered). Later calls
    /// do nothing.
    void completed();

    /// Sets the failure callback (none by default). Call before run().
    void on_failure(failure_function report) { m_on_failure = std::move(report); }

    /// Why the most recent announce failed ("<url>: <reason>"); empty until one fails.
    [[nodiscard]] const std::string& last_error() const noexcept { return m_last_error; }
    /// The tracker that answered last; empty until one does.
    [[nodiscard]] const std::string& current_tracker() const noexcept { return m_answered_url; }
    /// Seeders and leechers the last answer reported, when it did.
    [[nodiscard]] std::optional<std::uint32_t> seeders() const noexcept { return m_seeders; }
    [[nodiscard]] std::optional<std::uint32_t> leechers() const noexcept { return m_leechers; }
    [[nodiscard]] const announce_schedule& schedule() const noexcept { return m_schedule; }
    [[nodiscard]] const tier_list& tiers() const noexcept { return m_tiers; }
    [[nodiscard]] const announcer_stats& stats() const noexcept { return m_stats; }

private:
    // One round through the tiers with `event`: true when a tracker answered.
    [[nodiscard]] io::task<bool> announce_round(announce_event event, std::stop_token stop);
    // One announce to `url`, bounded by `timeout` and by `stop`.
    [[nodiscard]] io::task<result<announce_response>>
    announce_to(std::string url, announce_event event, std::chrono::milliseconds timeout,
                std::stop_token stop);
    // Sleeps until `when`, or until stop or completed() wakes it.
    [[nodiscard]] io::task<void> wait_until(announce_schedule::clock::time_point when,
                                            std::stop_token stop);
    [[nodiscard]] announce_request make_request(const std::string& url,
                                                announce_event event) const;
    void take_answer(const std::string& url, const announce_response& response);
    void deliver(const std::vector<endpoint>& peers);
    void record_failure(const std::string& url, const result<announce_response>& answer);

    tier_list m_tiers;
    announce_identity m_identity;
    tracker_services m_services;
    announcer_settings m_settings;
    numbers_function m_numbers;
    peers_function m_on_peers;
    announce_schedule m_schedule;
    std::unordered_set<endpoint> m_known_peers;
    // Tracker ids by announce URL: an id is echoed only to the tracker that sent it.
    std::unordered_map<std::string, std::string> m_tracker_ids;
    std::string m_answered_url;
    std::string m_last_error;
    failure_function m_on_failure;
    // The last failure told per tracker URL, until that tracker answers again.
    std::unordered_map<std::string, std::string> m_reported_failures;
    std::optional<std::uint32_t> m_seeders;
    std::optional<std::uint32_t> m_leechers;
    announcer_stats m_stats;
    bool m_completed_pending = false;
    // The stop source of the wait in progress (a fresh one per wait); completed() stops it.
    std::stop_source m_wake;
};

} // namespace spate::tracker
