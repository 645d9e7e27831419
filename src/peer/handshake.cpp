#include <spate/peer/error.hpp>
#include <spate/peer/handshake.hpp>

#include <algorithm>
#include <cassert>
#include <cstring>

namespace spate::peer {

namespace {

constexpr std::size_t pstr_end = 1 + protocol_string.size(); // 20
static_assert(pstr_end == handshake_reserved_offset);
static_assert(handshake_peer_id_offset + sizeof(peer_id) == handshake_size);

constexpr std::string_view client_prefix = "-SP0100-";

void copy_text(std::string_view text, std::span<std::byte> out) {
    std::memcpy(out.data(), text.data(), text.size());
}

} // namespace

void encode_handshake(const handshake& h, std::span<std::byte, handshake_size> out) noexcept {
    out[0] = static_cast<std::byte>(protocol_string.size());
    copy_text(protocol_string, out.subspan(1, protocol_string.size()));
    std::ranges::copy(h.reserved, out.begin() + handshake_reserved_offset);
    std::ranges::copy(h.info_hash.bytes, out.begin() + handshake_info_hash_offset);
    std::ranges::copy(h.id, out.begin() + handshake_peer_id_offset);
}

result<void> check_protocol_prefix(std::span<const std::byte> prefix) {
    if (prefix.size() < pstr_end || prefix[0] != static_cast<std::byte>(protocol_string.size()) ||
        std::memcmp(prefix.data() + 1, protocol_string.data(), protocol_string.size()) != 0) {
        return fail(errc::bad_protocol_string);
    }
    return {};
}

result<handshake> decode_handshake(std::span<const std::byte, handshake_size> in) {
    if (auto ok = check_protocol_prefix(in); !ok) {
        return fail(ok.error());
    }
    handshake h;
    std::ranges::copy(in.subspan<handshake_reserved_offset, 8>(), h.reserved.begin());
    std::ranges::copy(in.subspan<handshake_info_hash_offset, 20>(), h.info_hash.bytes.begin());
    std::ranges::copy(in.subspan<handshake_peer_id_offset, 20>(), h.id.begin());
    return h;
}

peer_id make_peer_id(std::span<const std::byte> random_12_bytes) {
    assert(random_12_bytes.size() == sizeof(peer_id) - client_prefix.size());
    peer_id id{};
    copy_text(client_prefix, id);
    const std::size_t n = std::min(random_12_bytes.size(), sizeof(peer_id) - client_prefix.size());
    std::copy_n(random_12_bytes.begin(), n, id.begin() + client_prefix.size());
    return id;
}

} // namespace spate::peer
