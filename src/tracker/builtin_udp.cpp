// The built-in tracker's UDP side (BEP 15): one receive loop, one answer per datagram.

#include <spate/io/socket_ops.hpp>
#include <spate/io/timer_ops.hpp>
#include <spate/tracker/builtin_tracker.hpp>
#include <spate/tracker/udp_codec.hpp>

#include <array>
#include <variant>

namespace spate::tracker {

namespace {

// The largest request decode_request can accept: an announce with the most BEP 41 URL
// data (options of up to 255 bytes, each with a 2-byte header) and an end marker. A longer
// datagram arrives truncated and is dropped.
constexpr std::size_t max_request_size = udp::announce_request_size + udp::max_url_data +
                                         2 * (udp::max_url_data / udp::max_url_data_chunk + 1) + 1;

// After this many receive errors in a row (not cancellations) the loop gives up: a socket
// that fails every time would otherwise spin.
constexpr int max_consecutive_errors = 100;

template <std::size_t N> std::vector<std::byte> to_vector(const std::array<std::byte, N>& bytes) {
    return {bytes.begin(), bytes.end()};
}

} // namespace

std::vector<std::byte> builtin_tracker::handle_datagram(std::span<const std::byte> datagram,
                                                        const endpoint& from,
                                                        std::chrono::steady_clock::time_point now) {
    auto request = udp::decode_request(datagram);
    if (!request) {
        ++m_stats.udp_malformed;
        log("udp: dropped " + std::to_string(datagram.size()) + " bytes from " + from.to_string() +
            ": " + request.error().message());
        return {};
    }
    const std::uint32_t transaction = request->transaction_id;

    if (std::holds_alternative<udp::connect_body>(request->body)) {
        ++m_stats.udp_connects;
        return to_vector(udp::encode_connect_reply(transaction, m_ids.issue(from, now)));
    }

    // Everything else needs a connection id issued to this very address and port: without
    // one the request may come from a forged source address, and answering it could turn
    // the tracker into an amplifier aimed at that address. Such requests get no answer.
    if (!m_ids.valid(request->connection_id, from, now)) {
        ++m_stats.udp_unauthorised;
        log("udp: no valid connection id from " + from.to_string());
        return {};
    }

    if (const auto* scrape = std::get_if<udp::scrape_body>(&request->body)) {
        ++m_stats.udp_scrapes;
        std::vector<scrape_entry> entries;
        entries.reserve(scrape->info_hashes.size());
        for (const sha1_digest& info_hash : scrape->info_hashes) {
            entries.push_back(m_registry.scrape(info_hash));
        }
        return udp::encode_scrape_reply(transaction, entries);
    }

    const auto& body = std::get<udp::announce_body>(request->body);
    const announce_request& announce = body.request;
    if (announce.port == 0) {
        return udp::encode_error_reply(transaction, "announce port 0 cannot be connected to");
    }
    std::optional<endpoint> claimed;
    if (body.ip != std::array<std::byte, 4>{}) {
        claimed = endpoint::from_bytes(body.ip, announce.port);
    }
    const swarm_announce peer{
        .address = announced_address(from, claimed, announce.port),
        .id = announce.peer,
        .left = announce.left,
        .event = announce.event,
    };
    const swarm_announce_result recorded = m_registry.announce(announce.info_hash, peer, now);
    if (recorded.status == swarm_status::too_many_torrents) {
        return udp::encode_error_reply(transaction, "tracker is full: too many torrents");
    }

    const std::size_t peer_size = compact_peer_size(from.family());
    const std::size_t fits =
        m_settings.max_udp_reply > udp::announce_reply_header_size
            ? (m_settings.max_udp_reply - udp::announce_reply_header_size) / peer_size
            : 0;
    // A peer that leaves needs no peers.
    const std::size_t wanted =
        announce.event == announce_event::stopped ? 0 : numwant(announce.numwant, fits);
    const std::vector<endpoint> peers =
        m_registry.peers_for(announce.info_hash, peer, wanted, from.family());
    ++m_stats.udp_announces;
    return udp::encode_announce_reply(transaction, m_settings.swarm.announce_interval,
                                      recorded.counts.leechers, recorded.counts.seeders,
                                      from.family(), peers);
}

io::task<void> builtin_tracker::serve_udp(std::stop_token stop) {
    std::vector<std::byte> buffer(max_request_size + 1);
    int errors_in_a_row = 0;
    while (!stop.stop_requested()) {
        const io::op_options options{
            .stop = stop, .timeout = std::nullopt, .deadline = std::nullopt};
        result<io::datagram_info> received =
            co_await io::recvmsg(m_ring, m_udp.get(), buffer, options);
        if (!received) {
            if (received.error() == std::errc::operation_canceled) {
                break;
            }
            log("udp: receive failed: " + received.error().message());
            if (++errors_in_a_row >= max_consecutive_errors) {
                log("udp: giving up after repeated receive errors");
                break;
            }
            continue;
        }
        errors_in_a_row = 0;
        const io::datagram_info info = *received;
        auto from = endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&info.from),
                                            info.from_length);
        if (!from) {
            continue;
        }
        if (info.truncated || info.size > max_request_size) {
            ++m_stats.udp_malformed;
            log("udp: dropped an oversized datagram from " + from->to_string());
            continue;
        }
        std::vector<std::byte> reply =
            handle_datagram(std::span<const std::byte>(buffer).first(info.size), *from,
                            std::chrono::steady_clock::now());
        if (reply.empty()) {
            continue;
        }
        // The reply waits in this frame until the kernel took it; one send at a time.
        result<std::size_t> sent = co_await io::sendmsg(
            m_ring, m_udp.get(), std::span<const std::byte>(reply),
            reinterpret_cast<const sockaddr*>(&info.from), info.from_length, options);
        if (!sent) {
            if (sent.error() == std::errc::operation_canceled) {
                break;
            }
            log("udp: send to " + from->to_string() + " failed: " + sent.error().message());
        }
    }
}

} // namespace spate::tracker
