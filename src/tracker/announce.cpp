#include "big_endian.hpp"

#include <spate/tracker/announce.hpp>
#include <spate/tracker/error.hpp>

#include <unordered_set>
#include <utility>

namespace spate::tracker {

std::string_view to_string(announce_event event) {
    switch (event) {
    case announce_event::none:
        return "none";
    case announce_event::completed:
        return "completed";
    case announce_event::started:
        return "started";
    case announce_event::stopped:
        return "stopped";
    }
    return "none";
}

result<std::vector<endpoint>> decode_compact_peers(std::span<const std::byte> bytes,
                                                   address_family family) {
    const std::size_t entry = compact_peer_size(family);
    if (bytes.size() % entry != 0) {
        return fail(errc::bad_compact_peers);
    }
    const std::size_t address_size = entry - 2;
    std::vector<endpoint> peers;
    peers.reserve(bytes.size() / entry);
    for (std::size_t at = 0; at < bytes.size(); at += entry) {
        const auto port = detail::load_be<std::uint16_t>(bytes, at + address_size);
        if (auto peer = endpoint::from_bytes(bytes.subspan(at, address_size), port)) {
            peers.push_back(*peer);
        }
    }
    return unique_peers(std::move(peers));
}

std::vector<std::byte> encode_compact_peers(std::span<const endpoint> peers,
                                            address_family family) {
    std::vector<std::byte> out;
    out.reserve(peers.size() * compact_peer_size(family));
    for (const endpoint& peer : peers) {
        if (peer.family() != family) {
            continue;
        }
        const auto address = peer.address_bytes();
        out.insert(out.end(), address.begin(), address.end());
        detail::append_be<std::uint16_t>(out, peer.port());
    }
    return out;
}

std::vector<endpoint> unique_peers(std::vector<endpoint> peers) {
    std::unordered_set<endpoint> seen;
    seen.reserve(peers.size());
    std::size_t kept = 0;
    for (std::size_t i = 0; i < peers.size(); ++i) {
        // Port 0 cannot be connected to: a tracker sending it is confused or hostile.
        if (peers[i].port() == 0 || !seen.insert(peers[i]).second) {
            continue;
        }
        peers[kept++] = peers[i];
    }
    peers.resize(kept);
    return peers;
}

std::string sanitize_tracker_text(std::string_view text) {
    // Tracker text ends up on terminals and in logs: control bytes could move the cursor
    // or change colours, and bytes past 0x7f could form C1 controls or invalid UTF-8.
    std::string out(text.substr(0, max_tracker_text));
    for (char& c : out) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte > 0x7e) {
            c = '?';
        }
    }
    return out;
}

} // namespace spate::tracker
