#pragma once
/// Error codes of the metainfo module: .torrent parsing and writing, paths, file layout,
/// magnet URIs. Each code's message names the one problem it stands for.

#include <system_error>

namespace spate::metainfo {

/// Why a torrent, path, layout request or magnet URI was refused.
enum class errc {
    // .torrent structure
    torrent_too_large = 1,
    not_a_dictionary,
    missing_info,
    v2_only_not_supported,
    missing_name,
    missing_piece_length,
    piece_length_zero,
    piece_length_negative,
    piece_length_too_large,
    missing_pieces,
    pieces_not_multiple_of_20,
    piece_count_mismatch,
    too_many_pieces,
    missing_length_and_files,
    both_length_and_files,
    files_not_a_list,
    empty_file_list,
    bad_file_entry,
    missing_file_length,
    file_length_negative,
    missing_file_path,
    too_many_files,
    total_size_overflow,
    total_size_too_large,
    no_data,

    // paths (file paths and the torrent name)
    empty_path,
    empty_path_component,
    dot_path_component,
    dot_dot_path_component,
    absolute_path,
    path_component_has_separator,
    path_component_has_nul,
    path_component_has_control,
    path_component_has_bidi_control,
    path_component_too_long,
    duplicate_file_path,
    file_path_conflict,

    // file layout
    piece_out_of_range,
    range_out_of_piece,

    // magnet URIs
    not_a_magnet,
    magnet_missing_info_hash,
    magnet_conflicting_info_hash,
    magnet_bad_info_hash_length,
    magnet_bad_hex,
    magnet_bad_base32,
    magnet_bad_escape,
    magnet_bad_peer,
    magnet_bad_file_selection,

    // torrent writer
    piece_length_not_power_of_two,
    invalid_tracker_url,
    invalid_web_seed_url,
    piece_hashes_size_mismatch,
};

/// The category of every metainfo error; its name is "spate.metainfo".
[[nodiscard]] const std::error_category& metainfo_category() noexcept;

/// Lets `std::error_code ec = errc::missing_info;` and `fail(errc::...)` work.
[[nodiscard]] std::error_code make_error_code(errc e) noexcept;

} // namespace spate::metainfo

template <> struct std::is_error_code_enum<spate::metainfo::errc> : std::true_type {};
