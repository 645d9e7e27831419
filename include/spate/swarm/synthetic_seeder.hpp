#pragma once
/// synthetic_seeder: many BitTorrent seeders in one process on one ring, each listening on
/// its own loopback address (127.0.0.2, 127.0.0.3, ...) with its own peer id, serving a
/// synthetic_payload: every request is answered from memory, so a benchmark against it
/// measures the leecher, not the seeder. Plain BEP 3: the handshake (no extensions), a full
/// bitfield, an unchoke for every interested peer, a piece for every request received
/// while unchoked. Besides answering, every synthetic peer can dial a leecher (from its own
/// address): some clients take no loopback peers from a tracker and must be dialled.

#include <spate/core/endpoint.hpp>
#include <spate/core/result.hpp>
#include <spate/io/ring.hpp>
#include <spate/io/scope.hpp>
#include <spate/io/task.hpp>
#include <spate/io/unique_fd.hpp>
#include <spate/metainfo/torrent_info.hpp>
#include <spate/peer/connection.hpp>
#include <spate/peer/handshake.hpp>
#include <spate/session/listener.hpp>
#include <spate/swarm/synthetic_identity.hpp>
#include <spate/swarm/synthetic_payload.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_set>
#include <stop_token>
#include <vector>

namespace spate::swarm {

struct seeder_settings {
    /// Synthetic peers, each on its own address.
    std::size_t peers = 1;
    /// The first peer's address (host order); the next ones count up from it, skipping
    /// addresses that end in .0 or .255. Must stay inside 127.0.0.0/8.
    std::uint32_t first_address = 0x7F000002;
    /// Every peer listens on this port; 0 lets the kernel pick one for the first peer, and
    /// the others take the same.
    std::uint16_t port = 0;
    std::chrono::milliseconds handshake_timeout{10'000};
};

struct seeder_stats {
    std::uint64_t connections = 0; ///< handshakes answered
    std::size_t connected = 0;     ///< connections open now
    std::uint64_t payload_sent = 0;
    std::uint64_t requests = 0;
};

class synthetic_seeder final : private peer::connection_handler {
public:
    /// Binds every peer's listening socket now. The ring, payload and torrent are borrowed
    /// and must outlive the seeder; the torrent must describe the payload.
    [[nodiscard]] static result<std::unique_ptr<synthetic_seeder>>
    create(io::ring& ring, const synthetic_payload& payload, const metainfo::torrent_info& torrent,
           const seeder_settings& settings);

    synthetic_seeder(const synthetic_seeder&) = delete;
    synthetic_seeder& operator=(const synthetic_seeder&) = delete;
    ~synthetic_seeder() override;

    /// Where the peers listen, in order.
    [[nodiscard]] const std::vector<endpoint>& endpoints() const noexcept { return m_endpoints; }
    /// Each peer's id, in the same order.
    [[nodiscard]] const std::vector<peer::peer_id>& peer_ids() const noexcept { return m_ids; }

    /// Serves until `stop`, then closes every connection and completes. Run once.
    [[nodiscard]] io::task<void> run(std::stop_token stop);

    /// Every synthetic peer dials `leecher` (once per address; later calls with it do
    /// nothing). Only while run() is running.
    void connect_to(const endpoint& leecher);

    [[nodiscard]] seeder_stats stats() const noexcept { return m_stats; }

private:
    synthetic_seeder(io::ring& ring, const synthetic_payload& payload,
                     const metainfo::torrent_info& torrent, const seeder_settings& settings);

    io::task<void> serve(io::unique_fd socket, endpoint remote, std::size_t peer,
                         std::stop_token stop);
    io::task<void> dial(endpoint leecher, std::size_t peer, std::stop_token stop);
    io::task<void> run_connection(io::unique_fd socket, endpoint remote, std::stop_token stop);

    // connection_handler: a seeder that never downloads.
    result<void> on_bitfield(peer::connection& c) override;
    result<void> on_have(peer::connection& c, std::uint32_t piece) override;
    void on_choke(peer::connection& c, bool choked) override;
    void on_interest(peer::connection& c, bool interested) override;
    result<void> on_request(peer::connection& c, const peer::request& r) override;
    void on_cancel(peer::connection& c, const peer::cancel& r) override;
    result<std::span<std::byte>> on_block_header(peer::connection& c,
                                                 const peer::piece_message& m) override;
    void on_block_done(peer::connection& c, const peer::piece_message& m, bool stored,
                       bool received) override;

    io::ring& m_ring;
    const synthetic_payload& m_payload;
    const metainfo::torrent_info& m_torrent;
    seeder_settings m_settings;
    peer::wire_geometry m_wire;
    bitfield m_all;
    std::vector<session::listener> m_listeners;
    std::vector<endpoint> m_endpoints;
    std::vector<peer::peer_id> m_ids;
    seeder_stats m_stats;
    io::scope* m_connections = nullptr; // run()'s, while it runs
    std::unordered_set<endpoint> m_dialled;
};

} // namespace spate::swarm
