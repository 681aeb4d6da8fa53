// SPDX-License-Identifier: MIT
// Memory-bound kernels: elementwise activations, softmax + cross-entropy, optimizer steps over a
// large flat parameter buffer. Counter: bytes/s moved (reads + writes, STREAM convention), to be
// read as a fraction of bench_machine's STREAM triad.
#include <benchmark/benchmark.h>

#include <ctnn/ctnn.hpp>
#include <vector>

using namespace ctnn;

namespace {
constexpr std::size_t big = std::size_t(1) << 24;  // 16 Mi floats = 64 MiB per array

template <class Act>
void BM_Activation(benchmark::State& state) {
    using layer = typename Act::template bind<shape<big>, float>;
    layer l;
    aligned_buffer<float> x(big), y(big);
    rng g{seed{1}};
    for (auto& v : x) v = float(g.uniform(-1, 1));
    for (auto _ : state) {
        l.predict(x.data(), y.data(), 1);
        benchmark::DoNotOptimize(y.data());
    }
    state.counters["bytes/s"] = benchmark::Counter(2.0 * big * sizeof(float), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_CrossEntropy_Logits(benchmark::State& state) {
    const std::size_t batch = std::size_t(state.range(0)), k = 10;
    std::vector<float> z(batch * k), dz(batch * k);
    std::vector<int> labels(batch);
    rng g{seed{2}};
    for (auto& v : z) v = float(g.normal());
    for (auto& l : labels) l = int(g.below(k));
    for (auto _ : state) benchmark::DoNotOptimize(loss::cross_entropy{}(z, labels, dz));
    state.counters["bytes/s"] = benchmark::Counter(2.0 * double(batch * k) * sizeof(float), benchmark::Counter::kIsIterationInvariantRate);
}

template <int BytesPerParam, class Make>
void BM_Optimizer(benchmark::State& state, Make make) {
    std::vector<float> p(big, 0.5f), gr(big, 1e-3f);
    std::vector<param_range> ranges{{0, big}};
    auto opt = make(parameter_set<float>{p.data(), gr.data(), big, &ranges});
    for (auto _ : state) {
        opt.step();
        benchmark::DoNotOptimize(p.data());
    }
    state.counters["bytes/s"] = benchmark::Counter(double(BytesPerParam) * big, benchmark::Counter::kIsIterationInvariantRate);
}
}  // namespace

BENCHMARK_TEMPLATE(BM_Activation, relu)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Activation, leaky_relu<0.2>)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Activation, sigmoid)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Activation, ctnn::tanh)->UseRealTime();
BENCHMARK(BM_CrossEntropy_Logits)->Arg(64)->Arg(100000)->UseRealTime();
// bytes per parameter: Adam reads p, g, m, v and writes p, m, v (7 floats); SGD+momentum 5; SGD 3
void BM_Optimizer_Adam(benchmark::State& s) { BM_Optimizer<28>(s, [](parameter_set<float> ps) { return optim::adam<float>{ps}; }); }
void BM_Optimizer_SGDMomentum(benchmark::State& s) {
    BM_Optimizer<20>(s, [](parameter_set<float> ps) { return optim::sgd<float>{ps, {.lr = 0.01, .momentum = 0.9}}; });
}
void BM_Optimizer_SGD(benchmark::State& s) { BM_Optimizer<12>(s, [](parameter_set<float> ps) { return optim::sgd<float>{ps, {.lr = 0.01}}; }); }
BENCHMARK(BM_Optimizer_Adam)->UseRealTime();
BENCHMARK(BM_Optimizer_SGDMomentum)->UseRealTime();
BENCHMARK(BM_Optimizer_SGD)->UseRealTime();
