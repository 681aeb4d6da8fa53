// SPDX-License-Identifier: MIT
#pragma once
/// @file ops.hpp  The operations layers call, dispatched on the execution policy.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>
#include <xtensor/xnoalias.hpp>

#include "../backend/attention_rules.hpp"
#include "../backend/buffer.hpp"
#include "../backend/conv_rules.hpp"
#include "../backend/embedding_rules.hpp"
#include "../backend/recurrent_rules.hpp"
#include "../backend/cpu/attention.hpp"
#include "../backend/cpu/gemm.hpp"
#include "../backend/cuda/api.hpp"
#include "../backend/policy.hpp"
#include "../backend/norm_rules.hpp"
#include "../backend/rules.hpp"
#include "../core/tensor.hpp"
#ifdef CTNN_USE_BLAS
#include <cblas.h>
#endif

namespace ctnn::ops {

namespace detail {
template <class P>
inline constexpr bool no_kernel = false;
template <class P>
inline constexpr bool is_cuda = std::same_as<P, cuda>;

}

/// c[i, j] = ep(c[i, j]) for a [rows, n] block with leading dimension ldc (the GEMM epilogue as a pass).
template <class P, class T>
void apply_epilogue(const epilogue<T>& ep, T* c, std::size_t rows, std::size_t n, std::size_t ldc) {
    if (ep.empty()) return;
    if constexpr (detail::is_cuda<P>) cuda_api::apply_epilogue(ep, c, rows, n, ldc);
    else
        for (std::size_t i = 0; i < rows; ++i) backend::cpu::detail::apply_row(ep, c + i * ldc, n);
}

/// Row-major GEMM: c[M,N] = ep(alpha·op(a)·op(b) + beta·c), where the optional epilogue `ep` adds a
/// bias per column and applies an activation (ctnn's kernels do it on the tile in registers). With
/// `CTNN_USE_BLAS` (CMake option) the CPU policy calls cblas_sgemm/cblas_dgemm instead of ctnn's
/// kernels (and applies `ep` in a second pass); that library's own thread settings (e.g.
/// OPENBLAS_NUM_THREADS) then apply instead of ctnn::set_num_threads.
template <class P, class T>
void gemm(bool trans_a, bool trans_b, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* a, std::size_t lda,
          const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc, const epilogue<T>& ep = {}) {
    if constexpr (std::same_as<P, cpu>) {
#ifdef CTNN_USE_BLAS
        if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
            if (M == 0 || N == 0) return;
            const auto ta = trans_a ? CblasTrans : CblasNoTrans, tb = trans_b ? CblasTrans : CblasNoTrans;
            if constexpr (std::is_same_v<T, float>)
                cblas_sgemm(CblasRowMajor, ta, tb, int(M), int(N), int(K), alpha, a, int(lda), b, int(ldb), beta, c, int(ldc));
            else
                cblas_dgemm(CblasRowMajor, ta, tb, int(M), int(N), int(K), alpha, a, int(lda), b, int(ldb), beta, c, int(ldc));
            apply_epilogue<P>(ep, c, M, N, ldc);
            return;
        }
#endif
        backend::cpu::gemm(trans_a, trans_b, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc, ep);
    } else if constexpr (detail::is_cuda<P>)
        cuda_api::gemm(trans_a, trans_b, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc, ep);
    else
        static_assert(detail::no_kernel<P>, "ctnn::ops::gemm: no kernel for this execution policy; add one in backend/");
}

