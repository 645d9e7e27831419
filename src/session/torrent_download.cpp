// torrent_download: running the download, dialling peers, the periodic tick. What is
// requested and what happens to blocks and pieces is in torrent_blocks.cpp.
#include <spate/io/timer_ops.hpp>
#include <spate/peer/dial.hpp>
#include <spate/session/error.hpp>
#include <spate/session/torrent_download.hpp>
#include <spate/session/torrent_geometry.hpp>

#include <cstdio>
#include <algorithm>
#include <cstdlib>

namespace spate::session {

namespace {

choker::choker make_choker(const download_settings& settings) {
    choker::choker_settings s;
    s.upload_slots = static_cast<std::uint32_t>(std::max<std::size_t>(1, settings.upload_slots));
    s.seed = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    result<choker::choker> made = choker::choker::create(s);
    if (!made) {
        std::fprintf(stderr, "spate: choker settings refused: %s\n", made.error().message().c_str());
        std::abort();
    }
    return std::move(*made);
}

} // namespace

torrent_download::torrent_download(io::ring& ring, const metainfo::torrent_info& torrent,
                                   storage::file_storage& storage, io::buffer_pool& pool,
                                   picker::piece_picker& picker, peer::peer_id self,
                                   download_settings settings, download_observer& observer)
    : m_ring(ring), m_torrent(torrent), m_storage(storage), m_writer(ring, storage),
      m_picker(picker),
      m_observer(observer), m_self(self), m_settings(settings),
      m_wire(wire_geometry_of(torrent)), m_pieces(pool), m_wake(ring), m_upload_ready(ring),
      m_pool(pool), m_choker(make_choker(settings)), m_cache(settings.upload_cache_pieces),
      m_up_limit(make_rate_limit(settings.max_upload_rate)),
      m_down_limit(make_rate_limit(settings.max_download_rate)) {
    // Alone (no session shares its limits), the cap counts dials in progress and incoming
    // connections together, as a shared one does: max_peers bounds the sockets.
    m_own_limits.max_connections = settings.max_peers;
}

torrent_download::~torrent_download() = default;

void torrent_download::add_peers(std::span<const endpoint> peers) {
    for (const endpoint& p : peers) {
        m_candidates.add(p);
    }
    dial_more();
}

io::task<result<void>> torrent_download::run(std::stop_token stop, bool keep_running) {
    io::scope tasks;
    m_tasks = &tasks;
    m_keep_running = keep_running;
    m_unreceived_blocks = 0;
    for (std::uint32_t p = 0; p < m_torrent.piece_count(); ++p) {
        if (m_picker.is_wanted(piece_index(p)) && !m_picker.have(piece_index(p))) {
            const std::uint64_t size = m_torrent.layout().piece_size(piece_index(p));
            m_unreceived_blocks += (size + picker::block_size - 1) / picker::block_size;
        }
    }
    std::stop_callback forward(stop, [&tasks] { tasks.request_stop(); });
    tasks.spawn(tick_loop(tasks.token()));
    tasks.spawn(upload_loop(tasks.token()));
    dial_more();
    while (!stop.stop_requested() && !m_fatal && (keep_running || !m_picker.finished())) {
        static_cast<void>(co_await m_wake.wait(stop));
    }
    tasks.request_stop();
    co_await tasks.join();
    m_tasks = nullptr;
    m_cache.clear();
    if (m_fatal) {
        co_return fail(m_fatal);
    }
    co_return result<void>{};
}

download_stats torrent_download::stats() {
    const clock::time_point now = clock::now();
    download_stats s;
    s.payload_received = m_down.total();
    s.verified = m_verified;
    s.failed_pieces = m_failed_pieces;
    s.peers = m_peers.size();
    s.connecting = m_candidates.connecting();
    s.known_peers = m_candidates.known();
    s.download_rate = m_down.rate(now);
    s.payload_sent = m_up.total();
    s.upload_rate = m_up.rate(now);
    s.blocks_received = m_blocks;
    s.socket_reads = m_reads_of_closed;
    for (const auto& [key, peer] : m_peers) {
        s.socket_reads += peer->conn->counters().reads;
    }
    return s;
}

void torrent_download::dial_more() {
    if (m_tasks == nullptr || m_tasks->stop_requested() || m_fatal) {
        return;
    }
    if (m_picker.finished() && !m_keep_running) {
        return; // nothing left to fetch, and not staying to upload
    }
    const clock::time_point now = clock::now();
    while (m_candidates.connecting() < m_settings.max_half_open &&
           m_candidates.connecting() + m_candidates.connected() < m_settings.max_peers) {
        if (!m_limits->try_connect()) {
            break;
        }
        connection_ticket ticket(m_limits);
        std::optional<endpoint> next = m_candidates.next(now);
        if (!next) {
            break; // the ticket gives the count back
        }
        m_tasks->spawn(peer_task(*next, std::move(ticket), m_tasks->token()));
    }
}

io::task<void> torrent_download::peer_task(endpoint remote, connection_ticket /*ticket*/,
                                           std::stop_token stop) {
    result<io::unique_fd> socket =
        co_await peer::dial(m_ring, remote, m_settings.connect_timeout, stop);
    if (!socket) {
        m_candidates.on_failed(remote, clock::now());
        dial_more();
        co_return;
    }
    peer::handshake ours;
    ours.info_hash = m_torrent.info_hash();
    ours.id = m_self;
    peer::advertise_extensions(ours);
    result<peer::handshake> theirs = co_await peer::exchange_handshake(
        m_ring, socket->get(), ours, m_settings.handshake_timeout, stop);
    if (!theirs) {
        m_candidates.on_failed(remote, clock::now());
        dial_more();
        co_return;
    }
    if (theirs->id == m_self) {
        // Our own listen address came back from a tracker.
        m_candidates.ban(remote);
        dial_more();
        co_return;
    }
    if (m_peer_ids.contains(theirs->id)) {
        // Already connected to this client (it dialled us, or is known by two addresses).
        m_candidates.on_closed(remote, clock::now());
        co_return;
    }
    m_candidates.on_connected(remote);
    co_await serve_peer(std::move(*socket), remote, *theirs, true, stop);
}

void torrent_download::add_incoming(io::unique_fd socket, endpoint remote,
                                    const peer::handshake& theirs) {
    if (m_tasks == nullptr || m_tasks->stop_requested() || m_fatal) {
        return;
    }
    const peer::peer_id& id = theirs.id;
    if (id == m_self || m_peer_ids.contains(id) || m_peers.size() >= m_settings.max_peers ||
        m_banned_addresses.contains(address_key(remote)) || !m_limits->try_connect()) {
        return; // the socket closes here
    }
    m_tasks->spawn(incoming_task(std::move(socket), remote, theirs, connection_ticket(m_limits),
                                 m_tasks->token()));
}

io::task<void> torrent_download::incoming_task(io::unique_fd socket, endpoint remote,
                                               peer::handshake theirs,
                                               connection_ticket /*ticket*/, std::stop_token stop) {
    co_await serve_peer(std::move(socket), remote, theirs, false, stop);
}

std::string torrent_download::address_key(const endpoint& remote) {
    const auto bytes = remote.address_bytes();
    return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

io::task<void> torrent_download::serve_peer(io::unique_fd socket, endpoint remote,
                                            peer::handshake theirs, bool dialled,
                                            std::stop_token stop) {
    const peer::peer_id id = theirs.id;
    peer::connection_settings conn_settings;
    conn_settings.idle_timeout = m_settings.idle_timeout;
    auto owned = std::make_unique<peer_state>();
    peer_state& peer = *owned;
    peer.key = m_next_key++;
    peer.remote = remote;
    m_key_endpoints.emplace(peer.key, remote);
    m_peer_ids.insert(id);
    peer.conn = std::make_unique<peer::connection>(m_ring, std::move(socket), remote, m_wire,
                                                   conn_settings);
    peer.conn->set_tag(peer.key);
    m_peers.emplace(peer.key, std::move(owned));
    if (!m_picker.have_bits().none()) {
        peer.conn->send_bitfield(m_picker.have_bits());
    }
    if (peer::supports_extensions(theirs)) {
        send_extension_handshake(peer);
    }

    std::error_code why = co_await peer.conn->run(*this, stop);
    // The reader ends its reservations before run() returns; should one be left, its slot
    // must not stay taken.
    while (!peer.reserved.empty()) {
        static_cast<void>(take_reservation(peer, peer.reserved.back()));
    }

    // Everything this peer had requested goes back to the picker; its pieces no longer
    // count towards availability.
    static_cast<void>(m_picker.on_peer_gone(peer.key));
    release_forgotten_pieces();
    forget_uploads(peer.key);
    if (!peer.conn->am_choking()) {
        --m_unchoked;
    }
    m_picker.remove_peer(peer.conn->remote_bits());
    const bool banned = peer.banned;
    m_reads_of_closed += peer.conn->counters().reads;
    m_peer_ids.erase(id);
    m_peers.erase(peer.key); // `peer` dangles from here on
    fill_upload_slots();
    if (!banned) {
        if (!stop.stop_requested()) {
            m_observer.peer_dropped(remote, why.message());
        }
        if (dialled) {
            m_candidates.on_closed(remote, clock::now());
        }
    }
    request_more_everywhere();
    dial_more();
}

io::task<void> torrent_download::tick_loop(std::stop_token stop) {
    while (!stop.stop_requested()) {
        result<void> slept = co_await io::sleep_for(m_ring, std::chrono::milliseconds(500), stop);
        if (!slept) {
            break;
        }
        tick(clock::now());
    }
}

void torrent_download::tick(clock::time_point now) {
    std::vector<peer_state*> peers;
    peers.reserve(m_peers.size());
    for (auto& [key, peer] : m_peers) {
        peers.push_back(peer.get());
    }
    for (peer_state* peer : peers) {
        if (std::error_code quiet = peer->conn->stalled(now)) {
            peer->conn->close(quiet);
            continue;
        }
        if (!peer->requests.empty() &&
            now - peer->requests.front().sent > m_settings.request_timeout) {
            // Its blocks go to other peers; it keeps at most one request until it delivers.
            drop_all_requests(*peer, false);
            peer->snubbed = true;
            if (++peer->timeouts >= 3) {
                peer->conn->close(make_error_code(errc::request_timeout));
                continue;
            }
        }
        if (now - peer->conn->last_sent() >= m_settings.keep_alive_interval) {
            peer->conn->send_keep_alive();
        }
        request_more(*peer);
    }
    // Cached pieces nobody asked for in a minute go back to the pool.
    m_cache.release_idle(now - std::chrono::seconds(60));
    m_loads_stalled = false;
    start_loads(); // a load that found no free buffer tries again
    if (now >= m_next_rechoke) {
        m_next_rechoke = now + m_settings.rechoke_interval;
        rechoke(now);
    }
    dial_more();
}

torrent_download::peer_state& torrent_download::state_of(const peer::connection& c) {
    return *m_peers.at(c.tag());
}

void torrent_download::ban(const endpoint& remote, std::string_view reason) {
    if (m_candidates.is_banned(remote)) {
        return;
    }
    m_candidates.ban(remote);
    m_banned_addresses.insert(address_key(remote));
    m_observer.peer_banned(remote, reason);
    for (auto& [key, peer] : m_peers) {
        if (peer->remote == remote && !peer->banned) {
            peer->banned = true;
            peer->conn->close(make_error_code(errc::banned_for_bad_data));
        }
    }
}

} // namespace spate::session
