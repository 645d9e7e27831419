#pragma once
/// completion: what a CQE's user_data points at. Every submission the engine makes
/// carries the address of a completion record that lives in the awaiting operation.

#include <cstdint>

namespace spate::io::detail {

/// Which of an operation's submissions a CQE answers. Stored in the two low bits of
/// user_data, which are free because completion records are at least 4-aligned.
enum class cqe_role : unsigned {
    main = 0,         ///< the operation itself
    link_timeout = 1, ///< its IORING_OP_LINK_TIMEOUT (a deadline)
    cancel = 2,       ///< the IORING_OP_ASYNC_CANCEL a stop request sent for it
};

/// A completion record. The owner (an operation awaiter) must stay alive and unmoved
/// until every CQE it asked for has been delivered to complete().
class completion {
public:
    using handler = void (*)(completion& self, cqe_role role, int res,
                             std::uint32_t flags) noexcept;

    explicit completion(handler on_cqe) noexcept : m_on_cqe(on_cqe) {}

    /// The user_data of a submission made for `role`.
    [[nodiscard]] std::uint64_t user_data(cqe_role role) const noexcept {
        return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(this)) |
               static_cast<std::uint64_t>(role);
    }

    /// Routes one CQE to the record its user_data names.
    static void dispatch(std::uint64_t user_data, int res, std::uint32_t flags) noexcept {
        auto* self = reinterpret_cast<completion*>(
            static_cast<std::uintptr_t>(user_data & ~std::uint64_t{role_mask}));
        self->m_on_cqe(*self, static_cast<cqe_role>(user_data & role_mask), res, flags);
    }

    static constexpr std::uint64_t role_mask = 3;

private:
    handler m_on_cqe;
};

static_assert(alignof(completion) > completion::role_mask, "role bits need free low bits");

} // namespace spate::io::detail
