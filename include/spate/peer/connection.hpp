#pragma once
/// connection: one peer-wire (BEP 3) connection after the handshake, as a reader and a
/// writer coroutine on the ring. It frames and validates messages and moves bytes; what to
/// request, where a block goes and whom to trust is the handler's business (the torrent).
///
/// The receive path (connection_receive.cpp): the reader takes at most 13 bytes at a time
/// into a small per-connection buffer (a `piece` header is exactly 13 bytes: length, id,
/// index, begin), so a block's payload never lands there; the handler names the block's
/// slot in its piece buffer and the payload is received straight into it. Each read also
/// offers the slots of the blocks the peer is expected to send next (the handler reserves
/// them), each behind room for its header, then the header window: a peer that answers in
/// the order asked delivers up to 65 blocks per read, every payload in place. A header
/// that is not the expected one sends what arrived after it through a spill buffer (one
/// copy) into the ordinary parse, so a surprise costs a copy, never a wrong byte.

#include <spate/core/bitfield.hpp>
#include <spate/core/endpoint.hpp>
#include <spate/core/result.hpp>
#include <spate/io/event.hpp>
#include <spate/io/ring.hpp>
#include <spate/io/task.hpp>
#include <spate/io/unique_fd.hpp>
#include <spate/peer/extension_handshake.hpp>
#include <spate/peer/message.hpp>
#include <spate/peer/wire_geometry.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <stop_token>
#include <system_error>
#include <sys/uio.h>
#include <vector>

namespace spate::peer {

class connection;

/// A block the peer is expected to send next, and the span its payload goes to.
struct expected_block {
    piece_message header;
    std::span<std::byte> into;
};

/// The policy side of a connection, implemented by the torrent. Every call comes from the
/// connection's reader on the ring's thread; none may destroy the connection. A returned
/// error closes the connection with that reason.
class connection_handler {
public:
    virtual ~connection_handler() = default;
    /// The peer's bitfield arrived (connection::remote_bits() holds it already).
    virtual result<void> on_bitfield(connection& c) = 0;
    virtual result<void> on_have(connection& c, std::uint32_t piece) = 0;
    virtual void on_choke(connection& c, bool choked) = 0;
    virtual void on_interest(connection& c, bool interested) = 0;
    virtual result<void> on_request(connection& c, const request& r) = 0;
    virtual void on_cancel(connection& c, const cancel& r) = 0;
    /// A piece header arrived; returns where its payload goes: exactly m.length bytes in a
    /// piece buffer that stay valid until on_block_done, or an empty span to discard them.
    virtual result<std::span<std::byte>> on_block_header(connection& c, const piece_message& m) = 0;
    /// The payload named by the last on_block_header is complete (stored = it went into the
    /// span the handler gave) or failed to arrive (received = false; the span's bytes are
    /// not valid). Called once per on_block_header that returned a value.
    virtual void on_block_done(connection& c, const piece_message& m, bool stored,
                               bool received) = 0;
    /// Receiving ahead: fills `out` with up to out.size() blocks this peer is expected to
    /// send next, in the order it will send them, each with the span its payload goes to,
    /// and returns how many. Each span is reserved for this connection (nothing else writes
    /// or frees it) until on_block_header names that block, which must then return the same
    /// span or an empty one, or release_expected does. The default expects nothing.
    virtual std::size_t reserve_expected(connection& /*c*/, std::span<expected_block> /*out*/) {
        return 0;
    }
    /// An expected block did not come next: its reservation ends, its span's bytes are not
    /// valid, and the request stays outstanding.
    virtual void release_expected(connection& /*c*/, const piece_message& /*m*/) {}
    /// A BEP 10 extended message (id 20) arrived with this sub-id; `payload` is borrowed
    /// for the call. The default ignores it.
    virtual result<void> on_extended(connection& /*c*/, std::uint8_t /*sub_id*/,
                                     std::span<const std::byte> /*payload*/) {
        return {};
    }
};

struct connection_settings {
    /// Longest silence from the peer before the connection is dropped.
    std::chrono::seconds idle_timeout{120};
    wire_limits limits;
};

/// Transfer counters of one connection.
struct connection_counters {
    std::uint64_t payload_received = 0; ///< block payload bytes received
    std::uint64_t payload_sent = 0;
    std::uint64_t bytes_received = 0; ///< everything, protocol included
    std::uint64_t bytes_sent = 0;
    std::uint64_t reads = 0; ///< completed socket reads (a cost the receive path minimises)
};

class connection {
public:
    /// Takes over a connected socket on which the handshakes were exchanged. The ring is
    /// borrowed and must outlive the connection.
    connection(io::ring& ring, io::unique_fd socket, endpoint remote, wire_geometry geometry,
               connection_settings settings);
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;
    ~connection() = default;

