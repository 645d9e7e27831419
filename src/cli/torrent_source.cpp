#include "torrent_source.hpp"

#include "file_io.hpp"
#include "units.hpp"

#include <spate/bencode/document.hpp>
#include <spate/bencode/error.hpp>

#include <fmt/core.h>

#include <cctype>

namespace spate::cli {

namespace {

// Why a .torrent was refused, in one line. A bencode error is decoded once more to name
// the byte offset, which a std::error_code cannot carry.
std::string torrent_error(std::span<const std::byte> data, std::error_code error) {
    if (error.category() == bencode::bencode_category()) {
        bencode::limits limits;
        limits.strict = false;
        auto doc = bencode::decode(data, limits);
        if (!doc) {
            return doc.error().message();
        }
    }
    return error.message();
}

} // namespace

bool is_magnet(std::string_view text) {
    constexpr std::string_view scheme = "magnet:";
    if (text.size() < scheme.size()) {
        return false;
    }
    for (std::size_t i = 0; i < scheme.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(text[i])) != scheme[i]) {
            return false;
        }
    }
    return true;
}

tl::expected<torrent_target, std::string> load_torrent_target(io::ring& ring,
                                                              std::string source) {
    using failure = tl::unexpected<std::string>;
    torrent_target target;
    if (is_magnet(source)) {
        auto magnet = metainfo::parse_magnet(source);
        if (!magnet) {
            return failure(fmt::format("bad magnet link: {}", magnet.error().message()));
        }
        target.info_hash = magnet->info_hash;
        for (const auto& url : magnet->trackers) {
            target.trackers.push_back({url});
        }
        target.magnet = std::move(*magnet);
        return target;
    }

    const metainfo::torrent_limits limits;
    auto data = ring.run(read_whole_file(ring, source, limits.max_torrent_size));
    if (!data) {
        if (data.error() == std::errc::file_too_large) {
            return failure(fmt::format("{}: a .torrent file larger than {} is refused", source,
                                       format_size(limits.max_torrent_size)));
        }
        return failure(fmt::format("cannot read {}: {}", source, data.error().message()));
    }
    auto torrent = metainfo::parse_torrent(*data, limits);
    if (!torrent) {
        return failure(fmt::format("{}: {}", source, torrent_error(*data, torrent.error())));
    }
    target.info_hash = torrent->info_hash();
    target.trackers = torrent->trackers();
    target.total_size = torrent->total_size();
    target.torrent = std::move(*torrent);
    return target;
}

} // namespace spate::cli
