#include "payload_hasher.hpp"

#include <spate/core/hash.hpp>
#include <spate/io/file_ops.hpp>
#include <spate/io/unique_fd.hpp>

#include <fmt/core.h>

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <span>
#include <system_error>

namespace spate::cli {

namespace {

constexpr std::size_t read_size = 4 << 20;

// Feeds bytes of the stream into per-piece SHA-1s, closing a piece at every boundary.
class piece_stream {
public:
    explicit piece_stream(std::uint64_t piece_length) : m_piece_length(piece_length) {}

    void consume(std::span<const std::byte> data) {
        while (!data.empty()) {
            const auto take = static_cast<std::size_t>(
                std::min<std::uint64_t>(data.size(), m_piece_length - m_in_piece));
            m_hasher.update(data.first(take));
            m_in_piece += take;
            data = data.subspan(take);
            if (m_in_piece == m_piece_length) {
                close_piece();
            }
        }
    }

    /// The hashes, with the shorter last piece closed.
    std::vector<std::byte> finish() {
        if (m_in_piece != 0) {
            close_piece();
        }
        return std::move(m_hashes);
    }

private:
    void close_piece() {
        const sha1_digest digest = m_hasher.final();
        m_hashes.insert(m_hashes.end(), digest.bytes.begin(), digest.bytes.end());
        m_in_piece = 0;
    }

    std::uint64_t m_piece_length;
    std::uint64_t m_in_piece = 0;
    sha1_hasher m_hasher;
    std::vector<std::byte> m_hashes;
};

} // namespace

io::task<tl::expected<std::vector<std::byte>, std::string>>
hash_payload(io::ring& ring, std::vector<payload_file> files, std::uint64_t piece_length,
             progress_line* progress) {
    using failure = tl::unexpected<std::string>;
    piece_stream stream(piece_length);
    std::vector<std::byte> buffer(read_size);
    std::uint64_t total_done = 0;

    for (const payload_file& file : files) {
        auto opened = co_await io::openat(ring, AT_FDCWD, file.disk_path.c_str(), O_RDONLY);
        if (!opened) {
            co_return failure(
                fmt::format("cannot open {}: {}", file.disk_path, opened.error().message()));
        }
        io::unique_fd fd(*opened);
        std::uint64_t offset = 0;
        while (offset < file.length) {
            const auto want =
                static_cast<std::size_t>(std::min<std::uint64_t>(read_size, file.length - offset));
            auto got = co_await io::read(ring, fd.get(), std::span(buffer).first(want), offset);
            if (!got) {
                co_return failure(
                    fmt::format("cannot read {}: {}", file.disk_path, got.error().message()));
            }
            if (*got == 0) {
                co_return failure(fmt::format("{} shrank while it was being hashed",
                                              file.disk_path));
            }
            stream.consume(std::span(buffer).first(*got));
            offset += *got;
            total_done += *got;
            if (progress != nullptr) {
                progress->update(total_done);
            }
        }
        // A file that grew would make the torrent describe data it did not hash.
        struct stat st {};
        if (::fstat(fd.get(), &st) != 0 || static_cast<std::uint64_t>(st.st_size) != file.length) {
            co_return failure(fmt::format("{} changed size while it was being hashed",
                                          file.disk_path));
        }
    }
    co_return stream.finish();
}

} // namespace spate::cli
