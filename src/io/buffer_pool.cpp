#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <spate/io/buffer_pool.hpp>
#include <spate/io/error.hpp>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>
#include <utility>

namespace spate::io {
namespace detail {

struct pool_state {
    ring* owner = nullptr;
    std::byte* memory = nullptr;
    std::size_t mapped_size = 0;
    std::size_t slot_size = 0;
    std::uint32_t slot_count = 0;
    bool registered = false;
    // With a sparse table, a slot is registered (its pages pinned, so faulted in and
    // zeroed) when it is first handed out: a pool sized for the worst case costs only the
    // slots a run really uses. Without one (older kernels), all are registered at once.
    bool sparse = false;
    std::vector<bool> slot_registered;
    std::vector<std::uint16_t> free_slots; // a stack: the most recently freed is warm

    // Registers slot `index` now if the table is sparse and it is not yet; false when the
    // kernel refuses (the memlock limit, say).
    bool ensure_registered(std::uint16_t index) noexcept {
        if (!sparse || slot_registered[index]) {
            return true;
        }
        iovec one{memory + std::size_t{index} * slot_size, slot_size};
        // io_uring_register_buffers_update_tag(3): fills one entry of the sparse table.
        if (io_uring_register_buffers_update_tag(owner->native(), index, &one, nullptr, 1) < 0) {
            return false;
        }
        slot_registered[index] = true;
        return true;
    }

    ~pool_state() {
        if (registered) {
            // io_uring_unregister_buffers(3)
            io_uring_unregister_buffers(owner->native());
        }
        if (memory != nullptr) {
            ::munmap(memory, mapped_size);
        }
    }
};

} // namespace detail

namespace {

// io_uring refuses more registered buffers than this (IORING_MAX_REG_BUFFERS) and single
// buffers over 1 GiB.
constexpr std::uint32_t max_slots = 1U << 14;
constexpr std::size_t max_slot_size = std::size_t{1} << 30;

} // namespace

buffer_slot::buffer_slot(buffer_slot&& other) noexcept
    : m_pool(std::exchange(other.m_pool, nullptr)), m_memory(std::exchange(other.m_memory, {})),
      m_index(other.m_index) {}

buffer_slot& buffer_slot::operator=(buffer_slot&& other) noexcept {
    if (this != &other) {
        reset();
        m_pool = std::exchange(other.m_pool, nullptr);
        m_memory = std::exchange(other.m_memory, {});
        m_index = other.m_index;
    }
    return *this;
}

void buffer_slot::reset() noexcept {
    if (m_pool != nullptr) {
        m_pool->free_slots.push_back(m_index);
        m_pool = nullptr;
        m_memory = {};
    }
}

result<buffer_pool> buffer_pool::create(ring& owner, std::size_t slot_size,
                                        std::uint32_t slot_count) {
    if (slot_size == 0 || slot_size > max_slot_size || slot_count == 0 || slot_count > max_slots) {
        return fail(errc::bad_pool_geometry);
    }
    auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    auto state = std::make_unique<detail::pool_state>();
    state->owner = &owner;
    state->slot_size = (slot_size + page - 1) / page * page;
    state->slot_count = slot_count;
    state->mapped_size = state->slot_size * slot_count;

    // mmap(2): page-aligned, zeroed, and not part of the heap, so a stray heap write
    // cannot land in a buffer the kernel is filling.
    void* memory = ::mmap(nullptr, state->mapped_size, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) {
        return fail(errno_code(errno));
    }
    state->memory = static_cast<std::byte*>(memory);

    // io_uring_register_buffers_sparse(3): an empty table of slot_count entries (kernel
    // 5.19 and later); slots are registered one by one as they are first used.
    int rc = io_uring_register_buffers_sparse(owner.native(), slot_count);
    if (rc == 0) {
        state->sparse = true;
        state->slot_registered.assign(slot_count, false);
    } else if (rc != -EBUSY) {
        std::vector<iovec> iovecs(slot_count);
        for (std::uint32_t i = 0; i < slot_count; ++i) {
            iovecs[i].iov_base = state->memory + std::size_t{i} * state->slot_size;
            iovecs[i].iov_len = state->slot_size;
        }
        // io_uring_register_buffers(3): pins the pages; returns -errno.
        rc = io_uring_register_buffers(owner.native(), iovecs.data(), slot_count);
    }
    if (rc < 0) {
        if (rc == -ENOMEM) {
            return fail(errc::memlock_limit);
        }
        if (rc == -EBUSY) {
            return fail(errc::buffers_already_registered);
        }
        return fail(errno_code(-rc));
    }
    state->registered = true;

    state->free_slots.reserve(slot_count);
    for (std::uint32_t i = slot_count; i > 0; --i) {
        state->free_slots.push_back(static_cast<std::uint16_t>(i - 1));
    }
    return buffer_pool(std::move(state));
}

buffer_pool::buffer_pool(std::unique_ptr<detail::pool_state> state) noexcept
    : m_state(std::move(state)) {}

buffer_pool::buffer_pool(buffer_pool&&) noexcept = default;

buffer_pool::~buffer_pool() {
    if (m_state && m_state->free_slots.size() != m_state->slot_count) {
        std::fprintf(stderr, "spate::io::buffer_pool destroyed with %zu slot(s) still out\n",
                     m_state->slot_count - m_state->free_slots.size());
        std::abort();
    }
}

std::optional<buffer_slot> buffer_pool::acquire() noexcept {
    if (m_state->free_slots.empty()) {
        return std::nullopt;
    }
    std::uint16_t index = m_state->free_slots.back();
    if (!m_state->ensure_registered(index)) {
        return std::nullopt; // the kernel refuses to pin more: as if every slot were out
    }
    m_state->free_slots.pop_back();
    std::span<std::byte> memory(m_state->memory + std::size_t{index} * m_state->slot_size,
                                m_state->slot_size);
    return buffer_slot(m_state.get(), memory, index);
}

std::size_t buffer_pool::slot_size() const noexcept {
    return m_state->slot_size;
}
std::uint32_t buffer_pool::capacity() const noexcept {
    return m_state->slot_count;
}
std::uint32_t buffer_pool::available() const noexcept {
    return static_cast<std::uint32_t>(m_state->free_slots.size());
}

} // namespace spate::io
