#pragma once
/// resume_store: the resume file of a torrent on disk, at
/// root/.spate/<info-hash hex>.resume, saved atomically and loaded on the ring.

#include <spate/core/hash.hpp>
#include <spate/core/result.hpp>
#include <spate/io/ring.hpp>
#include <spate/io/task.hpp>
#include <spate/storage/resume_file.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace spate::storage {

/// The folder beneath the download folder that holds resume files.
inline constexpr const char* resume_folder = ".spate";

/// The resume file's path relative to the download folder: ".spate/<hex>.resume".
[[nodiscard]] std::string resume_path(const sha1_digest& info_hash);

/// Atomically replaces the resume file: writes a temp file beneath root/.spate (made if
/// absent, refused if it is a symbolic link: errc::unsafe_path), fsyncs it, renameat(2)s it
/// over the old one, fsyncs the folder. The caller must have completed storage.sync()
/// before taking `data`, so the file only claims fsynced pieces. `data` is encoded before
/// the first suspension (borrowed for that long only). errc::folder_missing when root does
/// not exist.
io::task<result<void>> save_resume(io::ring& ring, std::string root, const resume_data& data);

/// The resume file of the torrent under `root`: nullopt when there is none (or no root);
/// a corrupt one is an error the caller reports and ignores (full recheck): see
/// decode_resume() for which.
io::task<result<std::optional<resume_data>>> load_resume(io::ring& ring, std::string root,
                                                         sha1_digest info_hash,
                                                         std::uint32_t piece_count,
                                                         std::size_t file_count);

} // namespace spate::storage