/// acc[j] += sum_r a[r, j] for a [rows, n].
template <class P, class T>
void accumulate_column_sums(T* acc, const T* a, std::size_t rows, std::size_t n) {
    if constexpr (detail::is_cuda<P>) cuda_api::accumulate_column_sums(acc, a, rows, n);
    else {
        // a vector of columns at a time, rows in order (the sum order of every column is r = 0, 1, ...)
        using batch = xsimd::batch<T>;
        std::size_t j = 0;
        for (; j + batch::size <= n; j += batch::size) {
            batch s = batch::load_unaligned(acc + j);
            for (std::size_t r = 0; r < rows; ++r) s += batch::load_unaligned(a + r * n + j);
            s.store_unaligned(acc + j);
        }
        for (; j < n; ++j) {
            T s = acc[j];
            for (std::size_t r = 0; r < rows; ++r) s += a[r * n + j];
            acc[j] = s;
        }
    }
}

/// dst = src, n values in the policy's memory.
template <class P, class T>
void copy(T* dst, const T* src, std::size_t n) {
    if constexpr (detail::is_cuda<P>) cuda_api::copy_on_device(dst, src, n * sizeof(T));
    else if (n) std::memcpy(dst, src, n * sizeof(T));
}

/// p[i] = v for n values.
template <class P, class T>
void fill(T* p, T v, std::size_t n) {
    if constexpr (detail::is_cuda<P>) cuda_api::fill(p, v, n);
    else std::fill(p, p + n, v);
}

/// y = a ⊙ b.
template <class P, class T>
void multiply(const T* a, const T* b, T* y, std::size_t n) {
    if constexpr (detail::is_cuda<P>) cuda_api::multiply(a, b, y, n);
    else
        for (std::size_t i = 0; i < n; ++i) y[i] = a[i] * b[i];
}

/// y = alpha · x (y may alias x).
template <class P, class T>
void scale(const T* x, T alpha, T* y, std::size_t n) {
    if constexpr (detail::is_cuda<P>) cuda_api::scale(x, alpha, y, n);
    else {
        using batch = xsimd::batch<T>;
        const batch a(alpha);
        std::size_t i = 0;
        for (; i + batch::size <= n; i += batch::size) (a * batch::load_unaligned(x + i)).store_unaligned(y + i);
        for (; i < n; ++i) y[i] = alpha * x[i];
    }
}

/// y = a + b (y may alias a or b).
template <class P, class T>
void add(const T* a, const T* b, T* y, std::size_t n) {
    if constexpr (detail::is_cuda<P>) cuda_api::add(a, b, y, n);
    else {
        using batch = xsimd::batch<T>;
        std::size_t i = 0;
        for (; i + batch::size <= n; i += batch::size)
            (batch::load_unaligned(a + i) + batch::load_unaligned(b + i)).store_unaligned(y + i);
        for (; i < n; ++i) y[i] = a[i] + b[i];
    }
}

/// y = F(x) for an activation F (layers/activation.hpp): its xtensor expression on the CPU, its
/// `kind`/`slope` kernel on the GPU.
template <class P, class F, class T>
void activation_forward(const T* x, T* y, std::size_t n) {
    if constexpr (detail::is_cuda<P>) cuda_api::activation_forward(F::kind, T(F::slope), x, y, n);
    else {
        auto yv = adapt_flat(y, n);
        xt::noalias(yv) = F::forward(adapt_flat(x, n));
    }
}
/// dx = dy · F'(x) from the activation's input x and output y.
template <class P, class F, class T>
void activation_backward(const T* x, const T* y, const T* dy, T* dx, std::size_t n) {
    if constexpr (detail::is_cuda<P>) cuda_api::activation_backward(F::kind, T(F::slope), x, y, dy, dx, n);
    else {
        auto dxv = adapt_flat(dx, n);
        xt::noalias(dxv) = F::backward(adapt_flat(x, n), adapt_flat(y, n), adapt_flat(dy, n));
    }
}

