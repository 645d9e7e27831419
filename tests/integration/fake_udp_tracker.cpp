#include "fake_udp_tracker.hpp"

#include <spate/io/operation.hpp>
#include <spate/io/poll_ops.hpp>
#include <spate/io/socket_ops.hpp>

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <iterator>
#include <netinet/in.h>
#include <utility>

namespace spate::tracker::testing {

namespace {

result<io::unique_fd> bind_socket(const endpoint& local) {
    io::unique_fd fd(
        ::socket(local.is_v4() ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP));
    if (!fd) {
        return fail(errno_code(errno));
    }
    int one = 1;
    // The kernel's receive time of each datagram, so the test measures retransmission
    // gaps from the sender's side rather than from when this coroutine got to run.
    if (::setsockopt(fd.get(), SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) != 0) {
        return fail(errno_code(errno));
    }
    sockaddr_storage address{};
    socklen_t length = local.to_sockaddr(address);
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), length) != 0) {
        return fail(errno_code(errno));
    }
    return fd;
}

result<endpoint> bound_endpoint(int fd) {
    sockaddr_storage address{};
    socklen_t length = sizeof(address);
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        return fail(errno_code(errno));
    }
    auto local = endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&address), length);
    if (!local) {
        return fail(errno_code(EAFNOSUPPORT));
    }
    return *local;
}

std::chrono::nanoseconds realtime_now() {
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    return std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec);
}

io::op_options stop_only(std::stop_token stop) {
    io::op_options options;
    options.stop = std::move(stop);
    return options;
}

} // namespace

result<std::unique_ptr<fake_udp_tracker>> fake_udp_tracker::create(io::ring& ring,
                                                                   std::string_view address) {
    auto local = endpoint::parse_address(address, 0);
    if (!local) {
        return fail(errno_code(EINVAL));
    }
    auto socket = bind_socket(*local);
    if (!socket) {
        return fail(socket.error());
    }
    auto other = bind_socket(*local);
    if (!other) {
        return fail(other.error());
    }
    auto bound = bound_endpoint(socket->get());
    auto other_bound = bound_endpoint(other->get());
    if (!bound || !other_bound) {
        return fail(errno_code(EINVAL));
    }
    return std::unique_ptr<fake_udp_tracker>(
        new fake_udp_tracker(ring, std::move(*socket), std::move(*other), *bound, *other_bound));
}

fake_udp_tracker::fake_udp_tracker(io::ring& ring, io::unique_fd socket, io::unique_fd other,
                                   endpoint address, endpoint other_address)
    : m_ring(ring), m_socket(std::move(socket)), m_other(std::move(other)), m_address(address),
      m_other_address(other_address) {}

void fake_udp_tracker::script(udp::action action, std::vector<step> steps) {
    auto& queue = m_script.at(index(action));
    queue.insert(queue.end(), steps.begin(), steps.end());
}

std::vector<seen_request> fake_udp_tracker::seen(udp::action action) const {
    std::vector<seen_request> out;
    std::copy_if(m_seen.begin(), m_seen.end(), std::back_inserter(out),
                 [&](const seen_request& s) { return s.request.action() == action; });
    return out;
}

io::task<void> fake_udp_tracker::run(std::stop_token stop) {
    // Bounded by `stop`: each turn waits for the socket to be readable.
    while (!stop.stop_requested()) {
        auto ready = co_await io::poll_add(m_ring, m_socket.get(), POLLIN, stop_only(stop));
        if (!ready) {
            break;
        }
        // Drain what is queued, a bounded number at a time.
        for (int i = 0; i < 64; ++i) {
            std::optional<seen_request> seen;
            if (!read_one(seen)) {
                break;
            }
            if (seen) {
                co_await respond(std::move(*seen));
            }
        }
    }
}

bool fake_udp_tracker::read_one(std::optional<seen_request>& out) {
    std::array<std::byte, 65536> buffer{};
    sockaddr_storage from{};
    iovec iov{buffer.data(), buffer.size()};
    alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(timespec)) * 2> control{};
    msghdr message{};
    message.msg_name = &from;
    message.msg_namelen = sizeof(from);
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    message.msg_control = control.data();
    message.msg_controllen = control.size();
    ssize_t got = ::recvmsg(m_socket.get(), &message, MSG_DONTWAIT);
    if (got < 0) {
        return false;
    }
    std::chrono::nanoseconds received = realtime_now();
    for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            timespec stamp{};
            std::memcpy(&stamp, CMSG_DATA(c), sizeof(stamp));
            received = std::chrono::seconds(stamp.tv_sec) + std::chrono::nanoseconds(stamp.tv_nsec);
        }
    }
    auto sender =
        endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&from), message.msg_namelen);
    auto request = udp::decode_request(std::span(buffer).first(static_cast<std::size_t>(got)));
    if (!sender || !request) {
        ++m_malformed;
        return true;
    }
    out = seen_request{std::move(*request), *sender, received};
    return true;
}

step fake_udp_tracker::next_step(udp::action action) {
    auto& queue = m_script.at(index(action));
    if (m_drop_all.at(index(action))) {
        return step{reply_mode::drop};
    }
    if (queue.empty()) {
        return step{};
    }
    step next = queue.front();
    queue.pop_front();
    return next;
}

