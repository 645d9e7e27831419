#pragma once
// Private to the UDP tracker client: what one request asks for (udp_exchange), how one send
// ended (udp_reply), and the waiter that parks a request until the reply to its transaction
// id arrives (udp_waiter).

#include <spate/core/endpoint.hpp>
#include <spate/core/hash.hpp>
#include <spate/tracker/announce.hpp>
#include <spate/tracker/udp_codec.hpp>
#include <spate/tracker/udp_tracker_client.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace spate::tracker {

namespace detail {

/// What one request asks for; lives in the announce()/scrape() frame for the whole
/// exchange.
struct udp_exchange {
    udp::action action = udp::action::announce;
    const announce_request* request = nullptr; // announce only
    std::string_view url_data;                 // announce only (BEP 41)
    std::span<const sha1_digest> info_hashes;  // scrape only
};

/// How one send ended.
struct udp_reply {
    enum class kind : std::uint8_t { timed_out, connected, answered, refused };
    kind what = kind::timed_out;
    std::uint64_t connection_id = 0;  // connected
    announce_response announce;       // answered an announce
    std::vector<scrape_entry> scrape; // answered a scrape
    std::string refusal;              // refused: the tracker's error message
};

/// One request waiting for the reply to one transaction id.
///
/// Lives in the frame of the transact() coroutine that sends the datagram and sleeps until
/// the reply, the timeout or a stop. It registers itself in the client's waiter map when
/// made and removes itself when destroyed (whether it got a reply, timed out or was
/// cancelled), so the map never points at a gone frame and a late reply for a gone
/// transaction finds nobody. The receive loop only ever calls offer(): it stores a decoded
/// reply, unregisters the waiter and requests stop on `m_wake`; that cancels the pending
/// sleep (or send) through the ring, and the frame resumes through that operation's own
/// completion, never from inside the receive loop. Stop requests from the caller or the
/// client's shutdown are forwarded to `m_wake` the same way.
class udp_waiter {
public:
    udp_waiter(udp_tracker_client::waiter_map& waiters, std::uint32_t transaction_id,
               const endpoint& tracker, udp::action expected,
               std::span<const sha1_digest> info_hashes, const std::stop_token& caller,
               const std::stop_token& client)
        : m_waiters(waiters), m_transaction_id(transaction_id), m_tracker(tracker),
          m_expected(expected), m_info_hashes(info_hashes) {
        // Transaction ids are unique among waiters (new_transaction_id checks); a clash
        // would be a bug, and then this waiter just hears nothing and times out.
        m_registered = m_waiters.emplace(transaction_id, this).second;
        m_on_caller_stop.emplace(caller, waker{this});
        m_on_client_stop.emplace(client, waker{this});
    }
    udp_waiter(const udp_waiter&) = delete;
    udp_waiter& operator=(const udp_waiter&) = delete;
    udp_waiter(udp_waiter&&) = delete;
    udp_waiter& operator=(udp_waiter&&) = delete;
    ~udp_waiter() { unregister(); }

    [[nodiscard]] const endpoint& tracker() const { return m_tracker; }
    [[nodiscard]] udp::action expected() const { return m_expected; }
    /// Stop token for the send and the sleep: stopped when a reply came or a stop arrived.
    [[nodiscard]] std::stop_token wake_token() const { return m_wake.get_token(); }
    [[nodiscard]] bool answered() const { return m_answered; }
    [[nodiscard]] bool cancelled() const { return m_cancelled; }
    [[nodiscard]] udp_reply take() { return std::move(m_reply); }

    /// From the receive loop: a datagram from the right address with the expected action
    /// (or the error action). True when it decoded and was taken; false leaves the waiter
    /// waiting, as if the datagram never came.
    bool offer(std::span<const std::byte> packet, udp::action action) {
        if (m_answered) {
            return false;
        }
        if (action == udp::action::error) {
            auto message = udp::decode_error_reply(packet);
            if (!message) {
                return false;
            }
            m_reply.what = udp_reply::kind::refused;
            m_reply.refusal = std::move(*message);
        } else if (m_expected == udp::action::connect) {
            auto id = udp::decode_connect_reply(packet);
            if (!id) {
                return false;
            }
            m_reply.what = udp_reply::kind::connected;
            m_reply.connection_id = *id;
        } else if (m_expected == udp::action::announce) {
            // The peer format follows the family the reply came over, which is the
            // tracker's (the source address was checked).
            auto response = udp::decode_announce_reply(packet, m_tracker.family());
            if (!response) {
                return false;
            }
            m_reply.what = udp_reply::kind::answered;
            m_reply.announce = std::move(*response);
        } else {
            auto entries = udp::decode_scrape_reply(packet, m_info_hashes);
            if (!entries) {
                return false;
            }
            m_reply.what = udp_reply::kind::answered;
            m_reply.scrape = std::move(*entries);
        }
        m_answered = true;
        unregister();
        m_wake.request_stop();
        return true;
    }

private:
    struct waker {
        udp_waiter* self;
        void operator()() const noexcept {
            self->m_cancelled = true;
            self->m_wake.request_stop();
        }
    };

    void unregister() noexcept {
        if (m_registered) {
            m_waiters.erase(m_transaction_id);
            m_registered = false;
        }
    }

    udp_tracker_client::waiter_map& m_waiters;
    std::uint32_t m_transaction_id;
    endpoint m_tracker;
    udp::action m_expected;
    std::span<const sha1_digest> m_info_hashes;
    udp_reply m_reply;
    bool m_registered = false;
    bool m_answered = false;
    bool m_cancelled = false;
    std::stop_source m_wake;
    // Declared last so they are destroyed first: they point at m_wake and m_cancelled.
    std::optional<std::stop_callback<waker>> m_on_caller_stop;
    std::optional<std::stop_callback<waker>> m_on_client_stop;
};

} // namespace detail

} // namespace spate::tracker