/// Softmax over each of `rows` rows of n values (numerically stable).
template <class P, class T>
void softmax_forward(const T* x, T* y, std::size_t rows, std::size_t n) {
    if constexpr (detail::is_cuda<P>) cuda_api::softmax_forward(x, y, rows, n);
    else
        for (std::size_t r = 0; r < rows; ++r) {
            T* yr = y + r * n;
            T m;
            const T inv = T(1) / rules::exp_shifted(x + r * n, yr, n, m);
            for (std::size_t j = 0; j < n; ++j) yr[j] *= inv;
        }
}
/// dx = y ⊙ (dy - <y, dy>) per row.
template <class P, class T>
void softmax_backward(const T* y, const T* dy, T* dx, std::size_t rows, std::size_t n) {
    if constexpr (detail::is_cuda<P>) cuda_api::softmax_backward(y, dy, dx, rows, n);
    else
        for (std::size_t r = 0; r < rows; ++r) {
            const T* yr = y + r * n;
            const T* dyr = dy + r * n;
            T dot = 0;
            for (std::size_t j = 0; j < n; ++j) dot += yr[j] * dyr[j];
            for (std::size_t j = 0; j < n; ++j) dx[r * n + j] = yr[j] * (dyr[j] - dot);
        }
}

namespace detail {
/// f(i) for i in [0, n) on the CPU, split among the pool's threads when n·cost (cost: work per index)
/// is large; each index is written by one thread, so the result does not depend on the thread count.
template <class F>
void cpu_for_each(std::size_t n, const F& f, std::size_t cost = 1) {
    thread_pool& pool = default_pool();
    const std::size_t parts = n * cost >= (std::size_t(1) << 15) ? std::min(pool.size(), n) : 1;
    pool.run(parts, [&](std::size_t p) {
        for (std::size_t i = n * p / parts, e = n * (p + 1) / parts; i < e; ++i) f(i);
    });
}
}  // namespace detail

/// Embedding lookup: y[p, :] = w[ids[p], :] for @p positions token ids (rules::embedding_gather).
template <class P, class T>
void embedding_forward(const T* ids, const T* w, T* y, std::size_t positions, std::size_t dim, std::size_t vocab) {
    if constexpr (detail::is_cuda<P>) cuda_api::embedding_forward(ids, w, y, positions, dim, vocab);
    else
        detail::cpu_for_each(positions, [&](std::size_t p) {
            const T* row = w + rules::token_row(ids[p], vocab) * dim;
            std::copy(row, row + dim, y + p * dim);
        }, dim);
}
/// Embedding weight gradient: dw[ids[p], :] += dy[p, :] for every position in order, except the
/// padding row (padding >= vocab: none). Sequential on the CPU (rows repeat), so deterministic.
template <class P, class T>
void embedding_backward(const T* ids, const T* dy, T* dw, std::size_t positions, std::size_t dim, std::size_t vocab,
                        std::size_t padding) {
    if constexpr (detail::is_cuda<P>) cuda_api::embedding_backward(ids, dy, dw, positions, dim, vocab, padding);
    else
        for (std::size_t p = 0; p < positions; ++p) {
            const std::size_t v = rules::token_row(ids[p], vocab);
            if (v == padding) continue;
            T* row = dw + v * dim;
            const T* g = dy + p * dim;
            for (std::size_t d = 0; d < dim; ++d) row[d] += g[d];
        }
}

/// Runs a per-element rule of recurrent_rules.hpp (a time step's pointwise part, a sequence output or
/// pooling) over @p n elements; @p cost weights the CPU's split across threads.
template <class P, class Rule>
void recurrent(const Rule& r, std::size_t n, std::size_t cost = 32) {
    if constexpr (detail::is_cuda<P>) cuda_api::recurrent(r, n);
    else detail::cpu_for_each(n, r, cost);
}

