// connection: running the reader and the writer, dispatching decoded messages, and the
// send_* calls. The receive path is in connection_receive.cpp.
#include <spate/core/big_endian.hpp>
#include <spate/io/iovec_span.hpp>
#include <spate/io/scope.hpp>
#include <spate/io/socket_ops.hpp>
#include <spate/peer/connection.hpp>
#include <spate/peer/error.hpp>

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <utility>
#include <variant>

namespace spate::peer {

namespace {

// Sends carry no deadline of their own: a linked timeout per operation costs a timer arm
// and disarm on every block. The owner's periodic check (stalled) closes a connection that
// went quiet instead.
io::op_options stoppable(std::stop_token stop) {
    io::op_options options;
    options.stop = std::move(stop);
    return options;
}

} // namespace

connection::connection(io::ring& ring, io::unique_fd socket, endpoint remote,
                       wire_geometry geometry, connection_settings settings)
    : m_ring(ring), m_socket(std::move(socket)), m_remote(remote), m_geometry(geometry),
      m_settings(settings), m_remote_bits(geometry.piece_count), m_out_ready(ring) {}

io::task<std::error_code> connection::run(connection_handler& handler, std::stop_token stop) {
    m_stop = std::stop_source{};
    std::stop_source own = m_stop;
    std::stop_callback forward(stop, [&own] { own.request_stop(); });
    io::scope writers;
    std::error_code write_error;
    writers.spawn([](connection& self, std::stop_token token,
                     std::error_code& out) -> io::task<void> {
        out = co_await self.write_loop(std::move(token));
        // A failed send ends the reader too.
        self.m_stop.request_stop();
    }(*this, own.get_token(), write_error));
    std::error_code read_error = co_await read_loop(handler, own.get_token());
    own.request_stop();
    co_await writers.join();
    if (m_close_reason) {
        co_return m_close_reason;
    }
    if (read_error && read_error != std::errc::operation_canceled) {
        co_return read_error;
    }
    if (write_error && write_error != std::errc::operation_canceled) {
        co_return write_error;
    }
    co_return read_error ? read_error : std::make_error_code(std::errc::operation_canceled);
}

void connection::close(std::error_code reason) {
    if (!m_close_reason) {
        m_close_reason = reason;
    }
    if (m_stop.stop_possible()) {
        m_stop.request_stop();
    }
}

std::error_code connection::stalled(std::chrono::steady_clock::time_point now) const {
    if (now - m_last_received > m_settings.idle_timeout) {
        return make_error_code(errc::idle_timeout);
    }
    if ((m_sending || !m_out.empty() || !m_out_borrowed.empty()) && now - m_last_sent > m_settings.idle_timeout) {
        return make_error_code(errc::send_stalled);
    }
    return {};
}

std::error_code connection::dispatch(connection_handler& handler, const message& m) {
    auto check = [](const result<void>& r) { return r ? std::error_code{} : r.error(); };
    return std::visit(
        [&](const auto& msg) -> std::error_code {
            using T = std::decay_t<decltype(msg)>;
            if constexpr (std::is_same_v<T, choke> || std::is_same_v<T, unchoke>) {
                m_peer_choking = std::is_same_v<T, choke>;
                handler.on_choke(*this, m_peer_choking);
            } else if constexpr (std::is_same_v<T, interested> ||
                                 std::is_same_v<T, not_interested>) {
                m_peer_interested = std::is_same_v<T, interested>;
                handler.on_interest(*this, m_peer_interested);
            } else if constexpr (std::is_same_v<T, have>) {
                m_availability_seen = true;
                return check(handler.on_have(*this, msg.piece));
            } else if constexpr (std::is_same_v<T, bitfield_message>) {
                bitfield bits = bitfield::from_bytes(msg.bits, m_geometry.piece_count);
                if (!m_availability_seen) {
                    m_availability_seen = true;
                    m_remote_bits = std::move(bits);
                    return check(handler.on_bitfield(*this));
                }
                // BEP 3 puts the bitfield first, but aria2 sends one again after haves.
                // A late bitfield is taken as news only: each new piece counts as a have,
                // and one that withdraws an announced piece ends the connection.
                for (std::uint32_t p = 0; p < bits.size(); ++p) {
                    if (m_remote_bits.test(p) && !bits.test(p)) {
                        return make_error_code(errc::bitfield_not_first);
                    }
                }
                for (std::uint32_t p = 0; p < bits.size(); ++p) {
                    if (bits.test(p) && !m_remote_bits.test(p)) {
                        if (std::error_code e = check(handler.on_have(*this, p))) {
                            return e;
                        }
                    }
                }
                return {};
            } else if constexpr (std::is_same_v<T, request>) {
                return check(handler.on_request(*this, msg));
            } else if constexpr (std::is_same_v<T, cancel>) {
                handler.on_cancel(*this, msg);
            }
            // keep-alive, port (no DHT) and unknown ids need nothing.
            return {};
        },
        m);
}

io::task<std::error_code> connection::write_loop(std::stop_token stop) {
    std::vector<std::byte> sending;
    std::vector<borrowed_part> borrowed;
    std::vector<iovec> parts;
    for (;;) {
        if (m_out.empty() && m_out_borrowed.empty()) {
            if (!co_await m_out_ready.wait(stop)) {
                co_return std::make_error_code(std::errc::operation_canceled);
            }
            continue;
        }
        std::swap(sending, m_out);
        std::swap(borrowed, m_out_borrowed);
        m_out_borrowed_bytes = 0;
        m_sending = true;
        if (borrowed.empty()) {
            std::span<const std::byte> rest = sending;
            while (!rest.empty()) {
                const io::op_options options = stoppable(stop);
                result<std::size_t> sent =
                    co_await io::send(m_ring, m_socket.get(), rest, options);
                if (!sent) {
                    co_return sent.error();
                }
                m_counters.bytes_sent += *sent;
                m_last_sent = std::chrono::steady_clock::now();
                rest = rest.subspan(*sent);
            }
        } else {
            parts.clear();
            std::size_t owned_from = 0;
            for (const borrowed_part& b : borrowed) {
                if (b.at > owned_from) {
                    parts.push_back(iovec{sending.data() + owned_from, b.at - owned_from});
                    owned_from = b.at;
                }
                parts.push_back(iovec{const_cast<std::byte*>(b.bytes.data()), b.bytes.size()});
            }
            if (sending.size() > owned_from) {
                parts.push_back(iovec{sending.data() + owned_from, sending.size() - owned_from});
            }
            if (std::error_code e = co_await send_gathered(parts, stop)) {
                co_return e;
            }
        }
        sending.clear();
        borrowed.clear();
        m_sending = false;
    }
}

io::task<std::error_code> connection::send_gathered(std::span<iovec> parts, std::stop_token stop) {
    constexpr std::size_t iov_max = 1024; // IOV_MAX on Linux
    while (!parts.empty()) {
        const io::op_options options = stoppable(stop);
        result<std::size_t> sent = co_await io::send_vectored(
            m_ring, m_socket.get(), parts.first(std::min(parts.size(), iov_max)), options);
        if (!sent) {
            co_return sent.error();
        }
        m_counters.bytes_sent += *sent;
        m_last_sent = std::chrono::steady_clock::now();
        io::consume_iovecs(parts, *sent);
    }
    co_return std::error_code{};
}

void connection::queue(std::span<const std::byte> bytes) {
    m_out.insert(m_out.end(), bytes.begin(), bytes.end());
    m_out_ready.notify();
}

void connection::send_keep_alive() {
    std::array<std::byte, max_fixed_message> buf{};
    queue(std::span(buf).first(encode_keep_alive(buf)));
}

void connection::send_choke(bool choke_peer) {
    m_am_choking = choke_peer;
    std::array<std::byte, max_fixed_message> buf{};
    queue(std::span(buf).first(
        encode_simple(choke_peer ? message_id::choke : message_id::unchoke, buf)));
}

void connection::send_interested(bool want) {
    m_am_interested = want;
    std::array<std::byte, max_fixed_message> buf{};
    queue(std::span(buf).first(
        encode_simple(want ? message_id::interested : message_id::not_interested, buf)));
}

void connection::send_have(std::uint32_t piece) {
    std::array<std::byte, max_fixed_message> buf{};
    queue(std::span(buf).first(encode_have(piece, buf)));
}

void connection::send_bitfield(const bitfield& bits) {
    std::vector<std::byte> buf;
    encode_bitfield(bits, buf);
    queue(buf);
}

void connection::send_extended(std::uint8_t sub_id, std::span<const std::byte> payload) {
    std::vector<std::byte> buf(prefix_size + 2 + payload.size());
    store_u32(buf, static_cast<std::uint32_t>(2 + payload.size()));
    buf[prefix_size] = std::byte{extended_message_id};
    buf[prefix_size + 1] = std::byte{sub_id};
    std::copy(payload.begin(), payload.end(), buf.begin() + prefix_size + 2);
    queue(buf);
}

void connection::send_request(const request& r) {
    std::array<std::byte, max_fixed_message> buf{};
    queue(std::span(buf).first(encode_request(r, buf)));
}

void connection::send_cancel(const cancel& c) {
    std::array<std::byte, max_fixed_message> buf{};
    queue(std::span(buf).first(encode_cancel(c, buf)));
}

void connection::send_piece_borrowed(std::uint32_t piece, std::uint32_t begin,
                                     std::span<const std::byte> data) {
    std::array<std::byte, piece_header_size> header{};
    const std::size_t n =
        encode_piece_header(piece, begin, static_cast<std::uint32_t>(data.size()), header);
    m_out.insert(m_out.end(), header.begin(), header.begin() + static_cast<std::ptrdiff_t>(n));
    m_out_borrowed.push_back(borrowed_part{m_out.size(), data});
    m_out_borrowed_bytes += data.size();
    m_counters.payload_sent += data.size();
    m_out_ready.notify();
}

void connection::send_piece(std::uint32_t piece, std::uint32_t begin,
                            std::span<const std::byte> data) {
    std::array<std::byte, piece_header_size> header{};
    const std::size_t n =
        encode_piece_header(piece, begin, static_cast<std::uint32_t>(data.size()), header);
    m_out.insert(m_out.end(), header.begin(), header.begin() + static_cast<std::ptrdiff_t>(n));
    m_out.insert(m_out.end(), data.begin(), data.end());
    m_counters.payload_sent += data.size();
    m_out_ready.notify();
}

} // namespace spate::peer
