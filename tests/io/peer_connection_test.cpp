// peer::connection's receive path on a real ring: blocks received in place, several per
// read when the peer answers in the order asked, and every other order, interleaving and
// split still delivering each block's bytes to its own slot, exactly once.
#include "test_support.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <gtest/gtest.h>
#include <map>
#include <spate/io/scope.hpp>
#include <spate/io/socket_ops.hpp>
#include <spate/io/timer_ops.hpp>
#include <spate/peer/connection.hpp>
#include <spate/peer/error.hpp>
#include <vector>

namespace {

using namespace std::chrono_literals;
using spate::result;
using spate::io::ring;
using spate::io::task;
using spate::io::testing::socket_pair;
using spate::peer::connection;
using spate::peer::expected_block;
using spate::peer::piece_message;

constexpr std::uint32_t block = 16 * 1024;
constexpr std::uint32_t piece_length = 4 * block;
constexpr std::uint32_t pieces = 8;

std::byte pattern(std::uint32_t piece, std::uint32_t offset) {
    return static_cast<std::byte>((piece * 131 + offset * 7 + offset / 251) & 0xff);
}

// A torrent's side in miniature: the blocks it asked for in order, one slot per block in a
// buffer, and the reservation rules of connection_handler.
class recording_handler final : public spate::peer::connection_handler {
public:
    explicit recording_handler(std::vector<piece_message> asked, bool expect = true)
        : m_asked(std::move(asked)), m_expect(expect),
          m_buffer(std::size_t{pieces} * piece_length, std::byte{0xEE}) {}

    result<void> on_bitfield(connection&) override { return {}; }
    result<void> on_have(connection&, std::uint32_t piece) override {
        haves.push_back(piece);
        return {};
    }
    void on_choke(connection&, bool) override {}
    void on_interest(connection&, bool) override {}
    result<void> on_request(connection&, const spate::peer::request&) override { return {}; }
    void on_cancel(connection&, const spate::peer::cancel&) override {}

    result<std::span<std::byte>> on_block_header(connection&, const piece_message& m) override {
        m_reserved.erase(std::remove(m_reserved.begin(), m_reserved.end(), m), m_reserved.end());
        auto it = std::find(m_asked.begin(), m_asked.end(), m);
        if (it == m_asked.end()) {
            return spate::fail(spate::peer::errc::unrequested_piece);
        }
        m_asked.erase(it);
        if (std::find(withdrawn.begin(), withdrawn.end(), m) != withdrawn.end()) {
            return std::span<std::byte>{};
        }
        return slot(m);
    }
    void on_block_done(connection&, const piece_message& m, bool stored, bool received) override {
        if (stored && received) {
            ++stored_count[key(m)];
        }
        if (!received) {
            ++failed;
        }
    }
    std::size_t reserve_expected(connection&, std::span<expected_block> out) override {
        std::size_t n = 0;
        for (const piece_message& m : m_asked) {
            if (!m_expect || n == out.size()) {
                break;
            }
            if (std::find(m_reserved.begin(), m_reserved.end(), m) != m_reserved.end()) {
                ADD_FAILURE() << "a slot reserved twice";
            }
            m_reserved.push_back(m);
            out[n++] = expected_block{m, slot(m)};
            ++reservations;
        }
        return n;
    }
    void release_expected(connection&, const piece_message& m) override {
        auto it = std::find(m_reserved.begin(), m_reserved.end(), m);
        if (it == m_reserved.end()) {
            ADD_FAILURE() << "released a block that was not reserved";
            return;
        }
        m_reserved.erase(it);
    }

    std::span<std::byte> slot(const piece_message& m) {
        return std::span(m_buffer).subspan(std::size_t{m.piece} * piece_length + m.begin, m.length);
    }
    [[nodiscard]] bool slot_holds_pattern(const piece_message& m) {
        std::span<std::byte> s = slot(m);
        for (std::uint32_t i = 0; i < m.length; ++i) {
            if (s[i] != pattern(m.piece, m.begin + i)) {
                return false;
            }
        }
        return true;
    }
    [[nodiscard]] std::size_t reserved_now() const { return m_reserved.size(); }
    static std::uint64_t key(const piece_message& m) {
        return (std::uint64_t{m.piece} << 32) | m.begin;
    }