namespace detail {
/// CPU pooling, one output pixel at a time with the channels innermost (contiguous in NHWC); backward
/// scatters into each sample's dx (samples split among threads: each owns its dx, deterministic).
/// `Op` is the window rule: max (with the per-sample index of the winner in arg) or average.
template <bool Max, class T>
void pool_forward_cpu(const T* x, T* y, T* arg, const conv::geometry& g, std::size_t batch) {
    const std::size_t C = g.C, sample = g.H * g.W * C;
    const T inv = T(1) / T(g.KH * g.KW);
    cpu_for_each(batch * g.OH, [&](std::size_t row) {
        const std::size_t n = row / g.OH, oy = row % g.OH;
        const T* xs = x + n * sample;
        for (std::size_t ox = 0; ox < g.OW; ++ox) {
            const std::size_t o = (row * g.OW + ox) * C;
            T* yo = y + o;
            bool first = true;
            for (std::size_t ky = 0; ky < g.KH; ++ky) {
                const long iy = g.iy(oy, ky);
                if (iy < 0 || iy >= long(g.H)) continue;
                for (std::size_t kx = 0; kx < g.KW; ++kx) {
                    const long ix = g.ix(ox, kx);
                    if (ix < 0 || ix >= long(g.W)) continue;
                    const std::size_t base = (std::size_t(iy) * g.W + std::size_t(ix)) * C;
                    const T* xi = xs + base;
                    if constexpr (Max) {
                        T* ao = arg + o;
                        using batch = xsimd::batch<T>;
                        std::size_t c = 0;
                        if (first) {
                            for (; c < C; ++c) {
                                yo[c] = xi[c];
                                ao[c] = T(base + c);
                            }
                        } else {
                            batch idx = batch(T(base));
                            alignas(64) T lane[batch::size];
                            for (std::size_t l = 0; l < batch::size; ++l) lane[l] = T(l);
                            const batch lanes = batch::load_aligned(lane);
                            for (; c + batch::size <= C; c += batch::size) {
                                const batch v = batch::load_unaligned(xi + c), best = batch::load_unaligned(yo + c);
                                const auto gt = v > best;
                                xsimd::select(gt, v, best).store_unaligned(yo + c);
                                xsimd::select(gt, idx + batch(T(c)) + lanes, batch::load_unaligned(ao + c)).store_unaligned(ao + c);
                            }
                            for (; c < C; ++c)
                                if (xi[c] > yo[c]) {
                                    yo[c] = xi[c];
                                    ao[c] = T(base + c);
                                }
                        }
                    } else {
                        for (std::size_t c = 0; c < C; ++c) yo[c] = first ? xi[c] : yo[c] + xi[c];
                    }
                    first = false;
                }
            }
            if constexpr (!Max)
                for (std::size_t c = 0; c < C; ++c) yo[c] *= inv;
        }
    }, g.OW * g.KH * g.KW * C);
}
template <bool Max, class T>
void pool_backward_cpu(const T* dy, const T* arg, T* dx, const conv::geometry& g, std::size_t batch) {
    const std::size_t C = g.C, sample = g.H * g.W * C, out = g.OH * g.OW * C;
    const T inv = T(1) / T(g.KH * g.KW);
    cpu_for_each(batch, [&](std::size_t n) {
        T* dxs = dx + n * sample;
        std::fill(dxs, dxs + sample, T(0));
        const T* dys = dy + n * out;
        if constexpr (Max) {
            const T* as = arg + n * out;
            for (std::size_t o = 0; o < out; ++o) dxs[std::size_t(as[o])] += dys[o];
        } else
            for (std::size_t oy = 0; oy < g.OH; ++oy)
                for (std::size_t ox = 0; ox < g.OW; ++ox) {
                    const T* d = dys + (oy * g.OW + ox) * C;
                    for (std::size_t ky = 0; ky < g.KH; ++ky) {
                        const long iy = g.iy(oy, ky);
                        if (iy < 0 || iy >= long(g.H)) continue;
                        for (std::size_t kx = 0; kx < g.KW; ++kx) {
                            const long ix = g.ix(ox, kx);
                            if (ix < 0 || ix >= long(g.W)) continue;
                            T* di = dxs + (std::size_t(iy) * g.W + std::size_t(ix)) * C;
                            for (std::size_t c = 0; c < C; ++c) di[c] += d[c] * inv;
                        }
                    }
                }
    }, out * g.KH * g.KW);
}
}  // namespace detail

