#include <spate/tracker/announcer.hpp>

#include <spate/io/deadline.hpp>
#include <spate/io/scope.hpp>
#include <spate/io/timer_ops.hpp>
#include <spate/net/error.hpp>
#include <spate/tracker/error.hpp>
#include <spate/tracker/http_tracker_client.hpp>
#include <spate/tracker/redacted_url.hpp>
#include <spate/tracker/tracker_url.hpp>

#include <system_error>
#include <utility>

namespace spate::tracker {

namespace {

tier_list shuffled_tiers(std::vector<std::vector<std::string>> tiers) {
    // The tier order is not a secret, only meant to spread load: one random_device draw
    // seeding a fast generator is enough.
    std::random_device device;
    std::mt19937 random(device());
    return tier_list(std::move(tiers), random);
}

// "<url>: <reason>" for a failed announce: the tracker's own refusal text, or the error.
std::string failure_text(const std::string& url, const result<announce_response>& answer) {
    std::string text = redacted_url(url) + ": ";
    if (answer) {
        text += "refused: ";
        text += answer->failure.value_or(std::string());
    } else if (answer.error() == std::errc::timed_out) {
        text += "no answer in time";
    } else {
        text += answer.error().message();
    }
    return text;
}

} // namespace

announcer::announcer(std::vector<std::vector<std::string>> tiers, announce_identity identity,
                     tracker_services services, announcer_settings settings,
                     numbers_function numbers, peers_function on_peers)
    : m_tiers(shuffled_tiers(std::move(tiers))), m_identity(identity), m_services(services),
      m_settings(std::move(settings)), m_numbers(std::move(numbers)),
      m_on_peers(std::move(on_peers)), m_schedule(m_settings.schedule) {}

void announcer::completed() {
    if (m_completed_pending || m_stats.completed_sent) {
        return;
    }
    m_completed_pending = true;
    // Wakes the wait in progress (if any) so the loop can move the next announce earlier.
    m_wake.request_stop();
}

io::task<void> announcer::run(std::stop_token stop) {
    if (m_tiers.empty()) {
        co_return;
    }
    // Each pass either waits (and then looks again: completed() or stop may have changed
    // what is due) or makes one round; the schedule only moves forward, so no pass spins.
    while (!stop.stop_requested()) {
        const bool completing = m_completed_pending && m_stats.started_sent;
        announce_schedule::clock::time_point due = m_schedule.next();
        if (completing && m_schedule.consecutive_failures() == 0) {
            // An extra announce may come before the regular one, but not before the
            // tracker's min interval; after failures the backoff stands.
            due = std::min(due, m_schedule.earliest());
        }
        if (announce_schedule::clock::now() < due) {
            co_await wait_until(due, stop);
            continue;
        }
        announce_event event = announce_event::none;
        if (!m_stats.started_sent) {
            event = announce_event::started;
        } else if (m_completed_pending) {
            event = announce_event::completed;
        }
        const bool answered = co_await announce_round(event, stop);
        if (!answered) {
            if (stop.stop_requested()) {
                break; // cut short by the stop, not a failure of the trackers
            }
            ++m_stats.failed_rounds;
            m_schedule.failed(announce_schedule::clock::now());
        }
    }

    if (m_stats.started_sent && !m_answered_url.empty()) {
        // The outer stop is already requested: `stopped` gets a deadline of its own.
        result<announce_response> answer = co_await announce_to(
            m_answered_url, announce_event::stopped, m_settings.stopped_timeout, {});
        if (answer && !answer->failure) {
            m_stats.stopped_sent = true;
        } else {
            ++m_stats.failed;
            record_failure(m_answered_url, answer);
        }
    }
}

io::task<bool> announcer::announce_round(announce_event event, std::stop_token stop) {
    m_tiers.start_round();
    // tier_list::failed() moves the round on, so this ends after every tracker was tried.
    while (const std::optional<tier_list::position> at = m_tiers.current()) {
        if (stop.stop_requested()) {
            co_return false;
        }
        const tier_list::position position = *at;
        std::string url = m_tiers.url(position);
        result<announce_response> answer =
            co_await announce_to(url, event, m_settings.request_timeout, stop);
        if (answer && !answer->failure) {
            m_tiers.succeeded(position);
            m_reported_failures.erase(url);
            if (event == announce_event::started) {
                m_stats.started_sent = true;
            } else if (event == announce_event::completed) {
                m_stats.completed_sent = true;
                m_completed_pending = false;
            }
            take_answer(url, *answer);
            co_return true;
        }
        if (!answer && stop.stop_requested()) {
            co_return false; // cancelled: says nothing about the tracker
        }
        ++m_stats.failed;
        record_failure(url, answer);
        m_tiers.failed(position);
    }
    co_return false;
}

io::task<result<announce_response>> announcer::announce_to(std::string url,
                                                           announce_event event,
                                                           std::chrono::milliseconds timeout,
                                                           std::stop_token stop) {
    result<tracker_url> parsed = parse_tracker_url(url);
    if (!parsed) {
        co_return fail(parsed.error());
    }
    announce_request request = make_request(url, event);

    // One stop source ends the exchange: the deadline fires it, and so does `stop`.
    std::stop_source deadline;
    std::stop_callback forward(stop, [&deadline] { deadline.request_stop(); });
    bool expired = false;
    io::scope timer;
    timer.spawn(io::stop_after(m_services.ring, timeout, deadline, &expired));

    result<announce_response> answer = fail(std::make_error_code(std::errc::operation_canceled));
    if (parsed->scheme == tracker_scheme::udp) {
        net::resolve_options resolve;
        resolve.stop = deadline.get_token();
        resolve.timeout = timeout;
        result<std::vector<endpoint>> addresses = co_await m_services.resolver.resolve(
            parsed->host, parsed->port, net::address_family_preference::prefer_v4, resolve);
        if (!addresses) {
            answer = fail(addresses.error());
        } else if (addresses->empty()) {
            answer = fail(net::make_error_code(net::errc::no_address));
        } else {
            result<announce_response> got = co_await m_services.udp.announce(
                addresses->front(), parsed->path_and_query, request, deadline.get_token());
            answer = std::move(got);
        }
    } else {
        http_tracker_settings settings;
        settings.timeout = timeout;
        settings.max_body_size = m_settings.max_http_body;
        result<announce_response> got = co_await http_announce(
            m_services.http, url, request, settings, deadline.get_token());
        answer = std::move(got);
    }
    deadline.request_stop(); // ends the timer
    co_await timer.join();
    if (!answer && expired) {
        answer = fail(std::make_error_code(std::errc::timed_out));
    }
    co_return answer;
}

io::task<void> announcer::wait_until(announce_schedule::clock::time_point when,
                                     std::stop_token stop) {
    m_wake = std::stop_source{};
    std::stop_source wake = m_wake; // shares the state completed() stops
    std::stop_callback forward(stop, [&wake] { wake.request_stop(); });
    // Woken or not, the caller looks again at what is due: the outcome tells it nothing.
    result<void> slept = co_await io::sleep_until(m_services.ring, when, wake.get_token());
    static_cast<void>(slept);
}

announce_request announcer::make_request(const std::string& url, announce_event event) const {
    announce_request request;
    request.info_hash = m_identity.info_hash;
    request.peer = m_identity.peer;
    request.port = m_identity.port;
    request.key = m_identity.key;
    request.numwant = event == announce_event::stopped ? 0 : m_settings.numwant;
    request.event = event;
    if (m_numbers) {
        const announce_numbers numbers = m_numbers();
        request.uploaded = numbers.uploaded;
        request.downloaded = numbers.downloaded;
        request.left = numbers.left;
    }
    if (auto found = m_tracker_ids.find(url); found != m_tracker_ids.end()) {
        request.tracker_id = found->second;
    }
    return request;
}

void announcer::take_answer(const std::string& url, const announce_response& response) {
    ++m_stats.answered;
    m_answered_url = url;
    if (response.tracker_id) {
        m_tracker_ids[url] = *response.tracker_id;
    }
    m_seeders = response.complete;
    m_leechers = response.incomplete;
    m_schedule.answered(announce_schedule::clock::now(), response.interval,
                        response.min_interval);
    deliver(response.peers);
}

void announcer::record_failure(const std::string& url, const result<announce_response>& answer) {
    m_last_error = failure_text(url, answer);
    std::string& told = m_reported_failures[url];
    if (m_last_error != told) {
        told = m_last_error;
        if (m_on_failure) {
            m_on_failure(m_last_error);
        }
    }
}

void announcer::deliver(const std::vector<endpoint>& peers) {
    std::vector<endpoint> fresh;
    for (const endpoint& peer : peers) {
        if (judge_peer_address(peer, m_settings.peer_rules) != peer_address_verdict::dialable) {
            ++m_stats.peers_refused;
            continue;
        }
        if (m_known_peers.size() >= m_settings.max_known_peers) {
            m_known_peers.clear();
        }
        if (m_known_peers.insert(peer).second) {
            fresh.push_back(peer);
        }
    }
    if (fresh.empty()) {
        return;
    }
    m_stats.peers_delivered += fresh.size();
    if (m_on_peers) {
        m_on_peers(std::span<const endpoint>(fresh));
    }
}

} // namespace spate::tracker
