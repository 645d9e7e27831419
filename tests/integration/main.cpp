// main() of the integration tests: the whole program is skipped (exit 77, which meson
// counts as a skip and tools/check refuses) when the kernel refuses io_uring, so a refused
// ring can never pass for green. Any other failure to make a ring fails the tests.

#include <spate/io/error.hpp>
#include <spate/io/ring.hpp>

#include <gtest/gtest.h>

#include <cstdio>

int main(int argc, char** argv) {
    if (auto probe = spate::io::ring::create();
        !probe && probe.error() == spate::io::errc::ring_unavailable) {
        std::fprintf(stderr, "integration tests skipped: %s\n", probe.error().message().c_str());
        return 77;
    }
    testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