/// Max pooling: y = window maximum, arg = per-sample index of the winner (first on ties).
template <class P, class T>
void max_pool_forward(const T* x, T* y, T* arg, const conv::geometry& g, std::size_t batch) {
    if constexpr (detail::is_cuda<P>) cuda_api::max_pool_forward(x, y, arg, g, batch);
    else detail::pool_forward_cpu<true>(x, y, arg, g, batch);
}
template <class P, class T>
void max_pool_backward(const T* dy, const T* arg, T* dx, const conv::geometry& g, std::size_t batch) {
    if constexpr (detail::is_cuda<P>) cuda_api::max_pool_backward(dy, arg, dx, g, batch);
    else detail::pool_backward_cpu<true>(dy, arg, dx, g, batch);
}
/// Average pooling (count_include_pad): y = window sum / (KH·KW).
template <class P, class T>
void avg_pool_forward(const T* x, T* y, const conv::geometry& g, std::size_t batch) {
    if constexpr (detail::is_cuda<P>) cuda_api::avg_pool_forward(x, y, g, batch);
    else detail::pool_forward_cpu<false>(x, y, static_cast<T*>(nullptr), g, batch);
}
template <class P, class T>
void avg_pool_backward(const T* dy, T* dx, const conv::geometry& g, std::size_t batch) {
    if constexpr (detail::is_cuda<P>) cuda_api::avg_pool_backward(dy, dx, g, batch);
    else detail::pool_backward_cpu<false>(dy, static_cast<const T*>(nullptr), dx, g, batch);
}

namespace detail {
/// CPU batch norm, rows outer and channels inner (contiguous), each pass one sweep over the data: the
/// same sums as the per-channel rules of norm_rules.hpp (each channel's rows added in order), without
/// reading the tensor once per channel. Single-threaded, so results do not depend on the thread count.
template <class T>
void bn_train_cpu(const norm::batch_norm_train<T>& o, T* scratch) {
    const std::size_t C = o.C, R = o.rows;
    T *s = scratch, *q = scratch + C, *g = scratch + 2 * C, *b = scratch + 3 * C;
    std::fill(s, s + 2 * C, T(0));
    for (std::size_t r = 0; r < R; ++r)
        for (std::size_t c = 0; c < C; ++c) s[c] += o.x[r * C + c];
    for (std::size_t c = 0; c < C; ++c) s[c] /= T(R);  // mean
    for (std::size_t r = 0; r < R; ++r)
        for (std::size_t c = 0; c < C; ++c) {
            const T d = o.x[r * C + c] - s[c];
            q[c] += d * d;
        }
    *o.batches_tracked += T(1);
    for (std::size_t c = 0; c < C; ++c) {
        const T var = q[c] / T(R), invstd = T(1) / std::sqrt(var + o.eps);
        g[c] = (o.gamma ? o.gamma[c] : T(1)) * invstd;
        b[c] = (o.beta ? o.beta[c] : T(0)) - s[c] * g[c];
        o.running_mean[c] = (T(1) - o.momentum) * o.running_mean[c] + o.momentum * s[c];
        o.running_var[c] = (T(1) - o.momentum) * o.running_var[c] + o.momentum * (R > 1 ? q[c] / T(R - 1) : var);
        o.batch_mean[c] = s[c];
        o.batch_invstd[c] = invstd;
    }
    for (std::size_t r = 0; r < R; ++r)
        for (std::size_t c = 0; c < C; ++c) o.y[r * C + c] = o.x[r * C + c] * g[c] + b[c];
}
template <class T>
void bn_eval_cpu(const norm::batch_norm_eval<T>& o, T* scratch) {
    const std::size_t C = o.C;
    T *g = scratch, *b = scratch + C;
    for (std::size_t c = 0; c < C; ++c) {
        g[c] = (o.gamma ? o.gamma[c] : T(1)) / std::sqrt(o.running_var[c] + o.eps);
        b[c] = (o.beta ? o.beta[c] : T(0)) - o.running_mean[c] * g[c];
    }
    for (std::size_t r = 0; r < o.rows; ++r)
        for (std::size_t c = 0; c < C; ++c) o.y[r * C + c] = o.x[r * C + c] * g[c] + b[c];
}
/// Backward of either mode: `mean`, `invstd` per channel (batch or running statistics), `batch_stats`
/// selects whether the mean/variance depend on x (training) or not (evaluation).
template <class T>
void bn_backward_cpu(const T* x, const T* dy, const T* gamma, const T* mean, const T* invstd, T* dgamma, T* dbeta, T* dx,
                     std::size_t R, std::size_t C, bool batch_stats, T* scratch) {
    T *sdy = scratch, *sdyx = scratch + C;
    std::fill(sdy, sdy + 2 * C, T(0));
    for (std::size_t r = 0; r < R; ++r)
        for (std::size_t c = 0; c < C; ++c) {
            const T d = dy[r * C + c];
            sdy[c] += d;
            sdyx[c] += d * (x[r * C + c] - mean[c]) * invstd[c];
        }
    if (dgamma)
        for (std::size_t c = 0; c < C; ++c) {
            dgamma[c] += sdyx[c];
            dbeta[c] += sdy[c];
        }
    if (!dx) return;
    T* k = scratch + 2 * C;
    for (std::size_t c = 0; c < C; ++c) k[c] = (gamma ? gamma[c] : T(1)) * invstd[c];
    const T n = T(R);
    for (std::size_t r = 0; r < R; ++r)
        for (std::size_t c = 0; c < C; ++c) {
            const T d = dy[r * C + c];
            dx[r * C + c] = batch_stats ? k[c] * (d - sdy[c] / n - (x[r * C + c] - mean[c]) * invstd[c] * sdyx[c] / n) : k[c] * d;
        }
}
}  // namespace detail

