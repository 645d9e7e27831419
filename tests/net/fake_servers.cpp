#include "fake_servers.hpp"

#include <spate/io/socket_ops.hpp>

#include <gtest/gtest.h>

#include <sys/socket.h>

#include <arpa/inet.h>
#include <array>
#include <cstring>
#include <netinet/in.h>

namespace spate::net::testing {

namespace {

constexpr std::uint16_t type_a = 1;
constexpr std::uint16_t type_aaaa = 28;
constexpr int max_rounds = 100'000;

io::op_options stoppable(std::stop_token stop) {
    io::op_options options;
    options.stop = std::move(stop);
    return options;
}

void put16(std::vector<std::byte>& out, std::uint16_t value) {
    out.push_back(static_cast<std::byte>(value >> 8));
    out.push_back(static_cast<std::byte>(value & 0xff));
}

void put32(std::vector<std::byte>& out, std::uint32_t value) {
    put16(out, static_cast<std::uint16_t>(value >> 16));
    put16(out, static_cast<std::uint16_t>(value & 0xffff));
}

std::uint16_t get16(std::span<const std::byte> in, std::size_t at) {
    return static_cast<std::uint16_t>((std::to_integer<unsigned>(in[at]) << 8) |
                                      std::to_integer<unsigned>(in[at + 1]));
}

io::unique_fd loopback_socket(int type, std::uint16_t& port) {
    io::unique_fd fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        ADD_FAILURE() << "cannot bind a loopback socket";
        return {};
    }
    port = ntohs(address.sin_port);
    return fd;
}

// Callers make the task in a statement of its own (g++ 12 may destroy temporaries of a
// co_await expression twice), hence send_reply below.
io::task<bool> send_all(io::ring& ring, int fd, std::string data) {
    std::span<const std::byte> rest = std::as_bytes(std::span(data));
    const io::op_options options;
    for (int round = 0; round < max_rounds && !rest.empty(); ++round) {
        result<std::size_t> sent = co_await io::send(ring, fd, rest, options, MSG_NOSIGNAL);
        if (!sent || *sent == 0) {
            co_return false;
        }
        rest = rest.subspan(*sent);
    }
    co_return rest.empty();
}

io::task<void> send_reply(io::ring& ring, int fd, std::string data) {
    io::task<bool> sending = send_all(ring, fd, std::move(data));
    bool sent = co_await sending;
    (void)sent; // the client sees a short reply for itself
}

} // namespace

// ---------------------------------------------------------------------------------------

fake_dns::fake_dns(io::ring& ring) : m_ring(ring) {
    std::uint16_t port = 0;
    m_fd = loopback_socket(SOCK_DGRAM, port);
    m_address = *endpoint::parse_address("127.0.0.1", port);
}

int fake_dns::queries(const std::string& name) const {
    auto it = m_queries.find(name);
    return it == m_queries.end() ? 0 : it->second;
}

std::vector<std::byte> fake_dns::answer(std::span<const std::byte> packet) {
    constexpr std::size_t header = 12;
    if (packet.size() < header + 5) {
        return {};
    }
    // The question name, lower case, labels joined by dots.
    std::string name;
    std::size_t at = header;
    for (int labels = 0; labels < 128; ++labels) {
        if (at >= packet.size()) {
            return {};
        }
        const auto length = std::to_integer<std::size_t>(packet[at++]);
        if (length == 0) {
            break;
        }
        if (length > 63 || at + length > packet.size()) {
            return {};
        }
        if (!name.empty()) {
            name += '.';
        }
        for (std::size_t i = 0; i < length; ++i) {
            char c = static_cast<char>(packet[at + i]);
            name += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
        }
        at += length;
    }
    if (at + 4 > packet.size()) {
        return {};
    }
    const std::uint16_t type = get16(packet, at);
    const std::size_t question_end = at + 4;
    ++m_queries[name];
    if (m_silent.contains(name)) {
        return {};
    }

    std::vector<std::array<std::byte, 16>> rdata;
    std::uint32_t ttl = 0;
    bool known = false;
    if (auto it = m_records.find(name); it != m_records.end()) {
        known = true;
        ttl = it->second.ttl;
        for (const endpoint& address : it->second.addresses) {
            if ((type == type_a) != address.is_v4() || (type != type_a && type != type_aaaa)) {
                continue;
            }
            std::array<std::byte, 16> bytes{};
            std::memcpy(bytes.data(), address.address_bytes().data(),
                        address.address_bytes().size());
            rdata.push_back(bytes);
        }
    }

    std::vector<std::byte> out;
    out.push_back(packet[0]); // the query's id
    out.push_back(packet[1]);
    // QR, AA, and RD copied from the query; RA, and NXDOMAIN for unknown names.
    out.push_back(static_cast<std::byte>(0x84U | (std::to_integer<unsigned>(packet[2]) & 0x01U)));
    out.push_back(static_cast<std::byte>(0x80U | (known ? 0U : 3U)));
    put16(out, 1);
    put16(out, static_cast<std::uint16_t>(rdata.size()));
    put16(out, 0);
    put16(out, 0);
    out.insert(out.end(), packet.begin() + header,
               packet.begin() + static_cast<std::ptrdiff_t>(question_end));
    const std::size_t length = type == type_a ? 4 : 16;
    for (const auto& bytes : rdata) {
        put16(out, 0xc00c); // the name, by pointer to the question
        put16(out, type);
        put16(out, 1); // IN
        put32(out, ttl);
        put16(out, static_cast<std::uint16_t>(length));
        out.insert(out.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(length));
    }
    return out;
}

