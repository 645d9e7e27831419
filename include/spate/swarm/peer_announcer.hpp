#pragma once
/// peer_announcer: tells an HTTP tracker about every synthetic peer, each announce sent from
/// the peer's own loopback address, so the tracker records 127.0.0.x exactly as it would
/// for a client running there (opentracker and the built-in tracker alike). The tracker
/// must be at a loopback address: the swarm never talks to anything else.

#include <spate/core/endpoint.hpp>
#include <spate/core/hash.hpp>
#include <spate/core/result.hpp>
#include <spate/io/ring.hpp>
#include <spate/io/task.hpp>
#include <spate/peer/handshake.hpp>
#include <spate/tracker/announce.hpp>

#include <chrono>
#include <stop_token>
#include <string>
#include <vector>

namespace spate::swarm {

struct peer_announce {
    std::string announce_url; ///< http://127.x.y.z:port/path
    sha1_digest info_hash{};
    std::uint64_t left = 0; ///< 0: the peers are seeds
    tracker::announce_event event = tracker::announce_event::started;
    std::chrono::milliseconds timeout{5'000};
};

/// Announces `peers[i]` (its address and listening port) with id `ids[i]`, in turn. Fails
/// with the first error: the URL is not http:// at a loopback address
/// (std::errc::invalid_argument), a socket error, a timeout, or a reply that is not
/// "200" or carries a failure reason (tracker::errc::tracker_failure).
[[nodiscard]] io::task<result<void>> announce_each(io::ring& ring, peer_announce what,
                                                   std::vector<endpoint> peers,
                                                   std::vector<peer::peer_id> ids,
                                                   std::stop_token stop);

} // namespace spate::swarm