/// Scratch values `batch_norm` needs for C channels (CPU sweeps: per-channel sums and coefficients).
template <class P>
constexpr std::size_t batch_norm_scratch(std::size_t C) noexcept {
    return detail::is_cuda<P> ? 0 : 5 * C;
}

/// Runs a batch-norm rule (norm_rules.hpp): per-channel functors on the GPU, channel-vectorised sweeps
/// on the CPU. @p scratch: batch_norm_scratch<P>(C) values owned by the caller for this call.
template <class P, class Op, class T>
void batch_norm(const Op& op, T* scratch) {
    if constexpr (detail::is_cuda<P>) {
        if constexpr (requires { op.momentum; }) cuda_api::batch_norm_train(op);
        else if constexpr (requires { op.batch_invstd; }) cuda_api::batch_norm_train_backward(op);
        else if constexpr (requires { op.dgamma; }) cuda_api::batch_norm_eval_backward(op);
        else cuda_api::batch_norm_eval(op);
    } else if constexpr (requires { op.momentum; })
        detail::bn_train_cpu(op, scratch);
    else if constexpr (requires { op.batch_invstd; })
        detail::bn_backward_cpu<T>(op.x, op.dy, op.gamma, op.batch_mean, op.batch_invstd, op.dgamma, op.dbeta, op.dx, op.rows, op.C,
                                   true, scratch);
    else if constexpr (requires { op.dgamma; }) {
        T* invstd = scratch + 4 * op.C;
        for (std::size_t c = 0; c < op.C; ++c) invstd[c] = T(1) / std::sqrt(op.running_var[c] + op.eps);
        detail::bn_backward_cpu<T>(op.x, op.dy, op.gamma, op.running_mean, invstd, op.dgamma, op.dbeta, op.dx, op.rows, op.C,
                                   false, scratch);
    } else
        detail::bn_eval_cpu(op, scratch);
}

