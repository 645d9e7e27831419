// torrent_download: answering requests for the pieces we have. Until the seeding issue's
// choker arrives, interested peers are unchoked first come, first served, up to the upload
// slots; blocks are read one at a time into one registered buffer, in arrival order.
#include <spate/io/timer_ops.hpp>
#include <spate/session/torrent_download.hpp>

#include <algorithm>

namespace spate::session {

void torrent_download::on_interest(peer::connection& c, bool interested) {
    peer_state& peer = state_of(c);
    if (interested) {
        unchoke_if_room(peer);
    } else if (!c.am_choking()) {
        c.send_choke(true);
        --m_unchoked;
        forget_uploads(peer.key);
        fill_upload_slots();
    }
}

void torrent_download::unchoke_if_room(peer_state& peer) {
    if (peer.conn->am_choking() && m_unchoked < m_settings.upload_slots && !peer.banned &&
        !m_picker.have_bits().none()) {
        peer.conn->send_choke(false);
        ++m_unchoked;
    }
}

void torrent_download::fill_upload_slots() {
    for (auto& [key, peer] : m_peers) {
        if (m_unchoked >= m_settings.upload_slots) {
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
    }
}

} // namespace spate::session
