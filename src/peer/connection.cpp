#include <spate/core/big_endian.hpp>
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

std::uint32_t load_be32(const std::byte* p) noexcept {
    return (static_cast<std::uint32_t>(p[0]) << 24) | (static_cast<std::uint32_t>(p[1]) << 16) |
           (static_cast<std::uint32_t>(p[2]) << 8) | static_cast<std::uint32_t>(p[3]);
}

// Where the payload of blocks nobody wants goes (late endgame duplicates, cancelled
// requests, unknown messages). One thread, and the bytes are thrown away, so every
// connection may receive into it at once.
std::span<std::byte> discard_buffer() {
    alignas(64) static std::array<std::byte, 64 * 1024> scratch;
    return scratch;
}

// Reads and sends carry no deadline of their own: a linked timeout per operation costs a
// timer arm and disarm on every block. The owner's periodic check (idle_since) closes a
// connection that went quiet instead.
io::op_options stoppable(std::stop_token stop) {
    io::op_options options;
    options.stop = std::move(stop);
    return options;
}

std::error_code closed_by_peer() { return std::make_error_code(std::errc::connection_reset); }

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

io::task<std::error_code> connection::fill(std::size_t need, std::size_t ceiling,
                                           std::stop_token stop) {
    while (m_head_size < need) {
        std::span<std::byte> room = std::span(m_head).subspan(m_head_size, ceiling - m_head_size);
        const io::op_options options = stoppable(stop);
        result<std::size_t> got = co_await io::recv(m_ring, m_socket.get(), room, options);
        if (!got) {
            co_return got.error();
        }
        if (*got == 0) {
            co_return closed_by_peer();
        }
        m_head_size += *got;
        m_counters.bytes_received += *got;
        ++m_counters.reads;
        m_last_received = std::chrono::steady_clock::now();
    }
    co_return std::error_code{};
}

io::task<std::error_code> connection::receive_exactly(std::span<std::byte> into,
                                                      std::stop_token stop) {
    while (!into.empty()) {
        const io::op_options options = stoppable(stop);
        result<std::size_t> got =
            co_await io::recv(m_ring, m_socket.get(), into, options, MSG_WAITALL);
        if (!got) {
            co_return got.error();
        }
        if (*got == 0) {
            co_return closed_by_peer();
        }
        m_counters.bytes_received += *got;
        ++m_counters.reads;
        m_last_received = std::chrono::steady_clock::now();
        into = into.subspan(*got);
    }
    co_return std::error_code{};
}

std::error_code connection::stalled(std::chrono::steady_clock::time_point now) const {
    if (now - m_last_received > m_settings.idle_timeout) {
        return make_error_code(errc::idle_timeout);
    }
    if ((m_sending || !m_out.empty()) && now - m_last_sent > m_settings.idle_timeout) {
        return make_error_code(errc::send_stalled);
    }
    return {};
}

io::task<std::error_code> connection::receive_payload(std::span<std::byte> into,
                                                      std::stop_token stop) {
    // The header window is empty here (a piece header was just consumed). Each read also
    // offers the window, so when the peer has sent more, the next message's header comes
    // in the same read as the end of this payload: about one read per block, not two.
    while (!into.empty()) {
        std::span<std::byte> window = std::span(m_head).first(header_window);
        result<std::size_t> got =
            co_await io::recv_two(m_ring, m_socket.get(), into, window, stoppable(stop));
        if (!got) {
            co_return got.error();
        }
        if (*got == 0) {
            co_return closed_by_peer();
        }
        m_counters.bytes_received += *got;
        ++m_counters.reads;
        m_last_received = std::chrono::steady_clock::now();
        if (*got <= into.size()) {
            into = into.subspan(*got);
        } else {
            m_head_size = *got - into.size();
            into = {};
        }
    }
    co_return std::error_code{};
}

void connection::consume(std::size_t n) {
    std::memmove(m_head.data(), m_head.data() + n, m_head_size - n);
    m_head_size -= n;
}

io::task<std::error_code> connection::read_loop(connection_handler& handler,
                                                std::stop_token stop) {
    for (;;) {
        if (std::error_code e = co_await fill(prefix_size, header_window, stop)) {
            co_return e;
        }
        const std::uint32_t length = load_be32(m_head.data());
        if (length == 0) {
            consume(prefix_size); // keep-alive
            continue;
        }
        if (std::error_code e = co_await fill(prefix_size + 1, header_window, stop)) {
            co_return e;
        }
        frame f;
        f.length = length;
        f.id = static_cast<std::uint8_t>(m_head[prefix_size]);
        if (result<void> ok = check_frame(f, m_geometry, m_settings.limits); !ok) {
            co_return ok.error();
        }
        ++m_messages;
        if (*f.id == extended_message_id) {
            if (std::error_code e = co_await read_extended(handler, f, stop)) {
                co_return e;
            }
            continue;
        }
        const auto id = static_cast<message_id>(*f.id);
        if (id == message_id::piece) {
            if (std::error_code e = co_await read_block(handler, f, stop)) {
                co_return e;
            }
            continue;
        }
        const std::size_t total = prefix_size + length;
        if (total > head_capacity) {
            if (std::error_code e = co_await read_long_body(handler, f, stop)) {
                co_return e;
            }
            continue;
        }
        if (std::error_code e = co_await fill(total, total, stop)) {
            co_return e;
        }
        result<message> decoded =
            decode_message(f, std::span<const std::byte>(m_head).subspan(prefix_size, length),
                           m_geometry);
        if (!decoded) {
            co_return decoded.error();
        }
        std::error_code e = dispatch(handler, *decoded);
        consume(total);
        if (e) {
            co_return e;
        }
    }
}

