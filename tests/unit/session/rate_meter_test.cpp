#include <gtest/gtest.h>
#include <spate/session/rate_meter.hpp>

using namespace std::chrono_literals;
using spate::session::rate_meter;

TEST(rate_meter, steady_flow_reads_its_rate) {
    rate_meter m;
    const rate_meter::clock::time_point t0{};
    for (int i = 0; i <= 100; ++i) {
        m.add(10'000, t0 + i * 100ms);
    }
    EXPECT_NEAR(m.rate(t0 + 10s), 100'000.0, 10'000.0);
    EXPECT_EQ(m.total(), 1'010'000U);
}

TEST(rate_meter, silence_decays_to_zero) {
    rate_meter m;
    const rate_meter::clock::time_point t0{};
    m.add(1'000'000, t0);
    EXPECT_GT(m.rate(t0 + 1s), 0.0);
    EXPECT_EQ(m.rate(t0 + 30s), 0.0);
}

TEST(rate_meter, no_bytes_no_rate) {
    rate_meter m;
    EXPECT_EQ(m.rate(rate_meter::clock::time_point{} + 3s), 0.0);
}
