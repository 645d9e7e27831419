#pragma once
/// The resume file codec (floor 1: bytes in, bytes out, no I/O). A resume file is one
/// canonical bencoded dictionary:
///
///     d
///       5:files        l l i<size>e i<mtime_ns>e e ... e   one [size, mtime] per torrent file
///       4:have         <(pieces + 7) / 8 bytes>            peer-wire bitfield, spare bits clear
///       9:info-hash    20:<sha1 of the info dictionary>
///       6:pieces       i<piece count>e
///       12:spate-resume i1e                                format version
///     e
///
/// The decoder refuses anything that is not exactly that for the torrent at hand, so a
/// resume file can only ever claim pieces of the torrent it was written for.

#include <spate/core/bitfield.hpp>
#include <spate/core/hash.hpp>
#include <spate/core/result.hpp>
#include <spate/storage/file_stat.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace spate::storage {

/// The format version encode_resume() writes and decode_resume() accepts.
inline constexpr std::int64_t resume_format_version = 1;

/// What a resume file records. Owns its data.
struct resume_data {
    sha1_digest info_hash{};
    /// Pieces whose hash passed and whose data was fsynced before the file was written.
    bitfield have;
    /// One entry per torrent file, pad files included (as {0, 0}), in torrent order.
    std::vector<file_stat> files;

    friend bool operator==(const resume_data&, const resume_data&) = default;
};

/// The canonical bencoded bytes of `data`.
[[nodiscard]] std::vector<std::byte> encode_resume(const resume_data& data);

/// Decodes a resume file (`bytes` borrowed for the call only) for the torrent with
/// `info_hash`, `piece_count` pieces and `file_count` files. Refuses anything not exactly
/// matching: bad or non-canonical bencode, trailing bytes, a missing, extra or mistyped
/// field, spare bits set, a negative size (errc::resume_corrupt); another version
/// (errc::resume_unsupported_version); another info-hash, piece count or file count
/// (errc::resume_mismatch). Allocation is bounded by the expected geometry, not by
/// lengths read from the input.
[[nodiscard]] result<resume_data> decode_resume(std::span<const std::byte> bytes,
                                                const sha1_digest& info_hash,
                                                std::uint32_t piece_count, std::size_t file_count);

/// The fast-resume rule: `data.have` is trusted only when every file's `current` stat
/// equals the recorded one (same count, same sizes, same mtimes); otherwise nullopt,
/// and the caller checks every piece.
[[nodiscard]] std::optional<bitfield> fast_resume_have(const resume_data& data,
                                                       std::span<const file_stat> current);

} // namespace spate::storage
