#include "storage_test_support.hpp"

#include <spate/storage/error.hpp>
#include <spate/storage/file_storage.hpp>
#include <spate/storage/resume_file.hpp>
#include <spate/storage/resume_store.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

namespace {

namespace fs = std::filesystem;
using spate::bitfield;
using spate::piece_index;
using spate::io::buffer_pool;
using spate::io::ring;
using spate::storage::errc;
using spate::storage::fast_resume_have;
using spate::storage::file_stat;
using spate::storage::file_storage;
using spate::storage::load_resume;
using spate::storage::open_mode;
using spate::storage::resume_data;
using spate::storage::resume_path;
using spate::storage::save_resume;
using namespace spate::storage::testing;

resume_data sample(const test_torrent& t) {
    resume_data data;
    data.info_hash = t.info.info_hash();
    data.have = bitfield(t.info.piece_count());
    data.have.set(1U);
    data.have.set(t.info.piece_count() - 1);
    data.files.assign(t.info.files().size(), file_stat{12, 34});
    return data;
}

TEST(resume_store, save_then_load_round_trips) {
    SPATE_RING_OR_SKIP(r);
    temp_folder dir;
    const test_torrent t = padded_torrent();
    const resume_data data = sample(t);
    auto saved = r.run(save_resume(r, dir.str(), data));
    ASSERT_TRUE(saved) << saved.error().message();
    EXPECT_TRUE(fs::is_regular_file(dir.path() / resume_path(t.info.info_hash())));
    EXPECT_EQ(resume_path(t.info.info_hash()), ".spate/" + t.info.info_hash().hex() + ".resume");
    // Only the resume file is left: no temporary file.
    EXPECT_EQ(
        std::distance(fs::directory_iterator(dir.path() / ".spate"), fs::directory_iterator{}), 1);

    auto loaded = r.run(
        load_resume(r, dir.str(), t.info.info_hash(), t.info.piece_count(), t.info.files().size()));
    ASSERT_TRUE(loaded) << loaded.error().message();
    ASSERT_TRUE(loaded->has_value());
    EXPECT_EQ(**loaded, data);
}

TEST(resume_store, save_replaces_the_previous_file) {
    SPATE_RING_OR_SKIP(r);
    temp_folder dir;
    const test_torrent t = padded_torrent();
    resume_data data = sample(t);
    ASSERT_TRUE(r.run(save_resume(r, dir.str(), data)));
    data.have.set_all();
    ASSERT_TRUE(r.run(save_resume(r, dir.str(), data)));
    auto loaded = r.run(
        load_resume(r, dir.str(), t.info.info_hash(), t.info.piece_count(), t.info.files().size()));
    ASSERT_TRUE(loaded && loaded->has_value());
    EXPECT_TRUE((*loaded)->have.all());
}

TEST(resume_store, none_is_nullopt) {
    SPATE_RING_OR_SKIP(r);
    temp_folder dir;
    const test_torrent t = padded_torrent();
    auto loaded = r.run(
        load_resume(r, dir.str(), t.info.info_hash(), t.info.piece_count(), t.info.files().size()));
    ASSERT_TRUE(loaded) << loaded.error().message();
    EXPECT_FALSE(loaded->has_value());
    auto no_folder = r.run(load_resume(r, (dir.path() / "absent").string(), t.info.info_hash(),
                                       t.info.piece_count(), t.info.files().size()));
    ASSERT_TRUE(no_folder);
    EXPECT_FALSE(no_folder->has_value());
}

TEST(resume_store, corrupt_or_foreign_file_is_an_error) {
    SPATE_RING_OR_SKIP(r);
    temp_folder dir;
    const test_torrent t = padded_torrent();
    ASSERT_TRUE(r.run(save_resume(r, dir.str(), sample(t))));
    // Another geometry: the same file read for a torrent with one more piece.
    auto foreign = r.run(load_resume(r, dir.str(), t.info.info_hash(), t.info.piece_count() + 1,
                                     t.info.files().size()));
    ASSERT_FALSE(foreign);
    EXPECT_EQ(foreign.error(), errc::resume_mismatch);
    { std::ofstream(dir.path() / resume_path(t.info.info_hash()), std::ios::trunc) << "d4:junk"; }
    auto corrupt = r.run(
        load_resume(r, dir.str(), t.info.info_hash(), t.info.piece_count(), t.info.files().size()));
    ASSERT_FALSE(corrupt);
    EXPECT_EQ(corrupt.error(), errc::resume_corrupt);
}

TEST(resume_store, refuses_a_symlinked_resume_folder) {
    SPATE_RING_OR_SKIP(r);
    temp_folder dir;
    temp_folder outside;
    const test_torrent t = padded_torrent();
    fs::create_directory_symlink(outside.path(), dir.path() / ".spate");
    auto saved = r.run(save_resume(r, dir.str(), sample(t)));
    ASSERT_FALSE(saved);
    EXPECT_EQ(saved.error(), errc::unsafe_path);
    EXPECT_TRUE(fs::is_empty(outside.path()));
    auto loaded = r.run(
        load_resume(r, dir.str(), t.info.info_hash(), t.info.piece_count(), t.info.files().size()));
    ASSERT_FALSE(loaded);
    EXPECT_EQ(loaded.error(), errc::unsafe_path);
}

TEST(resume_store, a_changed_file_disables_fast_resume) {
    SPATE_RING_OR_SKIP(r);
    temp_folder dir;
    const test_torrent t = padded_torrent(31);
    auto pool = buffer_pool::create(r, t.info.piece_length(), 1);
    ASSERT_TRUE(pool);
    auto storage = r.run(file_storage::open(r, t.info, dir.str(), {}, open_mode::create));
    ASSERT_TRUE(storage) << storage.error().message();
    resume_data data;
    data.info_hash = t.info.info_hash();
    data.have = bitfield(t.info.piece_count());
    {
        auto slot = pool->acquire();
        ASSERT_TRUE(slot);
        for (piece_index p(0); p.value() < 3; ++p) {
            copy_into(*slot, t.piece(p));
            ASSERT_TRUE(r.run((*storage)->write_piece(p, *slot)));
            data.have.set(p);
        }
    }
    ASSERT_TRUE(r.run((*storage)->sync()));
    auto stats = (*storage)->stat_files();
    ASSERT_TRUE(stats) << stats.error().message();
    data.files = *stats;
    ASSERT_TRUE(r.run(save_resume(r, dir.str(), data)));
    r.run((*storage)->close());

    auto reopened = r.run(file_storage::open(r, t.info, dir.str(), {}, open_mode::existing));
    ASSERT_TRUE(reopened);
    auto loaded = r.run(
        load_resume(r, dir.str(), t.info.info_hash(), t.info.piece_count(), t.info.files().size()));
    ASSERT_TRUE(loaded && loaded->has_value());
    auto now = (*reopened)->stat_files();
    ASSERT_TRUE(now);
    auto trusted = fast_resume_have(**loaded, *now);
    ASSERT_TRUE(trusted) << "unchanged files must allow fast resume";
    EXPECT_EQ(trusted->count(), 3U);

    // Touch a.bin's mtime only (same size): the resume file may no longer be trusted.
    const fs::path a = dir.path() / "multi" / "a.bin";
    const timespec times[2] = {{0, UTIME_OMIT}, {1'000'000, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, a.c_str(), times, 0), 0);
    auto touched = (*reopened)->stat_files();
    ASSERT_TRUE(touched);
    EXPECT_FALSE(fast_resume_have(**loaded, *touched));
    r.run((*reopened)->close());
}

} // namespace
