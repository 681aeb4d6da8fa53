// SPDX-License-Identifier: MIT
// The flagship MLP (784-256-128-10): one Adam training step at batch 64, and batch-1 inference.
#include <benchmark/benchmark.h>

#include <ctnn/ctnn.hpp>
#include <vector>

using namespace ctnn;
using mlp = sequential<input<28, 28, 1>, flatten, dense<256>, relu, dense<128>, relu, dense<10>>;
constexpr double forward_flops_per_sample = 2.0 * (784 * 256 + 256 * 128 + 128 * 10);

static void BM_MLP_TrainStep(benchmark::State& state) {
    const std::size_t batch = std::size_t(state.range(0));
    set_num_threads(std::size_t(state.range(1)));
    mlp m{seed{1}};
    optim::adam opt{m.parameters()};
    auto ctx = m.context(batch);
    std::vector<float> x(batch * 784);
    std::vector<int> labels(batch);
    rng g{seed{2}};
    for (auto& v : x) v = float(g.uniform());
    for (auto& l : labels) l = int(g.below(10));
    for (auto _ : state) benchmark::DoNotOptimize(train_step(m, ctx, opt, loss::cross_entropy{}, x, labels));
    state.counters["samples/s"] = benchmark::Counter(double(batch), benchmark::Counter::kIsIterationInvariantRate);
    state.counters["FLOP/s"] = benchmark::Counter(3 * forward_flops_per_sample * double(batch), benchmark::Counter::kIsIterationInvariantRate);
    set_num_threads(1);
}
BENCHMARK(BM_MLP_TrainStep)->Args({64, 1})->Args({64, 2})->Args({256, 1})->Args({256, 2})->UseRealTime();

static void BM_MLP_Predict(benchmark::State& state) {
    const std::size_t batch = std::size_t(state.range(0));
    mlp m{seed{1}};
    std::vector<float> x(batch * 784, 0.5f), out(batch * 10);
    for (auto _ : state) {
        m.predict_into(x.data(), out.data(), batch);
        benchmark::DoNotOptimize(out.data());
    }
    state.counters["samples/s"] = benchmark::Counter(double(batch), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_MLP_Predict)->Arg(1)->Arg(64);

// A tiny model of the kind compile-time inference libraries (RTNeural) target: 8-16-16-1, tanh.
static void BM_TinyMLP_Predict(benchmark::State& state) {
    sequential<input<8>, dense<16>, ctnn::tanh, dense<16>, ctnn::tanh, dense<1>> m{seed{1}};
    std::vector<float> x(8, 0.25f), out(1);
    for (auto _ : state) {
        m.predict_into(x.data(), out.data(), 1);
        benchmark::DoNotOptimize(out.data());
    }
    state.counters["samples/s"] = benchmark::Counter(1.0, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_TinyMLP_Predict);
