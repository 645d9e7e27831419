#pragma once
/// The wire geometry of a parsed torrent, for every connection that speaks about it.

#include <spate/metainfo/torrent_info.hpp>
#include <spate/peer/wire_geometry.hpp>

namespace spate::session {

/// `torrent`'s piece count, piece length and size as the wire codec checks them. A parsed
/// torrent always satisfies wire_geometry's limits (metainfo checks the same ones), so a
/// refusal is a bug: it aborts with the reason.
[[nodiscard]] peer::wire_geometry wire_geometry_of(const metainfo::torrent_info& torrent);

} // namespace spate::session
