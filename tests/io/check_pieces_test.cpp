#include "storage_test_support.hpp"

#include <spate/io/scope.hpp>
#include <spate/io/timer_ops.hpp>
#include <spate/storage/check_pieces.hpp>
#include <spate/storage/error.hpp>
#include <spate/storage/file_storage.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <stop_token>
#include <utility>
#include <vector>

namespace {

namespace fs = std::filesystem;
using spate::bitfield;
using spate::piece_index;
using spate::result;
using spate::io::buffer_pool;
using spate::io::buffer_slot;
using spate::io::ring;
using spate::io::task;
using spate::storage::check_pieces;
using spate::storage::check_result;
using spate::storage::errc;
using spate::storage::file_storage;
using spate::storage::open_mode;
using namespace spate::storage::testing;

// Lays the torrent's payload down through the storage (create mode), then closes it.
void lay_down(ring& r, const test_torrent& t, const std::string& root) {
    auto pool = buffer_pool::create(r, t.info.piece_length(), 1);
    ASSERT_TRUE(pool) << pool.error().message();
    auto storage = r.run(file_storage::open(r, t.info, root, {}, open_mode::create));
    ASSERT_TRUE(storage) << storage.error().message();
    {
        auto slot = pool->acquire();
        ASSERT_TRUE(slot);
        for (piece_index p(0); p.value() < t.info.piece_count(); ++p) {
            copy_into(*slot, t.piece(p));
            auto wrote = r.run((*storage)->write_piece(p, *slot));
            ASSERT_TRUE(wrote) << wrote.error().message();
        }
    }
    ASSERT_TRUE(r.run((*storage)->sync()));
    r.run((*storage)->close());
}

void flip_byte(const fs::path& path, std::uint64_t offset) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    char c = 0;
    ASSERT_EQ(::pread(fd, &c, 1, static_cast<off_t>(offset)), 1);
    c = static_cast<char>(c ^ 0x5a);
    ASSERT_EQ(::pwrite(fd, &c, 1, static_cast<off_t>(offset)), 1);
    ::close(fd);
}

struct progress_log {
    std::vector<std::pair<std::uint32_t, std::uint32_t>> calls;
};

result<check_result> run_check(ring& r, const test_torrent& t, const std::string& root,
                               buffer_pool& pool, progress_log* log, std::stop_token stop = {},
                               std::uint32_t depth = 8, bitfield which = {}) {
    auto storage = r.run(file_storage::open(r, t.info, root, {}, open_mode::existing));
    if (!storage) {
        return spate::fail(storage.error());
    }
    auto progress = [log](std::uint32_t done, std::uint32_t total) {
        if (log != nullptr) {
            log->calls.emplace_back(done, total);
        }
    };
    auto checked = r.run(check_pieces(r, **storage, t.info, pool, std::move(which), progress,
                                      std::move(stop), depth));
    r.run((*storage)->close());
    return checked;
}

TEST(check_pieces, all_good_after_a_full_write) {
    SPATE_RING_OR_SKIP(r);
    temp_folder dir;
    const test_torrent t = padded_torrent(21);
    lay_down(r, t, dir.str());
    auto pool = buffer_pool::create(r, t.info.piece_length(), 4);
    ASSERT_TRUE(pool);
    progress_log log;
    auto checked = run_check(r, t, dir.str(), *pool, &log);
    ASSERT_TRUE(checked) << checked.error().message();
    EXPECT_TRUE(checked->good.all());
    EXPECT_TRUE(checked->missing.none());
    EXPECT_EQ(checked->bad, 0U);
    ASSERT_EQ(log.calls.size(), t.info.piece_count());
    EXPECT_EQ(log.calls.back(), std::make_pair(t.info.piece_count(), t.info.piece_count()));
    EXPECT_EQ(pool->available(), 4U) << "every slot came back";
}

TEST(check_pieces, finds_bad_and_missing_pieces) {
    SPATE_RING_OR_SKIP(r);
    temp_folder dir;
    const test_torrent t = padded_torrent(22);
    lay_down(r, t, dir.str());
    // Piece 2 is b.bin's first 16 KiB: corrupt one byte. c.bin (piece 5 alone) goes away.
    flip_byte(dir.path() / "multi" / "sub" / "b.bin", 777);
    fs::remove(dir.path() / "multi" / "sub" / "deeper" / "c.bin");
    auto pool = buffer_pool::create(r, t.info.piece_length(), 3);
    ASSERT_TRUE(pool);
    auto checked = run_check(r, t, dir.str(), *pool, nullptr);
    ASSERT_TRUE(checked) << checked.error().message();
    EXPECT_EQ(checked->bad, 1U);
    EXPECT_FALSE(checked->good.test(2U));
    EXPECT_FALSE(checked->missing.test(2U));
    EXPECT_TRUE(checked->missing.test(5U));
    EXPECT_EQ(checked->missing.count(), 1U);
    EXPECT_EQ(checked->good.count(), t.info.piece_count() - 2);
}

