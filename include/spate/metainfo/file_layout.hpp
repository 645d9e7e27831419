#pragma once
/// The geometry of a torrent: how the piece stream (all files back to back, in torrent
/// order, pad files included) is cut into pieces, and which file bytes each piece covers.
///
///   stream: |file 0 ....|file 1|pad|file 2 ..........|
///   pieces: |piece 0  |piece 1  |piece 2  |piece 3 |      (the last piece may be shorter)
///
/// A file_layout is immutable once made and owns its data; copies are independent.

#include <spate/core/result.hpp>
#include <spate/core/strong_index.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace spate::metainfo {

/// One file of the stream, as given to file_layout::create().
struct layout_file {
    std::uint64_t length = 0;
    /// A BEP 47 pad file: occupies the stream (its bytes are zeros) but is never written.
    bool pad = false;
};

/// A run of bytes inside one file: `length` bytes starting at `offset` within `file`.
struct file_slice {
    file_index file;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
    /// Copied from the file, so a writer can skip pad bytes without a lookup.
    bool pad = false;

    bool operator==(const file_slice&) const = default;
};

/// An inclusive range of pieces.
struct piece_range {
    piece_index first;
    piece_index last;

    bool operator==(const piece_range&) const = default;
};

/// Pieces <-> files mapping for one torrent.
class file_layout {
public:
    /// An empty layout: no files, no pieces.
    file_layout() = default;

    /// Lays `files` out back to back and cuts the stream into pieces of `piece_length`.
    /// Fails with errc::piece_length_zero, errc::too_many_files (over 2^32 - 1 files),
    /// errc::total_size_overflow when the lengths do
    /// not sum within 64 bits, or errc::too_many_pieces when the count exceeds 2^32 - 1.
    [[nodiscard]] static result<file_layout> create(std::span<const layout_file> files,
                                                    std::uint64_t piece_length);

    [[nodiscard]] std::uint64_t piece_length() const { return m_piece_length; }
    [[nodiscard]] std::uint32_t piece_count() const { return m_piece_count; }
    [[nodiscard]] std::uint64_t total_size() const { return m_total_size; }
    [[nodiscard]] std::size_t file_count() const { return m_files.size(); }

    /// True when `piece` names a piece of this layout.
    [[nodiscard]] bool contains(piece_index piece) const { return piece.value() < m_piece_count; }

    /// The size of `piece`: piece_length() except for a shorter last piece; 0 when the
    /// piece is out of range.
    [[nodiscard]] std::uint64_t piece_size(piece_index piece) const;

    /// Offset of the first byte of `file` in the stream. Precondition: file < file_count().
    [[nodiscard]] std::uint64_t file_offset(file_index file) const {
        return m_offsets[file.value()];
    }
    /// Precondition: file < file_count().
    [[nodiscard]] std::uint64_t file_length(file_index file) const {
        return m_files[file.value()].length;
    }
    /// Precondition: file < file_count().
    [[nodiscard]] bool is_pad(file_index file) const { return m_files[file.value()].pad; }

    /// The file slices that tile `piece`, in stream order; zero-length files never appear.
    /// Pad files do appear (flagged), so the slices always add up to piece_size(piece).
    [[nodiscard]] result<std::vector<file_slice>> map_piece(piece_index piece) const;

    /// The file slices that tile bytes [offset, offset + length) of `piece`. Fails with
    /// errc::piece_out_of_range or errc::range_out_of_piece (the range must lie inside the
    /// piece; an empty range inside it maps to no slices).
    [[nodiscard]] result<std::vector<file_slice>> map_range(piece_index piece, std::uint64_t offset,
                                                            std::uint64_t length) const;

    /// The pieces that hold bytes of `file`; nullopt for a zero-length file.
    /// Precondition: file < file_count().
    [[nodiscard]] std::optional<piece_range> file_pieces(file_index file) const;

private:
    std::vector<layout_file> m_files;
    // m_offsets[i] is where file i starts in the stream; non-decreasing.
    std::vector<std::uint64_t> m_offsets;
    std::uint64_t m_piece_length = 0;
    std::uint64_t m_total_size = 0;
    std::uint32_t m_piece_count = 0;
};

} // namespace spate::metainfo
