#include <spate/choker/error.hpp>

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <system_error>

namespace {

using spate::choker::errc;

TEST(choker_error, every_code_has_its_own_message) {
    std::set<std::string> messages;
    for (errc e : {errc::no_upload_slots, errc::optimistic_interval_not_positive,
                   errc::new_peer_weight_zero, errc::new_peer_window_negative, errc::burst_zero}) {
        const std::error_code ec = e;
        EXPECT_STREQ(ec.category().name(), "spate.choker");
        EXPECT_NE(ec.message(), "unknown choker error");
        EXPECT_TRUE(messages.insert(ec.message()).second) << ec.message();
    }
    EXPECT_EQ(std::error_code(static_cast<errc>(999)).message(), "unknown choker error");
}

} // namespace