TEST(check_pieces, sparse_unwritten_file_is_bad_not_good) {
    SPATE_RING_OR_SKIP(r);
    temp_folder dir;
    const test_torrent t = padded_torrent(23);
    {
        // Create mode lays down sparse files of full length without writing a piece.
        auto storage = r.run(file_storage::open(r, t.info, dir.str(), {}, open_mode::create));
        ASSERT_TRUE(storage);
        r.run((*storage)->close());
    }
    auto pool = buffer_pool::create(r, t.info.piece_length(), 2);
    ASSERT_TRUE(pool);
    auto checked = run_check(r, t, dir.str(), *pool, nullptr);
    ASSERT_TRUE(checked) << checked.error().message();
    EXPECT_TRUE(checked->good.none());
    EXPECT_EQ(checked->bad, t.info.piece_count());
}

TEST(check_pieces, one_slot_and_a_subset) {
    SPATE_RING_OR_SKIP(r);
    temp_folder dir;
    const test_torrent t = padded_torrent(24);
    lay_down(r, t, dir.str());
    flip_byte(dir.path() / "multi" / "a.bin", 3);
    auto pool = buffer_pool::create(r, t.info.piece_length(), 1);
    ASSERT_TRUE(pool);
    bitfield which(t.info.piece_count());
    which.set(0U);
    which.set(3U);
    progress_log log;
    auto checked = run_check(r, t, dir.str(), *pool, &log, {}, 8, which);
    ASSERT_TRUE(checked) << checked.error().message();
    EXPECT_EQ(checked->bad, 1U);
    EXPECT_EQ(checked->good.count(), 1U);
    EXPECT_TRUE(checked->good.test(3U));
    ASSERT_EQ(log.calls.size(), 2U);
    EXPECT_EQ(log.calls.back(), std::make_pair(2U, 2U));
}

TEST(check_pieces, empty_selection_checks_nothing_and_wrong_size_is_refused) {
    SPATE_RING_OR_SKIP(r);
    temp_folder dir;
    const test_torrent t = padded_torrent(27);
    lay_down(r, t, dir.str());
    auto pool = buffer_pool::create(r, t.info.piece_length(), 2);
    ASSERT_TRUE(pool);
    progress_log log;
    auto none = run_check(r, t, dir.str(), *pool, &log, {}, 8, bitfield(t.info.piece_count()));
    ASSERT_TRUE(none) << none.error().message();
    EXPECT_TRUE(none->good.none());
    EXPECT_TRUE(none->missing.none());
    EXPECT_TRUE(log.calls.empty());
    auto wrong = run_check(r, t, dir.str(), *pool, nullptr, {}, 8, bitfield(3, true));
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error(), std::errc::invalid_argument);
}

task<void> give_back_later(ring* r, buffer_slot slot) {
    (void)co_await spate::io::sleep_for(*r, std::chrono::milliseconds(5));
    slot.reset();
}

task<result<check_result>> check_with_empty_pool(ring* r, file_storage* storage,
                                                 const test_torrent* t, buffer_pool* pool) {
    // Every slot is out when the check starts; one comes back a little later.
    auto held = pool->acquire();
    spate::io::scope background;
    background.spawn(give_back_later(r, std::move(*held)));
    auto checked = co_await check_pieces(*r, *storage, t->info, *pool, nullptr, {}, 4);
    co_await background.join();
    co_return checked;
}

TEST(check_pieces, waits_for_a_slot_when_the_pool_is_empty) {
    SPATE_RING_OR_SKIP(r);
    temp_folder dir;
    const test_torrent t = padded_torrent(25);
    lay_down(r, t, dir.str());
    auto pool = buffer_pool::create(r, t.info.piece_length(), 1);
    ASSERT_TRUE(pool);
    auto storage = r.run(file_storage::open(r, t.info, dir.str(), {}, open_mode::existing));
    ASSERT_TRUE(storage);
    auto checked = r.run(check_with_empty_pool(&r, storage->get(), &t, &*pool));
    ASSERT_TRUE(checked) << checked.error().message();
    EXPECT_TRUE(checked->good.all());
    r.run((*storage)->close());
}

TEST(check_pieces, stops_when_asked) {
    SPATE_RING_OR_SKIP(r);
    temp_folder dir;
    const test_torrent t = padded_torrent(26);
    lay_down(r, t, dir.str());
    auto pool = buffer_pool::create(r, t.info.piece_length(), 2);
    ASSERT_TRUE(pool);
    std::stop_source stop;
    stop.request_stop();
    auto checked = run_check(r, t, dir.str(), *pool, nullptr, stop.get_token());
    ASSERT_FALSE(checked);
    EXPECT_EQ(checked.error(), std::errc::operation_canceled);
    EXPECT_EQ(pool->available(), 2U);
}

TEST(check_pieces, refuses_slots_smaller_than_a_piece) {
    SPATE_RING_OR_SKIP(r);
    temp_folder dir;
    const test_torrent t =
        make_torrent("big", {spate::metainfo::new_file{{}, 70'000, false}}, 65'536);
    lay_down(r, t, dir.str());
    auto pool = buffer_pool::create(r, 16'384, 2);
    ASSERT_TRUE(pool);
    auto checked = run_check(r, t, dir.str(), *pool, nullptr);
    ASSERT_FALSE(checked);
    EXPECT_EQ(checked.error(), errc::buffer_too_small);
}

} // namespace