std::vector<std::byte> fake_udp_tracker::normal_reply(const seen_request& seen) {
    const udp::request& request = seen.request;
    const std::uint32_t txn = request.transaction_id;
    if (const auto* body = std::get_if<udp::connect_body>(&request.body)) {
        static_cast<void>(body);
        // Distinct, recognisable ids, so tests can tell which one a request used.
        std::uint64_t id = 0xC0DE000000000000ULL + m_issued.size() + 1;
        m_issued.push_back(id);
        auto reply = udp::encode_connect_reply(txn, id);
        return {reply.begin(), reply.end()};
    }
    if (std::find(m_issued.begin(), m_issued.end(), request.connection_id) == m_issued.end()) {
        return udp::encode_error_reply(txn, "unknown connection id");
    }
    if (const auto* body = std::get_if<udp::announce_body>(&request.body)) {
        std::vector<endpoint> list = peers_for ? peers_for(*body) : peers;
        return udp::encode_announce_reply(txn, interval, leechers, seeders, m_address.family(),
                                          list);
    }
    const auto& scrape = std::get<udp::scrape_body>(request.body);
    std::vector<scrape_entry> entries;
    for (const auto& hash : scrape.info_hashes) {
        entries.push_back(scrape_entry{hash, seeders, completed, leechers});
    }
    return udp::encode_scrape_reply(txn, entries);
}

std::vector<std::byte> fake_udp_tracker::wrong_action_reply(const seen_request& seen) const {
    const std::uint32_t txn = seen.request.transaction_id;
    if (seen.request.action() == udp::action::announce) {
        // A connect reply where an announce reply is due.
        auto reply = udp::encode_connect_reply(txn, bogus_connection_id);
        return {reply.begin(), reply.end()};
    }
    // An announce reply (with a peer) where a connect or scrape reply is due.
    std::vector<endpoint> bogus{
        *endpoint::parse_address(m_address.is_v4() ? "127.0.0.99" : "::99", 6666)};
    return udp::encode_announce_reply(txn, interval, 1, 1, m_address.family(), bogus);
}

std::vector<std::byte> fake_udp_tracker::bogus_reply(const seen_request& seen) const {
    const std::uint32_t txn = seen.request.transaction_id;
    switch (seen.request.action()) {
    case udp::action::connect: {
        auto reply = udp::encode_connect_reply(txn, bogus_connection_id);
        return {reply.begin(), reply.end()};
    }
    case udp::action::announce: {
        std::vector<endpoint> bogus{
            *endpoint::parse_address(m_address.is_v4() ? "127.0.0.66" : "::66", 6666)};
        return udp::encode_announce_reply(txn, std::chrono::seconds(66), 66, 66, m_address.family(),
                                          bogus);
    }
    default: {
        const auto& scrape = std::get<udp::scrape_body>(seen.request.body);
        std::vector<scrape_entry> entries;
        for (const auto& hash : scrape.info_hashes) {
            entries.push_back(scrape_entry{hash, 666, 666, 666});
        }
        return udp::encode_scrape_reply(txn, entries);
    }
    }
}

io::task<void> fake_udp_tracker::respond(seen_request seen) {
    m_seen.push_back(seen);
    if (on_request) {
        on_request(seen);
    }
    const step what = next_step(seen.request.action());
    const endpoint to = seen.from;
    const int fd = m_socket.get();
    std::vector<std::byte> good;
    if (what.mode != reply_mode::drop && what.mode != reply_mode::error) {
        good = normal_reply(seen);
    }
    bool send_good = what.then_answer;
    switch (what.mode) {
    case reply_mode::answer:
        send_good = true;
        break;
    case reply_mode::drop:
        send_good = false;
        break;
    case reply_mode::truncate: {
        std::vector<std::byte> cut(good.begin(), good.end() - 3);
        co_await send(fd, std::move(cut), to);
        break;
    }
    case reply_mode::wrong_transaction: {
        std::vector<std::byte> other = bogus_reply(seen);
        // The transaction id is bytes 4..7 of every reply.
        other[7] = static_cast<std::byte>(std::to_integer<unsigned>(other[7]) ^ 0x5AU);
        co_await send(fd, std::move(other), to);
        break;
    }
    case reply_mode::wrong_action:
        co_await send(fd, wrong_action_reply(seen), to);
        break;
    case reply_mode::twice:
        co_await send(fd, good, to);
        send_good = true;
        break;
    case reply_mode::other_socket:
        co_await send(m_other.get(), bogus_reply(seen), to);
        break;
    case reply_mode::hold:
        m_held = outgoing{std::move(good), to};
        co_return;
    case reply_mode::error:
        co_await send(fd, udp::encode_error_reply(seen.request.transaction_id, error_message), to);
        send_good = false;
        break;
    }
    if (send_good) {
        co_await send(fd, std::move(good), to);
    }
    if (m_held && what.mode != reply_mode::drop) {
        outgoing held = std::move(*m_held);
        m_held.reset();
        co_await send(fd, std::move(held.bytes), held.to);
    }
}

io::task<void> fake_udp_tracker::send(int fd, std::vector<std::byte> bytes, endpoint to) {
    sockaddr_storage address{};
    socklen_t length = to.to_sockaddr(address);
    auto sent = co_await io::sendmsg(m_ring, fd, std::span<const std::byte>(bytes),
                                     reinterpret_cast<const sockaddr*>(&address), length);
    static_cast<void>(sent);
}

} // namespace spate::tracker::testing
