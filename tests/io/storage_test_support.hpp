#pragma once
// Helpers shared by the storage ring tests: a temporary download folder, torrents made in
// the test with their payload, and pieces copied into pool slots.

#include "test_support.hpp"

#include <spate/core/hash.hpp>
#include <spate/io/buffer_pool.hpp>
#include <spate/metainfo/torrent_info.hpp>
#include <spate/metainfo/torrent_writer.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

namespace spate::storage::testing {

// A fresh folder under /tmp, removed with everything in it.
class temp_folder {
public:
    temp_folder() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "spate-storage-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            ADD_FAILURE() << "mkdtemp failed";
        }
        m_path = pattern;
    }
    temp_folder(const temp_folder&) = delete;
    temp_folder& operator=(const temp_folder&) = delete;
    ~temp_folder() {
        std::error_code ignored;
        std::filesystem::remove_all(m_path, ignored);
    }
    [[nodiscard]] const std::filesystem::path& path() const { return m_path; }
    [[nodiscard]] std::string str() const { return m_path.string(); }

private:
    std::filesystem::path m_path;
};

// A torrent made in the test, with its whole piece stream (pad bytes are zeros).
struct test_torrent {
    metainfo::torrent_info info;
    std::vector<std::byte> stream;

    [[nodiscard]] std::span<const std::byte> piece(piece_index p) const {
        const std::uint64_t start = std::uint64_t{p.value()} * info.piece_length();
        return std::span(stream).subspan(start, info.layout().piece_size(p));
    }
    // The bytes file `f` should hold on disk.
    [[nodiscard]] std::vector<std::byte> file_bytes(file_index f) const {
        const auto& file = info.files()[f];
        const auto begin = stream.begin() + static_cast<std::ptrdiff_t>(file.offset);
        return {begin, begin + static_cast<std::ptrdiff_t>(file.length)};
    }
};

inline std::vector<std::byte> pattern_bytes(std::size_t size, unsigned seed) {
    std::vector<std::byte> data(size);
    std::uint32_t x = seed * 2654435761U + 1;
    for (auto& b : data) {
        x = x * 1664525U + 1013904223U;
        b = static_cast<std::byte>(x >> 24);
    }
    return data;
}

// Files of a torrent to make: path below the name (empty for a single file), length, pad.
inline test_torrent make_torrent(const std::string& name, std::vector<metainfo::new_file> files,
                                 std::uint64_t piece_length, unsigned seed = 1) {
    std::vector<std::byte> stream;
    for (const auto& file : files) {
        if (file.pad) {
            stream.insert(stream.end(), file.length, std::byte{0});
        } else {
            const auto data = pattern_bytes(file.length, seed++);
            stream.insert(stream.end(), data.begin(), data.end());
        }
    }
    metainfo::torrent_spec spec;
    spec.name = name;
    spec.files = std::move(files);
    spec.piece_length = piece_length;
    for (std::size_t at = 0; at < stream.size(); at += piece_length) {
        const std::size_t n = std::min<std::size_t>(piece_length, stream.size() - at);
        const sha1_digest digest = sha1(std::span(stream).subspan(at, n));
        spec.piece_hashes.insert(spec.piece_hashes.end(), digest.bytes.begin(), digest.bytes.end());
    }
    auto bytes = metainfo::write_torrent(spec);
    if (!bytes) {
        ADD_FAILURE() << "write_torrent: " << bytes.error().message();
        std::abort();
    }
    auto parsed = metainfo::parse_torrent(*bytes);
    if (!parsed) {
        ADD_FAILURE() << "parse_torrent: " << parsed.error().message();
        std::abort();
    }
    return test_torrent{std::move(*parsed), std::move(stream)};
}

// A multi-file torrent with BEP 47 pad files aligning b and c to piece boundaries.
inline test_torrent padded_torrent(unsigned seed = 1) {
    using metainfo::new_file;
    return make_torrent(
        "multi",
        {new_file{{"a.bin"}, 20'000, false}, new_file{{".pad", "12768"}, 12'768, true},
         new_file{{"sub", "b.bin"}, 2 * 16'384 + 100, false},
         new_file{{".pad", "16284"}, 16'284, true}, new_file{{"sub", "deeper", "c.bin"}, 5, false}},
        16'384, seed);
}

inline std::vector<std::byte> read_disk_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::byte> out(chars.size());
    std::transform(chars.begin(), chars.end(), out.begin(),
                   [](char c) { return static_cast<std::byte>(c); });
    return out;
}

inline void copy_into(io::buffer_slot& slot, std::span<const std::byte> data) {
    std::copy(data.begin(), data.end(), slot.span().begin());
}

} // namespace spate::storage::testing
