// synthetic_payload: deterministic, distinct per piece, and a torrent that describes it.
#include <spate/core/hash.hpp>
#include <spate/metainfo/torrent_info.hpp>
#include <spate/swarm/synthetic_payload.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <system_error>
#include <vector>

namespace {

using spate::piece_index;
using spate::swarm::payload_shape;
using spate::swarm::synthetic_payload;

payload_shape shape(std::uint64_t size, std::uint64_t piece, std::uint32_t files = 1,
                    std::uint64_t seed = 7) {
    payload_shape s;
    s.total_size = size;
    s.piece_length = piece;
    s.files = files;
    s.seed = seed;
    return s;
}

std::vector<std::byte> bytes_of(std::span<const std::byte> s) { return {s.begin(), s.end()}; }

TEST(synthetic_payload, the_same_seed_gives_the_same_bytes_and_another_seed_others) {
    auto a = synthetic_payload::create(shape(1'000'000, 16384));
    auto b = synthetic_payload::create(shape(1'000'000, 16384));
    auto c = synthetic_payload::create(shape(1'000'000, 16384, 1, 8));
    ASSERT_TRUE(a && b && c);
    for (std::uint32_t p : {0U, 17U, 61U}) {
        EXPECT_EQ(bytes_of(a->piece(piece_index(p))), bytes_of(b->piece(piece_index(p))));
        EXPECT_NE(bytes_of(a->piece(piece_index(p))), bytes_of(c->piece(piece_index(p))));
    }
}

TEST(synthetic_payload, every_piece_is_distinct_and_the_last_is_short) {
    auto payload = synthetic_payload::create(shape(3 * 65536 * 100 + 123, 65536));
    ASSERT_TRUE(payload);
    EXPECT_EQ(payload->piece_count(), 301u);
    std::set<std::string> hashes;
    for (std::uint32_t p = 0; p < payload->piece_count(); ++p) {
        hashes.insert(spate::sha1(payload->piece(piece_index(p))).hex());
    }
    EXPECT_EQ(hashes.size(), 301u);
    EXPECT_EQ(payload->piece(piece_index(300)).size(), 123u);
    EXPECT_EQ(payload->piece(piece_index(0)).size(), 65536u);
}

TEST(synthetic_payload, refuses_shapes_that_make_no_torrent) {
    EXPECT_FALSE(synthetic_payload::create(shape(0, 16384)));
    EXPECT_FALSE(synthetic_payload::create(shape(100'000, 10'000)));
    EXPECT_FALSE(synthetic_payload::create(shape(100'000, 8192)));
    EXPECT_FALSE(synthetic_payload::create(shape(100'000, 16384, 0)));
    EXPECT_FALSE(synthetic_payload::create(shape(5, 16384, 6)));
}

TEST(synthetic_payload, its_torrent_parses_and_hashes_every_piece) {
    auto payload = synthetic_payload::create(shape(1'000'003, 32768, 5));
    ASSERT_TRUE(payload);
    auto bytes = spate::metainfo::write_torrent(
        payload->torrent("bench", {"http://127.0.0.1:6969/announce"}));
    ASSERT_TRUE(bytes) << bytes.error().message();
    auto torrent = spate::metainfo::parse_torrent(*bytes, spate::metainfo::torrent_limits{});
    ASSERT_TRUE(torrent) << torrent.error().message();
    EXPECT_EQ(torrent->total_size(), 1'000'003u);
    EXPECT_EQ(torrent->files().size(), 5u);
    ASSERT_EQ(torrent->piece_count(), payload->piece_count());
    for (std::uint32_t p = 0; p < torrent->piece_count(); ++p) {
        EXPECT_EQ(torrent->piece_hash(piece_index(p)), spate::sha1(payload->piece(piece_index(p))));
    }
}

TEST(synthetic_payload, written_files_hold_the_pieces_in_order) {
    auto payload = synthetic_payload::create(shape(200'001, 16384, 3));
    ASSERT_TRUE(payload);
    const auto folder = std::filesystem::temp_directory_path() / "spate-synthetic-payload-test";
    std::filesystem::remove_all(folder);
    ASSERT_TRUE(payload->write_files(folder.string(), "set"));
    std::vector<std::byte> written;
    for (const auto& entry : std::set<std::filesystem::path>(
             std::filesystem::directory_iterator(folder / "set"), {})) {
        std::ifstream in(entry, std::ios::binary);
        std::vector<char> chars((std::istreambuf_iterator<char>(in)), {});
        for (char c : chars) {
            written.push_back(static_cast<std::byte>(c));
        }
    }
    std::vector<std::byte> expected;
    for (std::uint32_t p = 0; p < payload->piece_count(); ++p) {
        auto piece = payload->piece(piece_index(p));
        expected.insert(expected.end(), piece.begin(), piece.end());
    }
    EXPECT_EQ(written, expected);
    std::filesystem::remove_all(folder);
}

} // namespace