    /// Runs the reader and the writer until the peer closes, an error or a protocol
    /// violation happens, close() is called or `stop` is requested. Returns why it ended.
    /// `handler` is borrowed until the task completes. Run once.
    [[nodiscard]] io::task<std::error_code> run(connection_handler& handler, std::stop_token stop);
    /// Ends run() with `reason` (reported as its result).
    void close(std::error_code reason);

    // Outgoing messages: queued and sent in order by the writer, one send in flight.
    void send_keep_alive();
    void send_choke(bool choke);
    void send_interested(bool interested);
    void send_have(std::uint32_t piece);
    void send_bitfield(const bitfield& bits);
    void send_request(const request& r);
    /// A BEP 10 extended message: id 20, `sub_id`, then `payload` (copied).
    void send_extended(std::uint8_t sub_id, std::span<const std::byte> payload);
    void send_cancel(const cancel& c);
    /// A piece message carrying `data` (copied into the send queue).
    void send_piece(std::uint32_t piece, std::uint32_t begin, std::span<const std::byte> data);
    /// A piece message whose payload is sent from `data` itself, not copied: the bytes must
    /// stay valid and unchanged until run() has returned (the synthetic swarm's payload,
    /// made once and kept, is; a cache slot that can be evicted is not).
    void send_piece_borrowed(std::uint32_t piece, std::uint32_t begin,
                             std::span<const std::byte> data);

    [[nodiscard]] const endpoint& remote() const noexcept { return m_remote; }
    /// A number the owner chooses to find its own record of this connection.
    void set_tag(std::uint32_t tag) noexcept { m_tag = tag; }
    [[nodiscard]] std::uint32_t tag() const noexcept { return m_tag; }
    [[nodiscard]] const bitfield& remote_bits() const noexcept { return m_remote_bits; }
    /// The handler records a have here after accepting it.
    void mark_remote_has(std::uint32_t piece) { m_remote_bits.set(piece); }
    [[nodiscard]] bool peer_choking() const noexcept { return m_peer_choking; }
    [[nodiscard]] bool peer_interested() const noexcept { return m_peer_interested; }
    [[nodiscard]] bool am_choking() const noexcept { return m_am_choking; }
    [[nodiscard]] bool am_interested() const noexcept { return m_am_interested; }
    [[nodiscard]] const connection_counters& counters() const noexcept { return m_counters; }
    [[nodiscard]] std::chrono::steady_clock::time_point last_sent() const noexcept {
        return m_last_sent;
    }
    /// Why the connection should be dropped for silence, if it should: nothing received
    /// for longer than the idle timeout, or queued bytes the peer has not taken for as
    /// long. The owner calls this periodically (there is no per-operation deadline).
    /// Empty when neither applies; errc::idle_timeout or errc::send_stalled otherwise.
    [[nodiscard]] std::error_code stalled(std::chrono::steady_clock::time_point now) const;
    /// Bytes queued and not yet handed to the kernel.
    [[nodiscard]] std::size_t send_backlog() const noexcept {
        return m_out.size() + m_out_borrowed_bytes;
    }

private:
    // At most this many bytes are read ahead of the current message's start: a piece
    // header's size, so a block's payload is never read into the header buffer.
    static constexpr std::size_t header_window = piece_header_size;
    // Short messages (request and cancel are the longest at 17 bytes) are read whole.
    static constexpr std::size_t head_capacity = 32;
    // Blocks offered to one read beyond the current one (16 KiB each). On loopback, 1 GiB
    // from one peer: 16 took 1.37 CPU s/GB, 32 took 1.19, 64 took 1.01-1.16, 128 no less.
    static constexpr std::size_t max_expected = 64;
    // After a header that was not the expected one, this many blocks are read one by one
    // before expecting again: a peer that answers out of order costs no copy each time.
    static constexpr std::uint32_t expect_pause_blocks = 64;

