// torrent_download: answering requests for the pieces we have. Every rechoke interval the
// choker (BEP 3 tit-for-tat, one optimistic unchoke) decides who is unchoked; between
// rechokes a newly interested peer gets a free slot at once. Blocks are read one at a time
// into one registered buffer, in arrival order.
#include <spate/io/timer_ops.hpp>
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
    io::buffer_slot buffer; // taken from the pool at the first request, kept until the end
    while (!stop.stop_requested()) {
        if (m_uploads.empty()) {
            if (!co_await m_upload_ready.wait(stop)) {
                break;
            }
            continue;
        }
        if (!buffer) {
            std::optional<io::buffer_slot> slot = m_pool.acquire();
            if (!slot) {
                // Every buffer holds a piece on its way in; one comes back soon.
                result<void> slept =
                    co_await io::sleep_for(m_ring, std::chrono::milliseconds(20), stop);
                static_cast<void>(slept);
                continue;
            }
            buffer = std::move(*slot);
        }
        const upload_request next = m_uploads.front();
        m_uploads.pop_front();
        auto peer = m_peers.find(next.peer);
        if (peer == m_peers.end()) {
            continue;
        }
        --peer->second->queued_uploads;
        std::span<std::byte> into = buffer.span().first(next.block.length);
        result<void> read = co_await m_storage.read(piece_index(next.block.piece),
                                                    next.block.begin, into, buffer.index());
        // The peer may have gone, or been choked, while the read ran.
        peer = m_peers.find(next.peer);
        if (!read || peer == m_peers.end() || peer->second->conn->am_choking()) {
            continue;
        }
        peer->second->conn->send_piece(next.block.piece, next.block.begin, into);
        m_up.add(into.size(), clock::now());
        peer->second->up.add(into.size(), clock::now());
    }
}

} // namespace spate::session
