#pragma once
/// SHA-1 (BitTorrent v1) and SHA-256 (v2) digests through OpenSSL EVP, incremental.

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace spate {

/// A fixed-size digest value. Ordered and hashable so it can key maps.
template <std::size_t N>
struct digest {
    static constexpr std::size_t size = N;
    std::array<std::byte, N> bytes{};

    auto operator<=>(const digest&) const = default;

    /// Lower-case hexadecimal, 2*N characters.
    [[nodiscard]] std::string hex() const;
    /// Parses exactly 2*N hex digits (either case); nullopt otherwise.
    [[nodiscard]] static std::optional<digest> from_hex(std::string_view text);
    /// Copies exactly N bytes; nullopt when `raw` has another size.
    [[nodiscard]] static std::optional<digest> from_bytes(std::span<const std::byte> raw);

    [[nodiscard]] std::span<const std::byte, N> view() const { return bytes; }
};

using sha1_digest = digest<20>;
using sha256_digest = digest<32>;

enum class hash_algorithm { sha1, sha256 };

namespace detail {
/// Owns one EVP_MD_CTX; move-only. Kept out of line so no OpenSSL header leaks.
class evp_hasher {
public:
    explicit evp_hasher(hash_algorithm algorithm);
    ~evp_hasher();
    evp_hasher(evp_hasher&& other) noexcept;
    evp_hasher& operator=(evp_hasher&& other) noexcept;
    evp_hasher(const evp_hasher&) = delete;
    evp_hasher& operator=(const evp_hasher&) = delete;

    void update(std::span<const std::byte> data);
    void final(std::span<std::byte> out);
    void reset();

private:
    void* m_ctx = nullptr; // EVP_MD_CTX*
    hash_algorithm m_algorithm;
};
} // namespace detail

/// Incremental hasher: update() any number of times, then final() once.
/// final() resets it, so one hasher can hash piece after piece without reallocating.
template <std::size_t N, hash_algorithm A>
class hasher {
public:
    hasher() : m_impl(A) {}
    void update(std::span<const std::byte> data) { m_impl.update(data); }
    void update(std::string_view data) { update(std::as_bytes(std::span(data))); }
    [[nodiscard]] digest<N> final() {
        digest<N> out;
        m_impl.final(out.bytes);
        m_impl.reset();
        return out;
    }

private:
    detail::evp_hasher m_impl;
};

using sha1_hasher = hasher<20, hash_algorithm::sha1>;
using sha256_hasher = hasher<32, hash_algorithm::sha256>;

/// One-shot helpers.
[[nodiscard]] sha1_digest sha1(std::span<const std::byte> data);
[[nodiscard]] sha256_digest sha256(std::span<const std::byte> data);

} // namespace spate

template <std::size_t N>
struct std::hash<spate::digest<N>> {
    std::size_t operator()(const spate::digest<N>& d) const noexcept {
        // Digests are uniformly distributed: the first word is a good hash.
        std::size_t h = 0;
        for (std::size_t i = 0; i < sizeof(h) && i < N; ++i) {
            h = (h << 8) | static_cast<std::size_t>(d.bytes[i]);
        }
        return h;
    }
};
