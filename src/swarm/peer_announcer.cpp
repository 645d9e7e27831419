#include <spate/io/socket_ops.hpp>
#include <spate/io/unique_fd.hpp>
#include <spate/swarm/dial_from.hpp>
#include <spate/swarm/peer_announcer.hpp>
#include <spate/tracker/error.hpp>
#include <spate/tracker/http_codec.hpp>
#include <spate/tracker/tracker_url.hpp>

#include <cerrno>
#include <string_view>

namespace spate::swarm {

namespace {

// One GET from `source` to `tracker`; the reply is read to its end (HTTP/1.0 closes).
io::task<result<void>> announce_one(io::ring& ring, const endpoint& source,
                                    const endpoint& tracker, std::string request,
                                    std::chrono::milliseconds timeout, std::stop_token stop) {
    io::op_options options;
    options.stop = stop;
    options.deadline = std::chrono::steady_clock::now() + timeout;
    result<io::unique_fd> fd = co_await dial_from(ring, source, tracker, timeout, stop);
    if (!fd) {
        co_return fail(fd.error());
    }
    std::span<const std::byte> out(reinterpret_cast<const std::byte*>(request.data()),
                                   request.size());
    while (!out.empty()) {
        result<std::size_t> sent = co_await io::send(ring, fd->get(), out, options);
        if (!sent) {
            co_return fail(sent.error());
        }
        out = out.subspan(*sent);
    }
    std::string reply;
    std::array<std::byte, 4096> chunk{};
    while (reply.size() < 64 * 1024) {
        result<std::size_t> got = co_await io::recv(ring, fd->get(), chunk, options);
        if (!got) {
            co_return fail(got.error());
        }
        if (*got == 0) {
            break;
        }
        reply.append(reinterpret_cast<const char*>(chunk.data()), *got);
    }
    const std::string_view head = std::string_view(reply).substr(0, reply.find("\r\n"));
    if (head.find(" 200") == std::string_view::npos ||
        reply.find("failure reason") != std::string::npos) {
        co_return fail(make_error_code(tracker::errc::tracker_failure));
    }
    co_return result<void>{};
}

} // namespace

io::task<result<void>> announce_each(io::ring& ring, peer_announce what,
                                     std::vector<endpoint> peers, std::vector<peer::peer_id> ids,
                                     std::stop_token stop) {
    result<tracker::tracker_url> url = tracker::parse_tracker_url(what.announce_url);
    if (!url || url->scheme != tracker::tracker_scheme::http) {
        co_return fail(std::make_error_code(std::errc::invalid_argument));
    }
    std::string host = url->host;
    if (host.find(':') != std::string::npos) {
        host.insert(host.begin(), '[');
        host.push_back(']');
    }
    std::optional<endpoint> tracker_at = endpoint::parse(host + ":" + std::to_string(url->port));
    if (!tracker_at || !tracker_at->is_loopback()) {
        co_return fail(std::make_error_code(std::errc::invalid_argument));
    }
    for (std::size_t i = 0; i < peers.size() && i < ids.size(); ++i) {
        tracker::announce_request request;
        request.info_hash = what.info_hash;
        request.peer = ids[i];
        request.port = peers[i].port();
        request.left = what.left;
        request.event = what.event;
        request.numwant = 0;
        result<std::string> full = tracker::http::build_announce_url(what.announce_url, request);
        if (!full) {
            co_return fail(full.error());
        }
        result<tracker::tracker_url> target = tracker::parse_tracker_url(*full);
        if (!target) {
            co_return fail(target.error());
        }
        std::string get = "GET " + target->path_and_query + " HTTP/1.0\r\nHost: " + host + ":" +
                          std::to_string(url->port) + "\r\nUser-Agent: spate-swarm\r\n\r\n";
        result<void> sent = co_await announce_one(ring, peers[i], *tracker_at, std::move(get),
                                                  what.timeout, stop);
        if (!sent) {
            co_return fail(sent.error());
        }
    }
    co_return result<void>{};
}

} // namespace spate::swarm
