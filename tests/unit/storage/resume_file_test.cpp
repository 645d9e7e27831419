#include <spate/bencode/encoder.hpp>
#include <spate/storage/error.hpp>
#include <spate/storage/resume_file.hpp>

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace {

using spate::bitfield;
using spate::sha1_digest;
using spate::storage::decode_resume;
using spate::storage::encode_resume;
using spate::storage::errc;
using spate::storage::fast_resume_have;
using spate::storage::file_stat;
using spate::storage::resume_data;

constexpr std::uint32_t pieces = 13; // not a multiple of 8: spare bits exist
constexpr std::size_t files = 3;

sha1_digest hash_of(char seed) {
    sha1_digest d;
    for (std::size_t i = 0; i < d.bytes.size(); ++i) {
        d.bytes[i] = static_cast<std::byte>(seed + static_cast<char>(i));
    }
    return d;
}

resume_data sample() {
    resume_data data;
    data.info_hash = hash_of('a');
    data.have = bitfield(pieces);
    data.have.set(0U);
    data.have.set(5U);
    data.have.set(12U);
    data.files = {file_stat{1000, 1'700'000'000'123'456'789}, file_stat{0, 0}, file_stat{5, -3}};
    return data;
}

std::vector<std::byte> hash_bytes(char seed) {
    const sha1_digest d = hash_of(seed);
    return {d.bytes.begin(), d.bytes.end()};
}

std::vector<std::byte> bytes_of(std::string_view text) {
    const auto* p = reinterpret_cast<const std::byte*>(text.data());
    return {p, p + text.size()};
}

std::string text_of(const std::vector<std::byte>& bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// A resume file built field by field, so each test can break exactly one thing.
struct fields {
    std::vector<std::vector<std::int64_t>> file_entries{{1000, 7}, {0, 0}, {5, 9}};
    std::vector<std::byte> have = std::vector<std::byte>(2, std::byte{0});
    std::vector<std::byte> info_hash = hash_bytes('a');
    std::int64_t piece_count = pieces;
    std::int64_t version = 1;
    bool extra_key = false;

    [[nodiscard]] std::vector<std::byte> encode() const {
        std::vector<std::byte> out;
        spate::bencode::byte_encoder e(out);
        e.begin_dict();
        if (extra_key) {
            e.key("extra").integer(1);
        }
        e.key("files").begin_list();
        for (const auto& entry : file_entries) {
            e.begin_list();
            for (std::int64_t v : entry) {
                e.integer(v);
            }
            e.end_list();
        }
        e.end_list();
        e.key("have").string(have);
        e.key("info-hash").string(info_hash);
        e.key("pieces").integer(piece_count);
        e.key("spate-resume").integer(version);
        e.end_dict();
        return out;
    }
};

std::error_code decode_error(const std::vector<std::byte>& bytes) {
    auto decoded = decode_resume(bytes, hash_of('a'), pieces, files);
    EXPECT_FALSE(decoded.has_value());
    return decoded ? std::error_code{} : decoded.error();
}

TEST(resume_file, round_trips) {
    const resume_data data = sample();
    const auto bytes = encode_resume(data);
    auto decoded = decode_resume(bytes, data.info_hash, pieces, files);
    ASSERT_TRUE(decoded) << decoded.error().message();
    EXPECT_EQ(*decoded, data);
    EXPECT_EQ(decoded->have.count(), 3U);
}

TEST(resume_file, encodes_canonical_sorted_dictionary) {
    resume_data data;
    data.info_hash = hash_of('a');
    data.have = bitfield(1);
    data.have.set(0U);
    data.files = {file_stat{3, 4}};
    const std::string expected =
        "d5:fileslli3ei4eee4:have1:\x80"
        "9:info-hash20:" +
        std::string(reinterpret_cast<const char*>(data.info_hash.bytes.data()), 20) +
        "6:piecesi1e12:spate-resumei1ee";
    EXPECT_EQ(text_of(encode_resume(data)), expected);
}

TEST(resume_file, the_field_builder_makes_a_valid_file) {
    auto decoded = decode_resume(fields{}.encode(), hash_of('a'), pieces, files);
    ASSERT_TRUE(decoded) << decoded.error().message();
    EXPECT_EQ(decoded->files[2], (file_stat{5, 9}));
}

TEST(resume_file, refuses_bad_bencode_and_trailing_bytes) {
    EXPECT_EQ(decode_error(bytes_of("")), errc::resume_corrupt);
    EXPECT_EQ(decode_error(bytes_of("d5:files")), errc::resume_corrupt);
    EXPECT_EQ(decode_error(bytes_of("i1e")), errc::resume_corrupt);
    auto trailing = fields{}.encode();
    trailing.push_back(std::byte{'x'});
    EXPECT_EQ(decode_error(trailing), errc::resume_corrupt);
}

TEST(resume_file, refuses_non_canonical_key_order) {
    // Same fields, "have" before "files": valid bencode elsewhere, not ours.
    std::string text = text_of(fields{}.encode());
    const std::string files_part = text.substr(1, text.find("4:have") - 1);
    text.erase(1, files_part.size());
    const auto after_have = text.find("9:info-hash");
    text.insert(after_have, files_part);
    EXPECT_EQ(decode_error(bytes_of(text)), errc::resume_corrupt);
}

TEST(resume_file, refuses_extra_and_missing_fields) {
    fields extra;
    extra.extra_key = true;
    EXPECT_EQ(decode_error(extra.encode()), errc::resume_corrupt);
    EXPECT_EQ(decode_error(bytes_of(std::string_view("d4:have2:\0\0e", 12))), errc::resume_corrupt);
}

TEST(resume_file, refuses_other_version) {
    fields f;
    f.version = 2;
    EXPECT_EQ(decode_error(f.encode()), errc::resume_unsupported_version);
}

TEST(resume_file, refuses_other_info_hash) {
    auto decoded = decode_resume(fields{}.encode(), hash_of('b'), pieces, files);
    ASSERT_FALSE(decoded);
    EXPECT_EQ(decoded.error(), errc::resume_mismatch);
}

TEST(resume_file, refuses_info_hash_of_wrong_length) {
    fields f;
    f.info_hash.pop_back();
    EXPECT_EQ(decode_error(f.encode()), errc::resume_corrupt);
}

TEST(resume_file, refuses_other_piece_count) {
    fields f;
    f.piece_count = pieces + 1;
    EXPECT_EQ(decode_error(f.encode()), errc::resume_mismatch);
    f.piece_count = -1;
    EXPECT_EQ(decode_error(f.encode()), errc::resume_corrupt);
    auto decoded = decode_resume(fields{}.encode(), hash_of('a'), pieces - 1, files);
    ASSERT_FALSE(decoded);
    EXPECT_EQ(decoded.error(), errc::resume_mismatch);
}

TEST(resume_file, refuses_other_file_count) {
    fields f;
    f.file_entries.pop_back();
    EXPECT_EQ(decode_error(f.encode()), errc::resume_mismatch);
    f.file_entries.push_back({1, 1});
    f.file_entries.push_back({1, 1});
    EXPECT_EQ(decode_error(f.encode()), errc::resume_mismatch);
}

TEST(resume_file, refuses_bitfield_of_wrong_size_or_with_spare_bits) {
    fields shorter;
    shorter.have.pop_back();
    EXPECT_EQ(decode_error(shorter.encode()), errc::resume_corrupt);
    fields longer;
    longer.have.push_back(std::byte{0});
    EXPECT_EQ(decode_error(longer.encode()), errc::resume_corrupt);
    fields spare;
    spare.have[1] = std::byte{0x01}; // bit 15 of 13
    EXPECT_EQ(decode_error(spare.encode()), errc::resume_corrupt);
    fields last_real;
    last_real.have[1] = std::byte{0x08}; // bit 12, the last real piece
    EXPECT_TRUE(decode_resume(last_real.encode(), hash_of('a'), pieces, files));
}

TEST(resume_file, refuses_malformed_file_entries) {
    fields negative;
    negative.file_entries[0] = {-1, 0};
    EXPECT_EQ(decode_error(negative.encode()), errc::resume_corrupt);
    fields one_value;
    one_value.file_entries[1] = {5};
    EXPECT_EQ(decode_error(one_value.encode()), errc::resume_corrupt);
    fields three_values;
    three_values.file_entries[1] = {5, 6, 7};
    EXPECT_EQ(decode_error(three_values.encode()), errc::resume_corrupt);
    // An entry that is a string rather than a list.
    std::string text = text_of(fields{}.encode());
    const auto at = text.find("li0ei0ee");
    ASSERT_NE(at, std::string::npos);
    text.replace(at, 8, "3:abc");
    EXPECT_EQ(decode_error(bytes_of(text)), errc::resume_corrupt);
}

TEST(resume_file, refuses_mistyped_fields) {
    std::string text = text_of(fields{}.encode());
    const auto at = text.find("6:piecesi13e");
    ASSERT_NE(at, std::string::npos);
    text.replace(at, 12, "6:pieces2:13");
    EXPECT_EQ(decode_error(bytes_of(text)), errc::resume_corrupt);
}

TEST(resume_file, refuses_input_larger_than_the_geometry_allows) {
    fields f;
    f.have.assign(100'000, std::byte{0});
    EXPECT_EQ(decode_error(f.encode()), errc::resume_corrupt);
}

TEST(resume_file, fast_resume_trusts_unchanged_files) {
    const resume_data data = sample();
    auto have = fast_resume_have(data, data.files);
    ASSERT_TRUE(have);
    EXPECT_EQ(*have, data.have);
}

TEST(resume_file, fast_resume_refuses_any_stat_change) {
    const resume_data data = sample();
    auto size_changed = data.files;
    size_changed[0].size += 1;
    EXPECT_FALSE(fast_resume_have(data, size_changed));
    auto mtime_changed = data.files;
    mtime_changed[2].mtime_ns += 1;
    EXPECT_FALSE(fast_resume_have(data, mtime_changed));
    auto fewer = data.files;
    fewer.pop_back();
    EXPECT_FALSE(fast_resume_have(data, fewer));
}

TEST(resume_file, error_messages_name_the_problem) {
    EXPECT_EQ(std::string(spate::storage::storage_category().name()), "spate.storage");
    for (int e = 1; e <= static_cast<int>(errc::not_a_regular_file); ++e) {
        EXPECT_NE(make_error_code(static_cast<errc>(e)).message(), "unknown storage error");
    }
}

} // namespace
