// torrent_download: answering requests for the pieces we have. Every rechoke interval the
// choker (BEP 3 tit-for-tat, one optimistic unchoke) decides who is unchoked; between
// rechokes a newly interested peer gets a free slot at once. Requests are served from whole
// pieces in the piece cache: at once when their piece is there, else when it has loaded (a
// few pieces load at a time, each read from disk once and hashed before any of it is sent).
// Under a rate limit, blocks wait in a queue that upload_loop sends out as tokens allow.
#include <spate/core/hash.hpp>
#include <spate/io/timer_ops.hpp>
#include <spate/session/error.hpp>
#include <spate/session/torrent_download.hpp>

#include <algorithm>

namespace spate::session {

void torrent_download::on_interest(peer::connection& c, bool interested) {
    peer_state& peer = state_of(c);
    if (interested) {
        unchoke_if_room(peer);
    } else if (!c.am_choking()) {
        set_choked(peer, true);
        fill_upload_slots();
    }
}

void torrent_download::set_choked(peer_state& peer, bool choked) {
    if (peer.conn->am_choking() == choked) {
        return;
    }
    peer.conn->send_choke(choked);
    if (choked) {
        --m_unchoked;
        forget_uploads(peer.key); // BEP 3: a choke drops the peer's pending requests
    } else {
        ++m_unchoked;
    }
}

void torrent_download::unchoke_if_room(peer_state& peer) {
    // The regular slots plus the optimistic one.
    if (m_unchoked < m_settings.upload_slots + 1 && !peer.banned &&
        !m_picker.have_bits().none()) {
        set_choked(peer, false);
    }
}

void torrent_download::rechoke(clock::time_point now) {
    if (m_picker.have_bits().none()) {
        return; // nothing to upload
    }
    std::vector<choker::peer_record> records;
    records.reserve(m_peers.size());
    for (auto& [key, peer] : m_peers) {
        choker::peer_record r;
        r.id = key;
        r.interested = peer->conn->peer_interested() && !peer->banned;
        r.am_choking = peer->conn->am_choking();
        r.download_rate_from_them = peer->down.rate(now);
        r.upload_rate_to_them = peer->up.rate(now);
        r.connected_since = peer->connected_since;
        r.is_snubbed = peer->snubbed;
        records.push_back(r);
    }
    const choker::role as =
        m_picker.finished() ? choker::role::seeding : choker::role::downloading;
    const choker::choke_decision decision = m_choker.rechoke(now, records, as);
    for (choker::peer_key key : decision.choke) {
        if (auto it = m_peers.find(key); it != m_peers.end()) {
            set_choked(*it->second, true);
        }
    }
    for (choker::peer_key key : decision.unchoke) {
        if (auto it = m_peers.find(key); it != m_peers.end()) {
            set_choked(*it->second, false);
        }
    }
}

void torrent_download::fill_upload_slots() {
    for (auto& [key, peer] : m_peers) {
        if (m_unchoked >= m_settings.upload_slots + 1) {
            break;
        }
        if (peer->conn->peer_interested()) {
            unchoke_if_room(*peer);
        }
    }
}

result<void> torrent_download::on_request(peer::connection& c, const peer::request& r) {
    peer_state& peer = state_of(c);
    // BEP 3: a choked peer's requests, and requests for pieces we lack, go unanswered;
    // so do requests beyond the queue bound.
    if (c.am_choking() || !m_picker.have(piece_index(r.piece)) ||
        peer.queued_uploads >= m_settings.max_incoming_requests ||
        c.send_backlog() >= m_settings.max_send_backlog) {
        return {};
    }
    ++peer.queued_uploads;
    dispatch(upload_request{peer.key, r});
    return {};
}

bool torrent_download::upload_limited() const noexcept {
    return !m_limits->upload.unlimited() || !m_up_limit.unlimited();
}

void torrent_download::dispatch(const upload_request& request) {
    const piece_index piece(request.block.piece);
    std::span<const std::byte> bytes = m_cache.find(piece, clock::now());
    if (bytes.empty()) {
        auto [it, first] = m_waiting.try_emplace(piece);
        it->second.push_back(request);
        if (first) {
            m_load_queue.push_back(piece);
            start_loads();
        }
        return;
    }
    if (upload_limited()) {
        m_uploads.push_back(request);
        m_upload_ready.notify();
        return;
    }
    serve_from_cache(request, bytes);
}

void torrent_download::start_loads() {
    while (m_loads_in_flight < m_settings.max_piece_loads && !m_load_queue.empty() &&
           !m_loads_stalled && m_tasks != nullptr && !m_tasks->stop_requested() && !m_fatal) {
        const piece_index piece = m_load_queue.front();
        m_load_queue.pop_front();
        if (!m_waiting.contains(piece)) {
            continue; // its requests were cancelled, or their peers left
        }
        ++m_loads_in_flight;
        m_tasks->spawn(load_task(piece, m_tasks->token()));
    }
}

io::task<void> torrent_download::load_task(piece_index piece, std::stop_token stop) {
    result<bool> loaded = co_await load_piece(piece, stop);
    --m_loads_in_flight;
    if (!loaded) {
        if (!stop.stop_requested() && !m_fatal) {
            m_fatal = loaded.error(); // the data is gone or changed: stop this torrent
            m_wake.notify();
        }
        co_return;
    }
    if (!*loaded) {
        // No buffer free: it goes first when the tick tries again. Until then no load
        // starts: one that finds no buffer ends at once, so retrying here would spin.
        m_load_queue.push_front(piece);
        m_loads_stalled = true;
        co_return;
    }
    auto waiting = m_waiting.extract(piece);
    if (!waiting.empty()) {
        for (const upload_request& request : waiting.mapped()) {
            dispatch(request);
        }
    }
    start_loads();
}

void torrent_download::on_cancel(peer::connection& c, const peer::cancel& r) {
    peer_state& peer = state_of(c);
    const auto same = [&](const upload_request& u) {
        return u.peer == peer.key && u.block.piece == r.piece && u.block.begin == r.begin &&
               u.block.length == r.length;
    };
    if (auto it = std::find_if(m_uploads.begin(), m_uploads.end(), same); it != m_uploads.end()) {
        m_uploads.erase(it);
        --peer.queued_uploads;
        return;
    }
    if (auto waiting = m_waiting.find(piece_index(r.piece)); waiting != m_waiting.end()) {
        auto& list = waiting->second;
        if (auto it = std::find_if(list.begin(), list.end(), same); it != list.end()) {
            list.erase(it);
            --peer.queued_uploads;
            if (list.empty()) {
                m_waiting.erase(waiting);
            }
        }
    }
}

void torrent_download::forget_uploads(picker::peer_key key) {
    const auto of_peer = [key](const upload_request& u) { return u.peer == key; };
    std::erase_if(m_uploads, of_peer);
    for (auto it = m_waiting.begin(); it != m_waiting.end();) {
        std::erase_if(it->second, of_peer);
        it = it->second.empty() ? m_waiting.erase(it) : std::next(it);
    }
    if (auto it = m_peers.find(key); it != m_peers.end()) {
        it->second->queued_uploads = 0;
    }
}

io::task<void> torrent_download::upload_loop(std::stop_token stop) {
    while (!stop.stop_requested() && !m_fatal) {
        if (m_uploads.empty()) {
            if (!co_await m_upload_ready.wait(stop)) {
                break;
            }
            continue;
        }
        const upload_request next = m_uploads.front();
        const clock::time_point now = clock::now();
        const std::chrono::nanoseconds wait =
            choker::wait_time_both(m_limits->upload, m_up_limit, now, next.block.length);
        if (wait.count() > 0) {
            result<void> slept = co_await io::sleep_for(m_ring, wait, stop);
            static_cast<void>(slept);
            continue; // the queue may have changed meanwhile
        }
        m_uploads.pop_front();
        std::span<const std::byte> bytes = m_cache.find(piece_index(next.block.piece), now);
        if (bytes.empty()) {
            dispatch(next); // evicted while it waited: load it again
            continue;
        }
        static_cast<void>(choker::take_both(m_limits->upload, m_up_limit, now, next.block.length));
        serve_from_cache(next, bytes);
    }
}

void torrent_download::serve_from_cache(const upload_request& next,
                                        std::span<const std::byte> piece) {
    auto it = m_peers.find(next.peer);
    if (it == m_peers.end()) {
        return;
    }
    peer_state& peer = *it->second;
    --peer.queued_uploads;
    if (peer.conn->am_choking() ||
        std::uint64_t{next.block.begin} + next.block.length > piece.size()) {
        return;
    }
    const clock::time_point now = clock::now();
    peer.conn->send_piece(next.block.piece, next.block.begin,
                          piece.subspan(next.block.begin, next.block.length));
    m_up.add(next.block.length, now);
    peer.up.add(next.block.length, now);
}

io::task<result<bool>> torrent_download::load_piece(piece_index piece, std::stop_token stop) {
    io::buffer_slot slot;
    if (!m_cache.full()) {
        if (std::optional<io::buffer_slot> fresh = m_pool.acquire()) {
            slot = std::move(*fresh);
        }
    }
    if (!slot) {
        slot = m_cache.take_oldest();
    }
    if (!slot) {
        // Every buffer holds a piece on its way in or out; one comes back soon.
        co_return false;
    }
    const auto size = static_cast<std::uint32_t>(m_torrent.layout().piece_size(piece));
    std::span<std::byte> into = slot.span().first(size);
    result<void> read = co_await m_storage.read(piece, 0, into, slot.index());
    if (!read) {
        co_return fail(read.error());
    }
    if (stop.stop_requested()) {
        co_return false;
    }
    // Hashed again on the way out: a file changed under us must not reach a peer.
    if (sha1(into) != m_torrent.piece_hash(piece)) {
        co_return fail(make_error_code(errc::data_changed_on_disk));
    }
    m_cache.insert(piece, std::move(slot), size, clock::now());
    co_return true;
}

} // namespace spate::session
