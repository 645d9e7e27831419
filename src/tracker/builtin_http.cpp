// The built-in tracker's HTTP side: an accept loop, one coroutine per connection, one GET
// per connection, answered and closed (HTTP/1.0 style, which every tracker client speaks).

#include <spate/io/socket_ops.hpp>
#include <spate/io/timer_ops.hpp>
#include <spate/tracker/builtin_tracker.hpp>
#include <spate/tracker/http_codec.hpp>

#include <sys/socket.h>

#include <array>
#include <optional>

namespace spate::tracker {

namespace {

using namespace std::chrono_literals;

struct request_line {
    std::string_view method;
    std::string_view target;
};

// "METHOD SP target SP HTTP/1.x", the first line of `head`; nullopt when it is not one.
std::optional<request_line> parse_request_line(std::string_view head) {
    std::string_view line = head.substr(0, head.find('\n'));
    if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
    }
    const std::size_t first = line.find(' ');
    if (first == std::string_view::npos) {
        return std::nullopt;
    }
    const std::size_t second = line.find(' ', first + 1);
    if (second == std::string_view::npos) {
        return std::nullopt;
    }
    request_line out{line.substr(0, first), line.substr(first + 1, second - first - 1)};
    const std::string_view version = line.substr(second + 1);
    if (out.method.empty() || out.target.empty() || out.target.front() != '/' ||
        (version != "HTTP/1.0" && version != "HTTP/1.1")) {
        return std::nullopt;
    }
    for (char c : line) {
        // Control characters and bytes beyond ASCII have no place in a request line.
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte >= 0x7f) {
            return std::nullopt;
        }
    }
    return out;
}

std::string http_response(std::string_view status, std::string_view body,
                          std::string_view extra_headers = {}) {
    std::string out;
    out.reserve(128 + body.size());
    out += "HTTP/1.1 ";
    out += status;
    out += "\r\nContent-Type: text/plain\r\nContent-Length: ";
    out += std::to_string(body.size());
    out += "\r\nConnection: close\r\n";
    out += extra_headers;
    out += "\r\n";
    out += body;
    return out;
}

// Where the request head ends (just past its blank line), or npos. Bare "\n\n" counts too:
// hand-typed requests (nc, tests) use it.
std::size_t head_end(std::string_view data, std::size_t from) {
    const std::size_t crlf = data.find("\r\n\r\n", from);
    const std::size_t lf = data.find("\n\n", from);
    if (crlf == std::string_view::npos && lf == std::string_view::npos) {
        return std::string_view::npos;
    }
    if (lf == std::string_view::npos || (crlf != std::string_view::npos && crlf < lf)) {
        return crlf + 4;
    }
    return lf + 2;
}

} // namespace

std::string builtin_tracker::http_announce(std::string_view query, const endpoint& from,
                                           std::chrono::steady_clock::time_point now) {
    auto parsed = http::parse_announce_query(query);
    if (!parsed) {
        log("http: refused an announce from " + from.to_string() + ": " + parsed.error().message());
        return http::encode_failure(parsed.error().message());
    }
    const announce_request& announce = parsed->request;
    std::optional<endpoint> claimed;
    if (parsed->ip) {
        claimed = endpoint::parse_address(*parsed->ip, announce.port);
    }
    const swarm_announce peer{
        .address = announced_address(from, claimed, announce.port),
        .id = announce.peer,
        .left = announce.left,
        .event = announce.event,
    };
    const swarm_announce_result recorded = m_registry.announce(announce.info_hash, peer, now);
    if (recorded.status == swarm_status::too_many_torrents) {
        return http::encode_failure("tracker is full: too many torrents");
    }
    const std::size_t wanted = announce.event == announce_event::stopped
                                   ? 0
                                   : numwant(announce.numwant, m_settings.max_numwant);
    const std::vector<endpoint> peers =
        m_registry.peers_for(announce.info_hash, peer, wanted, from.family());
    return http::encode_announce_response(m_settings.swarm.announce_interval, std::nullopt,
                                          recorded.counts.seeders, recorded.counts.leechers, peers,
                                          parsed->compact);
}

std::string builtin_tracker::http_scrape(std::string_view query) {
    auto info_hashes = http::parse_scrape_query(query);
    if (!info_hashes) {
        return http::encode_failure(info_hashes.error().message());
    }
    std::vector<scrape_entry> entries;
    if (info_hashes->empty()) {
        // A scrape naming no torrent asks for all of them; the answer is capped like a
        // scrape naming the most torrents a query may.
        entries = m_registry.scrape_all(http::max_scrape_query_hashes);
    } else {
        entries.reserve(info_hashes->size());
        for (const sha1_digest& info_hash : *info_hashes) {
            entries.push_back(m_registry.scrape(info_hash));
        }
    }
    return http::encode_scrape_response(entries);
}

