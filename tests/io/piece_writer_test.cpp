// Combined piece writes: file_storage::write_pieces (neighbouring pieces as one gathered
// write) and session::piece_writer (pieces verified while a write is out queue and go out
// together), checked against the bytes on disk.
#include "storage_test_support.hpp"

#include <spate/io/scope.hpp>
#include <spate/session/piece_writer.hpp>
#include <spate/storage/file_storage.hpp>

#include <gtest/gtest.h>

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
using spate::storage::file_storage;
using spate::storage::open_mode;
using namespace spate::storage::testing;

std::unique_ptr<file_storage> create_storage(ring& r, const test_torrent& t,
                                             const std::string& root) {
    auto opened = r.run(file_storage::open(r, t.info, root, {}, open_mode::create));
    if (!opened) {
        ADD_FAILURE() << "open: " << opened.error().message();
        return nullptr;
    }
    return std::move(*opened);
}

// One slot per piece, each holding its piece.
std::vector<buffer_slot> slots_with_pieces(buffer_pool& pool, const test_torrent& t) {
    std::vector<buffer_slot> slots;
    for (piece_index p(0); p.value() < t.info.piece_count(); ++p) {
        auto slot = pool.acquire();
        if (!slot) {
            ADD_FAILURE() << "pool too small";
            break;
        }
        copy_into(*slot, t.piece(p));
        slots.push_back(std::move(*slot));
    }
    return slots;
}

void expect_files(const test_torrent& t, const fs::path& root) {
    for (file_index f(0); f < t.info.files().end_index(); ++f) {
        const auto& file = t.info.files()[f];
        if (!file.pad) {
            EXPECT_EQ(read_disk_file(root / file.relative_path()), t.file_bytes(f))
                << file.relative_path();
        }
    }
}

TEST(write_pieces, neighbouring_pieces_of_one_file_go_out_as_one_direct_write) {
    SPATE_RING_OR_SKIP(r);
    temp_folder dir;
    const test_torrent t = make_torrent("one.bin", {new_file{{}, 8 * 16'384, false}}, 16'384);
    auto pool = buffer_pool::create(r, 16'384, 8);
    ASSERT_TRUE(pool) << pool.error().message();
    auto storage = create_storage(r, t, dir.str());
    ASSERT_TRUE(storage);
    std::vector<buffer_slot> slots = slots_with_pieces(*pool, t);
    std::vector<const buffer_slot*> run;
    for (const buffer_slot& s : slots) {
        run.push_back(&s);
    }
    auto wrote = r.run(storage->write_pieces(piece_index(0), run));
    ASSERT_TRUE(wrote) << wrote.error().message();
    ASSERT_TRUE(r.run(storage->sync()));
    expect_files(t, dir.path());
    EXPECT_EQ(storage->counters().direct_writes + storage->counters().buffered_writes, 1U);
    EXPECT_EQ(storage->counters().direct_writes, 1U);
    r.run(storage->close());
}

TEST(write_pieces, pieces_across_files_and_pad_files_land_where_they_belong) {
    SPATE_RING_OR_SKIP(r);
    temp_folder dir;
    const test_torrent t = padded_torrent(3);
    auto pool = buffer_pool::create(r, 16'384, 8);
    ASSERT_TRUE(pool);
    auto storage = create_storage(r, t, dir.str());
    ASSERT_TRUE(storage);
    std::vector<buffer_slot> slots = slots_with_pieces(*pool, t);
    // Pieces 1..4 (a's tail and pad, all of b, b's pad), then 0 and 5 alone.
    std::vector<const buffer_slot*> middle{&slots[1], &slots[2], &slots[3], &slots[4]};
    ASSERT_TRUE(r.run(storage->write_pieces(piece_index(1), middle)));
    std::vector<const buffer_slot*> first{&slots[0]};
    ASSERT_TRUE(r.run(storage->write_pieces(piece_index(0), first)));
    std::vector<const buffer_slot*> last{&slots[5]};
    ASSERT_TRUE(r.run(storage->write_pieces(piece_index(5), last)));
    ASSERT_TRUE(r.run(storage->sync()));
    expect_files(t, dir.path());
    EXPECT_FALSE(fs::exists(dir.path() / "multi" / ".pad"));
    r.run(storage->close());
}

task<void> write_one(spate::session::piece_writer& writer, piece_index p, const buffer_slot& slot,
                     int& failures) {
    result<void> wrote = co_await writer.write(p, slot);
    if (!wrote) {
        ++failures;
    }
}

task<void> write_all_at_once(spate::session::piece_writer& writer, std::vector<buffer_slot>& slots,
                             int& failures) {
    spate::io::scope writes;
    // Out of order, as verification finishes them.
    const std::vector<std::uint32_t> order{3, 0, 1, 2, 7, 5, 4, 6, 9, 8};
    for (std::uint32_t p : order) {
        writes.spawn(write_one(writer, piece_index(p), slots[p], failures));
    }
    co_await writes.join();
}

TEST(piece_writer, pieces_queued_behind_a_write_go_out_combined) {
    SPATE_RING_OR_SKIP(r);
    temp_folder dir;
    const test_torrent t = make_torrent("ten.bin", {new_file{{}, 10 * 16'384, false}}, 16'384);
    auto pool = buffer_pool::create(r, 16'384, 10);
    ASSERT_TRUE(pool);
    auto storage = create_storage(r, t, dir.str());
    ASSERT_TRUE(storage);
    std::vector<buffer_slot> slots = slots_with_pieces(*pool, t);
    // One write out at a time, up to 4 pieces each.
    spate::session::piece_writer writer(r, *storage, 1, 4 * 16'384);
    int failures = 0;
    r.run(write_all_at_once(writer, slots, failures));
    EXPECT_EQ(failures, 0);
    ASSERT_TRUE(r.run(storage->sync()));
    expect_files(t, dir.path());
    // Piece 3 goes alone (the writer was idle); then 0-2, 4-7 and 8-9 wait and combine.
    EXPECT_EQ(writer.writes(), 4U);
    EXPECT_EQ(storage->counters().direct_writes, 4U);
    r.run(storage->close());
}

TEST(piece_writer, a_failed_write_fails_every_piece_it_carried) {
    SPATE_RING_OR_SKIP(r);
    temp_folder dir;
    const test_torrent t = make_torrent("ten.bin", {new_file{{}, 10 * 16'384, false}}, 16'384);
    auto pool = buffer_pool::create(r, 16'384, 10);
    ASSERT_TRUE(pool);
    // The files exist, but the storage is opened to read them only (as for seeding).
    auto created = create_storage(r, t, dir.str());
    ASSERT_TRUE(created);
    r.run(created->close());
    auto storage = r.run(file_storage::open(r, t.info, dir.str(), {}, open_mode::existing));
    ASSERT_TRUE(storage) << storage.error().message();
    std::vector<buffer_slot> slots = slots_with_pieces(*pool, t);
    spate::session::piece_writer writer(r, **storage, 1, 4 * 16'384);
    int failures = 0;
    r.run(write_all_at_once(writer, slots, failures));
    EXPECT_EQ(failures, 10); // read-only storage: every write refused, every piece told
    r.run((*storage)->close());
}

} // namespace
