// Fuzz target for parse_magnet(): any input either fails cleanly or yields a value that
// to_string() writes back as a URI parsing to the same value. Violations abort.

#include <spate/metainfo/magnet.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto uri = spate::metainfo::parse_magnet(text);
    if (!uri) {
        return 0;
    }
    const auto written = to_string(*uri);
    auto again = spate::metainfo::parse_magnet(written);
    if (!again || *again != *uri || to_string(*again) != written) {
        std::fprintf(stderr, "magnet round trip failed: %s\n", written.c_str());
        std::abort();
    }
    return 0;
}
