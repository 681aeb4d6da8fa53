// SPDX-License-Identifier: MIT
// The machine's limits, measured in the same run as everything else: peak FMA throughput (fp32)
// and STREAM triad bandwidth, on 1 and 2 threads. Every other figure is reported as a fraction of these.
#include <benchmark/benchmark.h>

#include <ctnn/ctnn.hpp>
#include <vector>
#include <xsimd/xsimd.hpp>

namespace {
using batch = xsimd::batch<float>;
constexpr std::size_t accumulators = 16;  // enough independent chains to cover FMA latency x ports
constexpr std::size_t iterations = 1 << 16;

float fma_chain(float seed_value) {
    batch acc[accumulators];
    [&]<std::size_t... I>(std::index_sequence<I...>) { ((acc[I] = batch(seed_value + float(I))), ...); }(
        std::make_index_sequence<accumulators>{});
    const batch a(0.999999f), b(1e-7f);
    for (std::size_t it = 0; it < iterations; ++it)
        [&]<std::size_t... I>(std::index_sequence<I...>) { ((acc[I] = xsimd::fma(acc[I], a, b)), ...); }(
            std::make_index_sequence<accumulators>{});
    batch s(0.0f);
    for (auto& v : acc) s += v;
    return xsimd::hadd(s);
}

void BM_Peak_FMA(benchmark::State& state) {
    const std::size_t threads = std::size_t(state.range(0));
    ctnn::thread_pool pool(threads);
    std::vector<float> sink(threads);
    for (auto _ : state) {
        pool.run(threads, [&](std::size_t p) { sink[p] = fma_chain(float(p)); });
        benchmark::DoNotOptimize(sink.data());
    }
    const double flops = 2.0 * batch::size * accumulators * iterations * double(threads);
    state.counters["FLOP/s"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_Stream_Triad(benchmark::State& state) {
    const std::size_t threads = std::size_t(state.range(0));
    const std::size_t n = std::size_t(1) << 26;  // 3 arrays x 256 MiB: far beyond any cache
    ctnn::aligned_buffer<float> a(n), b(n), c(n);
    b.fill(1.0f);
    c.fill(2.0f);
    ctnn::thread_pool pool(threads);
    const float s = 3.0f;
    for (auto _ : state) {
        pool.run(threads, [&](std::size_t p) {
            const std::size_t lo = n * p / threads, hi = n * (p + 1) / threads;
            float* ap = a.data();
            const float* bp = b.data();
            const float* cp = c.data();
            const batch vs(s);
            std::size_t i = lo;
            for (; i + batch::size <= hi; i += batch::size)  // explicit SIMD: -O2 alone may not vectorise
                xsimd::fma(vs, batch::load_unaligned(cp + i), batch::load_unaligned(bp + i)).store_unaligned(ap + i);
            for (; i < hi; ++i) ap[i] = bp[i] + s * cp[i];
        });
        benchmark::DoNotOptimize(a.data());
    }
    state.counters["bytes/s"] = benchmark::Counter(3.0 * n * sizeof(float), benchmark::Counter::kIsIterationInvariantRate);
}
}  // namespace

BENCHMARK(BM_Peak_FMA)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_Stream_Triad)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
