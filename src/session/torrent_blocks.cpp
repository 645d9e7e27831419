// torrent_download: what each peer requests, where its blocks go, and what happens to a
// piece once its last block is in: hash, write, have. Peers and the tick are in
// torrent_download.cpp.
#include <spate/core/hash.hpp>
#include <spate/peer/error.hpp>
#include <spate/session/error.hpp>
#include <spate/session/torrent_download.hpp>

#include <algorithm>

namespace spate::session {

namespace {

picker::block_request to_block(std::uint32_t piece, std::uint32_t begin, std::uint32_t length) {
    return picker::block_request{piece_index(piece), begin, length};
}

peer::request to_request(const picker::block_request& b) {
    return peer::request{b.piece.value(), b.begin, b.length};
}

// Recently withdrawn requests remembered per peer; older ones arriving count as unrequested.
constexpr std::size_t max_cancelled = 2048;

} // namespace

result<void> torrent_download::on_bitfield(peer::connection& c) {
    peer_state& peer = state_of(c);
    m_picker.add_peer(c.remote_bits());
    update_interest(peer);
    request_more(peer); // a peer may unchoke before its bitfield: no need to wait a tick
    return {};
}

result<void> torrent_download::on_have(peer::connection& c, std::uint32_t piece) {
    if (c.remote_bits().test(piece)) {
        return {}; // a repeated have changes nothing (and must not count twice)
    }
    c.mark_remote_has(piece);
    m_picker.add_have(piece_index(piece));
    peer_state& peer = state_of(c);
    if (!c.am_interested() && m_picker.is_wanted(piece_index(piece))) {
        update_interest(peer);
        request_more(peer); // unchoked already? then the piece can be asked for now
    }
    return {};
}

void torrent_download::on_choke(peer::connection& c, bool choked) {
    peer_state& peer = state_of(c);
    if (choked) {
        // BEP 3: a choke discards the requests it receives; ask again after the unchoke.
        drop_all_requests(peer, true);
        if (std::exchange(m_buffers_wanted, false)) {
            request_more_everywhere(); // buffers of pieces nobody fetches now came back
        }
    } else {
        request_more(peer);
    }
}

result<std::span<std::byte>> torrent_download::on_block_header(peer::connection& c,
                                                               const peer::piece_message& m) {
    peer_state& peer = state_of(c);
    const picker::block_request block = to_block(m.piece, m.begin, m.length);
    // A block received ahead into its reserved slot: the slot is free again here and, if
    // the block is still wanted from this peer, taken below as for any block.
    const bool was_reserved = take_reservation(peer, block);
    auto it = std::find_if(peer.requests.begin(), peer.requests.end(),
                           [&](const outstanding& o) { return o.block == block; });
    if (it == peer.requests.end()) {
        if (was_reserved) {
            release_if_forgotten(block.piece);
        }
        auto late = std::find(peer.cancelled.begin(), peer.cancelled.end(), block);
        if (late == peer.cancelled.end()) {
            return fail(peer::errc::unrequested_piece);
        }
        peer.cancelled.erase(late);
        return std::span<std::byte>{}; // withdrawn while on its way: drop it
    }
    peer.requests.erase(it);
    active_piece* piece = m_pieces.find(block.piece);
    if (piece == nullptr || piece->finishing) {
        return std::span<std::byte>{};
    }
    const std::uint32_t index = block.begin / picker::block_size;
    if (piece->blocks[index] != block_status::missing) {
        return std::span<std::byte>{}; // an endgame duplicate of a block already here
    }
    piece->blocks[index] = block_status::receiving;
    return piece->block_memory(block.begin, block.length);
}

void torrent_download::on_block_done(peer::connection& c, const peer::piece_message& m,
                                     bool stored, bool received) {
    peer_state& peer = state_of(c);
    const picker::block_request block = to_block(m.piece, m.begin, m.length);
    const clock::time_point now = clock::now();
    if (received) {
        ++m_blocks;
        peer.down.add(m.length, now);
        m_down.add(m.length, now);
        peer.snubbed = false;
        peer.timeouts = 0;
    }
    if (!stored) {
        // Dropped data (a duplicate, or a block another peer is delivering): the picker
        // only forgets that it was requested from this peer.
        m_picker.on_request_dropped(block, peer.key);
        release_if_forgotten(block.piece);
        request_more(peer);
        return;
    }
    active_piece* piece = m_pieces.find(block.piece);
    const std::uint32_t index = block.begin / picker::block_size;
    if (!received) {
        piece->blocks[index] = block_status::missing;
        m_picker.on_request_dropped(block, peer.key);
        release_if_forgotten(block.piece);
        return; // the connection is closing
    }
    piece->blocks[index] = block_status::received;
    piece->senders[index] = peer.key;
    ++piece->received;
    --m_unreceived_blocks;
    picker::piece_picker::received_result r = m_picker.on_block_received(block, peer.key);
    for (picker::peer_key other : r.cancel_from) {
        if (auto o = m_peers.find(other); o != m_peers.end()) {
            withdraw(*o->second, block, false);
        }
    }
    if (piece->complete()) {
        piece->finishing = true;
        m_tasks->spawn(finish_piece(block.piece));
    }
    request_more(peer);
}

std::size_t torrent_download::reserve_expected(peer::connection& c,
                                               std::span<peer::expected_block> out) {
    peer_state& peer = state_of(c);
    // The peer answers in the order asked (most do): its next blocks are the oldest
    // requests. The guess stops at the first block whose slot is not free to take, since
    // that block still comes and the ones after it would not be where expected.
    std::size_t n = 0;
    for (const outstanding& o : peer.requests) {
        if (n == out.size()) {
            break;
        }
        active_piece* piece = m_pieces.find(o.block.piece);
        const std::uint32_t index = o.block.begin / picker::block_size;
        if (piece == nullptr || piece->finishing || piece->blocks[index] != block_status::missing) {
            break;
        }
        piece->blocks[index] = block_status::reserved;
        peer.reserved.push_back(o.block);
        out[n++] = peer::expected_block{
            peer::piece_message{o.block.piece.value(), o.block.begin, o.block.length},
            piece->block_memory(o.block.begin, o.block.length)};
    }
    return n;
}

void torrent_download::release_expected(peer::connection& c, const peer::piece_message& m) {
    peer_state& peer = state_of(c);
    const picker::block_request block = to_block(m.piece, m.begin, m.length);
    if (take_reservation(peer, block)) {
        release_if_forgotten(block.piece);
    }
}

bool torrent_download::take_reservation(peer_state& peer, const picker::block_request& block) {
    auto it = std::find(peer.reserved.begin(), peer.reserved.end(), block);
    if (it == peer.reserved.end()) {
        return false;
    }
    peer.reserved.erase(it);
    active_piece* piece = m_pieces.find(block.piece);
    piece->blocks[block.begin / picker::block_size] = block_status::missing;
    return true;
}

void torrent_download::update_interest(peer_state& peer) {
    const bool want = m_picker.is_interesting(peer.conn->remote_bits());
    if (want != peer.conn->am_interested()) {
        peer.conn->send_interested(want);
    }
}

std::uint32_t torrent_download::queue_target(peer_state& peer, clock::time_point now) {
    if (peer.snubbed) {
        return 1;
    }
    const double rate = peer.down.rate(now);
    if (rate <= 0) {
        return m_settings.start_queue;
    }
    const double blocks = rate * m_settings.queue_seconds / picker::block_size;
    return static_cast<std::uint32_t>(std::clamp(blocks, double(m_settings.min_queue),
                                                 double(m_settings.max_queue)));
}

void torrent_download::request_more(peer_state& peer) {
    peer::connection& c = *peer.conn;
    if (!c.am_interested() || c.peer_choking() || peer.banned || m_fatal) {
        return;
    }
    // Never more than the peer said it queues (BEP 10 reqq): the excess would be dropped.
    const std::uint32_t target = std::min(queue_target(peer, clock::now()), peer.request_limit);
    // Refill in batches of a quarter of the queue: one send and one pick per batch rather
    // than per block.
    const std::size_t batch = std::max<std::uint32_t>(1, target / 4);
    if (peer.requests.size() + batch > target) {
        return;
    }
    const clock::time_point now = clock::now();
    const std::size_t allowed = download_allowance(target - peer.requests.size(), now);
    if (allowed == 0) {
        return; // the rate limit: the tick asks again
    }
    m_picked.clear();
    // New pieces only as far as piece buffers are free (cached pieces give theirs up).
    const std::size_t free_buffers = m_pool.available() + m_cache.size();
    // Endgame duplicates cost bandwidth: only once few blocks are left (about four per
    // peer). Before that a slow peer holds at most its queue (about 2 s of its rate).
    const std::size_t endgame_blocks =
        m_unreceived_blocks <= m_peers.size() * 4 + 32 ? allowed : 0;
    m_picker.pick(c.remote_bits(), peer.key, allowed, m_picked, free_buffers, endgame_blocks);
    if (m_picked.size() < allowed && free_buffers == 0) {
        // Held back by the buffer budget: ask again as soon as a buffer comes back, not at
        // the next tick.
        m_buffers_wanted = true;
    }
    std::size_t sent = 0;
    for (std::size_t i = 0; i < m_picked.size(); ++i) {
        const picker::block_request& block = m_picked[i];
        const auto size = static_cast<std::uint32_t>(m_torrent.layout().piece_size(block.piece));
        if (start_piece(block.piece, size) == nullptr) {
            // The piece-buffer budget is spent: the rest waits for a buffer to come back.
            for (std::size_t j = i; j < m_picked.size(); ++j) {
                m_picker.on_request_dropped(m_picked[j], peer.key);
            }
            m_buffers_wanted = true;
            break;
        }
        peer.requests.push_back(outstanding{block, now});
        c.send_request(to_request(block));
        ++sent;
    }
    return_download_allowance(allowed - sent);
    if (peer.requests.empty() && !m_picker.is_interesting(c.remote_bits())) {
        update_interest(peer);
    }
}

active_piece* torrent_download::start_piece(piece_index piece, std::uint32_t size) {
    if (active_piece* started = m_pieces.start(piece, size)) {
        return started;
    }
    // Downloading comes before keeping pieces around for uploads.
    if (m_cache.size() == 0) {
        return nullptr;
    }
    static_cast<void>(m_cache.take_oldest()); // its slot goes back to the pool here
    return m_pieces.start(piece, size);
}

std::size_t torrent_download::download_allowance(std::size_t wanted, clock::time_point now) {
    if (m_limits->download.unlimited() && m_down_limit.unlimited()) {
        return wanted;
    }
    const std::uint64_t granted =
        choker::take_both(m_limits->download, m_down_limit, now, wanted * picker::block_size);
    const std::size_t blocks = granted / picker::block_size;
    m_limits->download.give_back(granted % picker::block_size);
    m_down_limit.give_back(granted % picker::block_size);
    return blocks;
}

void torrent_download::return_download_allowance(std::size_t blocks) {
    if (blocks == 0 || (m_limits->download.unlimited() && m_down_limit.unlimited())) {
        return;
    }
    m_limits->download.give_back(blocks * picker::block_size);
    m_down_limit.give_back(blocks * picker::block_size);
}

void torrent_download::request_more_everywhere() {
    std::vector<peer_state*> peers;
    peers.reserve(m_peers.size());
    for (auto& [key, peer] : m_peers) {
        peers.push_back(peer.get());
    }
    for (peer_state* peer : peers) {
        request_more(*peer);
    }
}

void torrent_download::withdraw(peer_state& peer, const picker::block_request& block, bool quiet) {
    auto it = std::find_if(peer.requests.begin(), peer.requests.end(),
                           [&](const outstanding& o) { return o.block == block; });
    if (it == peer.requests.end()) {
        return;
    }
    peer.requests.erase(it);
    m_picker.on_request_dropped(block, peer.key);
    release_if_forgotten(block.piece);
    if (peer.cancelled.size() >= max_cancelled) {
        peer.cancelled.erase(peer.cancelled.begin());
    }
    peer.cancelled.push_back(block);
    if (!quiet) {
        peer.conn->send_cancel(peer::cancel{block.piece.value(), block.begin, block.length});
    }
}

void torrent_download::release_if_forgotten(piece_index index) {
    // The picker forgets a piece once no block of it is requested or received, and then
    // counts it as not started; its buffer must go back with it, or a few such pieces hold
    // the whole budget and no new piece can start.
    active_piece* piece = m_pieces.find(index);
    if (piece == nullptr || piece->finishing || piece->received != 0 ||
        m_picker.progress(index) != nullptr) {
        return;
    }
    if (std::any_of(piece->blocks.begin(), piece->blocks.end(),
                    [](block_status b) { return b != block_status::missing; })) {
        return; // a connection is receiving into it now
    }
    m_pieces.release(index);
    m_buffers_wanted = true;
}

void torrent_download::release_forgotten_pieces() {
    std::vector<piece_index> held;
    m_pieces.for_each([&held](piece_index p) { held.push_back(p); });
    for (piece_index p : held) {
        release_if_forgotten(p);
    }
}

void torrent_download::drop_all_requests(peer_state& peer, bool quiet) {
    while (!peer.requests.empty()) {
        withdraw(peer, peer.requests.back().block, quiet);
    }
}

void torrent_download::withdraw_piece_everywhere(piece_index piece) {
    for (auto& [key, peer] : m_peers) {
        std::vector<picker::block_request> mine;
        for (const outstanding& o : peer->requests) {
            if (o.block.piece == piece) {
                mine.push_back(o.block);
            }
        }
        for (const picker::block_request& b : mine) {
            withdraw(*peer, b, false);
        }
    }
}

io::task<void> torrent_download::finish_piece(piece_index index) {
    active_piece* piece = m_pieces.find(index);
    // Endgame duplicates still out for this piece are no longer needed.
    withdraw_piece_everywhere(index);
    const sha1_digest digest = sha1(piece->slot.span().first(piece->size));
    if (digest != m_torrent.piece_hash(index)) {
        std::vector<picker::peer_key> senders = piece->senders;
        std::sort(senders.begin(), senders.end());
        senders.erase(std::unique(senders.begin(), senders.end()), senders.end());
        m_picker.on_piece_failed(index);
        m_unreceived_blocks += piece->blocks.size();
        m_pieces.release(index);
        ++m_failed_pieces;
        m_observer.piece_failed(index);
        charge_failure(senders);
        request_more_everywhere();
        co_return;
    }
    // The buffer stays held until the write completed: the kernel reads from it.
    result<void> written = co_await m_writer.write(index, piece->slot);
    if (!written) {
        m_pieces.release(index);
        if (!m_fatal) {
            m_fatal = written.error();
        }
        m_wake.notify();
        co_return;
    }
    m_picker.mark_have(index);
    // The verified piece stays in memory for peers that may ask for it soon: only when a
    // peer is interested in us, or a plain download would hold buffers for nothing.
    const bool wanted_by_someone =
        std::any_of(m_peers.begin(), m_peers.end(),
                    [](const auto& entry) { return entry.second->conn->peer_interested(); });
    if (wanted_by_someone) {
        m_cache.insert(index, std::move(piece->slot), piece->size, clock::now());
    }
    m_pieces.release(index);
    m_verified += m_torrent.layout().piece_size(index);
    m_observer.piece_done(index);
    std::vector<peer_state*> peers;
    for (auto& [key, peer] : m_peers) {
        peers.push_back(peer.get());
    }
    for (peer_state* peer : peers) {
        peer->conn->send_have(index.value());
        if (peer->conn->am_interested() && peer->requests.empty()) {
            update_interest(*peer);
        }
    }
    if (m_picker.finished()) {
        m_observer.download_complete();
        m_wake.notify();
    }
    if (std::exchange(m_buffers_wanted, false)) {
        request_more_everywhere();
    }
}

void torrent_download::charge_failure(std::span<const picker::peer_key> senders) {
    for (picker::peer_key key : senders) {
        auto it = m_key_endpoints.find(key);
        if (it == m_key_endpoints.end()) {
            continue;
        }
        const endpoint remote = it->second;
        if (senders.size() == 1) {
            ban(remote, "sole source of a piece that failed its hash check");
        } else if (++m_failures[remote] >= m_settings.shared_failures_to_ban) {
            ban(remote, "took part in too many pieces that failed their hash check");
        }
    }
}

} // namespace spate::session