    std::vector<std::uint32_t> haves;
    std::vector<piece_message> withdrawn;
    std::map<std::uint64_t, int> stored_count;
    int failed = 0;
    std::size_t reservations = 0;

private:
    std::vector<piece_message> m_asked;
    std::vector<piece_message> m_reserved;
    bool m_expect;
    std::vector<std::byte> m_buffer;
};

std::vector<piece_message> all_blocks() {
    std::vector<piece_message> out;
    for (std::uint32_t p = 0; p < pieces; ++p) {
        for (std::uint32_t b = 0; b < piece_length; b += block) {
            out.push_back(piece_message{p, b, block});
        }
    }
    return out;
}

void append_block(std::vector<std::byte>& wire, const piece_message& m) {
    std::array<std::byte, spate::peer::piece_header_size> header{};
    spate::peer::encode_piece_header(m.piece, m.begin, m.length, header);
    wire.insert(wire.end(), header.begin(), header.end());
    for (std::uint32_t i = 0; i < m.length; ++i) {
        wire.push_back(pattern(m.piece, m.begin + i));
    }
}

void append_have(std::vector<std::byte>& wire, std::uint32_t piece) {
    std::array<std::byte, spate::peer::max_fixed_message> buf{};
    const std::size_t n = spate::peer::encode_have(piece, buf);
    wire.insert(wire.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
}

// Sends `wire` in chunks of the given sizes (cycled), pausing between them so that the
// reader sees every split, then closes the sending side.
task<void> send_in_chunks(ring& r, int fd, std::vector<std::byte> wire,
                          std::vector<std::size_t> chunks, std::chrono::milliseconds pause) {
    std::span<const std::byte> rest = wire;
    for (std::size_t i = 0; !rest.empty() && i < 1'000'000; ++i) {
        const std::size_t want = std::min(rest.size(), chunks[i % chunks.size()]);
        result<std::size_t> sent = co_await spate::io::send(r, fd, rest.first(want));
        if (!sent) {
            break;
        }
        rest = rest.subspan(*sent);
        if (pause.count() > 0) {
            static_cast<void>(co_await spate::io::sleep_for(r, pause));
        }
    }
    ::shutdown(fd, SHUT_WR);
}

struct outcome {
    std::error_code ended;
    std::uint64_t reads = 0;
};

task<outcome> serve(ring& r, connection& c, recording_handler& handler, int peer_fd,
                    std::vector<std::byte> wire, std::vector<std::size_t> chunks,
                    std::chrono::milliseconds pause) {
    spate::io::scope sender;
    sender.spawn(send_in_chunks(r, peer_fd, std::move(wire), std::move(chunks), pause));
    std::stop_source stop;
    outcome out;
    out.ended = co_await c.run(handler, stop.get_token());
    out.reads = c.counters().reads;
    co_await sender.join();
    co_return out;
}

spate::peer::wire_geometry geometry() {
    return *spate::peer::wire_geometry::create(pieces, piece_length,
                                               std::uint64_t{pieces} * piece_length);
}

outcome run_case(ring& r, recording_handler& handler, std::vector<std::byte> wire,
                 std::vector<std::size_t> chunks, std::chrono::milliseconds pause = 0ms) {
    socket_pair pair;
    const int big = 4 << 20;
    ::setsockopt(pair.fds[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    connection c(r, spate::io::unique_fd(::dup(pair.fds[0])), spate::endpoint{}, geometry(), {});
    return r.run(serve(r, c, handler, pair.fds[1], std::move(wire), std::move(chunks), pause));
}

void expect_every_block_in_place(recording_handler& handler,
                                 const std::vector<piece_message>& blocks) {
    for (const piece_message& m : blocks) {
        EXPECT_EQ(handler.stored_count[recording_handler::key(m)], 1)
            << "piece " << m.piece << " begin " << m.begin;
        EXPECT_TRUE(handler.slot_holds_pattern(m)) << "piece " << m.piece << " begin " << m.begin;
    }
    EXPECT_EQ(handler.reserved_now(), 0U);
    EXPECT_EQ(handler.failed, 0);
}

TEST(peer_connection, blocks_in_the_order_asked_arrive_in_place_many_per_read) {
    SPATE_RING_OR_SKIP(r);
    const std::vector<piece_message> blocks = all_blocks();
    std::vector<std::byte> wire;
    for (const piece_message& m : blocks) {
        append_block(wire, m);
    }
    recording_handler handler(blocks);
    // All of it is queued before the first read: each read can take many blocks.
    const outcome out = run_case(r, handler, std::move(wire), {64 << 20});
    EXPECT_EQ(out.ended, std::errc::connection_reset);
    expect_every_block_in_place(handler, blocks);
    EXPECT_GT(handler.reservations, 0U);
    EXPECT_LT(out.reads, blocks.size() / 4) << "blocks were read one by one";
}

TEST(peer_connection, without_expectations_each_read_takes_one_block) {
    SPATE_RING_OR_SKIP(r);
    const std::vector<piece_message> blocks = all_blocks();
    std::vector<std::byte> wire;
    for (const piece_message& m : blocks) {
        append_block(wire, m);
    }
    recording_handler handler(blocks, false);
    const outcome out = run_case(r, handler, std::move(wire), {64 << 20});
    expect_every_block_in_place(handler, blocks);
    EXPECT_GE(out.reads, blocks.size());
}

TEST(peer_connection, blocks_in_another_order_still_land_in_their_own_slots) {
    SPATE_RING_OR_SKIP(r);
    const std::vector<piece_message> blocks = all_blocks();
    std::vector<piece_message> sent = blocks;
    // Pairs swapped, then a stretch reversed: every guess after the first goes wrong.
    for (std::size_t i = 0; i + 1 < sent.size(); i += 2) {
        std::swap(sent[i], sent[i + 1]);
    }
    std::reverse(sent.begin() + 10, sent.begin() + 30);
    std::vector<std::byte> wire;
    for (const piece_message& m : sent) {
        append_block(wire, m);
    }
    recording_handler handler(blocks);
    const outcome out = run_case(r, handler, std::move(wire), {64 << 20});
    EXPECT_EQ(out.ended, std::errc::connection_reset);
    expect_every_block_in_place(handler, blocks);
}

TEST(peer_connection, haves_and_keep_alives_between_blocks_are_parsed) {
    SPATE_RING_OR_SKIP(r);
    const std::vector<piece_message> blocks = all_blocks();
    std::vector<std::byte> wire;
    std::vector<std::uint32_t> haves;
    for (std::size_t i = 0; i < blocks.size(); ++i) {
        append_block(wire, blocks[i]);
        if (i % 5 == 2) {
            append_have(wire, static_cast<std::uint32_t>(i % pieces));
            haves.push_back(static_cast<std::uint32_t>(i % pieces));
        }
        if (i % 7 == 3) {
            wire.insert(wire.end(), 4, std::byte{0}); // keep-alive
        }
    }
    recording_handler handler(blocks);
    const outcome out = run_case(r, handler, std::move(wire), {64 << 20});
    EXPECT_EQ(out.ended, std::errc::connection_reset);
    expect_every_block_in_place(handler, blocks);
    EXPECT_EQ(handler.haves, haves);
}

TEST(peer_connection, every_split_of_the_stream_gives_the_same_blocks) {
    SPATE_RING_OR_SKIP(r);
    const std::vector<piece_message> blocks = all_blocks();
    std::vector<piece_message> sent = blocks;
    std::swap(sent[3], sent[4]);
    std::vector<std::byte> wire;
    for (std::size_t i = 0; i < sent.size(); ++i) {
        append_block(wire, sent[i]);
        if (i == 9) {
            append_have(wire, 1);
        }
    }
    // Splits inside headers, at their edges and deep in payloads.
    recording_handler handler(blocks);
    const outcome out =
        run_case(r, handler, std::move(wire), {1, 12, 13, 16384, 7, 40000, 16397, 3, 100000}, 1ms);
    EXPECT_EQ(out.ended, std::errc::connection_reset);
    expect_every_block_in_place(handler, blocks);
    EXPECT_EQ(handler.haves, std::vector<std::uint32_t>{1});
}

TEST(peer_connection, a_withdrawn_expected_block_is_dropped_and_the_rest_kept) {
    SPATE_RING_OR_SKIP(r);
    const std::vector<piece_message> blocks = all_blocks();
    std::vector<std::byte> wire;
    for (const piece_message& m : blocks) {
        append_block(wire, m);
    }
    recording_handler handler(blocks);
    handler.withdrawn = {blocks[5], blocks[6], blocks[20]};
    const outcome out = run_case(r, handler, std::move(wire), {64 << 20});
    EXPECT_EQ(out.ended, std::errc::connection_reset);
    for (const piece_message& m : blocks) {
        const bool dropped = std::find(handler.withdrawn.begin(), handler.withdrawn.end(), m) !=
                             handler.withdrawn.end();
        EXPECT_EQ(handler.stored_count[recording_handler::key(m)], dropped ? 0 : 1);
        if (!dropped) {
            EXPECT_TRUE(handler.slot_holds_pattern(m));
        }
    }
    EXPECT_EQ(handler.reserved_now(), 0U);
}

TEST(peer_connection, an_unrequested_block_after_expected_ones_ends_the_connection) {
    SPATE_RING_OR_SKIP(r);
    std::vector<piece_message> blocks = all_blocks();
    std::vector<std::byte> wire;
    for (std::size_t i = 0; i < 6; ++i) {
        append_block(wire, blocks[i]);
    }
    append_block(wire, blocks[3]); // a second copy: never asked for twice
    for (std::size_t i = 6; i < 12; ++i) {
        append_block(wire, blocks[i]);
    }
    recording_handler handler(blocks);
    const outcome out = run_case(r, handler, std::move(wire), {64 << 20});
    EXPECT_EQ(out.ended, spate::peer::errc::unrequested_piece);
    for (std::size_t i = 0; i < 6; ++i) {
        EXPECT_EQ(handler.stored_count[recording_handler::key(blocks[i])], 1);
        EXPECT_TRUE(handler.slot_holds_pattern(blocks[i]));
    }
    for (std::size_t i = 6; i < 12; ++i) {
        EXPECT_EQ(handler.stored_count[recording_handler::key(blocks[i])], 0);
    }
    EXPECT_EQ(handler.reserved_now(), 0U);
}

TEST(peer_connection, a_peer_closing_mid_block_leaves_no_reservation) {
    SPATE_RING_OR_SKIP(r);
    const std::vector<piece_message> blocks = all_blocks();
    std::vector<std::byte> wire;
    for (std::size_t i = 0; i < 10; ++i) {
        append_block(wire, blocks[i]);
    }
    wire.resize(wire.size() - 5000); // the tenth block is cut short
    recording_handler handler(blocks);
    const outcome out = run_case(r, handler, std::move(wire), {64 << 20});
    EXPECT_EQ(out.ended, std::errc::connection_reset);
    for (std::size_t i = 0; i < 9; ++i) {
        EXPECT_EQ(handler.stored_count[recording_handler::key(blocks[i])], 1);
    }
    EXPECT_EQ(handler.stored_count[recording_handler::key(blocks[9])], 0);
    EXPECT_EQ(handler.failed, 1);
    EXPECT_EQ(handler.reserved_now(), 0U);
}

// Reads exactly `want` bytes from `fd`, then closes its sending side so the connection's
// reader ends.
task<std::vector<std::byte>> read_then_close(ring& r, int fd, std::size_t want) {
    std::vector<std::byte> got(want);
    std::size_t have = 0;
    for (int rounds = 0; have < want && rounds < 1'000'000; ++rounds) {
        result<std::size_t> n = co_await spate::io::recv(r, fd, std::span(got).subspan(have));
        if (!n || *n == 0) {
            break;
        }
        have += *n;
    }
    got.resize(have);
    ::shutdown(fd, SHUT_WR);
    co_return got;
}

task<std::vector<std::byte>> run_sender(ring& r, connection& c, recording_handler& handler,
                                        int peer_fd, std::size_t want) {
    spate::io::scope reader;
    std::vector<std::byte> got;
    reader.spawn([](ring& rr, int fd, std::size_t n, std::vector<std::byte>& out) -> task<void> {
        out = co_await read_then_close(rr, fd, n);
    }(r, peer_fd, want, got));
    std::stop_source stop;
    static_cast<void>(co_await c.run(handler, stop.get_token()));
    co_await reader.join();
    co_return got;
}

TEST(peer_connection, borrowed_payloads_go_out_in_order_with_the_queued_messages) {
    SPATE_RING_OR_SKIP(r);
    // Many small pieces: more iovecs than one sendmsg takes, through a small send buffer
    // so that sends end part-way through headers and payloads.
    std::vector<std::byte> payload(std::size_t{pieces} * piece_length);
    for (std::size_t i = 0; i < payload.size(); ++i) {
        payload[i] = pattern(static_cast<std::uint32_t>(i / piece_length),
                             static_cast<std::uint32_t>(i % piece_length));
    }
    socket_pair pair;
    const int small = 4096;
    ::setsockopt(pair.fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    connection c(r, spate::io::unique_fd(::dup(pair.fds[0])), spate::endpoint{}, geometry(), {});
    std::vector<std::byte> expected;
    for (std::uint32_t i = 0; i < 700; ++i) {
        const std::uint32_t piece = i % pieces;
        const std::uint32_t begin = (i * 97) % (piece_length - 300);
        const std::uint32_t length = 1 + (i * 13) % 300;
        const std::span<const std::byte> data =
            std::span<const std::byte>(payload).subspan(std::size_t{piece} * piece_length + begin,
                                                        length);
        if (i % 3 == 0) {
            c.send_have(piece);
            append_have(expected, piece);
        }
        c.send_piece_borrowed(piece, begin, data);
        std::array<std::byte, spate::peer::piece_header_size> header{};
        spate::peer::encode_piece_header(piece, begin, length, header);
        expected.insert(expected.end(), header.begin(), header.end());
        expected.insert(expected.end(), data.begin(), data.end());
    }
    EXPECT_EQ(c.send_backlog(), expected.size());
    recording_handler handler({});
    const std::vector<std::byte> got = r.run(run_sender(r, c, handler, pair.fds[1], expected.size()));
    ASSERT_EQ(got.size(), expected.size());
    EXPECT_TRUE(got == expected) << "the bytes on the wire differ from the queued messages";
    EXPECT_EQ(c.send_backlog(), 0U);
}

} // namespace
