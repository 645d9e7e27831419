// connection's receive path: framing, blocks received in place (several per read when
// the peer answers in the order asked), long and extended bodies. The writer, dispatch and
// the send_* calls are in connection.cpp.
#include <spate/io/socket_ops.hpp>
#include <spate/peer/connection.hpp>
#include <spate/peer/error.hpp>

#include <algorithm>
#include <cstring>

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

// Reads carry no deadline of their own: a linked timeout per operation costs a timer arm
// and disarm on every block. The owner's periodic check (stalled) closes a connection that
// went quiet instead.
io::op_options stoppable(std::stop_token stop) {
    io::op_options options;
    options.stop = std::move(stop);
    return options;
}

std::error_code closed_by_peer() { return std::make_error_code(std::errc::connection_reset); }

iovec iovec_of(std::span<std::byte> bytes) noexcept { return iovec{bytes.data(), bytes.size()}; }

} // namespace

io::task<result<std::size_t>> connection::read_some(std::span<const iovec> parts,
                                                    std::stop_token stop) {
    if (m_spill_at < m_spill.size()) {
        std::size_t copied = 0;
        for (const iovec& part : parts) {
            const std::size_t n = std::min(part.iov_len, m_spill.size() - m_spill_at);
            std::memcpy(part.iov_base, m_spill.data() + m_spill_at, n);
            m_spill_at += n;
            copied += n;
            if (n < part.iov_len) {
                break;
            }
        }
        if (m_spill_at == m_spill.size()) {
            m_spill.clear();
            m_spill_at = 0;
        }
        co_return copied;
    }
    result<std::size_t> got =
        co_await io::recv_vectored(m_ring, m_socket.get(), parts, stoppable(std::move(stop)));
    if (!got) {
        co_return fail(got.error());
    }
    if (*got == 0) {
        co_return fail(closed_by_peer());
    }
    m_counters.bytes_received += *got;
    ++m_counters.reads;
    m_last_received = std::chrono::steady_clock::now();
    co_return *got;
}

io::task<std::error_code> connection::fill(std::size_t need, std::size_t ceiling,
                                           std::stop_token stop) {
    while (m_head_size < need) {
        std::array<iovec, 1> room{
            iovec_of(std::span(m_head).subspan(m_head_size, ceiling - m_head_size))};
        result<std::size_t> got = co_await read_some(room, stop);
        if (!got) {
            co_return got.error();
        }
        m_head_size += *got;
    }
    co_return std::error_code{};
}

