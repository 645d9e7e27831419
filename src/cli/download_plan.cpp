#include "download_plan.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <charconv>

namespace spate::cli {

namespace {

std::optional<std::size_t> parse_index(std::string_view text) {
    std::size_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) {
        return std::nullopt;
    }
    return value;
}

} // namespace

tl::expected<std::vector<std::size_t>, std::string>
parse_file_selection(std::string_view text, std::size_t file_count) {
    std::vector<std::size_t> files;
    if (text.empty()) {
        return files;
    }
    for (bool more = true; more;) {
        const std::size_t comma = text.find(',');
        std::string_view item = text.substr(0, comma);
        more = comma != std::string_view::npos;
        text = more ? text.substr(comma + 1) : std::string_view{};
        const std::size_t dash = item.find('-');
        auto first = parse_index(item.substr(0, dash));
        auto last = dash == std::string_view::npos ? first : parse_index(item.substr(dash + 1));
        if (!first || !last || *last < *first) {
            return tl::unexpected(fmt::format(
                "--select: '{}' is not a file index or a range like 2-5", item));
        }
        if (*last >= file_count) {
            return tl::unexpected(fmt::format("--select: file {} does not exist (the torrent has "
                                              "{} files, numbered from 0)",
                                              *last, file_count));
        }
        for (std::size_t i = *first; i <= *last; ++i) {
            files.push_back(i);
        }
    }
    std::sort(files.begin(), files.end());
    files.erase(std::unique(files.begin(), files.end()), files.end());
    return files;
}

bitfield wanted_pieces(const metainfo::torrent_info& torrent,
                       const std::vector<std::size_t>& files) {
    bitfield wanted(torrent.piece_count(), files.empty());
    for (std::size_t i : files) {
        const file_index file(static_cast<std::uint32_t>(i));
        if (torrent.files()[file].pad) {
            continue;
        }
        if (auto range = torrent.layout().file_pieces(file)) {
            for (std::uint32_t p = range->first.value(); p <= range->last.value(); ++p) {
                wanted.set(p);
            }
        }
    }
    return wanted;
}

pool_shape plan_piece_pool(std::uint64_t piece_length, std::uint32_t piece_count,
                           std::uint64_t budget) {
    constexpr std::uint64_t page = 4096;
    constexpr std::uint64_t most_slots = 16384;
    pool_shape shape;
    shape.slot_size = static_cast<std::size_t>((piece_length + page - 1) / page * page);
    const std::uint64_t fits =
        std::min<std::uint64_t>(budget / shape.slot_size, std::uint64_t{piece_count} + 1);
    shape.slots = static_cast<std::uint32_t>(std::clamp<std::uint64_t>(fits, 2, most_slots));
    return shape;
}

} // namespace spate::cli
