#include "test_support.hpp"

#include <gtest/gtest.h>
#include <memory>
#include <spate/io/task.hpp>
#include <string>
#include <utility>

namespace {

using spate::io::task;
using spate::io::testing::counted;
using spate::io::testing::run_ready;

task<int> forty_two() {
    co_return 42;
}

task<std::string> greeting(std::string name) {
    co_return "hello " + name;
}

task<int> add_ready(int a, int b) {
    int x = co_await forty_two();
    co_return x - 42 + a + b;
}

int side_effect = 0;
task<void> set_side_effect(int value) {
    side_effect = value;
    co_return;
}

task<long> sum_sequential(int count) {
    long sum = 0;
    for (int i = 0; i < count; ++i) {
        int value = co_await add_ready(i, 0);
        sum += value;
    }
    co_return sum;
}

task<int> nested(int depth) {
    if (depth == 0) {
        co_return 0;
    }
    int below = co_await nested(depth - 1);
    co_return below + 1;
}

task<int> holds_probe(counted probe) {
    (void)probe;
    co_return 7;
}

task<int> awaits_probe_holder(counted probe) {
    (void)probe;
    int value = co_await holds_probe(counted{});
    co_return value + 1;
}

task<std::unique_ptr<int>> move_only_result() {
    co_return std::make_unique<int>(5);
}

TEST(task, returns_its_value) {
    EXPECT_EQ(run_ready(forty_two()), 42);
}

TEST(task, carries_non_trivial_and_move_only_values) {
    EXPECT_EQ(run_ready(greeting("ring")), "hello ring");
    auto p = run_ready(move_only_result());
    ASSERT_TRUE(p);
    EXPECT_EQ(*p, 5);
}

TEST(task, void_task_runs_its_body) {
    side_effect = 0;
    run_ready(set_side_effect(9));
    EXPECT_EQ(side_effect, 9);
}

TEST(task, is_lazy_until_awaited) {
    side_effect = 0;
    {
        task<void> t = set_side_effect(3);
        EXPECT_EQ(side_effect, 0);
        EXPECT_TRUE(t.valid());
    }
    EXPECT_EQ(side_effect, 0); // destroyed without ever running
}

TEST(task, awaits_nested_tasks) {
    EXPECT_EQ(run_ready(add_ready(1, 2)), 3);
}

// Regression guard for symmetric transfer: without it each co_await of a task that
// completes at once nests a resume() on the stack, and this overflows it.
TEST(task, hundred_thousand_sequential_awaits_use_constant_stack) {
    constexpr int count = 100'000;
    long expected = static_cast<long>(count - 1) * count / 2;
    EXPECT_EQ(run_ready(sum_sequential(count)), expected);
}

TEST(task, recursion_a_thousand_deep) {
    EXPECT_EQ(run_ready(nested(1000)), 1000);
}

TEST(task, every_frame_is_destroyed) {
    counted::reset();
    EXPECT_EQ(run_ready(awaits_probe_holder(counted{})), 8);
    EXPECT_EQ(counted::alive(), 0);
    {
        task<int> never_started = holds_probe(counted{});
        EXPECT_GT(counted::alive(), 0);
    }
    EXPECT_EQ(counted::alive(), 0);
    EXPECT_GT(counted::constructed, 0);
}

TEST(task, move_transfers_ownership_of_the_frame) {
    counted::reset();
    task<int> a = holds_probe(counted{});
    task<int> b = std::move(a);
    EXPECT_FALSE(a.valid()); // NOLINT(bugprone-use-after-move): checking the moved-from state
    EXPECT_TRUE(b.valid());
    b = holds_probe(counted{}); // the first frame is destroyed here
    EXPECT_EQ(counted::alive(), 1);
    EXPECT_EQ(run_ready(std::move(b)), 7);
    EXPECT_EQ(counted::alive(), 0);
}

} // namespace
