#include "storage_test_support.hpp"

#include <spate/io/scope.hpp>
#include <spate/metainfo/error.hpp>
#include <spate/storage/error.hpp>
#include <spate/storage/file_storage.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <vector>

namespace {

namespace fs = std::filesystem;
using spate::file_index;
using spate::piece_index;
using spate::result;
using spate::io::buffer_pool;
using spate::io::buffer_slot;
using spate::io::ring;
using spate::io::task;
using spate::metainfo::new_file;
using spate::storage::errc;
using spate::storage::file_stat;
using spate::storage::file_storage;
using spate::storage::open_mode;
using spate::storage::storage_options;
using namespace spate::storage::testing;

std::unique_ptr<file_storage> open_or_fail(ring& r, const test_torrent& t, const std::string& root,
                                           storage_options options, open_mode mode) {
    auto opened = r.run(file_storage::open(r, t.info, root, options, mode));
    if (!opened) {
        ADD_FAILURE() << "open: " << opened.error().message();
        return nullptr;
    }
    return std::move(*opened);
}

// Writes every piece of `t` from one pool slot, one after the other.
void write_all(ring& r, file_storage& storage, const test_torrent& t, buffer_pool& pool) {
    auto slot = pool.acquire();
    ASSERT_TRUE(slot);
    for (piece_index p(0); p.value() < t.info.piece_count(); ++p) {
        copy_into(*slot, t.piece(p));
        auto wrote = r.run(storage.write_piece(p, *slot));
        ASSERT_TRUE(wrote) << "piece " << p.value() << ": " << wrote.error().message();
    }
    auto synced = r.run(storage.sync());
    ASSERT_TRUE(synced) << synced.error().message();
}

// Reads every piece back through the storage and compares it with the stream.
void expect_pieces_read_back(ring& r, file_storage& storage, const test_torrent& t,
                             buffer_pool& pool) {
    auto slot = pool.acquire();
    ASSERT_TRUE(slot);
    for (piece_index p(0); p.value() < t.info.piece_count(); ++p) {
        std::fill(slot->span().begin(), slot->span().end(), std::byte{0xEE});
        const auto expected = t.piece(p);
        const auto into = slot->span().first(expected.size());
        auto got = r.run(storage.read(p, 0, into, slot->index()));
        ASSERT_TRUE(got) << "piece " << p.value() << ": " << got.error().message();
        EXPECT_TRUE(std::equal(into.begin(), into.end(), expected.begin()))
            << "piece " << p.value() << " differs";
    }
}

void expect_files_on_disk(const test_torrent& t, const fs::path& root) {
    for (file_index f(0); f < t.info.files().end_index(); ++f) {
        const auto& file = t.info.files()[f];
        const fs::path path = root / file.relative_path();
        if (file.pad) {
            EXPECT_FALSE(fs::exists(path)) << "pad file written: " << path;
            continue;
        }
        EXPECT_EQ(read_disk_file(path), t.file_bytes(f)) << path;
    }
}

TEST(file_storage, single_file_round_trip_uses_direct_io_where_aligned) {
    SPATE_RING_OR_SKIP(r);
    temp_folder dir;
    // Four whole 16 KiB pieces (aligned: O_DIRECT) and a 5000-byte tail (buffered).
    const test_torrent t =
        make_torrent("single.bin", {new_file{{}, 4 * 16'384 + 5'000, false}}, 16'384);
    auto pool = buffer_pool::create(r, 16'384, 2);
    ASSERT_TRUE(pool) << pool.error().message();
    auto storage = open_or_fail(r, t, dir.str(), {}, open_mode::create);
    ASSERT_TRUE(storage);
    EXPECT_EQ(fs::file_size(dir.path() / "single.bin"), t.info.total_size()); // sparse, full size
    write_all(r, *storage, t, *pool);
    expect_pieces_read_back(r, *storage, t, *pool);
    expect_files_on_disk(t, dir.path());
    EXPECT_EQ(storage->counters().direct_writes, 4U);
    EXPECT_EQ(storage->counters().buffered_writes, 1U);
    EXPECT_EQ(storage->counters().direct_reads, 4U);
    EXPECT_EQ(storage->counters().buffered_reads, 1U);
    r.run(storage->close());
    EXPECT_EQ(storage->open_descriptors(), 0U);
}

TEST(file_storage, multi_file_with_pad_files_round_trip) {
    SPATE_RING_OR_SKIP(r);
    temp_folder dir;
    const test_torrent t = padded_torrent();
    ASSERT_EQ(t.info.piece_count(), 6U);
    auto pool = buffer_pool::create(r, 16'384, 2);
    ASSERT_TRUE(pool);
    auto storage = open_or_fail(r, t, dir.str(), {}, open_mode::create);
    ASSERT_TRUE(storage);
    EXPECT_FALSE(fs::exists(dir.path() / "multi" / ".pad"));
    write_all(r, *storage, t, *pool);
    expect_pieces_read_back(r, *storage, t, *pool);
    expect_files_on_disk(t, dir.path());
    // Pieces 0, 2 and 3 are whole aligned runs of a file; the rest end off alignment.
    EXPECT_EQ(storage->counters().direct_writes, 3U);
    EXPECT_EQ(storage->counters().buffered_writes, 3U);
    r.run(storage->close());
}

TEST(file_storage, unaligned_geometry_goes_buffered) {
    SPATE_RING_OR_SKIP(r);
    temp_folder dir;
    const test_torrent t = make_torrent(
        "odd", {new_file{{"x"}, 10'000, false}, new_file{{"y"}, 30'001, false}}, 16'384, 5);
    auto pool = buffer_pool::create(r, 16'384, 2);
    ASSERT_TRUE(pool);
    auto storage = open_or_fail(r, t, dir.str(), {}, open_mode::create);
    ASSERT_TRUE(storage);
    write_all(r, *storage, t, *pool);
    expect_pieces_read_back(r, *storage, t, *pool);
    expect_files_on_disk(t, dir.path());
    // x ends at 10000, so no run of y starts on a 4096 boundary of its own file.
    EXPECT_EQ(storage->counters().direct_writes, 0U);
    EXPECT_GT(storage->counters().buffered_writes, 0U);
    EXPECT_EQ(storage->counters().direct_reads, 0U);
    r.run(storage->close());
}

TEST(file_storage, direct_io_can_be_turned_off) {
    SPATE_RING_OR_SKIP(r);
    temp_folder dir;
    const test_torrent t = make_torrent("single.bin", {new_file{{}, 2 * 16'384, false}}, 16'384);
    auto pool = buffer_pool::create(r, 16'384, 2);
    ASSERT_TRUE(pool);
    storage_options options;
    options.direct_io = false;
    auto storage = open_or_fail(r, t, dir.str(), options, open_mode::create);
    ASSERT_TRUE(storage);
    write_all(r, *storage, t, *pool);
    expect_pieces_read_back(r, *storage, t, *pool);
    EXPECT_EQ(storage->counters().direct_writes + storage->counters().direct_reads, 0U);
    r.run(storage->close());
}

TEST(file_storage, reads_a_range_across_files_and_pads) {
    SPATE_RING_OR_SKIP(r);
    temp_folder dir;
    const test_torrent t = padded_torrent(9);
    auto pool = buffer_pool::create(r, 16'384, 2);
    ASSERT_TRUE(pool);
    auto storage = open_or_fail(r, t, dir.str(), {}, open_mode::create);
    ASSERT_TRUE(storage);
    write_all(r, *storage, t, *pool);
    auto slot = pool->acquire();
    ASSERT_TRUE(slot);
    // Piece 1 holds the end of a.bin then pad bytes: read across the boundary.
    std::fill(slot->span().begin(), slot->span().end(), std::byte{0x55});
    const auto into = slot->span().subspan(100, 6'000);
    auto got = r.run(storage->read(piece_index(1), 1'000, into, slot->index()));
    ASSERT_TRUE(got) << got.error().message();
    const auto expected = t.piece(piece_index(1)).subspan(1'000, 6'000);
    EXPECT_TRUE(std::equal(into.begin(), into.end(), expected.begin()));
    // A range past the piece is refused before any I/O.
    auto past = r.run(storage->read(piece_index(5), 0, slot->span().first(6), slot->index()));
    ASSERT_FALSE(past);
    EXPECT_EQ(past.error(), spate::metainfo::errc::range_out_of_piece);
    r.run(storage->close());
}

TEST(file_storage, existing_mode_reports_absent_and_short_files_as_missing) {
    SPATE_RING_OR_SKIP(r);
    temp_folder dir;
    const test_torrent t = padded_torrent(3);
    auto pool = buffer_pool::create(r, 16'384, 2);
    ASSERT_TRUE(pool);
    {
        auto writer = open_or_fail(r, t, dir.str(), {}, open_mode::create);
        ASSERT_TRUE(writer);
        write_all(r, *writer, t, *pool);
        r.run(writer->close());
    }
    fs::remove(dir.path() / "multi" / "sub" / "deeper" / "c.bin");
    fs::resize_file(dir.path() / "multi" / "sub" / "b.bin", 16'384 + 10);

    auto reader = open_or_fail(r, t, dir.str(), {}, open_mode::existing);
    ASSERT_TRUE(reader);
    auto slot = pool->acquire();
    ASSERT_TRUE(slot);
    const auto read_piece = [&](std::uint32_t p) {
        const auto size = t.info.layout().piece_size(piece_index(p));
        return r.run(reader->read(piece_index(p), 0, slot->span().first(size), slot->index()));
    };
    EXPECT_TRUE(read_piece(0));
    EXPECT_TRUE(read_piece(2));
    auto short_read = read_piece(3);
    ASSERT_FALSE(short_read);
    EXPECT_EQ(short_read.error(), errc::data_missing);
    auto absent = read_piece(5);
    ASSERT_FALSE(absent);
    EXPECT_EQ(absent.error(), errc::data_missing);
    auto write = r.run(reader->write_piece(piece_index(0), *slot));
    ASSERT_FALSE(write);
    EXPECT_EQ(write.error(), errc::read_only);

    auto stats = reader->stat_files();
    ASSERT_TRUE(stats) << stats.error().message();
    ASSERT_EQ(stats->size(), 5U);
    EXPECT_EQ((*stats)[0].size, 20'000U);
    EXPECT_NE((*stats)[0].mtime_ns, 0);
    EXPECT_EQ((*stats)[1], file_stat{});
    EXPECT_EQ((*stats)[2].size, 16'384U + 10);
    EXPECT_EQ((*stats)[4], file_stat{});
    r.run(reader->close());
}

TEST(file_storage, existing_mode_without_folder_is_folder_missing) {
    SPATE_RING_OR_SKIP(r);
    temp_folder dir;
    const test_torrent t = padded_torrent();
    auto opened = r.run(
        file_storage::open(r, t.info, (dir.path() / "nope").string(), {}, open_mode::existing));
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.error(), errc::folder_missing);
    EXPECT_FALSE(fs::exists(dir.path() / "nope"));
}

TEST(file_storage, refuses_a_symlinked_folder_inside_root) {
    SPATE_RING_OR_SKIP(r);
    temp_folder dir;
    temp_folder outside;
    const test_torrent t = padded_torrent();
    fs::create_directories(dir.path() / "multi");
    fs::create_directory_symlink(outside.path(), dir.path() / "multi" / "sub");
    auto opened = r.run(file_storage::open(r, t.info, dir.str(), {}, open_mode::create));
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.error(), errc::unsafe_path);
    EXPECT_TRUE(fs::is_empty(outside.path())) << "something was created outside the root";
}

TEST(file_storage, refuses_a_symlinked_file_inside_root) {
    SPATE_RING_OR_SKIP(r);
    temp_folder dir;
    temp_folder outside;
    const test_torrent t = make_torrent("single.bin", {new_file{{}, 16'384, false}}, 16'384);
    const fs::path victim = outside.path() / "victim";
    { std::ofstream(victim) << "keep me"; }
    fs::create_symlink(victim, dir.path() / "single.bin");
    auto created = r.run(file_storage::open(r, t.info, dir.str(), {}, open_mode::create));
    ASSERT_FALSE(created);
    EXPECT_EQ(created.error(), errc::unsafe_path);
    EXPECT_EQ(fs::file_size(victim), 7U) << "the file outside the root was changed";

    // Existing mode opens lazily: the read is refused, not reported as missing data.
    auto reader = open_or_fail(r, t, dir.str(), {}, open_mode::existing);
    ASSERT_TRUE(reader);
    auto pool = buffer_pool::create(r, 16'384, 1);
    ASSERT_TRUE(pool);
    auto slot = pool->acquire();
    ASSERT_TRUE(slot);
    auto got = r.run(reader->read(piece_index(0), 0, slot->span().first(7), slot->index()));
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error(), errc::unsafe_path);
    r.run(reader->close());
}

task<void> write_one(file_storage* storage, piece_index p, const buffer_slot* slot,
                     result<void>* out) {
    *out = co_await storage->write_piece(p, *slot);
}

task<void> write_concurrently(file_storage* storage, std::vector<buffer_slot>* slots,
                              std::vector<result<void>>* results) {
    spate::io::scope writers;
    for (std::uint32_t i = 0; i < slots->size(); ++i) {
        writers.spawn(write_one(storage, piece_index(i), &(*slots)[i], &(*results)[i]));
    }
    co_await writers.join();
}

TEST(file_storage, descriptor_lru_stays_within_limit_under_concurrent_writes) {
    SPATE_RING_OR_SKIP(r);
    temp_folder dir;
    // Seven 16 KiB files, one per piece, all written at once with a limit of two descriptors.
    std::vector<new_file> files;
    for (int i = 0; i < 7; ++i) {
        files.push_back(new_file{{"f" + std::to_string(i)}, 16'384, false});
    }
    const test_torrent t = make_torrent("many", std::move(files), 16'384, 11);
    auto pool = buffer_pool::create(r, 16'384, 7);
    ASSERT_TRUE(pool);
    storage_options options;
    options.max_open_files = 2;
    auto storage = open_or_fail(r, t, dir.str(), options, open_mode::create);
    ASSERT_TRUE(storage);
    EXPECT_LE(storage->open_descriptors(), 2U);
    std::vector<buffer_slot> slots;
    for (piece_index p(0); p.value() < 7; ++p) {
        auto slot = pool->acquire();
        ASSERT_TRUE(slot);
        copy_into(*slot, t.piece(p));
        slots.push_back(std::move(*slot));
    }
    std::vector<result<void>> results(7);
    r.run(write_concurrently(storage.get(), &slots, &results));
    for (const auto& written : results) {
        EXPECT_TRUE(written) << written.error().message();
    }
    auto synced = r.run(storage->sync());
    EXPECT_TRUE(synced) << synced.error().message();
    // In-flight writes may pass the soft limit; once they are done, the next open trims it.
    slots.clear();
    expect_pieces_read_back(r, *storage, t, *pool);
    EXPECT_LE(storage->open_descriptors(), 2U);
    expect_files_on_disk(t, dir.path());
    r.run(storage->close());
}

TEST(file_storage, preallocate_allocates_whole_files) {
    SPATE_RING_OR_SKIP(r);
    temp_folder dir;
    const test_torrent t = make_torrent("big.bin", {new_file{{}, 1 << 20, false}}, 16'384);
    storage_options options;
    options.preallocate = true;
    auto storage = open_or_fail(r, t, dir.str(), options, open_mode::create);
    ASSERT_TRUE(storage);
    struct stat st {};
    ASSERT_EQ(::stat((dir.path() / "big.bin").c_str(), &st), 0);
    EXPECT_EQ(st.st_size, 1 << 20);
    EXPECT_GE(st.st_blocks * 512, 1 << 20);
    r.run(storage->close());

    // Without it the file is sparse.
    temp_folder sparse_dir;
    auto sparse = open_or_fail(r, t, sparse_dir.str(), {}, open_mode::create);
    ASSERT_TRUE(sparse);
    ASSERT_EQ(::stat((sparse_dir.path() / "big.bin").c_str(), &st), 0);
    EXPECT_EQ(st.st_size, 1 << 20);
    EXPECT_LT(st.st_blocks * 512, 1 << 20);
    r.run(sparse->close());
}

TEST(file_storage, create_never_shrinks_an_existing_file) {
    SPATE_RING_OR_SKIP(r);
    temp_folder dir;
    const test_torrent t = make_torrent("single.bin", {new_file{{}, 16'384, false}}, 16'384);
    { std::ofstream(dir.path() / "single.bin") << std::string(20'000, 'z'); }
    auto storage = open_or_fail(r, t, dir.str(), {}, open_mode::create);
    ASSERT_TRUE(storage);
    EXPECT_EQ(fs::file_size(dir.path() / "single.bin"), 20'000U);
    r.run(storage->close());
}

TEST(file_storage, write_refuses_a_slot_smaller_than_the_piece) {
    SPATE_RING_OR_SKIP(r);
    temp_folder dir;
    const test_torrent t = make_torrent("single.bin", {new_file{{}, 65'536, false}}, 65'536);
    auto pool = buffer_pool::create(r, 16'384, 1);
    ASSERT_TRUE(pool);
    auto storage = open_or_fail(r, t, dir.str(), {}, open_mode::create);
    ASSERT_TRUE(storage);
    auto slot = pool->acquire();
    ASSERT_TRUE(slot);
    auto wrote = r.run(storage->write_piece(piece_index(0), *slot));
    ASSERT_FALSE(wrote);
    EXPECT_EQ(wrote.error(), errc::buffer_too_small);
    r.run(storage->close());
}

} // namespace
