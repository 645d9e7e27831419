// torrent_download: answering requests for the pieces we have. Every rechoke interval the
// choker (BEP 3 tit-for-tat, one optimistic unchoke) decides who is unchoked; between
// rechokes a newly interested peer gets a free slot at once. Requests are served in arrival
// order from whole pieces in the piece cache: a piece is read from disk once and hashed
// before any of it is sent.
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
    m_uploads.push_back(upload_request{peer.key, r});
    m_upload_ready.notify();
    return {};
}

void torrent_download::on_cancel(peer::connection& c, const peer::cancel& r) {
    peer_state& peer = state_of(c);
    auto it = std::find_if(m_uploads.begin(), m_uploads.end(), [&](const upload_request& u) {
        return u.peer == peer.key && u.block.piece == r.piece && u.block.begin == r.begin &&
               u.block.length == r.length;
    });
    if (it != m_uploads.end()) {
        m_uploads.erase(it);
        --peer.queued_uploads;
    }
}

void torrent_download::forget_uploads(picker::peer_key key) {
    std::erase_if(m_uploads, [key](const upload_request& u) { return u.peer == key; });
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
        // The front stays queued while its piece loads: the peer may go, or cancel, and
        // then the request is gone from the queue when the load completes.
        const upload_request next = m_uploads.front();
        const piece_index piece(next.block.piece);
        const clock::time_point now = clock::now();
        std::span<const std::byte> bytes = m_cache.find(piece, now);
        if (bytes.empty()) {
            result<void> loaded = co_await load_piece(piece, stop);
            if (!loaded) {
                if (!stop.stop_requested() && !m_fatal) {
                    m_fatal = loaded.error(); // the data is gone or changed: stop this torrent
                    m_wake.notify();
                }
                break;
            }
            continue;
        }
        const std::chrono::nanoseconds wait =
            choker::wait_time_both(m_limits->upload, m_up_limit, now, next.block.length);
        if (wait.count() > 0) {
            result<void> slept = co_await io::sleep_for(m_ring, wait, stop);
            static_cast<void>(slept);
            continue;
        }
        static_cast<void>(choker::take_both(m_limits->upload, m_up_limit, now, next.block.length));
        m_uploads.pop_front();
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

io::task<result<void>> torrent_download::load_piece(piece_index piece, std::stop_token stop) {
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
        // Every buffer holds a piece on its way in, or another torrent's; one comes back
        // soon.
        result<void> slept = co_await io::sleep_for(m_ring, std::chrono::milliseconds(20), stop);
        static_cast<void>(slept);
        co_return result<void>{};
    }
    const auto size = static_cast<std::uint32_t>(m_torrent.layout().piece_size(piece));
    std::span<std::byte> into = slot.span().first(size);
    result<void> read = co_await m_storage.read(piece, 0, into, slot.index());
    if (!read) {
        co_return fail(read.error());
    }
    // Hashed again on the way out: a file changed under us must not reach a peer.
    if (sha1(into) != m_torrent.piece_hash(piece)) {
        co_return fail(make_error_code(errc::data_changed_on_disk));
    }
    m_cache.insert(piece, std::move(slot), size, clock::now());
    co_return result<void>{};
}

} // namespace spate::session
