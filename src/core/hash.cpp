#include <spate/core/hash.hpp>

#include <openssl/evp.h>

#include <cstdlib>
#include <cstring>
#include <utility>

namespace spate {

namespace {

const EVP_MD* md_for(hash_algorithm algorithm) {
    return algorithm == hash_algorithm::sha1 ? EVP_sha1() : EVP_sha256();
}

EVP_MD_CTX* ctx_of(void* p) { return static_cast<EVP_MD_CTX*>(p); }

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

} // namespace

namespace detail {

evp_hasher::evp_hasher(hash_algorithm algorithm) : m_ctx(EVP_MD_CTX_new()), m_algorithm(algorithm) {
    // Allocation failure of a few hundred bytes or a missing digest is not
    // something the engine can continue from.
    if (m_ctx == nullptr || EVP_DigestInit_ex(ctx_of(m_ctx), md_for(algorithm), nullptr) != 1) {
        std::abort();
    }
}

evp_hasher::~evp_hasher() { EVP_MD_CTX_free(ctx_of(m_ctx)); }

evp_hasher::evp_hasher(evp_hasher&& other) noexcept
    : m_ctx(std::exchange(other.m_ctx, nullptr)), m_algorithm(other.m_algorithm) {}

evp_hasher& evp_hasher::operator=(evp_hasher&& other) noexcept {
    if (this != &other) {
        EVP_MD_CTX_free(ctx_of(m_ctx));
        m_ctx = std::exchange(other.m_ctx, nullptr);
        m_algorithm = other.m_algorithm;
    }
    return *this;
}

void evp_hasher::update(std::span<const std::byte> data) {
    if (!data.empty()) {
        EVP_DigestUpdate(ctx_of(m_ctx), data.data(), data.size());
    }
}

void evp_hasher::final(std::span<std::byte> out) {
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_of(m_ctx), reinterpret_cast<unsigned char*>(out.data()), &len);
}

void evp_hasher::reset() {
    if (EVP_DigestInit_ex(ctx_of(m_ctx), md_for(m_algorithm), nullptr) != 1) {
        std::abort();
    }
}

} // namespace detail

template <std::size_t N>
std::string digest<N>::hex() const {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out(2 * N, '0');
    for (std::size_t i = 0; i < N; ++i) {
        auto b = static_cast<unsigned>(bytes[i]);
        out[2 * i] = digits[b >> 4];
        out[2 * i + 1] = digits[b & 0xf];
    }
    return out;
}

template <std::size_t N>
std::optional<digest<N>> digest<N>::from_hex(std::string_view text) {
    if (text.size() != 2 * N) {
        return std::nullopt;
    }
    digest<N> out;
    for (std::size_t i = 0; i < N; ++i) {
        int hi = hex_value(text[2 * i]);
        int lo = hex_value(text[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return std::nullopt;
        }
        out.bytes[i] = static_cast<std::byte>((hi << 4) | lo);
    }
    return out;
}

template <std::size_t N>
std::optional<digest<N>> digest<N>::from_bytes(std::span<const std::byte> raw) {
    if (raw.size() != N) {
        return std::nullopt;
    }
    digest<N> out;
    std::memcpy(out.bytes.data(), raw.data(), N);
    return out;
}

template struct digest<20>;
template struct digest<32>;

sha1_digest sha1(std::span<const std::byte> data) {
    sha1_hasher h;
    h.update(data);
    return h.final();
}

sha256_digest sha256(std::span<const std::byte> data) {
    sha256_hasher h;
    h.update(data);
    return h.final();
}

} // namespace spate
