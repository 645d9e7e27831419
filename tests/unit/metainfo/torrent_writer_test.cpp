#include <spate/bencode/document.hpp>
#include <spate/metainfo/error.hpp>
#include <spate/metainfo/torrent_info.hpp>
#include <spate/metainfo/torrent_writer.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

namespace {

using spate::file_index;
using spate::piece_index;
using spate::metainfo::choose_piece_length;
using spate::metainfo::errc;
using spate::metainfo::new_file;
using spate::metainfo::parse_torrent;
using spate::metainfo::torrent_spec;
using spate::metainfo::write_torrent;

constexpr std::uint64_t kib = 1024;
constexpr std::uint64_t mib = 1024 * kib;
constexpr std::uint64_t gib = 1024 * mib;

std::vector<std::byte> fake_hashes(std::size_t count) {
    std::vector<std::byte> out(count * 20);
    for (std::size_t i = 0; i < out.size(); ++i) {
        out[i] = static_cast<std::byte>(i * 31 + 7);
    }
    return out;
}

torrent_spec multi_spec() {
    torrent_spec s;
    s.name = "album";
    s.files = {{{"cd1", "01.flac"}, 40 * kib, false},
               {{"cd1", ".pad"}, 8 * kib, true},
               {{"cover.jpg"}, 0, false},
               {{"notes.txt"}, 5, false}};
    s.piece_length = 16 * kib;
    s.piece_hashes = fake_hashes(4); // 48 KiB + 5 bytes
    s.trackers = {{"udp://t1.example:6969/announce", "http://t2.example/announce"},
                  {},
                  {"https://t3.example/announce"}};
    s.web_seeds = {"http://seed1.example/", "https://seed2.example/"};
    s.is_private = true;
    s.comment = "a comment";
    s.created_by = "spate 0.1.0";
    s.creation_date = 1'700'000'000;
    return s;
}

TEST(torrent_writer, multi_file_round_trip_keeps_every_field) {
    const auto spec = multi_spec();
    auto bytes = write_torrent(spec);
    ASSERT_TRUE(bytes.has_value()) << bytes.error().message();

    // The output is strict (sorted, canonical) bencode.
    auto doc = spate::bencode::decode(*bytes);
    ASSERT_TRUE(doc.has_value()) << doc.error().message();
    const auto info_bytes = doc->root().find("info").raw();

    auto ti = parse_torrent(*bytes);
    ASSERT_TRUE(ti.has_value()) << ti.error().message();
    EXPECT_EQ(ti->info_hash(), spate::sha1(info_bytes));
    EXPECT_EQ(ti->name(), "album");
    EXPECT_FALSE(ti->single_file());
    EXPECT_EQ(ti->piece_length(), 16 * kib);
    EXPECT_EQ(ti->piece_count(), 4u);
    EXPECT_EQ(ti->total_size(), 48 * kib + 5);
    ASSERT_EQ(ti->files().size(), spec.files.size());
    for (std::size_t i = 0; i < spec.files.size(); ++i) {
        const auto& f = ti->files()[file_index(static_cast<std::uint32_t>(i))];
        std::vector<std::string> expected{"album"};
        expected.insert(expected.end(), spec.files[i].path.begin(), spec.files[i].path.end());
        EXPECT_EQ(f.path, expected);
        EXPECT_EQ(f.length, spec.files[i].length);
        EXPECT_EQ(f.pad, spec.files[i].pad);
    }
    for (piece_index p(0); p.value() < ti->piece_count(); ++p) {
        EXPECT_TRUE(std::equal(ti->piece_hash(p).bytes.begin(), ti->piece_hash(p).bytes.end(),
                               spec.piece_hashes.begin() + p.value() * 20));
    }
    EXPECT_EQ(ti->trackers(),
              (std::vector<std::vector<std::string>>{spec.trackers[0], spec.trackers[2]}));
    EXPECT_EQ(doc->root().find_string("announce"), "udp://t1.example:6969/announce");
    EXPECT_EQ(ti->web_seeds(), spec.web_seeds);
    EXPECT_TRUE(doc->root().find("url-list").is_list());
    EXPECT_TRUE(ti->is_private());
    EXPECT_EQ(ti->comment(), spec.comment);
    EXPECT_EQ(ti->created_by(), spec.created_by);
    EXPECT_EQ(ti->creation_date(), spec.creation_date);
}

TEST(torrent_writer, single_file_with_one_tracker_and_one_web_seed) {
    torrent_spec s;
    s.name = "disk.img";
    s.files = {{{}, 100 * kib, false}};
    s.piece_length = 32 * kib;
    s.piece_hashes = fake_hashes(4);
    s.trackers = {{"http://only.example/announce"}};
    s.web_seeds = {"http://seed.example/disk.img"};
    auto bytes = write_torrent(s);
    ASSERT_TRUE(bytes.has_value()) << bytes.error().message();
    auto doc = spate::bencode::decode(*bytes);
    ASSERT_TRUE(doc.has_value());
    EXPECT_FALSE(doc->root().find("announce-list").valid());
    EXPECT_TRUE(doc->root().find("url-list").is_string());
    EXPECT_FALSE(doc->root().find("comment").valid());
    EXPECT_FALSE(doc->root().find("creation date").valid());
    EXPECT_FALSE(doc->root().find("info").find("private").valid());

    auto ti = parse_torrent(*bytes);
    ASSERT_TRUE(ti.has_value()) << ti.error().message();
    EXPECT_TRUE(ti->single_file());
    EXPECT_EQ(ti->files()[file_index(0)].path, std::vector<std::string>{"disk.img"});
    EXPECT_EQ(ti->total_size(), 100 * kib);
    EXPECT_EQ(ti->trackers(), s.trackers);
    EXPECT_EQ(ti->web_seeds(), s.web_seeds);
    EXPECT_FALSE(ti->is_private());
    EXPECT_EQ(ti->creation_date(), std::nullopt);
}

TEST(torrent_writer, same_spec_gives_same_bytes) {
    EXPECT_EQ(*write_torrent(multi_spec()), *write_torrent(multi_spec()));
}

struct bad_spec {
    const char* what;
    void (*change)(torrent_spec&);
    errc expected;
};

class torrent_writer_rejects : public testing::TestWithParam<bad_spec> {};

TEST_P(torrent_writer_rejects, with_its_specific_error) {
    auto spec = multi_spec();
    GetParam().change(spec);
    auto bytes = write_torrent(spec);
    ASSERT_FALSE(bytes.has_value()) << GetParam().what;
    EXPECT_EQ(bytes.error(), make_error_code(GetParam().expected))
        << GetParam().what << ": " << bytes.error().message();
}

INSTANTIATE_TEST_SUITE_P(
    torrent_writer, torrent_writer_rejects,
    testing::Values(
        bad_spec{"name ..", [](torrent_spec& s) { s.name = ".."; }, errc::dot_dot_path_component},
        bad_spec{"no files", [](torrent_spec& s) { s.files.clear(); }, errc::empty_file_list},
        bad_spec{"empty path in multi-file", [](torrent_spec& s) { s.files[2].path.clear(); },
                 errc::empty_path},
        bad_spec{"path with /", [](torrent_spec& s) { s.files[3].path = {"a/b"}; },
                 errc::path_component_has_separator},
        bad_spec{"duplicate", [](torrent_spec& s) { s.files[3].path = {"cover.jpg"}; },
                 errc::duplicate_file_path},
        bad_spec{"piece length 3", [](torrent_spec& s) { s.piece_length = 3; },
                 errc::piece_length_not_power_of_two},
        bad_spec{"piece length 8 KiB", [](torrent_spec& s) { s.piece_length = 8 * kib; },
                 errc::piece_length_not_power_of_two},
        bad_spec{"piece length 1 GiB", [](torrent_spec& s) { s.piece_length = gib; },
                 errc::piece_length_too_large},
        bad_spec{"hashes short", [](torrent_spec& s) { s.piece_hashes.resize(60); },
                 errc::piece_hashes_size_mismatch},
        bad_spec{"hashes ragged", [](torrent_spec& s) { s.piece_hashes.resize(81); },
                 errc::piece_hashes_size_mismatch},
        bad_spec{"no data",
                 [](torrent_spec& s) {
                     for (auto& f : s.files) {
                         f.length = 0;
                     }
                 },
                 errc::no_data},
        bad_spec{"bad tracker", [](torrent_spec& s) { s.trackers[2].push_back("magnet:?x"); },
                 errc::invalid_tracker_url},
        bad_spec{"udp web seed", [](torrent_spec& s) { s.web_seeds.push_back("udp://x/"); },
                 errc::invalid_web_seed_url}));

TEST(torrent_writer, choose_piece_length_follows_its_table) {
    EXPECT_EQ(choose_piece_length(0), 32 * kib);
    EXPECT_EQ(choose_piece_length(1), 32 * kib);
    EXPECT_EQ(choose_piece_length(64 * mib), 32 * kib);
    EXPECT_EQ(choose_piece_length(64 * mib + 1), 64 * kib);
    EXPECT_EQ(choose_piece_length(700 * mib), 512 * kib);
    EXPECT_EQ(choose_piece_length(2 * gib), 1 * mib);
    EXPECT_EQ(choose_piece_length(4 * gib + 1), 4 * mib);
    EXPECT_EQ(choose_piece_length(16 * gib), 8 * mib);
    EXPECT_EQ(choose_piece_length(16 * gib + 1), 16 * mib);
    EXPECT_EQ(choose_piece_length(std::numeric_limits<std::uint64_t>::max()), 16 * mib);
    // Between the ends, the piece count always lands in (1024, 2048].
    for (std::uint64_t size = 65 * mib; size <= 16 * gib; size = size * 5 / 3) {
        const auto length = choose_piece_length(size);
        const auto pieces = (size + length - 1) / length;
        EXPECT_GT(pieces, 1024u) << size;
        EXPECT_LE(pieces, 2048u) << size;
    }
}

} // namespace
