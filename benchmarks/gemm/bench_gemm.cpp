// SPDX-License-Identifier: MIT
// sgemm: ctnn vs OpenBLAS (cblas_sgemm) vs oneDNN (dnnl_sgemm), in one program, same data, same
// thread count. Shapes: square 16..2048 and the MLP's layer shapes in the three forms training uses
// (forward X·Wᵀ, weight gradient dYᵀ·X, input gradient dY·W). Counter: FLOP/s.
#include <benchmark/benchmark.h>

#include <ctnn/ctnn.hpp>
#include <string>
#include <vector>
#ifdef CTNN_HAVE_OPENBLAS
#include <cblas.h>
#endif
#ifdef CTNN_HAVE_DNNL
#include <dnnl.h>
#include <omp.h>
#endif

namespace {
enum form : int { nn = 0, nt = 1, tn = 2 };  // op(A)·op(B): nt = A·Bᵀ (forward), tn = Aᵀ·B (dW)
enum peer : int { ctnn_gemm = 0, openblas = 1, onednn = 2 };

struct problem {
    std::size_t M, N, K;
    bool ta, tb;
    std::vector<float> a, b, c;
    problem(std::size_t m, std::size_t n, std::size_t k, form f)
        : M(m), N(n), K(k), ta(f == tn), tb(f == nt), a(m * k), b(k * n), c(m * n) {
        ctnn::rng g{ctnn::seed{1}};
        for (auto& v : a) v = float(g.uniform(-1, 1));
        for (auto& v : b) v = float(g.uniform(-1, 1));
    }
    std::size_t lda() const { return ta ? M : K; }
    std::size_t ldb() const { return tb ? K : N; }
};

void run(peer p, problem& q) {
    switch (p) {
        case ctnn_gemm:
            ctnn::backend::cpu::gemm<float>(q.ta, q.tb, q.M, q.N, q.K, 1.0f, q.a.data(), q.lda(), q.b.data(), q.ldb(), 0.0f,
                                            q.c.data(), q.N);
            break;
#ifdef CTNN_HAVE_OPENBLAS
        case openblas:
            cblas_sgemm(CblasRowMajor, q.ta ? CblasTrans : CblasNoTrans, q.tb ? CblasTrans : CblasNoTrans, int(q.M), int(q.N),
                        int(q.K), 1.0f, q.a.data(), int(q.lda()), q.b.data(), int(q.ldb()), 0.0f, q.c.data(), int(q.N));
            break;
#endif
#ifdef CTNN_HAVE_DNNL
        case onednn:
            dnnl_sgemm(q.ta ? 'T' : 'N', q.tb ? 'T' : 'N', dnnl_dim_t(q.M), dnnl_dim_t(q.N), dnnl_dim_t(q.K), 1.0f, q.a.data(),
                       dnnl_dim_t(q.lda()), q.b.data(), dnnl_dim_t(q.ldb()), 0.0f, q.c.data(), dnnl_dim_t(q.N));
            break;
#endif
        default:
            break;
    }
}

void set_threads(int t) {
    ctnn::set_num_threads(std::size_t(t));
#ifdef CTNN_HAVE_OPENBLAS
    openblas_set_num_threads(t);
#endif
#ifdef CTNN_HAVE_DNNL
    omp_set_num_threads(t);
#endif
}

/// Args: M, N, K, form, threads.
void BM_Sgemm(benchmark::State& state, peer p) {
    const int threads = int(state.range(4));
    set_threads(threads);
    problem q(std::size_t(state.range(0)), std::size_t(state.range(1)), std::size_t(state.range(2)), form(state.range(3)));
    run(p, q);  // warm-up (packing buffers, library init)
    for (auto _ : state) {
        run(p, q);
        benchmark::DoNotOptimize(q.c.data());
    }
    state.counters["FLOP/s"] = benchmark::Counter(2.0 * double(q.M) * double(q.N) * double(q.K),
                                                  benchmark::Counter::kIsIterationInvariantRate);
    set_threads(1);
}

void shapes(benchmark::internal::Benchmark* b) {
    b->ArgNames({"M", "N", "K", "form", "threads"});
    for (int t : {1, 2}) {
        for (int n : {16, 32, 64, 128, 256, 512, 1024, 2048}) b->Args({n, n, n, nn, t});
        // the flagship MLP (784-256-128-10) at batch 64: forward X·Wᵀ, dW = dYᵀ·X, dX = dY·W
        for (auto [o, i] : {std::pair{256, 784}, std::pair{128, 256}, std::pair{10, 128}}) {
            b->Args({64, o, i, nt, t});
            b->Args({o, i, 64, tn, t});
            b->Args({64, i, o, nn, t});
        }
        b->Args({256, 256, 784, nt, t});  // batch 256 forward of the first layer
    }
    b->UseRealTime();
}
}  // namespace

BENCHMARK_CAPTURE(BM_Sgemm, ctnn, ctnn_gemm)->Apply(shapes);
#ifdef CTNN_HAVE_OPENBLAS
BENCHMARK_CAPTURE(BM_Sgemm, openblas, openblas)->Apply(shapes);
#endif
#ifdef CTNN_HAVE_DNNL
BENCHMARK_CAPTURE(BM_Sgemm, onednn, onednn)->Apply(shapes);
#endif
