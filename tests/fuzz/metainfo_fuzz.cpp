// Fuzz target for parse_torrent(): any input either fails cleanly or yields a torrent_info
// whose invariants hold. A violated invariant aborts, so libFuzzer (and the replay program)
// report it as a crash.

#include <spate/bencode/document.hpp>
#include <spate/core/hash.hpp>
#include <spate/metainfo/path.hpp>
#include <spate/metainfo/torrent_info.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <span>

namespace {

void require(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "metainfo invariant violated: %s\n", what);
        std::abort();
    }
}

void check(const spate::metainfo::torrent_info& ti, std::span<const std::byte> input) {
    using spate::file_index;
    using spate::piece_index;

    require(!ti.name().empty(), "name is empty");
    require(ti.piece_length() > 0, "piece length is zero");

    // Paths: all relative, safe, under the torrent name.
    std::uint64_t sum = 0;
    for (std::uint32_t i = 0; i < ti.files().size(); ++i) {
        const auto& f = ti.files()[file_index(i)];
        require(!f.path.empty() && f.path.front() == ti.name(), "path does not start with name");
        require(spate::metainfo::check_path(f.path).has_value(), "unsafe path component");
        const auto rel = f.relative_path();
        require(!rel.empty() && rel.is_relative(), "path is not relative");
        for (const auto& element : rel) {
            require(element != ".." && element != "." && !element.empty(), "path can escape");
        }
        require(f.offset == sum, "file offset is not the sum of earlier lengths");
        require(f.length <= std::numeric_limits<std::uint64_t>::max() - sum, "lengths overflow");
        sum += f.length;
        require(ti.layout().file_offset(file_index(i)) == f.offset, "layout offset differs");
        require(ti.layout().file_length(file_index(i)) == f.length, "layout length differs");
    }
    require(sum == ti.total_size() && sum > 0, "total size is not the sum of file lengths");

    // Piece count and geometry.
    const std::uint64_t expected_pieces =
        ti.total_size() / ti.piece_length() + (ti.total_size() % ti.piece_length() != 0);
    require(ti.piece_count() == expected_pieces, "piece count is not ceil(total / piece length)");
    const piece_index last(ti.piece_count() - 1);
    require(ti.layout().piece_size(last) > 0 && ti.layout().piece_size(last) <= ti.piece_length(),
            "last piece size out of range");
    for (const piece_index p : {piece_index(0), last}) {
        const auto slices = ti.layout().map_piece(p);
        require(slices.has_value(), "a piece does not map");
        std::uint64_t covered = 0;
        for (const auto& s : *slices) {
            covered += s.length;
        }
        require(covered == ti.layout().piece_size(p), "slices do not tile the piece");
    }

    // Re-read the input independently: hashes and the info-hash come from its bytes.
    spate::bencode::limits lim;
    lim.strict = false;
    auto doc = spate::bencode::decode(input, lim);
    require(doc.has_value(), "parsed input does not decode");
    const auto info = doc->root().find("info");
    require(ti.info_hash() == spate::sha1(info.raw()), "info-hash is not SHA-1 of raw info");
    const auto pieces = info.find("pieces").as_bytes();
    require(pieces.size() == std::size_t{ti.piece_count()} * 20, "hash count is inconsistent");
    for (const piece_index p : {piece_index(0), last}) {
        const auto expected = spate::sha1_digest::from_bytes(pieces.subspan(p.value() * 20, 20));
        require(expected && *expected == ti.piece_hash(p), "piece hash differs from input");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::byte> input(reinterpret_cast<const std::byte*>(data), size);
    auto ti = spate::metainfo::parse_torrent(input);
    if (ti) {
        check(*ti, input);
    } else {
        require(!ti.error().message().empty(), "error without a message");
    }
    return 0;
}
