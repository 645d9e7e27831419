#pragma once
/// torrent_download: the coordinator of one torrent's download. It owns the peer
/// connections and decides, through the picker, what each one requests; blocks land in
/// the active pieces' buffers; a complete piece is hashed, written through storage, and
/// only then counted as had and announced. It delegates: picking to picker::piece_picker,
/// bytes on the wire to peer::connection, files to storage::file_storage.

#include <spate/core/endpoint.hpp>
#include <spate/core/result.hpp>
#include <spate/io/buffer_pool.hpp>
#include <spate/io/event.hpp>
#include <spate/io/ring.hpp>
#include <spate/io/scope.hpp>
#include <spate/io/task.hpp>
#include <spate/metainfo/torrent_info.hpp>
#include <spate/peer/connection.hpp>
#include <spate/peer/handshake.hpp>
#include <spate/choker/choker.hpp>
#include <spate/picker/piece_picker.hpp>
#include <spate/session/active_pieces.hpp>
#include <spate/session/peer_candidates.hpp>
#include <spate/session/piece_cache.hpp>
#include <spate/session/piece_writer.hpp>
#include <spate/session/rate_meter.hpp>
#include <spate/session/session_limits.hpp>
#include <spate/storage/file_storage.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <span>
#include <stop_token>
#include <string_view>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace spate::session {

