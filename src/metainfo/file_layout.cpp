#include <spate/metainfo/error.hpp>
#include <spate/metainfo/file_layout.hpp>

#include <algorithm>
#include <limits>

namespace spate::metainfo {

result<file_layout> file_layout::create(std::span<const layout_file> files,
                                        std::uint64_t piece_length) {
    if (piece_length == 0) {
        return fail(errc::piece_length_zero);
    }
    // file_index is 32 bits wide.
    if (files.size() > std::numeric_limits<std::uint32_t>::max()) {
        return fail(errc::too_many_files);
    }
    file_layout out;
    out.m_files.assign(files.begin(), files.end());
    out.m_offsets.reserve(files.size());
    std::uint64_t total = 0;
    for (const auto& f : files) {
        out.m_offsets.push_back(total);
        if (f.length > std::numeric_limits<std::uint64_t>::max() - total) {
            return fail(errc::total_size_overflow);
        }
        total += f.length;
    }
    // Written as quotient plus remainder so total + piece_length - 1 cannot overflow.
    const std::uint64_t count = total / piece_length + (total % piece_length != 0 ? 1 : 0);
    if (count > std::numeric_limits<std::uint32_t>::max()) {
        return fail(errc::too_many_pieces);
    }
    out.m_piece_length = piece_length;
    out.m_total_size = total;
    out.m_piece_count = static_cast<std::uint32_t>(count);
    return out;
}

std::uint64_t file_layout::piece_size(piece_index piece) const {
    if (!contains(piece)) {
        return 0;
    }
    const std::uint64_t start = std::uint64_t{piece.value()} * m_piece_length;
    return std::min(m_piece_length, m_total_size - start);
}

result<std::vector<file_slice>> file_layout::map_piece(piece_index piece) const {
    return map_range(piece, 0, piece_size(piece));
}

result<std::vector<file_slice>> file_layout::map_range(piece_index piece, std::uint64_t offset,
                                                       std::uint64_t length) const {
    if (!contains(piece)) {
        return fail(errc::piece_out_of_range);
    }
    const std::uint64_t size = piece_size(piece);
    // Compared without adding, so a huge offset or length cannot wrap around.
    if (offset > size || length > size - offset) {
        return fail(errc::range_out_of_piece);
    }
    std::vector<file_slice> out;
    if (length == 0) {
        return out;
    }
    std::uint64_t pos = std::uint64_t{piece.value()} * m_piece_length + offset;
    const std::uint64_t end = pos + length;
    // The last file starting at or before pos is the non-empty file holding pos: an empty
    // file there would share its offset with the next file, which would then be the last.
    auto it = std::upper_bound(m_offsets.begin(), m_offsets.end(), pos);
    auto i = static_cast<std::size_t>(it - m_offsets.begin()) - 1;
    while (pos < end) {
        const auto& f = m_files[i];
        if (f.length != 0) {
            const std::uint64_t in_file = pos - m_offsets[i];
            const std::uint64_t n = std::min(f.length - in_file, end - pos);
            out.push_back(file_slice{file_index(static_cast<std::uint32_t>(i)), in_file, n, f.pad});
            pos += n;
        }
        ++i;
    }
    return out;
}

std::optional<piece_range> file_layout::file_pieces(file_index file) const {
    const std::uint64_t length = m_files[file.value()].length;
    if (length == 0) {
        return std::nullopt;
    }
    const std::uint64_t first = m_offsets[file.value()];
    const std::uint64_t last = first + length - 1;
    return piece_range{piece_index(static_cast<std::uint32_t>(first / m_piece_length)),
                       piece_index(static_cast<std::uint32_t>(last / m_piece_length))};
}

} // namespace spate::metainfo
