#include <spate/core/hash.hpp>
#include <spate/swarm/synthetic_payload.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace spate::swarm {

namespace {

constexpr std::uint64_t max_pool_bytes = 64ULL << 20;

// splitmix64: fast, and every seed gives a full-period stream.
std::uint64_t next_random(std::uint64_t& state) noexcept {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

bool valid_piece_length(std::uint64_t length) noexcept {
    return length >= 16 * 1024 && length <= (512ULL << 20) && (length & (length - 1)) == 0;
}

} // namespace

result<synthetic_payload> synthetic_payload::create(const payload_shape& shape) {
    if (shape.total_size == 0 || !valid_piece_length(shape.piece_length) || shape.files == 0 ||
        shape.files > shape.total_size) {
        return fail(std::make_error_code(std::errc::invalid_argument));
    }
    synthetic_payload out(shape);
    const std::uint64_t pieces = (shape.total_size + shape.piece_length - 1) / shape.piece_length;
    if (pieces > UINT32_MAX) {
        return fail(std::make_error_code(std::errc::invalid_argument));
    }
    out.m_piece_count = static_cast<std::uint32_t>(pieces);
    // A power of two, so the per-piece offsets below are distinct modulo it.
    std::uint64_t pool = 8;
    while (pool < std::min(shape.total_size, max_pool_bytes)) {
        pool *= 2;
    }
    out.m_pool_bytes = pool;
    out.m_pool.resize(pool + shape.piece_length);
    std::uint64_t state = shape.seed;
    for (std::size_t i = 0; i + 8 <= out.m_pool.size(); i += 8) {
        const std::uint64_t word = next_random(state);
        std::memcpy(out.m_pool.data() + i, &word, 8);
    }
    return out;
}

std::span<const std::byte> synthetic_payload::piece(piece_index p) const noexcept {
    const std::uint64_t index = p.value();
    const std::uint64_t begin = index * m_shape.piece_length;
    const std::uint64_t length = std::min(m_shape.piece_length, m_shape.total_size - begin);
    // An odd multiplier is a bijection modulo a power of two: distinct pieces start at
    // distinct 8-byte offsets while the index is below pool/8.
    const std::uint64_t words = m_pool_bytes / 8;
    const std::uint64_t offset = ((index * 0x9E3779B97F4A7C15ULL) & (words - 1)) * 8;
    return std::span<const std::byte>(m_pool).subspan(offset, length);
}

std::vector<metainfo::new_file> synthetic_payload::files() const {
    std::vector<metainfo::new_file> out;
    if (m_shape.files == 1) {
        out.push_back(metainfo::new_file{{}, m_shape.total_size, false});
        return out;
    }
    const std::uint64_t each = m_shape.total_size / m_shape.files;
    for (std::uint32_t i = 0; i < m_shape.files; ++i) {
        char name[32];
        std::snprintf(name, sizeof(name), "file-%05u.bin", i);
        const std::uint64_t length =
            i + 1 == m_shape.files ? m_shape.total_size - each * (m_shape.files - 1) : each;
        out.push_back(metainfo::new_file{{name}, length, false});
    }
    return out;
}

metainfo::torrent_spec synthetic_payload::torrent(const std::string& name,
                                                  const std::vector<std::string>& trackers) const {
    metainfo::torrent_spec spec;
    spec.name = name;
    spec.files = files();
    spec.piece_length = m_shape.piece_length;
    spec.piece_hashes.reserve(std::size_t{m_piece_count} * 20);
    for (std::uint32_t p = 0; p < m_piece_count; ++p) {
        const sha1_digest digest = sha1(piece(piece_index(p)));
        spec.piece_hashes.insert(spec.piece_hashes.end(), digest.bytes.begin(), digest.bytes.end());
    }
    for (const std::string& url : trackers) {
        spec.trackers.push_back({url});
    }
    spec.created_by = "spate swarm";
    return spec;
}

result<void> synthetic_payload::write_files(const std::string& folder,
                                            const std::string& name) const {
    const std::vector<metainfo::new_file> layout = files();
    std::uint64_t offset = 0; // in the payload
    for (const metainfo::new_file& file : layout) {
        std::filesystem::path path = std::filesystem::path(folder) / name;
        for (const std::string& part : file.path) {
            path /= part;
        }
        std::error_code ec;
        std::filesystem::create_directories(path.parent_path(), ec);
        const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
            return fail(errno_code(errno));
        }
        std::uint64_t left = file.length;
        while (left > 0) {
            const std::uint64_t p = offset / m_shape.piece_length;
            const std::uint64_t within = offset % m_shape.piece_length;
            std::span<const std::byte> bytes = piece(piece_index(static_cast<std::uint32_t>(p)));
            const std::size_t n = static_cast<std::size_t>(std::min(left, bytes.size() - within));
            const ssize_t wrote = ::write(fd, bytes.data() + within, n);
            if (wrote <= 0) {
                const int error = wrote < 0 ? errno : EIO;
                ::close(fd);
                return fail(errno_code(error));
            }
            offset += static_cast<std::uint64_t>(wrote);
            left -= static_cast<std::uint64_t>(wrote);
        }
        ::close(fd);
    }
    return {};
}

} // namespace spate::swarm