    [[nodiscard]] io::task<std::error_code> read_loop(connection_handler& handler,
                                                      std::stop_token stop);
    [[nodiscard]] io::task<std::error_code> write_loop(std::stop_token stop);
    // Sends `parts` whole, gathering owned and borrowed bytes (sendmsg, IOV_MAX at a time).
    [[nodiscard]] io::task<std::error_code> send_gathered(std::span<iovec> parts,
                                                          std::stop_token stop);
    // Reads until m_head holds at least `need` bytes, never past `ceiling`.
    [[nodiscard]] io::task<std::error_code> fill(std::size_t need, std::size_t ceiling,
                                                 std::stop_token stop);
    // Receives exactly into.size() bytes (after what m_head already holds of them).
    [[nodiscard]] io::task<std::error_code> receive_exactly(std::span<std::byte> into,
                                                            std::stop_token stop);
    // Receives the payload of `block` into `into` (its slot, or nothing to keep), and with
    // it the blocks expected next and the header after them; every block whose header came
    // is given to the handler (on_block_header, on_block_done) before it returns.
    [[nodiscard]] io::task<std::error_code> receive_blocks(connection_handler& handler,
                                                           piece_message block,
                                                           std::span<std::byte> into,
                                                           std::stop_token stop);
    // One read into `parts` in order: from the spill buffer while it holds bytes, else
    // from the socket. A closed socket is an error (connection_reset).
    [[nodiscard]] io::task<result<std::size_t>> read_some(std::span<const iovec> parts,
                                                          std::stop_token stop);
    // Reserves the blocks expected after the `current` bytes still to come of this one,
    // as many as are already queued in the kernel, and lays out their iovecs after the
    // current block's; returns how many.
    std::size_t expect_following(connection_handler& handler, std::size_t current);
    // Ends the reservations of expected blocks from `first` on.
    void release_expected(connection_handler& handler, std::size_t first);
    // Keeps the `count` bytes a read put from read-ahead iovec `first` on for the parse.
    void spill(std::size_t first, std::size_t count);
    [[nodiscard]] io::task<std::error_code> read_block(connection_handler& handler,
                                                       const frame& f, std::stop_token stop);
    [[nodiscard]] io::task<std::error_code> read_extended(connection_handler& handler,
                                                          const frame& f, std::stop_token stop);
    [[nodiscard]] io::task<std::error_code> read_long_body(connection_handler& handler,
                                                           const frame& f, std::stop_token stop);
    [[nodiscard]] std::error_code dispatch(connection_handler& handler, const message& m);
    void consume(std::size_t n);
    void queue(std::span<const std::byte> bytes);

    io::ring& m_ring;
    io::unique_fd m_socket;
    endpoint m_remote;
    wire_geometry m_geometry;
    connection_settings m_settings;
    bitfield m_remote_bits;
    std::array<std::byte, head_capacity> m_head{};
    std::size_t m_head_size = 0;
    std::vector<std::byte> m_body; // bitfields and other long messages
    // Receiving ahead: the expected blocks, the bytes their headers must be, room for the
    // headers that come, and the read's iovecs (the current block, header and slot pairs,
    // the header window). About 5 KiB, made when the first block arrives: a connection
    // that never receives one (a seed's) does without.
    struct read_ahead {
        std::array<expected_block, max_expected> expected{};
        std::array<std::array<std::byte, piece_header_size>, max_expected> expected_wire{};
        std::array<std::array<std::byte, piece_header_size>, max_expected> arrived_wire{};
        std::array<iovec, 2 * max_expected + 2> iov{};
    };
    std::unique_ptr<read_ahead> m_ahead;
    std::size_t m_expected_count = 0;
    std::uint32_t m_expect_pause = 0;
    // Bytes read ahead that were not what was expected, parsed before the socket's.
    std::vector<std::byte> m_spill;
    std::size_t m_spill_at = 0;
    std::vector<std::byte> m_out;  // queued by send_*, taken by the writer
    // Borrowed payloads (send_piece_borrowed), each sent after the first `at` bytes of m_out.
    struct borrowed_part {
        std::size_t at = 0;
        std::span<const std::byte> bytes;
    };
    std::vector<borrowed_part> m_out_borrowed;
    std::size_t m_out_borrowed_bytes = 0;
    io::event m_out_ready;
    std::stop_source m_stop{std::nostopstate};
    std::error_code m_close_reason;
    connection_counters m_counters;
    std::chrono::steady_clock::time_point m_last_sent = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point m_last_received = std::chrono::steady_clock::now();
    bool m_sending = false;
    std::uint64_t m_messages = 0;
    bool m_availability_seen = false; // a bitfield or a have arrived
    std::uint32_t m_tag = 0;
    bool m_peer_choking = true;
    bool m_peer_interested = false;
    bool m_am_choking = true;
    bool m_am_interested = false;
};

} // namespace spate::peer
