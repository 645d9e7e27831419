#include <spate/io/error.hpp>
#include <string>

namespace spate::io {
namespace {

class category final : public std::error_category {
public:
    [[nodiscard]] const char* name() const noexcept override { return "spate.io"; }

    [[nodiscard]] std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
        case errc::ring_unavailable:
            return "io_uring is not available: the kernel lacks it or refuses it "
                   "(check sysctl kernel.io_uring_disabled, seccomp or container policy)";
        case errc::memlock_limit:
            return "registering buffers with io_uring exceeds the locked-memory limit "
                   "(RLIMIT_MEMLOCK; raise it with `ulimit -l` or lower the buffer budget)";
        case errc::buffers_already_registered:
            return "this io_uring already has a registered buffer pool";
        case errc::bad_pool_geometry:
            return "buffer pool geometry out of range (1 to 16384 slots of 1 byte to 1 GiB)";
        case errc::too_many_buffers:
            return "too many scatter/gather buffers for one operation";
        }
        return "unknown spate.io error";
    }
};

} // namespace

const std::error_category& io_category() noexcept {
    static const category instance;
    return instance;
}

} // namespace spate::io