std::string builtin_tracker::handle_http_request(std::string_view head, const endpoint& from,
                                                 std::chrono::steady_clock::time_point now) {
    ++m_stats.http_requests;
    auto line = parse_request_line(head);
    if (!line) {
        log("http: malformed request line from " + from.to_string());
        return http_response("400 Bad Request", "bad request\n");
    }
    if (line->method != "GET") {
        return http_response("405 Method Not Allowed", "only GET is served\n", "Allow: GET\r\n");
    }
    const std::size_t question = line->target.find('?');
    const std::string_view path = line->target.substr(0, question);
    const std::string_view query =
        question == std::string_view::npos ? std::string_view{} : line->target.substr(question + 1);
    if (path == "/announce") {
        return http_response("200 OK", http_announce(query, from, now));
    }
    if (path == "/scrape") {
        return http_response("200 OK", http_scrape(query));
    }
    return http_response("404 Not Found", "not found: this tracker serves /announce and /scrape\n");
}

io::task<void> builtin_tracker::serve_http(io::scope& connections, std::stop_token stop) {
    while (!stop.stop_requested()) {
        const io::op_options options{
            .stop = stop, .timeout = std::nullopt, .deadline = std::nullopt};
        result<int> accepted = co_await io::accept(m_ring, m_http.get(), options);
        if (!accepted) {
            if (accepted.error() == std::errc::operation_canceled) {
                break;
            }
            log("http: accept failed: " + accepted.error().message());
            if (accepted.error() != std::errc::connection_aborted) {
                // Out of descriptors or memory: pending connections wait in the backlog
                // while some close, rather than the loop spinning on the same error.
                result<void> paused = co_await io::sleep_for(m_ring, 100ms, stop);
                if (!paused) {
                    break;
                }
            }
            continue;
        }
        io::unique_fd socket(*accepted);
        if (m_http_live >= m_settings.max_http_connections) {
            ++m_stats.http_refused;
            log("http: too many connections, closing a new one");
            continue;
        }
        ++m_http_live;
        ++m_stats.http_accepted;
        connections.spawn(serve_connection(std::move(socket), stop));
    }
}

io::task<void> builtin_tracker::serve_connection(io::unique_fd socket, std::stop_token stop) {
    // Gives the connection's slot back however the coroutine ends.
    struct slot {
        std::size_t& live;
        explicit slot(std::size_t& counter) : live(counter) {}
        slot(const slot&) = delete;
        slot& operator=(const slot&) = delete;
        ~slot() { --live; }
    };
    const slot taken{m_http_live};

    sockaddr_storage peer_storage{};
    socklen_t peer_length = sizeof(peer_storage);
    if (::getpeername(socket.get(), reinterpret_cast<sockaddr*>(&peer_storage), &peer_length) !=
        0) {
        ++m_stats.http_abandoned;
        co_return;
    }
    const auto peer =
        endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&peer_storage), peer_length);
    if (!peer) {
        ++m_stats.http_abandoned;
        co_return;
    }

    // One deadline for the whole exchange: a client that trickles its request a byte at a
    // time cannot hold the connection longer than http_timeout.
    const io::op_options options{
        .stop = stop,
        .timeout = std::nullopt,
        .deadline = std::chrono::steady_clock::now() + m_settings.http_timeout,
    };
    std::string head;
    std::array<std::byte, 1024> chunk{};
    std::string response;
    while (response.empty()) {
        result<std::size_t> got = co_await io::recv(m_ring, socket.get(), chunk, options);
        if (!got || *got == 0) {
            ++m_stats.http_abandoned;
            co_return;
        }
        // The blank line may straddle two reads: look again from a little before the new bytes.
        const std::size_t search_from = head.size() < 3 ? 0 : head.size() - 3;
        head.append(reinterpret_cast<const char*>(chunk.data()), *got);
        const std::size_t end = head_end(head, search_from);
        if (end != std::string::npos && end <= m_settings.max_http_request) {
            response = handle_http_request(std::string_view(head).substr(0, end), *peer,
                                           std::chrono::steady_clock::now());
        } else if (head.size() > m_settings.max_http_request) {
            ++m_stats.http_requests;
            response =
                http_response("431 Request Header Fields Too Large", "request head too large\n");
        }
    }

    std::span<const std::byte> unsent = std::as_bytes(std::span(response));
    while (!unsent.empty()) {
        result<std::size_t> sent = co_await io::send(m_ring, socket.get(), unsent, options);
        if (!sent || *sent == 0) {
            co_return;
        }
        unsent = unsent.subspan(*sent);
    }
    // Our side is done; the close that follows (unique_fd) ends the connection.
    ::shutdown(socket.get(), SHUT_WR);
}

} // namespace spate::tracker
