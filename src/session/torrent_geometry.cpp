#include <spate/session/torrent_geometry.hpp>

#include <cstdio>
#include <cstdlib>

namespace spate::session {

peer::wire_geometry wire_geometry_of(const metainfo::torrent_info& torrent) {
    result<peer::wire_geometry> g = peer::wire_geometry::create(
        torrent.piece_count(), torrent.piece_length(), torrent.total_size());
    if (!g) {
        std::fprintf(stderr, "spate: torrent geometry refused: %s\n", g.error().message().c_str());
        std::abort();
    }
    return *g;
}

} // namespace spate::session
