#include <spate/io/scope.hpp>
#include <spate/peer/dial.hpp>
#include <spate/peer/error.hpp>
#include <spate/swarm/dial_from.hpp>
#include <spate/swarm/synthetic_leechers.hpp>
#include <spate/session/torrent_geometry.hpp>
#include <spate/swarm/synthetic_identity.hpp>

#include <algorithm>

namespace spate::swarm {

namespace {

constexpr std::uint32_t block_size = 16 * 1024;

} // namespace

synthetic_leechers::synthetic_leechers(io::ring& ring, const metainfo::torrent_info& torrent,
                                       const leecher_settings& settings)
    : m_ring(ring), m_torrent(torrent), m_settings(settings) {}

synthetic_leechers::~synthetic_leechers() = default;

result<std::unique_ptr<synthetic_leechers>>
synthetic_leechers::create(io::ring& ring, const metainfo::torrent_info& torrent,
                           const leecher_settings& settings) {
    result<std::vector<std::uint32_t>> addresses =
        synthetic_addresses(settings.first_address, settings.leechers);
    if (!addresses) {
        return fail(addresses.error());
    }
    std::unique_ptr<synthetic_leechers> out(new synthetic_leechers(ring, torrent, settings));
    out->m_addresses = std::move(*addresses);
    for (std::uint32_t p = 0; p < torrent.piece_count(); ++p) {
        const auto size = static_cast<std::uint32_t>(torrent.layout().piece_size(piece_index(p)));
        for (std::uint32_t begin = 0; begin < size; begin += block_size) {
            out->m_blocks.push_back(block{p, begin, std::min(block_size, size - begin)});
        }
    }
    out->m_leechers.resize(settings.leechers);
    for (std::size_t i = 0; i < settings.leechers; ++i) {
        // Spread the starting points over the torrent, on piece boundaries.
        const std::uint64_t piece = std::uint64_t{i} * torrent.piece_count() / settings.leechers;
        const auto first = std::find_if(out->m_blocks.begin(), out->m_blocks.end(),
                                        [piece](const block& b) { return b.piece == piece; });
        out->m_leechers[i].next = static_cast<std::size_t>(first - out->m_blocks.begin());
    }
    return out;
}

io::task<void> synthetic_leechers::run(std::stop_token stop) {
    io::scope leeching;
    std::stop_callback forward(stop, [&leeching] { leeching.request_stop(); });
    for (std::size_t i = 0; i < m_leechers.size(); ++i) {
        leeching.spawn(leech(i, leeching.token()));
    }
    co_await leeching.join();
}

io::task<void> synthetic_leechers::leech(std::size_t index, std::stop_token stop) {
    const endpoint source = synthetic_endpoint(m_addresses[index], 0);
    const auto failed = [this](std::string why) {
        ++m_stats.failed;
        if (m_stats.first_failure.empty()) {
            m_stats.first_failure = std::move(why);
        }
    };
    result<io::unique_fd> fd =
        co_await dial_from(m_ring, source, m_settings.seed, m_settings.connect_timeout, stop);
    if (!fd) {
        failed("connect: " + fd.error().message());
        co_return;
    }
    peer::handshake ours;
    ours.info_hash = m_torrent.info_hash();
    ours.id = synthetic_peer_id("SL", index);
    result<peer::handshake> theirs = co_await peer::exchange_handshake(
        m_ring, fd->get(), ours, m_settings.connect_timeout, stop);
    if (!theirs) {
        failed("handshake: " + theirs.error().message());
        co_return;
    }
    ++m_stats.started;
    peer::connection conn(m_ring, std::move(*fd), m_settings.seed,
                          session::wire_geometry_of(m_torrent),
                          peer::connection_settings{});
    conn.set_tag(static_cast<std::uint32_t>(index));
    conn.send_interested(true);
    const std::error_code why = co_await conn.run(*this, stop);
    if (m_leechers[index].received == m_blocks.size()) {
        ++m_stats.finished;
    } else if (!stop.stop_requested()) {
        failed("connection ended: " + why.message());
    }
}

void synthetic_leechers::request_more(peer::connection& c, leecher& l) {
    if (c.peer_choking()) {
        return;
    }
    while (l.in_flight.size() < m_settings.queue) {
        block next{};
        if (!l.again.empty()) {
            next = l.again.back();
            l.again.pop_back();
        } else if (l.asked < m_blocks.size()) {
            next = m_blocks[l.next];
            l.next = (l.next + 1) % m_blocks.size();
            ++l.asked;
        } else {
            return;
        }
        c.send_request(peer::request{next.piece, next.begin, next.length});
        l.in_flight.push_back(next);
    }
}

result<void> synthetic_leechers::on_bitfield(peer::connection& c) {
    if (c.remote_bits().count() != m_torrent.piece_count()) {
        return fail(std::make_error_code(std::errc::protocol_error)); // not a whole seed
    }
    return {};
}

result<void> synthetic_leechers::on_have(peer::connection& c, std::uint32_t piece) {
    c.mark_remote_has(piece);
    return {};
}

void synthetic_leechers::on_choke(peer::connection& c, bool choked) {
    leecher& l = m_leechers[c.tag()];
    if (choked) {
        // BEP 3: a choke drops every pending request; they are asked again on unchoke.
        l.again.insert(l.again.end(), l.in_flight.rbegin(), l.in_flight.rend());
        l.in_flight.clear();
        return;
    }
    request_more(c, l);
}

void synthetic_leechers::on_interest(peer::connection& /*c*/, bool /*interested*/) {}

result<void> synthetic_leechers::on_request(peer::connection& /*c*/, const peer::request& /*r*/) {
    return {}; // a leecher with nothing serves nothing
}

void synthetic_leechers::on_cancel(peer::connection& /*c*/, const peer::cancel& /*r*/) {}

result<std::span<std::byte>> synthetic_leechers::on_block_header(peer::connection& c,
                                                                 const peer::piece_message& m) {
    leecher& l = m_leechers[c.tag()];
    auto it = std::find_if(l.in_flight.begin(), l.in_flight.end(), [&m](const block& b) {
        return b.piece == m.piece && b.begin == m.begin && b.length == m.length;
    });
    if (it == l.in_flight.end()) {
        // Sent before a choke reached the seed, and asked again since: not counted twice.
        return std::span<std::byte>{};
    }
    l.in_flight.erase(it);
    ++l.received;
    return std::span<std::byte>{}; // discarded: the leecher measures, it does not keep
}

void synthetic_leechers::on_block_done(peer::connection& c, const peer::piece_message& m,
                                       bool /*stored*/, bool received) {
    if (!received) {
        return;
    }
    m_stats.payload_received += m.length;
    leecher& l = m_leechers[c.tag()];
    if (l.received == m_blocks.size()) {
        c.send_interested(false);
        c.close(std::make_error_code(std::errc::operation_canceled)); // done
        return;
    }
    request_more(c, l);
}

} // namespace spate::swarm
