#pragma once
/// Error codes of the storage module: payload files on disk, piece checks, resume files.
/// Each code's message names the one problem it stands for. Errors of the system calls
/// themselves (ENOSPC, EIO, EROFS, ...) stay errno values of the system category.

#include <system_error>

namespace spate::storage {

/// Why a storage operation was refused.
enum class errc {
    /// A payload file is absent, or shorter than the torrent says.
    data_missing = 1,
    /// The resume file is not a valid spate resume file (bad bencode, wrong fields,
    /// spare bits set, trailing bytes).
    resume_corrupt,
    /// The resume file is valid but describes another torrent or another geometry
    /// (info-hash, piece count or file count differ).
    resume_mismatch,
    /// The resume file was written by a newer format version.
    resume_unsupported_version,
    /// A path beneath the download folder goes through a symbolic link or would leave it.
    unsafe_path,
    /// The download folder does not exist (existing mode).
    folder_missing,
    /// A write on storage opened in existing mode, which is read-only.
    read_only,
    /// A buffer given for a piece is smaller than the piece.
    buffer_too_small,
    /// A payload file path exists but is not a regular file (a folder, a device...).
    not_a_regular_file,
};

/// The category of every storage error; its name is "spate.storage".
[[nodiscard]] const std::error_category& storage_category() noexcept;

/// Lets `std::error_code ec = errc::data_missing;` and `fail(errc::...)` work.
[[nodiscard]] std::error_code make_error_code(errc e) noexcept;

} // namespace spate::storage

template <> struct std::is_error_code_enum<spate::storage::errc> : std::true_type {};
