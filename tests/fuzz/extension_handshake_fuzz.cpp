// Fuzz target for the BEP 10 extension handshake (peer/extension_handshake.hpp): any
// payload either fails cleanly or gives a value within the documented bounds, which
// encodes to a payload that decodes to the same value. Violations abort.

#include <spate/peer/extension_handshake.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

namespace {

void require(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "extension handshake invariant violated: %s\n", what);
        std::abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace spate::peer;
    const std::span<const std::byte> payload(reinterpret_cast<const std::byte*>(data), size);
    auto h = decode_extension_handshake(payload);
    if (!h) {
        return 0;
    }
    require(size <= max_extension_handshake, "oversized payload accepted");
    require(h->messages.size() <= max_extension_names, "too many names kept");
    for (const auto& [name, id] : h->messages) {
        require(!name.empty() && name.size() <= max_extension_name, "name out of bounds");
        require(id != 0, "a disabled extension kept");
    }
    require(!h->listen_port || *h->listen_port != 0, "port 0 kept");
    require(!h->request_queue || *h->request_queue != 0, "reqq 0 kept");
    require(h->client.size() <= max_client_name, "client name not cut");
    require(h->your_ip.empty() || h->your_ip.size() == 4 || h->your_ip.size() == 16,
            "yourip of a strange length kept");
    const auto again = decode_extension_handshake(encode_extension_handshake(*h));
    require(again.has_value() && *again == *h, "encode then decode changes the value");
    return 0;
}
