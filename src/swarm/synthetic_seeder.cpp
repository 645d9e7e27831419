#include <spate/io/scope.hpp>
#include <spate/peer/dial.hpp>
#include <spate/peer/error.hpp>
#include <spate/swarm/dial_from.hpp>
#include <spate/session/torrent_geometry.hpp>
#include <spate/swarm/synthetic_seeder.hpp>

#include <string>

namespace spate::swarm {

synthetic_seeder::synthetic_seeder(io::ring& ring, const synthetic_payload& payload,
                                   const metainfo::torrent_info& torrent,
                                   const seeder_settings& settings)
    : m_ring(ring), m_payload(payload), m_torrent(torrent), m_settings(settings),
      m_wire(session::wire_geometry_of(torrent)), m_all(torrent.piece_count(), true) {}

synthetic_seeder::~synthetic_seeder() = default;

result<std::unique_ptr<synthetic_seeder>>
synthetic_seeder::create(io::ring& ring, const synthetic_payload& payload,
                         const metainfo::torrent_info& torrent, const seeder_settings& settings) {
    result<std::vector<std::uint32_t>> addresses =
        synthetic_addresses(settings.first_address, settings.peers);
    if (!addresses) {
        return fail(addresses.error());
    }
    std::unique_ptr<synthetic_seeder> out(new synthetic_seeder(ring, payload, torrent, settings));
    std::uint16_t port = settings.port;
    for (std::size_t i = 0; i < addresses->size(); ++i) {
        session::listen_settings listen;
        listen.address = synthetic_endpoint((*addresses)[i], 0).address_string();
        listen.port = port;
        listen.tries = 1;
        result<session::listener> opened = session::listener::open(listen);
        if (!opened) {
            return fail(opened.error());
        }
        port = opened->port(); // the kernel's choice for the first, when asked
        std::optional<endpoint> where = endpoint::parse(listen.address + ":" + std::to_string(port));
        if (!where) {
            return fail(std::make_error_code(std::errc::invalid_argument));
        }
        out->m_endpoints.push_back(*where);
        out->m_ids.push_back(synthetic_peer_id("SW", i));
        out->m_listeners.push_back(std::move(*opened));
    }
    return out;
}

io::task<void> synthetic_seeder::run(std::stop_token stop) {
    io::scope connections;
    m_connections = &connections;
    std::stop_callback forward(stop, [&connections] { connections.request_stop(); });
    io::scope listening;
    for (std::size_t i = 0; i < m_listeners.size(); ++i) {
        auto accepted = [this, &connections, i](io::unique_fd socket, endpoint remote) {
            connections.spawn(serve(std::move(socket), remote, i, connections.token()));
        };
        listening.spawn(m_listeners[i].run(m_ring, accepted, stop));
    }
    co_await listening.join();
    connections.request_stop();
    co_await connections.join();
    m_connections = nullptr;
}

void synthetic_seeder::connect_to(const endpoint& leecher) {
    if (m_connections == nullptr || m_connections->stop_requested() ||
        !m_dialled.insert(leecher).second) {
        return;
    }
    for (std::size_t i = 0; i < m_endpoints.size(); ++i) {
        m_connections->spawn(dial(leecher, i, m_connections->token()));
    }
}

io::task<void> synthetic_seeder::dial(endpoint leecher, std::size_t peer, std::stop_token stop) {
    result<io::unique_fd> fd =
        co_await dial_from(m_ring, m_endpoints[peer], leecher, m_settings.handshake_timeout, stop);
    if (!fd) {
        co_return;
    }
    peer::handshake ours;
    ours.info_hash = m_torrent.info_hash();
    ours.id = m_ids[peer];
    result<peer::handshake> theirs = co_await peer::exchange_handshake(
        m_ring, fd->get(), ours, m_settings.handshake_timeout, stop);
    if (!theirs) {
        co_return;
    }
    co_await run_connection(std::move(*fd), leecher, stop);
}

io::task<void> synthetic_seeder::serve(io::unique_fd socket, endpoint remote, std::size_t peer,
                                       std::stop_token stop) {
    peer::handshake ours;
    ours.id = m_ids[peer];
    const sha1_digest info_hash = m_torrent.info_hash();
    std::function<bool(const sha1_digest&)> serves = [info_hash](const sha1_digest& asked) {
        return asked == info_hash;
    };
    result<peer::handshake> theirs = co_await peer::answer_handshake(
        m_ring, socket.get(), serves, ours, m_settings.handshake_timeout, stop);
    if (!theirs) {
        co_return;
    }
    co_await run_connection(std::move(socket), remote, stop);
}

io::task<void> synthetic_seeder::run_connection(io::unique_fd socket, endpoint remote,
                                                std::stop_token stop) {
    ++m_stats.connections;
    ++m_stats.connected;
    peer::connection conn(m_ring, std::move(socket), remote, m_wire, peer::connection_settings{});
    conn.send_bitfield(m_all);
    std::error_code why = co_await conn.run(*this, stop);
    static_cast<void>(why);
    --m_stats.connected;
}

result<void> synthetic_seeder::on_bitfield(peer::connection& /*c*/) { return {}; }

result<void> synthetic_seeder::on_have(peer::connection& c, std::uint32_t piece) {
    c.mark_remote_has(piece);
    return {};
}

void synthetic_seeder::on_choke(peer::connection& /*c*/, bool /*choked*/) {}

void synthetic_seeder::on_interest(peer::connection& c, bool interested) {
    // Every interested peer is served at once: the swarm exists to be downloaded from.
    if (interested && c.am_choking()) {
        c.send_choke(false);
    }
}

result<void> synthetic_seeder::on_request(peer::connection& c, const peer::request& r) {
    if (c.am_choking()) {
        return {}; // BEP 3: requests while choked go unanswered
    }
    // decode_message checked the range against the torrent, which matches the payload.
    std::span<const std::byte> piece = m_payload.piece(piece_index(r.piece));
    // The payload is made once and outlives every connection: sent without a copy.
    c.send_piece_borrowed(r.piece, r.begin, piece.subspan(r.begin, r.length));
    ++m_stats.requests;
    m_stats.payload_sent += r.length;
    return {};
}

void synthetic_seeder::on_cancel(peer::connection& /*c*/, const peer::cancel& /*r*/) {}

result<std::span<std::byte>> synthetic_seeder::on_block_header(peer::connection& /*c*/,
                                                               const peer::piece_message& /*m*/) {
    return std::span<std::byte>{}; // never requested: discarded
}

void synthetic_seeder::on_block_done(peer::connection& /*c*/, const peer::piece_message& /*m*/,
                                     bool /*stored*/, bool /*received*/) {}

} // namespace spate::swarm