io::task<std::error_code> connection::receive_exactly(std::span<std::byte> into,
                                                      std::stop_token stop) {
    while (!into.empty()) {
        std::array<iovec, 1> room{iovec_of(into)};
        result<std::size_t> got = co_await read_some(room, stop);
        if (!got) {
            co_return got.error();
        }
        into = into.subspan(*got);
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
    co_return co_await receive_blocks(handler, block, *sink, stop);
}

std::size_t connection::expect_following(connection_handler& handler, std::size_t current) {
    m_expected_count = 0;
    if (m_expect_pause > 0) {
        --m_expect_pause;
        return 0;
    }
    if (m_spill_at < m_spill.size()) {
        return 0; // what is buffered after a surprise is parsed the ordinary way first
    }
    // Only as many blocks as the kernel already holds past the current one: the read then
    // completes at once, so a reservation never outlives it (a slow or silent peer keeps
    // no slot from the others, in the endgame or after its requests time out).
    result<std::size_t> queued = io::queued_bytes(m_socket.get());
    if (!queued || *queued <= current) {
        return 0;
    }
    const std::size_t whole = (*queued - current) / (piece_header_size + block_size);
    if (whole == 0) {
        return 0;
    }
    read_ahead& a = *m_ahead;
    const std::size_t room = std::min(whole, max_expected);
    m_expected_count =
        std::min(handler.reserve_expected(*this, std::span(a.expected).first(room)), room);
    for (std::size_t i = 0; i < m_expected_count; ++i) {
        const piece_message& h = a.expected[i].header;
        encode_piece_header(h.piece, h.begin, h.length, a.expected_wire[i]);
        a.iov[1 + 2 * i] = iovec_of(a.arrived_wire[i]);
        a.iov[2 + 2 * i] = iovec_of(a.expected[i].into);
    }
    return m_expected_count;
}

void connection::release_expected(connection_handler& handler, std::size_t first) {
    for (std::size_t i = first; i < m_expected_count; ++i) {
        handler.release_expected(*this, m_ahead->expected[i].header);
    }
    m_expected_count = 0;
}

void connection::spill(std::size_t first, std::size_t count) {
    // Ahead of whatever the spill still holds: these bytes came before it.
    std::vector<std::byte> kept;
    kept.reserve(count + m_spill.size() - m_spill_at);
    for (std::size_t i = first; count > 0; ++i) {
        const std::size_t n = std::min(count, m_ahead->iov[i].iov_len);
        const auto* from = static_cast<const std::byte*>(m_ahead->iov[i].iov_base);
        kept.insert(kept.end(), from, from + n);
        count -= n;
    }
    kept.insert(kept.end(), m_spill.begin() + static_cast<std::ptrdiff_t>(m_spill_at),
                m_spill.end());
    m_spill = std::move(kept);
    m_spill_at = 0;
}

io::task<std::error_code> connection::receive_blocks(connection_handler& handler,
                                                     piece_message block,
                                                     std::span<std::byte> into,
                                                     std::stop_token stop) {
    // The header window is empty here (a piece header was just consumed).
    if (!m_ahead) {
        m_ahead = std::make_unique<read_ahead>();
    }
    read_ahead& a = *m_ahead;
    bool store = !into.empty();
    if (!store) {
        into = discard_buffer().subspan(0, block.length);
    }
    for (;;) {
        // Only a block going to its own slot brings others along: a discarded one says
        // the requests are in flux (cancels, endgame), so the guess would likely miss.
        const std::size_t expected = store ? expect_following(handler, into.size()) : 0;
        a.iov[0] = iovec_of(into);
        a.iov[1 + 2 * expected] = iovec_of(std::span(m_head).first(header_window));
        result<std::size_t> got =
            co_await read_some(std::span(a.iov).first(2 + 2 * expected), stop);
        if (!got) {
            release_expected(handler, 0);
            handler.on_block_done(*this, block, store, false);
            co_return got.error();
        }
        std::size_t left = *got;
        if (left < into.size()) {
            into = into.subspan(left);
            release_expected(handler, 0);
            continue;
        }
        left -= into.size();
        m_counters.payload_received += block.length;
        handler.on_block_done(*this, block, store, true);
        bool unfinished = false;
        for (std::size_t i = 0; i < expected && !unfinished; ++i) {
            if (left < piece_header_size || a.arrived_wire[i] != a.expected_wire[i]) {
                // Not the block expected (or not all of its header yet): what came from
                // here on is parsed the ordinary way.
                spill(1 + 2 * i, left);
                release_expected(handler, i);
                if (left >= piece_header_size) {
                    m_expect_pause = expect_pause_blocks;
                }
                co_return std::error_code{};
            }
            left -= piece_header_size;
            ++m_messages;
            block = a.expected[i].header;
            const std::span<std::byte> slot = a.expected[i].into;
            result<std::span<std::byte>> claimed = handler.on_block_header(*this, block);
            if (!claimed) {
                release_expected(handler, i + 1);
                co_return claimed.error();
            }
            const std::size_t arrived = std::min(left, slot.size());
            left -= arrived;
            store = !claimed->empty();
            if (store && claimed->data() != slot.data()) {
                // The handler promised this slot; should it name another, the bytes move.
                std::memmove(claimed->data(), slot.data(), arrived);
            }
            if (arrived < slot.size()) {
                into = store ? claimed->subspan(arrived)
                             : discard_buffer().subspan(0, slot.size() - arrived);
                release_expected(handler, i + 1);
                unfinished = true;
                continue;
            }
            m_counters.payload_received += block.length;
            handler.on_block_done(*this, block, store, true);
        }
        if (unfinished) {
            continue;
        }
        m_expected_count = 0;
        m_head_size = left; // the next header, or part of it, came in the window
        co_return std::error_code{};
    }
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

} // namespace spate::peer
