#include <spate/metainfo/error.hpp>

#include <string>

namespace spate::metainfo {

namespace {

class category final : public std::error_category {
public:
    [[nodiscard]] const char* name() const noexcept override { return "spate.metainfo"; }

    [[nodiscard]] std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
        case errc::torrent_too_large:
            return "torrent file is larger than the size limit";
        case errc::not_a_dictionary:
            return "torrent file is not a bencoded dictionary";
        case errc::missing_info:
            return "torrent has no 'info' dictionary";
        case errc::v2_only_not_supported:
            return "v2-only torrents are not supported";
        case errc::missing_name:
            return "info dictionary has no 'name' string";
        case errc::missing_piece_length:
            return "info dictionary has no 'piece length' integer";
        case errc::piece_length_zero:
            return "piece length is zero";
        case errc::piece_length_negative:
            return "piece length is negative";
        case errc::piece_length_too_large:
            return "piece length is larger than the limit";
        case errc::missing_pieces:
            return "info dictionary has no 'pieces' string";
        case errc::pieces_not_multiple_of_20:
            return "pieces length is not a multiple of 20";
        case errc::piece_count_mismatch:
            return "number of piece hashes does not match the total length and piece length";
        case errc::too_many_pieces:
            return "piece count is larger than the limit";
        case errc::missing_length_and_files:
            return "info dictionary has neither 'length' nor 'files'";
        case errc::both_length_and_files:
            return "info dictionary has both 'length' and 'files'";
        case errc::files_not_a_list:
            return "'files' is not a list";
        case errc::empty_file_list:
            return "'files' list is empty";
        case errc::bad_file_entry:
            return "'files' entry is not a dictionary";
        case errc::missing_file_length:
            return "file has no 'length' integer";
        case errc::file_length_negative:
            return "file length is negative";
        case errc::missing_file_path:
            return "file has no 'path' list of strings";
        case errc::too_many_files:
            return "file count is larger than the limit";
        case errc::total_size_overflow:
            return "sum of file lengths overflows 64 bits";
        case errc::total_size_too_large:
            return "total length is larger than the limit";
        case errc::no_data:
            return "torrent contains no data (total length is zero)";
        case errc::empty_path:
            return "file path has no components";
        case errc::empty_path_component:
            return "file path has an empty component";
        case errc::dot_path_component:
            return "file path has a '.' component";
        case errc::dot_dot_path_component:
            return "file path escapes the download folder: '..'";
        case errc::absolute_path:
            return "file path is absolute";
        case errc::path_component_has_separator:
            return "file path component contains '/'";
        case errc::path_component_has_nul:
            return "file path component contains a NUL byte";
        case errc::path_component_has_control:
            return "file path component contains a control character";
        case errc::path_component_has_bidi_control:
            return "file path component contains a bidirectional text control character";
        case errc::path_component_too_long:
            return "file path component is longer than 255 bytes";
        case errc::duplicate_file_path:
            return "two files have the same path";
        case errc::file_path_conflict:
            return "a file's path is used as a folder by another file";
        case errc::piece_out_of_range:
            return "piece index is past the last piece";
        case errc::range_out_of_piece:
            return "byte range does not lie within the piece";
        case errc::not_a_magnet:
            return "not a magnet URI: expected 'magnet:?'";
        case errc::magnet_missing_info_hash:
            return "magnet URI has no 'xt=urn:btih:' info-hash";
        case errc::magnet_conflicting_info_hash:
            return "magnet URI has two different btih info-hashes";
        case errc::magnet_bad_info_hash_length:
            return "btih info-hash is neither 40 hex nor 32 base32 characters";
        case errc::magnet_bad_hex:
            return "btih info-hash has a character that is not hexadecimal";
        case errc::magnet_bad_base32:
            return "btih info-hash has a character that is not base32";
        case errc::magnet_bad_escape:
            return "magnet URI has a malformed percent-escape";
        case errc::magnet_bad_peer:
            return "magnet 'x.pe' is not a host:port peer address";
        case errc::magnet_bad_file_selection:
            return "magnet 'so' is not a list of file indices and ranges";
        case errc::piece_length_not_power_of_two:
            return "piece length for a new torrent is not a power of two of at least 16 KiB";
        case errc::invalid_tracker_url:
            return "tracker URL is not an http://, https:// or udp:// URL";
        case errc::invalid_web_seed_url:
            return "web seed URL is not an http:// or https:// URL";
        case errc::piece_hashes_size_mismatch:
            return "piece hashes are not 20 bytes for each piece of the files";
        }
        return "unknown metainfo error";
    }
};

} // namespace

const std::error_category& metainfo_category() noexcept {
    static const category instance;
    return instance;
}

std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), metainfo_category()};
}

} // namespace spate::metainfo
