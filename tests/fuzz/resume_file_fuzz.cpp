// Fuzz target for decode_resume(): any input either fails cleanly with a storage error or
// decodes to data that matches the expected geometry and re-encodes to exactly the input
// (the format is canonical). A violated invariant aborts.

#include <spate/core/hash.hpp>
#include <spate/storage/error.hpp>
#include <spate/storage/resume_file.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

namespace {

void require(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "resume invariant violated: %s\n", what);
        std::abort();
    }
}

// The geometry the corpus files were written for: info-hash bytes 0..19, 13 pieces, 3 files.
spate::sha1_digest expected_hash() {
    spate::sha1_digest d;
    for (std::size_t i = 0; i < d.bytes.size(); ++i) {
        d.bytes[i] = static_cast<std::byte>(i);
    }
    return d;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::byte> input(reinterpret_cast<const std::byte*>(data), size);
    const spate::sha1_digest hash = expected_hash();
    constexpr std::uint32_t pieces = 13;
    constexpr std::size_t files = 3;
    auto decoded = spate::storage::decode_resume(input, hash, pieces, files);
    if (!decoded) {
        require(decoded.error().category() == spate::storage::storage_category(),
                "error outside the storage category");
        require(!decoded.error().message().empty(), "error without a message");
        return 0;
    }
    require(decoded->info_hash == hash, "accepted another info-hash");
    require(decoded->have.size() == pieces, "accepted another piece count");
    require(decoded->files.size() == files, "accepted another file count");
    require(decoded->have.count() <= pieces, "bit count past the piece count");
    const auto again = spate::storage::encode_resume(*decoded);
    require(again.size() == input.size() && std::equal(again.begin(), again.end(), input.begin()),
            "accepted input is not canonical");
    return 0;
}
