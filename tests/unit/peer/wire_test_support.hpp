#pragma once
// Helpers shared by the peer codec tests: a byte builder for hand-made messages and a
// one-line text form of a decoded message, so tables can state what they expect.

#include <spate/peer/message.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace spate::peer::test {

/// Builds wire bytes field by field, big-endian.
class bytes_builder {
public:
    bytes_builder& u8(std::uint8_t v) {
        m_bytes.push_back(static_cast<std::byte>(v));
        return *this;
    }
    bytes_builder& u16(std::uint16_t v) {
        return u8(static_cast<std::uint8_t>(v >> 8)).u8(v & 0xFF);
    }
    bytes_builder& u32(std::uint32_t v) {
        return u16(static_cast<std::uint16_t>(v >> 16)).u16(static_cast<std::uint16_t>(v));
    }
    bytes_builder& fill(std::size_t n, std::uint8_t v) {
        m_bytes.insert(m_bytes.end(), n, static_cast<std::byte>(v));
        return *this;
    }
    [[nodiscard]] std::vector<std::byte> take() { return std::move(m_bytes); }

private:
    std::vector<std::byte> m_bytes;
};

inline std::string hex(std::span<const std::byte> bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (std::byte b : bytes) {
        out += digits[static_cast<unsigned>(b) >> 4];
        out += digits[static_cast<unsigned>(b) & 0xF];
    }
    return out;
}

inline std::string triple_text(const char* name, std::uint32_t piece, std::uint32_t begin,
                               std::uint32_t length) {
    return std::string(name) + " " + std::to_string(piece) + " " + std::to_string(begin) + " " +
           std::to_string(length);
}

/// "have 3", "request 1 0 16384", "bitfield ffc0", ...
inline std::string text(const message& m) {
    struct visitor {
        std::string operator()(const keep_alive&) const { return "keep-alive"; }
        std::string operator()(const choke&) const { return "choke"; }
        std::string operator()(const unchoke&) const { return "unchoke"; }
        std::string operator()(const interested&) const { return "interested"; }
        std::string operator()(const not_interested&) const { return "not interested"; }
        std::string operator()(const have& h) const { return "have " + std::to_string(h.piece); }
        std::string operator()(const bitfield_message& b) const {
            return "bitfield " + hex(b.bits);
        }
        std::string operator()(const request& r) const {
            return triple_text("request", r.piece, r.begin, r.length);
        }
        std::string operator()(const piece_message& p) const {
            return triple_text("piece", p.piece, p.begin, p.length);
        }
        std::string operator()(const cancel& c) const {
            return triple_text("cancel", c.piece, c.begin, c.length);
        }
        std::string operator()(const port& p) const { return "port " + std::to_string(p.value); }
        std::string operator()(const unknown_message& u) const {
            return "unknown " + std::to_string(u.id);
        }
    };
    return std::visit(visitor{}, m);
}

/// The geometry most tests use: 10 pieces of 40000 bytes (blocks 16384, 16384, 7232), the
/// last piece 1000 bytes; its bitfield is 2 bytes with 6 spare bits.
inline wire_geometry sample_geometry() {
    return *wire_geometry::create(10, 40000, 9 * 40000 + 1000);
}

} // namespace spate::peer::test
