#include <spate/swarm/synthetic_identity.hpp>

#include <string>
#include <system_error>

namespace spate::swarm {

result<std::vector<std::uint32_t>> synthetic_addresses(std::uint32_t first, std::size_t count) {
    std::vector<std::uint32_t> out;
    out.reserve(count);
    std::uint32_t next = first;
    while (out.size() < count) {
        if ((next >> 24) != 127) {
            return fail(std::make_error_code(std::errc::invalid_argument));
        }
        const std::uint32_t last = next & 0xFF;
        if (last != 0 && last != 255) {
            out.push_back(next);
        }
        ++next;
    }
    return out;
}

endpoint synthetic_endpoint(std::uint32_t address, std::uint16_t port) {
    const std::string text = std::to_string(address >> 24) + "." +
                             std::to_string((address >> 16) & 0xFF) + "." +
                             std::to_string((address >> 8) & 0xFF) + "." +
                             std::to_string(address & 0xFF) + ":" + std::to_string(port);
    return endpoint::parse(text).value_or(endpoint{});
}

peer::peer_id synthetic_peer_id(std::string_view tag, std::size_t index) {
    peer::peer_id id{};
    std::string text = "-";
    text += tag;
    text += "0100-peer";
    text += std::to_string(100'000'000 + index % 100'000'000).substr(1);
    for (std::size_t i = 0; i < id.size() && i < text.size(); ++i) {
        id[i] = static_cast<std::byte>(text[i]);
    }
    return id;
}

} // namespace spate::swarm
