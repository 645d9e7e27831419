#include <spate/core/hash.hpp>
#include <spate/io/scope.hpp>
#include <spate/io/timer_ops.hpp>
#include <spate/storage/check_pieces.hpp>
#include <spate/storage/error.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <utility>
#include <vector>

namespace spate::storage {

namespace {

// What the workers of one check share; lives in check_pieces' frame, which outlives them
// (it awaits their scope).
struct check_state {
    io::ring& ring;
    file_storage& storage;
    const metainfo::torrent_info& torrent;
    io::buffer_pool& pool;
    io::scope& workers;
    std::function<void(std::uint32_t, std::uint32_t)> progress;
    std::stop_token stop;
    std::vector<piece_index> todo;
    std::size_t next = 0;
    std::uint32_t done = 0;
    std::uint32_t running = 0;
    std::uint32_t depth = 1;
    check_result out;
    std::error_code error;

    [[nodiscard]] bool should_continue() const {
        return next < todo.size() && !error && !stop.stop_requested();
    }
};

io::task<void> check_worker(check_state* state, io::buffer_slot slot);

// Starts another worker when the pipeline is below depth and the pool has a slot free.
void maybe_grow(check_state& state) {
    // A new worker takes the next piece at once, so should_continue() also keeps workers
    // from outnumbering the pieces left.
    while (state.running < state.depth && state.should_continue()) {
        std::optional<io::buffer_slot> slot = state.pool.acquire();
        if (!slot) {
            return;
        }
        ++state.running;
        state.workers.spawn(check_worker(&state, std::move(*slot)));
    }
}

io::task<void> check_worker(check_state* state, io::buffer_slot slot) {
    while (state->should_continue()) {
        const piece_index piece = state->todo[state->next++];
        const auto size = static_cast<std::size_t>(state->torrent.layout().piece_size(piece));
        const std::span<std::byte> into = slot.span().first(size);
        auto read = co_await state->storage.read(piece, 0, into, slot.index());
        if (read) {
            if (sha1(into) == state->torrent.piece_hash(piece)) {
                state->out.good.set(piece);
            } else {
                ++state->out.bad;
            }
        } else if (read.error() == errc::data_missing) {
            state->out.missing.set(piece);
        } else {
            if (!state->error) {
                state->error = read.error();
            }
            break;
        }
        ++state->done;
        if (state->progress) {
            state->progress(state->done, static_cast<std::uint32_t>(state->todo.size()));
        }
        maybe_grow(*state);
    }
    --state->running;
}

} // namespace

io::task<result<check_result>>
check_pieces(io::ring& ring, file_storage& storage, const metainfo::torrent_info& torrent,
             io::buffer_pool& pool, bitfield which,
             std::function<void(std::uint32_t, std::uint32_t)> progress, std::stop_token stop,
             std::uint32_t depth) {
    if (pool.slot_size() < torrent.piece_length()) {
        co_return fail(errc::buffer_too_small);
    }
    io::scope workers;
    check_state state{ring, storage, torrent, pool, workers, std::move(progress),
                      stop, {},      0,       0,    0,       std::max<std::uint32_t>(depth, 1),
                      {},   {}};
    state.out.good = bitfield(torrent.piece_count());
    state.out.missing = bitfield(torrent.piece_count());
    if (!which.empty() && which.size() != torrent.piece_count()) {
        co_return fail(std::make_error_code(std::errc::invalid_argument));
    }
    const bool all = which.empty();
    for (std::uint32_t i = 0; i < torrent.piece_count(); ++i) {
        if (all || which.test(i)) {
            state.todo.emplace_back(i);
        }
    }

    if (!state.todo.empty()) {
        // At least one slot: wait for one to come back when the pool is empty. The pool
        // has no wake-up of its own, so poll it on a short timer; stop ends the wait.
        std::optional<io::buffer_slot> first = pool.acquire();
        while (!first) {
            auto slept = co_await io::sleep_for(ring, std::chrono::milliseconds(2), stop);
            if (!slept) {
                co_return fail(slept.error());
            }
            first = pool.acquire();
        }
        state.running = 1;
        workers.spawn(check_worker(&state, std::move(*first)));
        maybe_grow(state);
        co_await workers.join();
    }

    if (state.error) {
        co_return fail(state.error);
    }
    if (state.done < state.todo.size()) {
        co_return fail(std::make_error_code(std::errc::operation_canceled));
    }
    co_return std::move(state.out);
}

io::task<result<check_result>>
check_pieces(io::ring& ring, file_storage& storage, const metainfo::torrent_info& torrent,
             io::buffer_pool& pool, std::function<void(std::uint32_t, std::uint32_t)> progress,
             std::stop_token stop, std::uint32_t depth) {
    auto checked = co_await check_pieces(ring, storage, torrent, pool, bitfield{},
                                         std::move(progress), std::move(stop), depth);
    co_return checked;
}

} // namespace spate::storage
