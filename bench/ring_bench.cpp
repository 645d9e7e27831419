// The ring's hot paths: a nop round trip (one at a time, and batches in flight together)
// and 16 KiB messages over a socketpair, the size of a BitTorrent block.
//
// Reproduce: meson setup build-rel --buildtype=release && ninja -C build-rel bench/bench_ring
//            && build-rel/bench/bench_ring

#include <array>
#include <benchmark/benchmark.h>
#include <cstdint>
#include <spate/io/ring.hpp>
#include <spate/io/scope.hpp>
#include <spate/io/socket_ops.hpp>
#include <spate/io/timer_ops.hpp>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace {

using spate::result;
using spate::io::ring;
using spate::io::scope;
using spate::io::task;

task<void> nop_loop(ring& r, benchmark::State& state) {
    for (auto _ : state) {
        result<int> done = co_await spate::io::nop(r);
        benchmark::DoNotOptimize(done);
    }
}

task<void> one_nop(ring& r) {
    result<int> done = co_await spate::io::nop(r);
    benchmark::DoNotOptimize(done);
}

task<void> nop_batches(ring& r, benchmark::State& state, int batch) {
    for (auto _ : state) {
        scope s;
        for (int i = 0; i < batch; ++i) {
            s.spawn(one_nop(r));
        }
        co_await s.join();
    }
}

void ring_nop_round_trip(benchmark::State& state) {
    auto r = ring::create();
    if (!r) {
        state.SkipWithError(r.error().message().c_str());
        return;
    }
    r->run(nop_loop(*r, state));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(ring_nop_round_trip);

void ring_nop_batched(benchmark::State& state) {
    auto r = ring::create();
    if (!r) {
        state.SkipWithError(r.error().message().c_str());
        return;
    }
    int batch = static_cast<int>(state.range(0));
    r->run(nop_batches(*r, state, batch));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * batch);
}
BENCHMARK(ring_nop_batched)->Arg(16)->Arg(64)->Arg(256);

task<bool> send_all(ring& r, int fd, std::span<const std::byte> data) {
    while (!data.empty()) {
        result<std::size_t> sent = co_await spate::io::send(r, fd, data);
        if (!sent || *sent == 0) {
            co_return false;
        }
        data = data.subspan(*sent);
    }
    co_return true;
}

task<bool> recv_exact(ring& r, int fd, std::span<std::byte> into) {
    while (!into.empty()) {
        result<std::size_t> got = co_await spate::io::recv(r, fd, into);
        if (!got || *got == 0) {
            co_return false;
        }
        into = into.subspan(*got);
    }
    co_return true;
}

task<void> send_messages(ring& r, int fd, std::span<const std::byte> message, int count, bool& ok) {
    for (int i = 0; i < count && ok; ++i) {
        ok = co_await send_all(r, fd, message);
    }
}

// Each iteration: `in_flight` messages, sender and receiver running side by side.
task<void> exchange(ring& r, benchmark::State& state, int a, int b, int in_flight) {
    std::vector<std::byte> message(16 * 1024, std::byte{0x5a});
    std::vector<std::byte> received(message.size());
    bool ok = true;
    for (auto _ : state) {
        scope s;
        s.spawn(send_messages(r, a, message, in_flight, ok));
        for (int i = 0; i < in_flight && ok; ++i) {
            ok = co_await recv_exact(r, b, received);
        }
        co_await s.join();
        if (!ok) {
            state.SkipWithError("socketpair exchange failed");
            break;
        }
    }
}

void ring_socketpair_16k(benchmark::State& state) {
    auto r = ring::create();
    if (!r) {
        state.SkipWithError(r.error().message().c_str());
        return;
    }
    std::array<int, 2> fds{};
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds.data()) != 0) {
        state.SkipWithError("socketpair failed");
        return;
    }
    int in_flight = static_cast<int>(state.range(0));
    r->run(exchange(*r, state, fds[0], fds[1], in_flight));
    ::close(fds[0]);
    ::close(fds[1]);
    auto messages = static_cast<std::int64_t>(state.iterations()) * in_flight;
    state.SetItemsProcessed(messages);
    state.SetBytesProcessed(messages * 16 * 1024);
}
BENCHMARK(ring_socketpair_16k)->Arg(1)->Arg(8);

} // namespace

BENCHMARK_MAIN();
