#include <spate/bencode/document.hpp>
#include <spate/bencode/encoder.hpp>
#include <spate/storage/error.hpp>
#include <spate/storage/resume_file.hpp>

#include <limits>
#include <string_view>

namespace spate::storage {

namespace {

// Keys in the ascending byte order canonical bencode requires.
constexpr std::string_view key_files = "files";
constexpr std::string_view key_have = "have";
constexpr std::string_view key_info_hash = "info-hash";
constexpr std::string_view key_pieces = "pieces";
constexpr std::string_view key_version = "spate-resume";

// The longest encoding of one [size, mtime] entry: "l" "i" 20 digits "e" twice "e".
constexpr std::size_t max_file_entry_bytes = 2 + 2 * 22;

} // namespace

std::vector<std::byte> encode_resume(const resume_data& data) {
    std::vector<std::byte> out;
    out.reserve(128 + data.have.bytes().size() + data.files.size() * 24);
    bencode::byte_encoder e(out);
    e.begin_dict();
    e.key(key_files).begin_list();
    for (const file_stat& f : data.files) {
        // Sizes beyond int64 cannot come from stat(2); clamp rather than wrap.
        const auto size = static_cast<std::int64_t>(
            std::min<std::uint64_t>(f.size, std::numeric_limits<std::int64_t>::max()));
        e.begin_list().integer(size).integer(f.mtime_ns).end_list();
    }
    e.end_list();
    e.key(key_have).string(data.have.bytes());
    e.key(key_info_hash).string(std::span<const std::byte>(data.info_hash.bytes));
    e.key(key_pieces).integer(static_cast<std::int64_t>(data.have.size()));
    e.key(key_version).integer(resume_format_version);
    e.end_dict();
    return out;
}

result<resume_data> decode_resume(std::span<const std::byte> bytes, const sha1_digest& info_hash,
                                  std::uint32_t piece_count, std::size_t file_count) {
    // Bound the work by what this torrent's resume file can take, never by the input.
    const std::size_t max_size =
        256 + bitfield::byte_size(piece_count) + file_count * max_file_entry_bytes;
    if (bytes.size() > max_size) {
        return fail(errc::resume_corrupt);
    }
    bencode::limits lim;
    lim.max_depth = 3;
    lim.max_tokens = 32 + file_count * 4;
    lim.strict = true;
    auto doc = bencode::decode(bytes, lim);
    if (!doc) {
        return fail(errc::resume_corrupt);
    }
    const bencode::node root = doc->root();
    if (!root.is_dict() || root.size() != 5) {
        return fail(errc::resume_corrupt);
    }

    const auto version = root.find_int(key_version);
    if (!version) {
        return fail(errc::resume_corrupt);
    }
    if (*version != resume_format_version) {
        return fail(errc::resume_unsupported_version);
    }

    const auto hash_bytes = root.find(key_info_hash);
    if (!hash_bytes.is_string()) {
        return fail(errc::resume_corrupt);
    }
    const auto recorded_hash = sha1_digest::from_bytes(hash_bytes.as_bytes());
    if (!recorded_hash) {
        return fail(errc::resume_corrupt);
    }

    const auto pieces = root.find_int(key_pieces);
    const bencode::node have = root.find(key_have);
    const bencode::node files = root.find(key_files);
    if (!pieces || *pieces < 0 || !have.is_string() || !files.is_list()) {
        return fail(errc::resume_corrupt);
    }
    if (*recorded_hash != info_hash || *pieces != std::int64_t{piece_count} ||
        files.size() != file_count) {
        return fail(errc::resume_mismatch);
    }
    const std::span<const std::byte> have_bytes = have.as_bytes();
    if (have_bytes.size() != bitfield::byte_size(piece_count) ||
        !bitfield::spare_bits_clear(have_bytes, piece_count)) {
        return fail(errc::resume_corrupt);
    }

    resume_data out;
    out.info_hash = *recorded_hash;
    out.have = bitfield::from_bytes(have_bytes, piece_count);
    out.files.reserve(file_count);
    for (const bencode::node entry : files.list_items()) {
        if (!entry.is_list() || entry.size() != 2) {
            return fail(errc::resume_corrupt);
        }
        const bencode::node size = entry.at(0);
        const bencode::node mtime = entry.at(1);
        if (!size.is_int() || !mtime.is_int() || size.as_int() < 0) {
            return fail(errc::resume_corrupt);
        }
        out.files.push_back(file_stat{static_cast<std::uint64_t>(size.as_int()), mtime.as_int()});
    }
    return out;
}

std::optional<bitfield> fast_resume_have(const resume_data& data,
                                         std::span<const file_stat> current) {
    if (current.size() != data.files.size()) {
        return std::nullopt;
    }
    for (std::size_t i = 0; i < current.size(); ++i) {
        if (!(current[i] == data.files[i])) {
            return std::nullopt;
        }
    }
    return data.have;
}

} // namespace spate::storage