/// Scratch values `layer_norm` needs for rows of N values (CPU: the column sums of dγ and dβ).
template <class P>
constexpr std::size_t layer_norm_scratch(std::size_t N) noexcept {
    return detail::is_cuda<P> ? 0 : 2 * N;
}

/// Runs a layer-norm rule (norm_rules.hpp) over @p n rows (forward, dx) or columns (dγ, dβ): one index per
/// GPU thread; on the CPU rows are split among the threads, and dγ/dβ is one sweep over the rows with
/// each column's terms added in row order into @p scratch (layer_norm_scratch<P>(N) values) before it
/// is added to the gradient — the same sums as the per-column rule.
template <class P, class Op, class T>
void layer_norm(const Op& op, std::size_t n, T* scratch) {
    if constexpr (detail::is_cuda<P>) cuda_api::layer_norm(op, n);
    else if constexpr (requires { op.rows; }) {
        const std::size_t N = op.N;
        T *sg = scratch, *sb = scratch + N;
        std::fill(sg, sg + 2 * N, T(0));
        for (std::size_t r = 0; r < op.rows; ++r) {
            const T *xr = op.x + r * N, *dyr = op.dy + r * N, m = op.mean[r], is = op.invstd[r];
            for (std::size_t j = 0; j < N; ++j) {
                sg[j] += dyr[j] * (xr[j] - m) * is;
                sb[j] += dyr[j];
            }
        }
        for (std::size_t j = 0; j < N; ++j) op.dgamma[j] += sg[j];
        if (op.dbeta)
            for (std::size_t j = 0; j < N; ++j) op.dbeta[j] += sb[j];
    } else
        detail::cpu_for_each(n, op, 4 * op.N);
}

/// y = x + the position code (rules::add_positions) over @p n elements.
template <class P, class T>
void add_positions(const rules::add_positions<T>& op, std::size_t n) {
    if constexpr (detail::is_cuda<P>) cuda_api::add_positions(op, n);
    else detail::cpu_for_each(n, op, 8);
}

/// Scratch values the fused attention needs for @p tasks (sample, head) pairs of @p steps positions and
/// head size @p d: the CPU kernel's per-task blocks; nothing on the GPU.
template <class P>
constexpr std::size_t attention_scratch(std::size_t tasks, std::size_t steps, std::size_t d) noexcept {
    return detail::is_cuda<P> ? 0 : tasks * backend::cpu::attention::task_scratch(steps, d);
}

/// Fused attention forward of every head of @p batch samples (attention_rules.hpp; @p D: the head size
/// when known at compile time, 0 otherwise — the CPU kernel keeps a row in registers then): the heads' outputs
/// @p o and, unless null, each row's log-sum-exp @p lse. GPU: one query row per thread
/// (attn::forward_rows); CPU: one (sample, head) task per thread, key-blocked (backend/cpu/attention.hpp).
template <class P, std::size_t D = 0, class T>
void attention_forward(const attn::shape_info<T>& s, const T* qkv, T* o, T* lse, std::size_t batch, T* scratch) {
    if constexpr (detail::is_cuda<P>) cuda_api::attention(attn::forward_rows<T>{s, qkv, o, lse}, batch * s.heads * s.steps);
    else {
        const std::size_t per = backend::cpu::attention::task_scratch(s.steps, s.d);
        detail::cpu_for_each(batch * s.heads, [&](std::size_t t) { backend::cpu::attention::forward_task<D>(s, qkv, o, lse, t, scratch + t * per); },
                             s.steps * s.steps * s.d);
    }
}
/// Fused attention backward: d(q, k, v) of every head into @p dqkv from the forward's qkv, o, lse and
/// the heads' output gradient @p d_o. GPU: attn::backward_rows (dq, and each row's dO·O into @p delta),
/// then attn::backward_keys (dk, dv); CPU: one task per (sample, head).
template <class P, std::size_t D = 0, class T>
void attention_backward(const attn::shape_info<T>& s, const T* qkv, const T* o, const T* lse, const T* d_o, T* delta, T* dqkv,
                        std::size_t batch, T* scratch) {
    const std::size_t n = batch * s.heads * s.steps;
    if constexpr (detail::is_cuda<P>) {
        cuda_api::attention(attn::backward_rows<T>{s, qkv, o, lse, d_o, delta, dqkv}, n);
        cuda_api::attention(attn::backward_keys<T>{s, qkv, lse, d_o, delta, dqkv}, n);
    } else {
        const std::size_t per = backend::cpu::attention::task_scratch(s.steps, s.d);
        detail::cpu_for_each(batch * s.heads,
                             [&](std::size_t t) { backend::cpu::attention::backward_task<D>(s, qkv, o, lse, d_o, dqkv, t, scratch + t * per); },
                             3 * s.steps * s.steps * s.d);
    }
}

