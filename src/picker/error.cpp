#include <spate/picker/error.hpp>

#include <string>

namespace spate::picker {

namespace {

class category final : public std::error_category {
public:
    [[nodiscard]] const char* name() const noexcept override { return "spate.picker"; }

    [[nodiscard]] std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
        case errc::no_pieces:
            return "torrent geometry has no pieces";
        case errc::piece_length_zero:
            return "torrent geometry has a piece length of zero";
        case errc::total_size_mismatch:
            return "total size does not fill the last piece: it must be more than "
                   "(piece count - 1) and at most piece count times the piece length";
        case errc::piece_too_large:
            return "piece length is larger than 2 GiB: block offsets would not fit 32 bits";
        }
        return "unknown picker error";
    }
};

} // namespace

const std::error_category& picker_category() noexcept {
    static const category instance;
    return instance;
}

std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), picker_category()};
}

} // namespace spate::picker
