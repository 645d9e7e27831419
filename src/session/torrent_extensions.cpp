// The BEP 10 extension protocol as far as spate speaks it: the handshake both ways. Ours
// says how many requests we queue per peer ("reqq") and what address the peer has
// ("yourip"); theirs caps how many requests we keep outstanding with them. spate offers
// no extension messages yet ("m" is empty), so any other extended message is ignored.
#include <spate/peer/extension_handshake.hpp>
#include <spate/session/torrent_download.hpp>

#include <algorithm>

namespace spate::session {

void torrent_download::send_extension_handshake(peer_state& peer) {
    peer::extension_handshake ours;
    ours.client = "spate 0.1.0";
    ours.request_queue = static_cast<std::uint32_t>(
        std::min<std::size_t>(m_settings.max_incoming_requests, UINT32_MAX));
    const auto address = peer.remote.address_bytes();
    ours.your_ip.assign(address.begin(), address.end());
    peer.conn->send_extended(peer::extension_handshake_id,
                             peer::encode_extension_handshake(ours));
}

result<void> torrent_download::on_extended(peer::connection& c, std::uint8_t sub_id,
                                           std::span<const std::byte> payload) {
    if (sub_id != peer::extension_handshake_id) {
        return {}; // we named no extensions, so nothing else is ours to read
    }
    result<peer::extension_handshake> theirs = peer::decode_extension_handshake(payload);
    if (!theirs) {
        return fail(theirs.error());
    }
    peer_state& peer = state_of(c);
    if (theirs->request_queue) {
        peer.request_limit = *theirs->request_queue;
        request_more(peer);
    }
    return {};
}

} // namespace spate::session