struct download_settings {
    std::size_t max_peers = 200;
    /// Connection attempts in flight at once.
    std::size_t max_half_open = 50;
    std::chrono::milliseconds connect_timeout{10'000};
    std::chrono::milliseconds handshake_timeout{10'000};
    /// A peer that delivers none of its outstanding requests for this long loses them
    /// (they go to other peers) and is snubbed; three times and it is dropped.
    std::chrono::seconds request_timeout{60};
    std::chrono::seconds idle_timeout{120};
    std::chrono::seconds keep_alive_interval{120};
    /// Requests in flight per peer: its download rate times this many seconds, in blocks,
    /// within [min_queue, max_queue]; new peers start at start_queue.
    double queue_seconds = 2.0;
    std::uint32_t min_queue = 4;
    std::uint32_t start_queue = 16;
    std::uint32_t max_queue = 500;
    /// A peer that shared in this many failed pieces is banned (alone in one: at once).
    std::uint32_t shared_failures_to_ban = 4;
    /// Peers unchoked by upload rate (tit-for-tat) at each rechoke, besides the one
    /// optimistic unchoke; at least 1.
    std::size_t upload_slots = 8;
    std::chrono::seconds rechoke_interval{10};
    /// Requests queued per peer; beyond it they are dropped (BEP 3 lets a peer drop them).
    std::size_t max_incoming_requests = 500;
    /// Requests are dropped while this many bytes wait in a peer's send queue, so a peer
    /// that asks without reading cannot make us buffer without bound.
    std::size_t max_send_backlog = 4 * 1024 * 1024;
    /// Whole pieces kept in memory, verified, to answer requests (piece_cache); they are
    /// given back to the pool when a download needs the buffer or after a quiet minute.
    std::size_t upload_cache_pieces = 64;
    /// Pieces read from disk for uploads at once.
    std::size_t max_piece_loads = 4;
    /// This torrent's own rate limits in bytes per second, 0 for none. The session's
    /// limits (session_limits) apply on top. Downloads are limited by the requests sent.
    std::uint64_t max_upload_rate = 0;
    std::uint64_t max_download_rate = 0;
};

/// What the download reports as it goes, for the command line (all calls on the ring's
/// thread, from inside run()).
class download_observer {
public:
    virtual ~download_observer() = default;
    virtual void piece_done(piece_index /*piece*/) {}
    virtual void piece_failed(piece_index /*piece*/) {}
    virtual void peer_banned(const endpoint& /*peer*/, std::string_view /*reason*/) {}
    virtual void peer_dropped(const endpoint& /*peer*/, std::string_view /*reason*/) {}
    /// Every wanted piece is had (once; not called when they all were at the start).
    virtual void download_complete() {}
};

struct download_stats {
    std::uint64_t payload_received = 0; ///< block bytes received, duplicates included
    std::uint64_t verified = 0;         ///< bytes of pieces hashed, written and had
    std::uint64_t failed_pieces = 0;
    std::size_t peers = 0;      ///< connected
    std::size_t connecting = 0; ///< being dialled
    std::size_t known_peers = 0;
    double download_rate = 0; ///< payload bytes per second, last few seconds
    std::uint64_t payload_sent = 0;
    double upload_rate = 0;
    std::uint64_t blocks_received = 0; ///< blocks whose payload arrived (stored or not)
    std::uint64_t socket_reads = 0;    ///< reads on peer sockets after the handshakes
};

/// Hashes all 20 bytes of a peer id.
struct peer_id_hash {
    std::size_t operator()(const peer::peer_id& id) const noexcept {
        std::size_t h = 0;
        for (std::size_t i = 0; i < id.size(); ++i) {
            h = h * 131 + static_cast<std::size_t>(id[i]);
        }
        return h;
    }
};

class torrent_download final : private peer::connection_handler {
public:
    /// Everything passed is borrowed and must outlive the download. The picker already
    /// knows which pieces are had (a resume or a check) and which are wanted.
    torrent_download(io::ring& ring, const metainfo::torrent_info& torrent,
                     storage::file_storage& storage, io::buffer_pool& pool,
                     picker::piece_picker& picker, peer::peer_id self, download_settings settings,
                     download_observer& observer);
    torrent_download(const torrent_download&) = delete;
    torrent_download& operator=(const torrent_download&) = delete;
    ~torrent_download() override;

    /// Shares the session's connection cap and global rate limits with other torrents
    /// (borrowed; call before run). Without it the torrent has a session of its own.
    void share_limits(session_limits& limits) { m_limits = &limits; }

    /// Peers to dial (from trackers or the command line); known ones are ignored.
    void add_peers(std::span<const endpoint> peers);
    /// A peer that dialled us and named this torrent in its handshake (ours was sent).
    /// Refused (the socket closed) when it is ourselves, already connected, from a
    /// banned address, or beyond max_peers.
    void add_incoming(io::unique_fd socket, endpoint remote, const peer::handshake& theirs);
    /// Downloads until every wanted piece is had, `stop` is requested, or a write fails
    /// (that error is returned). With `keep_running` it goes on after completion until
    /// `stop`. Run once.
    [[nodiscard]] io::task<result<void>> run(std::stop_token stop, bool keep_running);

    [[nodiscard]] download_stats stats();
    [[nodiscard]] bool finished() const { return m_picker.finished(); }

private:
    using clock = std::chrono::steady_clock;
    struct outstanding {
        picker::block_request block;
        clock::time_point sent;
    };
    struct peer_state {
        picker::peer_key key = 0;
        endpoint remote;
        std::unique_ptr<peer::connection> conn;
        std::vector<outstanding> requests;         // in the order sent
        std::vector<picker::block_request> cancelled; // may still arrive; dropped quietly
        std::vector<picker::block_request> reserved;  // slots its read in flight may fill
        rate_meter down;
        std::uint32_t timeouts = 0;
        bool snubbed = false;
        bool banned = false;
        std::size_t queued_uploads = 0;
        rate_meter up;
        // The peer's BEP 10 "reqq": requests it keeps before dropping; ours stay below.
        std::uint32_t request_limit = std::numeric_limits<std::uint32_t>::max();
        clock::time_point connected_since = clock::now();
    };
    struct upload_request {
        picker::peer_key peer = 0;
        peer::request block;
    };
    // One connection counted against the session's cap, from dial or accept to close.
    class connection_ticket {
    public:
        explicit connection_ticket(session_limits* limits) noexcept : m_limits(limits) {}
        connection_ticket(connection_ticket&& other) noexcept
            : m_limits(std::exchange(other.m_limits, nullptr)) {}
        connection_ticket& operator=(connection_ticket&&) = delete;
        ~connection_ticket() {
            if (m_limits != nullptr) {
                m_limits->disconnected();
            }
        }

    private:
        session_limits* m_limits;
    };

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
    std::size_t reserve_expected(peer::connection& c,
                                 std::span<peer::expected_block> out) override;
    void release_expected(peer::connection& c, const peer::piece_message& m) override;
    result<void> on_extended(peer::connection& c, std::uint8_t sub_id,
                             std::span<const std::byte> payload) override;

    // Peers (torrent_download.cpp).
    io::task<void> peer_task(endpoint remote, connection_ticket ticket, std::stop_token stop);
    io::task<void> incoming_task(io::unique_fd socket, endpoint remote, peer::handshake theirs,
                                 connection_ticket ticket, std::stop_token stop);
    // One connection after the handshakes, dialled or accepted, until it ends.
    io::task<void> serve_peer(io::unique_fd socket, endpoint remote, peer::handshake theirs,
                              bool dialled, std::stop_token stop);
    void send_extension_handshake(peer_state& peer);
    [[nodiscard]] static std::string address_key(const endpoint& remote);
    io::task<void> tick_loop(std::stop_token stop);
    void dial_more();
    void tick(clock::time_point now);
    [[nodiscard]] peer_state& state_of(const peer::connection& c);
    void ban(const endpoint& remote, std::string_view reason);

    // Blocks and pieces (torrent_blocks.cpp).
    void update_interest(peer_state& peer);
    void request_more(peer_state& peer);
    void request_more_everywhere();
    [[nodiscard]] std::uint32_t queue_target(peer_state& peer, clock::time_point now);
    // Takes `block` away from `peer`: sends cancel (unless `quiet`) and remembers it, so a
    // block already on the way is dropped without blaming the peer.
    void withdraw(peer_state& peer, const picker::block_request& block, bool quiet);
    void withdraw_piece_everywhere(piece_index piece);
    void drop_all_requests(peer_state& peer, bool quiet);
    // Ends the peer's reservation of `block`'s slot, if it holds one (the block is missing
    // again); says whether it did.
    bool take_reservation(peer_state& peer, const picker::block_request& block);
    void release_if_forgotten(piece_index piece);
    void release_forgotten_pieces();
    io::task<void> finish_piece(piece_index piece);
    void charge_failure(std::span<const picker::peer_key> senders);
    // A piece buffer for `piece`, taking one back from the upload cache when the pool is
    // out; nullptr when the budget is spent.
    [[nodiscard]] active_piece* start_piece(piece_index piece, std::uint32_t size);
    // How many blocks the download limits allow now, of `wanted`.
    [[nodiscard]] std::size_t download_allowance(std::size_t wanted, clock::time_point now);
    void return_download_allowance(std::size_t blocks);

    // Uploading what we have (torrent_upload.cpp).
    void unchoke_if_room(peer_state& peer);
    void set_choked(peer_state& peer, bool choked);
    void rechoke(clock::time_point now);
    void fill_upload_slots();
    void forget_uploads(picker::peer_key peer);
    // A request taken: sent now when its piece is cached (and no rate limit holds it),
    // else it waits for its piece to load.
    void dispatch(const upload_request& request);
    void serve_from_cache(const upload_request& next, std::span<const std::byte> piece);
    [[nodiscard]] bool upload_limited() const noexcept;
    // Starts loads of waiting pieces, up to max_piece_loads at once.
    void start_loads();
    io::task<void> load_task(piece_index piece, std::stop_token stop);
    // Reads `piece` from disk into a cache slot and checks its hash: true once cached,
    // false when no slot is free yet. Fails when the data is gone or changed.
    io::task<result<bool>> load_piece(piece_index piece, std::stop_token stop);
    // Sends the rate-limited queue out as the limits allow.
    io::task<void> upload_loop(std::stop_token stop);

    io::ring& m_ring;
    const metainfo::torrent_info& m_torrent;
    storage::file_storage& m_storage;
    piece_writer m_writer; // verified pieces to m_storage, neighbours combined
    picker::piece_picker& m_picker;
    download_observer& m_observer;
    peer::peer_id m_self;
    download_settings m_settings;
    peer::wire_geometry m_wire;
    active_pieces m_pieces;
    peer_candidates m_candidates;
    std::unordered_map<picker::peer_key, std::unique_ptr<peer_state>> m_peers;
    std::unordered_map<endpoint, std::uint32_t> m_failures; // shared failed pieces
    // Who each key was, also after it disconnected: a failed piece may implicate a peer
    // that is gone, and it must still be charged (and banned).
    std::unordered_map<picker::peer_key, endpoint> m_key_endpoints;
    std::unordered_set<peer::peer_id, peer_id_hash> m_peer_ids;  // connected clients
    std::unordered_set<std::string> m_banned_addresses;           // IP bytes of banned peers
    std::vector<picker::block_request> m_picked;            // reused by request_more
    io::scope* m_tasks = nullptr;                           // run()'s scope while it runs
    io::event m_wake;
    rate_meter m_down;
    rate_meter m_up;
    std::error_code m_fatal;
    std::uint64_t m_verified = 0;
    std::uint64_t m_failed_pieces = 0;
    std::uint64_t m_blocks = 0;
    std::uint64_t m_reads_of_closed = 0; // socket reads of connections already gone
    picker::peer_key m_next_key = 1;
    bool m_buffers_wanted = false; // a peer stopped picking because the budget was spent
    std::deque<upload_request> m_uploads; // cached, held back by a rate limit
    io::event m_upload_ready;
    // Requests whose piece is not in the cache yet, by piece, and the pieces to load in
    // the order they were first asked for.
    std::unordered_map<piece_index, std::vector<upload_request>> m_waiting;
    std::deque<piece_index> m_load_queue;
    std::size_t m_loads_in_flight = 0;
    bool m_loads_stalled = false; // a load found no free buffer: wait for the next tick
    // Blocks of wanted pieces not yet in a buffer or on disk: how near the end we are.
    std::size_t m_unreceived_blocks = 0;
    io::buffer_pool& m_pool;
    std::size_t m_unchoked = 0;
    choker::choker m_choker;
    clock::time_point m_next_rechoke = clock::now();
    bool m_keep_running = false;
    piece_cache m_cache;
    session_limits m_own_limits; // used when no session shares its limits
    session_limits* m_limits = &m_own_limits;
    choker::token_bucket m_up_limit;
    choker::token_bucket m_down_limit;
};

} // namespace spate::session