io::task<std::error_code> connection::read_block(connection_handler& handler, const frame& f,
                                                 std::stop_token stop) {
    if (std::error_code e = co_await fill(piece_header_size, header_window, stop)) {
        co_return e;
    }
    result<message> decoded = decode_message(
        f, std::span<const std::byte>(m_head).subspan(prefix_size, piece_header_size - prefix_size),
        m_geometry);
    if (!decoded) {
        co_return decoded.error();
    }
    const piece_message block = std::get<piece_message>(*decoded);
    // The window never reaches past a piece header, so nothing of the payload is buffered.
    consume(piece_header_size);
    result<std::span<std::byte>> sink = handler.on_block_header(*this, block);
    if (!sink) {
        co_return sink.error();
    }
    const bool store = !sink->empty();
    std::span<std::byte> into = store ? *sink : discard_buffer().subspan(0, block.length);
    std::error_code e = co_await receive_payload(into, stop);
    if (!e) {
        m_counters.payload_received += block.length;
    }
    handler.on_block_done(*this, block, store, !e);
    co_return e;
}

io::task<std::error_code> connection::read_long_body(connection_handler& handler, const frame& f,
                                                     std::stop_token stop) {
    // What the header window holds of the body is at most a few bytes; it is copied.
    const std::size_t buffered = m_head_size - prefix_size;
    const auto id = static_cast<message_id>(*f.id);
    if (id != message_id::bitfield) {
        // An unknown message (check_frame bounded its length): read and drop it.
        std::size_t left = f.length - buffered;
        m_head_size = 0;
        while (left > 0) {
            std::span<std::byte> chunk = discard_buffer().subspan(0, std::min(left, discard_buffer().size()));
            if (std::error_code e = co_await receive_exactly(chunk, stop)) {
                co_return e;
            }
            left -= chunk.size();
        }
        co_return std::error_code{};
    }
    m_body.resize(f.length);
    std::memcpy(m_body.data(), m_head.data() + prefix_size, buffered);
    m_head_size = 0;
    if (std::error_code e = co_await receive_exactly(std::span(m_body).subspan(buffered), stop)) {
        co_return e;
    }
    result<message> decoded = decode_message(f, m_body, m_geometry);
    if (!decoded) {
        co_return decoded.error();
    }
    co_return dispatch(handler, *decoded);
}

io::task<std::error_code> connection::read_extended(connection_handler& handler, const frame& f,
                                                    std::stop_token stop) {
    // id, sub-id, payload: BEP 10 messages spate reads are small (the handshake).
    if (f.length < 2) {
        co_return make_error_code(errc::bad_message_length);
    }
    if (f.length - 2 > max_extension_handshake) {
        co_return make_error_code(errc::extended_message_too_long);
    }
    const std::size_t total = prefix_size + f.length;
    if (total <= head_capacity) {
        if (std::error_code e = co_await fill(total, total, stop)) {
            co_return e;
        }
        m_body.assign(m_head.begin() + prefix_size, m_head.begin() + static_cast<std::ptrdiff_t>(total));
        consume(total);
    } else {
        // The header window holds a few bytes of the body at most (never past it).
        const std::size_t buffered = m_head_size - prefix_size;
        m_body.resize(f.length);
        std::memcpy(m_body.data(), m_head.data() + prefix_size, buffered);
        m_head_size = 0;
        if (std::error_code e =
                co_await receive_exactly(std::span(m_body).subspan(buffered), stop)) {
            co_return e;
        }
    }
    const auto sub_id = static_cast<std::uint8_t>(m_body[1]);
    result<void> taken =
        handler.on_extended(*this, sub_id, std::span<const std::byte>(m_body).subspan(2));
    if (m_body.capacity() > 4096) {
        std::vector<std::byte>().swap(m_body); // no peer keeps 64 KiB of ours for nothing
    }
    co_return taken ? std::error_code{} : taken.error();
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
    for (;;) {
        if (m_out.empty()) {
            if (!co_await m_out_ready.wait(stop)) {
                co_return std::make_error_code(std::errc::operation_canceled);
            }
            continue;
        }
        std::swap(sending, m_out);
        m_sending = true;
        std::span<const std::byte> rest = sending;
        while (!rest.empty()) {
            const io::op_options options = stoppable(stop);
            result<std::size_t> sent = co_await io::send(m_ring, m_socket.get(), rest, options);
            if (!sent) {
                co_return sent.error();
            }
            m_counters.bytes_sent += *sent;
            m_last_sent = std::chrono::steady_clock::now();
            rest = rest.subspan(*sent);
        }
        sending.clear();
        m_sending = false;
    }
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