/// Runs a resampling rule (conv::zero_pad, conv::upsample_nearest, conv::concat_channels) over @p n elements.
template <class P, class Op>
void resample(const Op& op, std::size_t n) {
    if constexpr (detail::is_cuda<P>) {
        if constexpr (requires { cuda_api::zero_pad(op, n); }) cuda_api::zero_pad(op, n);
        else if constexpr (requires { cuda_api::concat_channels(op, n); }) cuda_api::concat_channels(op, n);
        else cuda_api::upsample_nearest(op, n);
    } else
        detail::cpu_for_each(n, op);
}

/// Per sample, [H·W, C] (NHWC) → [C, H·W] (PyTorch's flatten order of an NCHW image), or back with
/// @p inverse. The CUDA policy runs im2col/col2im with one window covering the image (g: H×W×C, 1×1
/// output, an H×W kernel), which is exactly this permutation.
template <class P, class T>
void hwc_to_chw(const T* in, T* out, const conv::geometry& g, std::size_t batch, bool inverse) {
    if constexpr (detail::is_cuda<P>) {
        if (inverse) cuda_api::col2im(in, out, g, batch);
        else cuda_api::im2col(in, out, g, batch);
    } else {
        const std::size_t hw = g.H * g.W, c = g.C;
        detail::cpu_for_each(batch, [&](std::size_t n) {
            const T* src = in + n * hw * c;
            T* dst = out + n * hw * c;
            for (std::size_t p = 0; p < hw; ++p)
                for (std::size_t k = 0; k < c; ++k) {
                    if (inverse) dst[p * c + k] = src[k * hw + p];
                    else dst[k * hw + p] = src[p * c + k];
                }
        }, hw * c);
    }
}

/// A VAE's reparameterisation and its backward (rules::gaussian_sample_forward / _backward) over n elements.
template <class P, class T>
void gaussian_sample(const rules::gaussian_sample_forward<T>& op, std::size_t n) {
    if constexpr (detail::is_cuda<P>) cuda_api::gaussian_sample(op, n);
    else
        for (std::size_t i = 0; i < n; ++i) op(i);
}
template <class P, class T>
void gaussian_sample(const rules::gaussian_sample_backward<T>& op, std::size_t n) {
    if constexpr (detail::is_cuda<P>) cuda_api::gaussian_sample(op, n);
    else
        for (std::size_t i = 0; i < n; ++i) op(i);
}

/// Inverted dropout: mask = rules::dropout_mask(seed, counter, i), y = x ⊙ mask.
template <class P, class T>
void dropout_forward(const T* x, T* y, T* mask, std::size_t n, double rate, std::uint64_t seed, std::uint64_t counter) {
    if constexpr (detail::is_cuda<P>) cuda_api::dropout_forward(x, y, mask, n, rate, seed, counter);
    else
        for (std::size_t i = 0; i < n; ++i) {
            mask[i] = rules::dropout_mask<T>(seed, counter, i, rate);
            y[i] = x[i] * mask[i];
        }
}

}  // namespace ctnn::ops
