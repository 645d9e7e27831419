#include <spate/session/error.hpp>

#include <string>

namespace spate::session {

namespace {

class category final : public std::error_category {
public:
    [[nodiscard]] const char* name() const noexcept override { return "spate.session"; }

    [[nodiscard]] std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
        case errc::banned_for_bad_data:
            return "peer banned: it sent data that failed the piece hash";
        case errc::request_timeout:
            return "peer did not deliver requested blocks in time";
        case errc::connected_to_self:
            return "connected to ourselves";
        case errc::data_changed_on_disk:
            return "a piece read back from disk fails its hash check: the data changed on disk";
        }
        return "unknown session error";
    }
};

} // namespace

const std::error_category& session_category() noexcept {
    static const category instance;
    return instance;
}

std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), session_category()};
}

} // namespace spate::session
