// SPDX-License-Identifier: MIT
// Dense layer forward and backward (the three GEMM forms training uses), FLOP/s as a counter.
#include <benchmark/benchmark.h>

#include <ctnn/ctnn.hpp>
#include <vector>

using namespace ctnn;

namespace {
template <std::size_t In, std::size_t Out>
struct dense_case {
    using model = sequential<input<In>, dense<Out>>;
    model m{seed{1}};
    std::size_t batch;
    typename model::context_type ctx;
    std::vector<float> x, dy;
    explicit dense_case(std::size_t b) : batch(b), ctx(m.context(b)), x(b * In, 0.5f), dy(b * Out, 0.01f) {}
};

template <std::size_t In, std::size_t Out>
void BM_Dense_Forward(benchmark::State& state) {
    dense_case<In, Out> c(std::size_t(state.range(0)));
    for (auto _ : state) benchmark::DoNotOptimize(c.m.forward(c.x, c.ctx).data());
    const double flops = 2.0 * double(c.batch) * In * Out;
    state.counters["FLOP/s"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
    state.SetItemsProcessed(state.iterations() * std::int64_t(c.batch));
}

template <std::size_t In, std::size_t Out>
void BM_Dense_Backward(benchmark::State& state) {
    dense_case<In, Out> c(std::size_t(state.range(0)));
    c.m.forward(c.x, c.ctx);
    for (auto _ : state) {
        c.m.backward(c.dy, c.ctx, true);  // dW (Aᵀ·B), db and dX (A·B)
        benchmark::ClobberMemory();
    }
    const double flops = 4.0 * double(c.batch) * In * Out;
    state.counters["FLOP/s"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
    state.SetItemsProcessed(state.iterations() * std::int64_t(c.batch));
}

/// Dense + activation inference: fused (the model: bias and activation in the GEMM epilogue) against
/// the same two layers run one after the other (GEMM with bias, then an activation pass).
template <std::size_t In, std::size_t Out, class Act, bool Fused>
void BM_DenseAct_Predict(benchmark::State& state) {
    using model = sequential<input<In>, dense<Out>, Act>;
    static_assert(model::template fuses_next<0>());
    const model m{seed{1}};
    const std::size_t batch = std::size_t(state.range(0));
    std::vector<float> x(batch * In, 0.5f), mid(batch * Out), y(batch * Out);
    for (auto _ : state) {
        if constexpr (Fused) m.predict_into(x.data(), y.data(), batch);
        else {
            m.template layer<0>().predict(x.data(), mid.data(), batch);
            m.template layer<1>().predict(mid.data(), y.data(), batch);
        }
        benchmark::DoNotOptimize(y.data());
    }
    state.counters["FLOP/s"] = benchmark::Counter(2.0 * double(batch) * In * Out, benchmark::Counter::kIsIterationInvariantRate);
    state.SetItemsProcessed(state.iterations() * std::int64_t(batch));
}
}  // namespace

BENCHMARK_TEMPLATE(BM_DenseAct_Predict, 784, 256, relu, true)->Name("BM_DenseRelu_Fused")->Arg(64)->Arg(256);
BENCHMARK_TEMPLATE(BM_DenseAct_Predict, 784, 256, relu, false)->Name("BM_DenseRelu_TwoPasses")->Arg(64)->Arg(256);
BENCHMARK_TEMPLATE(BM_DenseAct_Predict, 256, 128, sigmoid, true)->Name("BM_DenseSigmoid_Fused")->Arg(64)->Arg(256);
BENCHMARK_TEMPLATE(BM_DenseAct_Predict, 256, 128, sigmoid, false)->Name("BM_DenseSigmoid_TwoPasses")->Arg(64)->Arg(256);
BENCHMARK_TEMPLATE(BM_Dense_Forward, 784, 256)->Arg(1)->Arg(64)->Arg(256);
BENCHMARK_TEMPLATE(BM_Dense_Forward, 256, 128)->Arg(1)->Arg(64);
BENCHMARK_TEMPLATE(BM_Dense_Forward, 1024, 1024)->Arg(64);
BENCHMARK_TEMPLATE(BM_Dense_Backward, 784, 256)->Arg(64)->Arg(256);
BENCHMARK_TEMPLATE(BM_Dense_Backward, 1024, 1024)->Arg(64);