io::task<void> fake_dns::serve(std::stop_token stop) {
    std::array<std::byte, 1500> buffer{};
    for (int round = 0; round < max_rounds; ++round) {
        const io::op_options options = stoppable(stop);
        result<io::datagram_info> got = co_await io::recvmsg(m_ring, m_fd.get(), buffer, options);
        if (!got) {
            break; // stopped
        }
        std::vector<std::byte> reply = answer(std::span(buffer).first(got->size));
        if (reply.empty()) {
            continue;
        }
        result<std::size_t> sent =
            co_await io::sendmsg(m_ring, m_fd.get(), std::span<const std::byte>(reply),
                                 reinterpret_cast<const sockaddr*>(&got->from), got->from_length);
        (void)sent; // a lost answer is the resolver's problem, which the tests look at
    }
}

// ---------------------------------------------------------------------------------------

fake_http::fake_http(io::ring& ring) : m_ring(ring) {
    m_listen = loopback_socket(SOCK_STREAM, m_port);
    if (m_listen && ::listen(m_listen.get(), 64) != 0) {
        ADD_FAILURE() << "cannot listen";
    }
}

int fake_http::requests(const std::string& path) const {
    auto it = m_requests.find(path);
    return it == m_requests.end() ? 0 : it->second;
}

std::string fake_http::reply(int status, const std::string& body, const std::string& headers,
                             bool with_length) {
    std::string out = "HTTP/1.1 " + std::to_string(status) + " Canned\r\n";
    if (with_length) {
        out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    out += "Connection: close\r\n" + headers + "\r\n" + body;
    return out;
}

io::task<void> fake_http::handle(fake_http& self, int raw_fd, std::stop_token stop) {
    io::unique_fd fd(raw_fd);
    std::string request;
    std::array<std::byte, 2048> buffer{};
    for (int round = 0; round < 64 && request.find("\r\n\r\n") == std::string::npos; ++round) {
        const io::op_options options = stoppable(stop);
        result<std::size_t> got = co_await io::recv(self.m_ring, fd.get(), buffer, options);
        if (!got || *got == 0) {
            co_return;
        }
        request.append(reinterpret_cast<const char*>(buffer.data()), *got);
        if (request.front() < 'A' || request.front() > 'Z') {
            // Not HTTP (a TLS ClientHello, say): answer in plain text at once, as a plain
            // server would.
            io::task<void> refusing = send_reply(self.m_ring, fd.get(), reply(400, "not http"));
            co_await refusing;
            co_return;
        }
    }
    // "GET /path HTTP/1.1"
    const std::size_t start = request.find(' ');
    const std::size_t end = start == std::string::npos ? start : request.find(' ', start + 1);
    if (end == std::string::npos) {
        co_return; // no request line: nothing to answer
    }
    const std::string path = request.substr(start + 1, end - start - 1);
    ++self.m_requests[path];
    self.m_last_request = request;
    auto it = self.m_routes.find(path);
    if (it == self.m_routes.end()) {
        io::task<void> answering = send_reply(self.m_ring, fd.get(), reply(404, "no such path"));
        co_await answering;
        co_return;
    }
    if (!it->second.hang) {
        io::task<void> answering = send_reply(self.m_ring, fd.get(), it->second.reply);
        co_await answering;
    } else if (self.m_on_hang) {
        self.m_on_hang();
    }
    if (it->second.hang || it->second.hold) {
        for (int round = 0; round < max_rounds; ++round) {
            const io::op_options options = stoppable(stop);
            result<std::size_t> got = co_await io::recv(self.m_ring, fd.get(), buffer, options);
            if (!got || *got == 0) {
                break;
            }
        }
    }
}

io::task<void> fake_http::serve(std::stop_token stop) {
    io::scope connections;
    for (int round = 0; round < max_rounds; ++round) {
        const io::op_options options = stoppable(stop);
        result<int> accepted = co_await io::accept(m_ring, m_listen.get(), options);
        if (!accepted) {
            break;
        }
        ++m_connections;
        connections.spawn(handle(*this, *accepted, connections.token()));
    }
    connections.request_stop();
    co_await connections.join();
}

io::task<void> with_servers(fake_http* http, fake_dns* dns, io::task<void> body) {
    io::scope servers;
    if (http != nullptr) {
        servers.spawn(http->serve(servers.token()));
    }
    if (dns != nullptr) {
        servers.spawn(dns->serve(servers.token()));
    }
    co_await body;
    servers.request_stop();
    co_await servers.join();
}

} // namespace spate::net::testing
