#pragma once
/// synthetic_leechers: many BitTorrent leechers in one process on one ring, each dialling
/// the seed from its own loopback address (127.0.0.2, 127.0.0.3, ...) with its own peer id,
/// downloading every block of the torrent and throwing the data away (it is neither hashed
/// nor stored), so a benchmark of a seed measures the seed. Plain BEP 3: handshake,
/// interested, a pipeline of requests while unchoked, requests re-sent after a choke (a
/// choke drops what was asked). Leecher i starts at piece i * pieces / N, so together they
/// ask for every part of the torrent at once, as a real swarm does.

#include <spate/core/endpoint.hpp>
#include <spate/core/result.hpp>
#include <spate/io/ring.hpp>
#include <spate/io/task.hpp>
#include <spate/metainfo/torrent_info.hpp>
#include <spate/peer/connection.hpp>
#include <spate/peer/handshake.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

namespace spate::swarm {

struct leecher_settings {
    std::size_t leechers = 1;
    /// The first leecher's address (host order), counting up as synthetic_addresses does.
    std::uint32_t first_address = 0x7F000002;
    /// The seed every leecher dials.
    endpoint seed;
    /// Requests in flight per leecher.
    std::size_t queue = 64;
    std::chrono::milliseconds connect_timeout{10'000};
};

struct leecher_stats {
    std::size_t started = 0;  ///< handshakes completed
    std::size_t finished = 0; ///< leechers that received every block
    std::size_t failed = 0;   ///< leechers that ended without every block
    std::uint64_t payload_received = 0;
    std::string first_failure; ///< why the first failed leecher ended
};

class synthetic_leechers final : private peer::connection_handler {
public:
    /// The ring and torrent are borrowed and must outlive the object. Errors:
    /// std::errc::invalid_argument when the addresses would leave 127.0.0.0/8.
    [[nodiscard]] static result<std::unique_ptr<synthetic_leechers>>
    create(io::ring& ring, const metainfo::torrent_info& torrent, const leecher_settings& settings);

    synthetic_leechers(const synthetic_leechers&) = delete;
    synthetic_leechers& operator=(const synthetic_leechers&) = delete;
    ~synthetic_leechers() override;

    /// Runs every leecher until each has the whole torrent or failed, or `stop`. Run once.
    [[nodiscard]] io::task<void> run(std::stop_token stop);

    [[nodiscard]] const leecher_stats& stats() const noexcept { return m_stats; }

private:
    struct block {
        std::uint32_t piece = 0;
        std::uint32_t begin = 0;
        std::uint32_t length = 0;
    };
    struct leecher {
        std::size_t next = 0;        // the next block (index into m_blocks, wrapping) to ask
        std::size_t asked = 0;       // blocks handed out from `next` so far
        std::deque<block> in_flight; // requested, in order
        std::vector<block> again;    // dropped by a choke: asked again first
        std::size_t received = 0;
    };

    synthetic_leechers(io::ring& ring, const metainfo::torrent_info& torrent,
                       const leecher_settings& settings);
    io::task<void> leech(std::size_t index, std::stop_token stop);
    void request_more(peer::connection& c, leecher& l);

    // connection_handler
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
    const metainfo::torrent_info& m_torrent;
    leecher_settings m_settings;
    std::vector<std::uint32_t> m_addresses;
    std::vector<block> m_blocks; // every block of the torrent, in order
    std::vector<leecher> m_leechers;
    leecher_stats m_stats;
};

} // namespace spate::swarm
