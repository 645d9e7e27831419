#include <spate/bencode/document.hpp>
#include <spate/metainfo/error.hpp>
#include <spate/metainfo/path.hpp>
#include <spate/metainfo/torrent_info.hpp>

#include "url_check.hpp"

#include <algorithm>
#include <cstring>

namespace spate::metainfo {

namespace {

using bencode::node;

// A file as read from the info dictionary, before the layout is made.
struct raw_file {
    std::vector<std::string> path;
    std::uint64_t length = 0;
    bool pad = false;
};

result<std::uint64_t> read_length(node entry) {
    const auto length = entry.find_int("length");
    if (!length) {
        return fail(errc::missing_file_length);
    }
    if (*length < 0) {
        return fail(errc::file_length_negative);
    }
    return static_cast<std::uint64_t>(*length);
}

// BEP 47: `attr` is a string of flag characters; 'p' marks a pad file.
bool is_pad(node entry) {
    const auto attr = entry.find_string("attr");
    return attr && attr->find('p') != std::string_view::npos;
}

result<raw_file> read_file_entry(node entry, const std::string& name) {
    if (!entry.is_dict()) {
        return fail(errc::bad_file_entry);
    }
    auto length = read_length(entry);
    if (!length) {
        return fail(length.error());
    }
    const node path = entry.find_list("path");
    if (!path) {
        return fail(errc::missing_file_path);
    }
    raw_file out{{name}, *length, is_pad(entry)};
    out.path.reserve(1 + path.size());
    for (const node component : path.list_items()) {
        if (!component.is_string()) {
            return fail(errc::missing_file_path);
        }
        out.path.emplace_back(component.as_string());
    }
    // Checked without the name in front, so an empty `path` list is caught.
    if (auto ok = check_path(std::span(out.path).subspan(1)); !ok) {
        return fail(ok.error());
    }
    return out;
}

result<std::vector<raw_file>> read_files(node info, const std::string& name,
                                         const torrent_limits& limits) {
    const node length = info.find("length");
    const node files = info.find("files");
    if (length && files) {
        return fail(errc::both_length_and_files);
    }
    if (length) {
        auto n = read_length(info);
        if (!n) {
            return fail(n.error());
        }
        return std::vector<raw_file>{raw_file{{name}, *n, false}};
    }
    if (!files) {
        return fail(errc::missing_length_and_files);
    }
    if (!files.is_list()) {
        return fail(errc::files_not_a_list);
    }
    if (files.size() == 0) {
        return fail(errc::empty_file_list);
    }
    if (files.size() > limits.max_files) {
        return fail(errc::too_many_files);
    }
    std::vector<raw_file> out;
    out.reserve(files.size());
    for (const node entry : files.list_items()) {
        auto file = read_file_entry(entry, name);
        if (!file) {
            return fail(file.error());
        }
        out.push_back(std::move(*file));
    }
    return out;
}

// Pad files are never written, so several may share a path (".pad/16384", say).
result<void> check_real_paths_unique(const std::vector<raw_file>& files) {
    std::vector<std::vector<std::string>> paths;
    for (const auto& f : files) {
        if (!f.pad) {
            paths.push_back(f.path);
        }
    }
    return check_unique_paths(paths);
}

// Collects usable tracker URLs into tiers, each URL once across all tiers.
class tier_builder {
public:
    void add(node url) {
        const auto text = url.as_string();
        if (url.is_string() && detail::is_tracker_url(text) &&
            std::find(m_seen.begin(), m_seen.end(), text) == m_seen.end()) {
            m_seen.push_back(text);
            m_tier.emplace_back(text);
        }
    }
    void end_tier() {
        if (!m_tier.empty()) {
            m_tiers.push_back(std::move(m_tier));
            m_tier.clear();
        }
    }
    [[nodiscard]] bool empty() const { return m_tiers.empty(); }
    [[nodiscard]] std::vector<std::vector<std::string>> take() { return std::move(m_tiers); }

private:
    std::vector<std::vector<std::string>> m_tiers;
    std::vector<std::string> m_tier;
    // Views into the input, which outlives the builder.
    std::vector<std::string_view> m_seen;
};

std::vector<std::vector<std::string>> read_trackers(node root) {
    tier_builder tiers;
    for (const node tier : root.find_list("announce-list").list_items()) {
        if (tier.is_string()) {
            // Some writers flatten the tiers into one list of strings: one URL per tier.
            tiers.add(tier);
        }
        for (const node url : tier.list_items()) {
            tiers.add(url);
        }
        tiers.end_tier();
    }
    if (tiers.empty()) {
        tiers.add(root.find("announce"));
        tiers.end_tier();
    }
    return tiers.take();
}

std::vector<std::string> read_web_seeds(node root) {
    std::vector<std::string> out;
    auto add = [&out](node url) {
        const auto text = url.as_string();
        if (url.is_string() && detail::is_web_seed_url(text) &&
            std::find(out.begin(), out.end(), text) == out.end()) {
            out.emplace_back(text);
        }
    };
    const node list = root.find("url-list");
    if (list.is_string()) {
        add(list);
    }
    for (const node url : list.list_items()) {
        add(url);
    }
    return out;
}

} // namespace

std::filesystem::path torrent_file::relative_path() const {
    // Every path in a torrent_info passed check_path() when it was parsed.
    auto p = to_relative_path(path);
    return p ? *p : std::filesystem::path{};
}

result<torrent_info> parse_torrent(std::span<const std::byte> data, const torrent_limits& limits) {
    if (data.size() > limits.max_torrent_size) {
        return fail(errc::torrent_too_large);
    }
    // Unsorted keys are common in torrents made by old tools and change nothing we read:
    // the info-hash covers the info dictionary's bytes as they are.
    bencode::limits decode_limits;
    decode_limits.max_depth = limits.max_depth;
    decode_limits.max_tokens = limits.max_tokens;
    decode_limits.strict = false;
    auto doc = bencode::decode(data, decode_limits);
    if (!doc) {
        return fail(doc.error().code);
    }
    const node root = doc->root();
    if (!root.is_dict()) {
        return fail(errc::not_a_dictionary);
    }
    const node info = root.find("info");
    if (!info.is_dict()) {
        return fail(errc::missing_info);
    }

    const node pieces = info.find("pieces");
    if (!pieces.is_string()) {
        // A hybrid torrent carries v1 `pieces` next to its v2 data and is read as v1 above.
        if (info.find_int("meta version") == 2) {
            return fail(errc::v2_only_not_supported);
        }
        return fail(errc::missing_pieces);
    }

    torrent_info out;
    const auto name = info.find_string("name");
    if (!name) {
        return fail(errc::missing_name);
    }
    if (auto ok = check_path_component(*name); !ok) {
        return fail(ok.error());
    }
    out.m_name = std::string(*name);

    const auto piece_length = info.find_int("piece length");
    if (!piece_length) {
        return fail(errc::missing_piece_length);
    }
    if (*piece_length == 0) {
        return fail(errc::piece_length_zero);
    }
    if (*piece_length < 0) {
        return fail(errc::piece_length_negative);
    }
    if (static_cast<std::uint64_t>(*piece_length) > limits.max_piece_length) {
        return fail(errc::piece_length_too_large);
    }

    const auto hashes = pieces.as_bytes();
    if (hashes.size() % sha1_digest::size != 0) {
        return fail(errc::pieces_not_multiple_of_20);
    }
    const std::size_t hash_count = hashes.size() / sha1_digest::size;
    if (hash_count > limits.max_pieces) {
        return fail(errc::too_many_pieces);
    }

    auto files = read_files(info, out.m_name, limits);
    if (!files) {
        return fail(files.error());
    }
    std::vector<layout_file> geometry;
    geometry.reserve(files->size());
    for (const auto& f : *files) {
        geometry.push_back({f.length, f.pad});
    }
    auto layout = file_layout::create(geometry, static_cast<std::uint64_t>(*piece_length));
    if (!layout) {
        return fail(layout.error());
    }
    if (layout->total_size() > limits.max_total_size) {
        return fail(errc::total_size_too_large);
    }
    if (layout->total_size() == 0) {
        return fail(errc::no_data);
    }
    if (layout->piece_count() != hash_count) {
        return fail(errc::piece_count_mismatch);
    }
    if (auto ok = check_real_paths_unique(*files); !ok) {
        return fail(ok.error());
    }

    out.m_single_file = info.find("length").valid();
    out.m_info_hash = sha1(info.raw());
    out.m_piece_hashes.resize(hash_count);
    for (std::size_t i = 0; i < hash_count; ++i) {
        std::memcpy(out.m_piece_hashes[piece_index(static_cast<std::uint32_t>(i))].bytes.data(),
                    hashes.data() + i * sha1_digest::size, sha1_digest::size);
    }
    out.m_files.reserve(files->size());
    for (std::size_t i = 0; i < files->size(); ++i) {
        auto& f = (*files)[i];
        const file_index index(static_cast<std::uint32_t>(i));
        out.m_files.push_back(
            torrent_file{std::move(f.path), f.length, layout->file_offset(index), f.pad});
    }
    out.m_layout = std::move(*layout);

    out.m_trackers = read_trackers(root);
    out.m_web_seeds = read_web_seeds(root);
    out.m_private = info.find_int("private") == 1;
    out.m_comment = std::string(root.find_string("comment").value_or(""));
    out.m_created_by = std::string(root.find_string("created by").value_or(""));
    out.m_creation_date = root.find_int("creation date");
    return out;
}

} // namespace spate::metainfo
