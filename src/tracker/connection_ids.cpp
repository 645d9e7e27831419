#include <spate/tracker/connection_ids.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <sys/random.h>

#include <cerrno>
#include <cstdlib>

namespace spate::tracker {

namespace {

constexpr int stamp_shift = 48;
constexpr std::uint64_t mac_mask = (std::uint64_t{1} << stamp_shift) - 1;
constexpr std::uint64_t stamp_modulus = std::uint64_t{1} << 16;

std::int64_t whole_seconds(connection_ids::clock::time_point now) {
    return std::chrono::floor<std::chrono::seconds>(now.time_since_epoch()).count();
}

} // namespace

result<connection_ids> connection_ids::create() {
    std::array<std::byte, key_size> key{};
    std::size_t filled = 0;
    // getrandom(2) returns at most 256 bytes at once and can be interrupted before the pool
    // is ready; a handful of tries covers both.
    for (int tries = 0; filled < key.size() && tries < 16; ++tries) {
        ssize_t got = ::getrandom(key.data() + filled, key.size() - filled, 0);
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            return fail(errno_code(errno));
        }
        filled += static_cast<std::size_t>(got);
    }
    if (filled < key.size()) {
        return fail(errno_code(EAGAIN));
    }
    return connection_ids(key);
}

std::uint64_t connection_ids::mac48(const endpoint& client, std::int64_t issue_second) const {
    // family (1) | address (16, IPv4 zero-padded) | port (2) | issue second (8), all fixed
    // width so two different inputs never serialise to the same bytes.
    std::array<unsigned char, 1 + 16 + 2 + 8> message{};
    message[0] = client.is_v4() ? 4 : 6;
    std::span<const std::byte> address = client.address_bytes();
    for (std::size_t i = 0; i < address.size(); ++i) {
        message[1 + i] = static_cast<unsigned char>(address[i]);
    }
    message[17] = static_cast<unsigned char>(client.port() >> 8);
    message[18] = static_cast<unsigned char>(client.port() & 0xff);
    const auto time = static_cast<std::uint64_t>(issue_second);
    for (std::size_t i = 0; i < 8; ++i) {
        message[19 + i] = static_cast<unsigned char>(time >> (56 - 8 * i));
    }

    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int digest_length = 0;
    if (HMAC(EVP_sha256(), m_key.data(), static_cast<int>(m_key.size()), message.data(),
             message.size(), digest.data(), &digest_length) == nullptr ||
        digest_length < 6) {
        // Only an OpenSSL without SHA-256 gets here; handing out ids anyone could forge
        // would be worse than stopping.
        std::abort();
    }
    std::uint64_t mac = 0;
    for (std::size_t i = 0; i < 6; ++i) {
        mac = (mac << 8) | digest[i];
    }
    return mac;
}

std::uint64_t connection_ids::issue(const endpoint& client, clock::time_point now) const {
    const std::int64_t second = whole_seconds(now);
    const auto stamp = static_cast<std::uint64_t>(second) % stamp_modulus;
    return (stamp << stamp_shift) | mac48(client, second);
}

bool connection_ids::valid(std::uint64_t id, const endpoint& client, clock::time_point now) const {
    const std::int64_t now_second = whole_seconds(now);
    const std::uint64_t stamp = id >> stamp_shift;
    // Seconds since the latest second at or before now whose low 16 bits are the stamp.
    const std::uint64_t age = (static_cast<std::uint64_t>(now_second) - stamp) % stamp_modulus;
    if (age >= static_cast<std::uint64_t>(lifetime.count())) {
        return false;
    }
    const std::int64_t issue_second = now_second - static_cast<std::int64_t>(age);
    return (id & mac_mask) == mac48(client, issue_second);
}

} // namespace spate::tracker
