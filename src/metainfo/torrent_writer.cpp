#include <spate/bencode/encoder.hpp>
#include <spate/bencode/value.hpp>
#include <spate/core/hash.hpp>
#include <spate/metainfo/error.hpp>
#include <spate/metainfo/file_layout.hpp>
#include <spate/metainfo/path.hpp>
#include <spate/metainfo/torrent_writer.hpp>

#include "url_check.hpp"

#include <bit>
#include <limits>

namespace spate::metainfo {

namespace {

constexpr std::uint64_t min_new_piece_length = 16 * 1024;
constexpr std::uint64_t max_new_piece_length = 512 * 1024 * 1024;

bool is_single_file(const torrent_spec& spec) {
    return spec.files.size() == 1 && spec.files.front().path.empty();
}

result<void> check_files(const torrent_spec& spec) {
    if (auto ok = check_path_component(spec.name); !ok) {
        return ok;
    }
    if (spec.files.empty()) {
        return fail(errc::empty_file_list);
    }
    if (is_single_file(spec)) {
        return {};
    }
    std::vector<std::vector<std::string>> real_paths;
    for (const auto& f : spec.files) {
        if (auto ok = check_path(f.path); !ok) {
            return ok;
        }
        if (!f.pad) {
            real_paths.push_back(f.path);
        }
    }
    return check_unique_paths(real_paths);
}

result<void> check_geometry(const torrent_spec& spec) {
    if (spec.piece_length > max_new_piece_length) {
        return fail(errc::piece_length_too_large);
    }
    if (spec.piece_length < min_new_piece_length || !std::has_single_bit(spec.piece_length)) {
        return fail(errc::piece_length_not_power_of_two);
    }
    std::vector<layout_file> geometry;
    geometry.reserve(spec.files.size());
    for (const auto& f : spec.files) {
        geometry.push_back({f.length, f.pad});
    }
    auto layout = file_layout::create(geometry, spec.piece_length);
    if (!layout) {
        return fail(layout.error());
    }
    if (layout->total_size() == 0) {
        return fail(errc::no_data);
    }
    // bencode integers are signed 64-bit.
    if (layout->total_size() >
        static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return fail(errc::total_size_too_large);
    }
    if (spec.piece_hashes.size() / sha1_digest::size != layout->piece_count() ||
        spec.piece_hashes.size() % sha1_digest::size != 0) {
        return fail(errc::piece_hashes_size_mismatch);
    }
    return {};
}

result<void> check_urls(const torrent_spec& spec) {
    for (const auto& tier : spec.trackers) {
        for (const auto& url : tier) {
            if (!detail::is_tracker_url(url)) {
                return fail(errc::invalid_tracker_url);
            }
        }
    }
    for (const auto& url : spec.web_seeds) {
        if (!detail::is_web_seed_url(url)) {
            return fail(errc::invalid_web_seed_url);
        }
    }
    return {};
}

bencode::value make_info(const torrent_spec& spec) {
    using bencode::value;
    value::dict info;
    info["name"] = spec.name;
    info["piece length"] = spec.piece_length;
    info["pieces"] = std::string(reinterpret_cast<const char*>(spec.piece_hashes.data()),
                                 spec.piece_hashes.size());
    if (spec.is_private) {
        info["private"] = 1;
    }
    if (is_single_file(spec)) {
        info["length"] = spec.files.front().length;
        return info;
    }
    value::list files;
    files.reserve(spec.files.size());
    for (const auto& f : spec.files) {
        value::dict entry;
        entry["length"] = f.length;
        value::list path(f.path.begin(), f.path.end());
        entry["path"] = std::move(path);
        if (f.pad) {
            entry["attr"] = "p";
        }
        files.emplace_back(std::move(entry));
    }
    info["files"] = std::move(files);
    return info;
}

} // namespace

result<std::vector<std::byte>> write_torrent(const torrent_spec& spec) {
    if (auto ok = check_files(spec); !ok) {
        return fail(ok.error());
    }
    if (auto ok = check_geometry(spec); !ok) {
        return fail(ok.error());
    }
    if (auto ok = check_urls(spec); !ok) {
        return fail(ok.error());
    }

    using bencode::value;
    value::dict root;
    value::list tiers;
    std::size_t tracker_count = 0;
    for (const auto& tier : spec.trackers) {
        if (!tier.empty()) {
            tiers.emplace_back(value::list(tier.begin(), tier.end()));
            tracker_count += tier.size();
        }
    }
    if (tracker_count > 0) {
        root["announce"] = tiers.front().as_list().front();
    }
    if (tracker_count > 1) {
        root["announce-list"] = std::move(tiers);
    }
    if (spec.web_seeds.size() == 1) {
        root["url-list"] = spec.web_seeds.front();
    } else if (spec.web_seeds.size() > 1) {
        root["url-list"] = value::list(spec.web_seeds.begin(), spec.web_seeds.end());
    }
    if (!spec.comment.empty()) {
        root["comment"] = spec.comment;
    }
    if (!spec.created_by.empty()) {
        root["created by"] = spec.created_by;
    }
    if (spec.creation_date) {
        root["creation date"] = *spec.creation_date;
    }
    root["info"] = make_info(spec);

    std::vector<std::byte> out;
    bencode::byte_encoder encoder(out);
    value(std::move(root)).encode(encoder);
    return out;
}

std::uint64_t choose_piece_length(std::uint64_t total_size) {
    constexpr std::uint64_t target_pieces = 2048;
    std::uint64_t length = 32 * 1024;
    while (length < 16 * 1024 * 1024 && total_size > target_pieces * length) {
        length *= 2;
    }
    return length;
}

} // namespace spate::metainfo
