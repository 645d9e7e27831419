#include <spate/choker/error.hpp>

#include <string>

namespace spate::choker {

namespace {

class category final : public std::error_category {
public:
    [[nodiscard]] const char* name() const noexcept override { return "spate.choker"; }

    [[nodiscard]] std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
        case errc::no_upload_slots:
            return "choker upload slots is zero: no peer could ever be unchoked by rate";
        case errc::optimistic_interval_not_positive:
            return "optimistic unchoke interval is zero or negative";
        case errc::new_peer_weight_zero:
            return "new peer weight is zero: new peers could never be unchoked optimistically";
        case errc::new_peer_window_negative:
            return "new peer window is negative";
        case errc::burst_zero:
            return "token bucket has a rate but a burst of zero: nothing could ever be granted";
        }
        return "unknown choker error";
    }
};

} // namespace

const std::error_category& choker_category() noexcept {
    static const category instance;
    return instance;
}

std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), choker_category()};
}

} // namespace spate::choker
