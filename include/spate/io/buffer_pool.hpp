#pragma once
/// buffer_pool: page-aligned memory registered once with a ring (io_uring_register_buffers),
/// handed out as buffer_slot, for read_fixed / write_fixed and piece buffers.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <spate/core/result.hpp>
#include <spate/io/ring.hpp>
#include <vector>

namespace spate::io {

class buffer_pool;

namespace detail {
struct pool_state;
} // namespace detail

/// One registered buffer, owned exclusively (move-only). Destroying or reset()ing it gives
/// it back to the pool. The memory stays valid while the slot is held; the holder must
/// keep the slot until every operation that uses its memory has completed.
class buffer_slot {
public:
    buffer_slot() noexcept = default;
    buffer_slot(buffer_slot&& other) noexcept;
    buffer_slot& operator=(buffer_slot&& other) noexcept;
    buffer_slot(const buffer_slot&) = delete;
    buffer_slot& operator=(const buffer_slot&) = delete;
    ~buffer_slot() { reset(); }

    /// The whole slot: slot_size() bytes, page-aligned.
    [[nodiscard]] std::span<std::byte> span() const noexcept { return m_memory; }
    /// The registered buffer index, for read_fixed / write_fixed.
    [[nodiscard]] std::uint16_t index() const noexcept { return m_index; }
    /// False for an empty (default-constructed or moved-from) slot.
    [[nodiscard]] explicit operator bool() const noexcept { return m_pool != nullptr; }
    /// Returns the slot to its pool now.
    void reset() noexcept;

private:
    friend class buffer_pool;
    buffer_slot(detail::pool_state* pool, std::span<std::byte> memory, std::uint16_t index) noexcept
        : m_pool(pool), m_memory(memory), m_index(index) {}

    detail::pool_state* m_pool = nullptr;
    std::span<std::byte> m_memory;
    std::uint16_t m_index = 0;
};

/// Fixed-size slots carved from one anonymous mapping, each registered as its own
/// io_uring buffer when it is first handed out (a sparse table; all at once on kernels
/// without one), so only the slots in use cost memory. The pool may move (slots point at its heap state), but must outlive
/// its slots (checked: destroying a pool with slots out aborts) and be destroyed before
/// its ring. A ring holds one registered buffer table, so one pool per ring.
class buffer_pool {
public:
    /// Maps slot_count slots of slot_size bytes (rounded up to whole pages) and
    /// registers them. Errors: errc::bad_pool_geometry, errc::buffers_already_registered,
    /// errc::memlock_limit (RLIMIT_MEMLOCK), or the errno of mmap/registration.
    [[nodiscard]] static result<buffer_pool> create(ring& owner, std::size_t slot_size,
                                                    std::uint32_t slot_count);

    buffer_pool(buffer_pool&&) noexcept;
    buffer_pool& operator=(buffer_pool&&) = delete;
    buffer_pool(const buffer_pool&) = delete;
    buffer_pool& operator=(const buffer_pool&) = delete;
    ~buffer_pool();

    /// A free slot, or nullopt when all are out (the caller waits or sheds load), or when
    /// the kernel refuses to register one more (RLIMIT_MEMLOCK).
    [[nodiscard]] std::optional<buffer_slot> acquire() noexcept;

    [[nodiscard]] std::size_t slot_size() const noexcept;
    [[nodiscard]] std::uint32_t capacity() const noexcept;
    [[nodiscard]] std::uint32_t available() const noexcept;

private:
    explicit buffer_pool(std::unique_ptr<detail::pool_state> state) noexcept;

    std::unique_ptr<detail::pool_state> m_state;
};

} // namespace spate::io
