#pragma once
// A scripted BEP 15 tracker on the ring, for integration tests of the UDP tracker client.
//
// It reads requests on a loopback socket, decodes them with the server-side codec, records
// each one (with the kernel's receive timestamp, so gaps between retransmissions are
// measured from when the datagrams were sent, whatever the scheduling of the test), and
// answers by a script of steps, one per request of each action in arrival order: answer,
// drop, truncate, wrong transaction id, wrong action, twice, from another socket, hold
// (reorder with the next reply), or an error reply. Without a step it answers normally.

#include <spate/core/endpoint.hpp>
#include <spate/core/result.hpp>
#include <spate/io/ring.hpp>
#include <spate/io/task.hpp>
#include <spate/io/unique_fd.hpp>
#include <spate/tracker/udp_codec.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

namespace spate::tracker::testing {

enum class reply_mode {
    answer,            // the normal reply
    drop,              // no reply at all
    truncate,          // the normal reply without its last 3 bytes
    wrong_transaction, // a bogus reply (see bogus_reply) under another transaction id
    wrong_action,      // a well-formed reply of another action, same transaction id
    twice,             // the normal reply, sent two times
    other_socket,      // a bogus reply, right transaction id, from another port
    hold,              // the normal reply, sent only after the reply to the next request
    error,             // an error reply carrying error_message
};

struct step {
    reply_mode mode = reply_mode::answer;
    // After the bad packet of `mode`, also send the normal reply (for the modes that send
    // something wrong: truncate, wrong_transaction, wrong_action, other_socket).
    bool then_answer = false;
};

struct seen_request {
    udp::request request;
    endpoint from;
    // When the datagram reached the socket: the kernel's timestamp (CLOCK_REALTIME, only
    // differences are meaningful), or the time it was read when the kernel gave none.
    std::chrono::nanoseconds received{0};
};

class fake_udp_tracker {
public:
    static constexpr std::uint64_t bogus_connection_id = 0xBADBADBADULL;

    // Binds two sockets (the tracker's and the "other" one) on `address` ("127.0.0.1",
    // "::1") with ephemeral ports.
    [[nodiscard]] static result<std::unique_ptr<fake_udp_tracker>> create(io::ring& ring,
                                                                          std::string_view address);

    fake_udp_tracker(const fake_udp_tracker&) = delete;
    fake_udp_tracker& operator=(const fake_udp_tracker&) = delete;
    ~fake_udp_tracker() = default;

    [[nodiscard]] const endpoint& address() const { return m_address; }
    [[nodiscard]] const endpoint& other_address() const { return m_other_address; }

    // Appends steps for the next requests of `action` (connect, announce or scrape).
    void script(udp::action action, std::vector<step> steps);
    // Every request of `action` is dropped, whatever the script says.
    void drop_all(udp::action action) { m_drop_all[index(action)] = true; }

    // What the answers carry.
    std::vector<endpoint> peers;
    // When set, announce replies carry these peers instead of `peers`.
    std::function<std::vector<endpoint>(const udp::announce_body&)> peers_for;
    std::chrono::seconds interval{1800};
    std::uint32_t seeders = 5;
    std::uint32_t leechers = 7;
    std::uint32_t completed = 11;
    std::string error_message = "torrent not registered with this tracker";
    // Called for each request as it is read, before the reply goes out.
    std::function<void(const seen_request&)> on_request;

    // Every request read, in order; those of one action.
    [[nodiscard]] const std::vector<seen_request>& seen() const { return m_seen; }
    [[nodiscard]] std::vector<seen_request> seen(udp::action action) const;
    // Connection ids handed out, in order.
    [[nodiscard]] const std::vector<std::uint64_t>& issued() const { return m_issued; }
    // Datagrams that did not decode as a request.
    [[nodiscard]] std::size_t malformed() const { return m_malformed; }

    // Serves until `stop`; spawn it into a scope. The fake must outlive the task.
    [[nodiscard]] io::task<void> run(std::stop_token stop);

private:
    fake_udp_tracker(io::ring& ring, io::unique_fd socket, io::unique_fd other, endpoint address,
                     endpoint other_address);

    struct outgoing {
        std::vector<std::byte> bytes;
        endpoint to;
    };

    static std::size_t index(udp::action action) { return static_cast<std::size_t>(action); }
    // False when nothing is queued; `out` stays empty for a datagram that is no request.
    bool read_one(std::optional<seen_request>& out);
    step next_step(udp::action action);
    std::vector<std::byte> normal_reply(const seen_request& seen);
    std::vector<std::byte> wrong_action_reply(const seen_request& seen) const;
    // A well-formed reply of the right action whose content a client must not believe:
    // connection id bogus_connection_id, one peer on port 6666, interval 66 s, counts 666.
    std::vector<std::byte> bogus_reply(const seen_request& seen) const;
    io::task<void> respond(seen_request seen);
    io::task<void> send(int fd, std::vector<std::byte> bytes, endpoint to);

    io::ring& m_ring;
    io::unique_fd m_socket;
    io::unique_fd m_other;
    endpoint m_address;
    endpoint m_other_address;
    std::array<std::deque<step>, 3> m_script;
    std::array<bool, 3> m_drop_all{};
    std::vector<seen_request> m_seen;
    std::vector<std::uint64_t> m_issued;
    std::optional<outgoing> m_held;
    std::size_t m_malformed = 0;
};

} // namespace spate::tracker::testing
