// SPDX-License-Identifier: MIT
#pragma once
/// @file ops.hpp  The operations layers call, dispatched on the execution policy.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <xtensor/xnoalias.hpp>

#include "../backend/conv_rules.hpp"
#include "../backend/cpu/gemm.hpp"
#include "../backend/cuda/api.hpp"
#include "../backend/policy.hpp"
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
        auto av = adapt_flat(acc, n);
        for (std::size_t r = 0; r < rows; ++r) xt::noalias(av) += adapt_flat(a + r * n, n);
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

/// im2col of `batch` NHWC samples into cols [batch·OH·OW, C·KH·KW] (conv_rules.hpp).
template <class P, class T>
void im2col(const T* x, T* cols, const conv::geometry& g, std::size_t batch) {
    if constexpr (detail::is_cuda<P>) cuda_api::im2col(x, cols, g, batch);
    else detail::cpu_for_each(batch * g.OH * g.OW * g.C * g.KH * g.KW, conv::im2col<T>{x, cols, g});
}
/// dx = col2im(dcols) (a gather; overwrites dx).
template <class P, class T>
void col2im(const T* dcols, T* dx, const conv::geometry& g, std::size_t batch) {
    if constexpr (detail::is_cuda<P>) cuda_api::col2im(dcols, dx, g, batch);
    else detail::cpu_for_each(batch * g.H * g.W * g.C, conv::col2im<T>{dcols, dx, g});
}
template <class P, class T>
void max_pool_forward(const T* x, T* y, T* arg, const conv::geometry& g, std::size_t batch) {
    if constexpr (detail::is_cuda<P>) cuda_api::max_pool_forward(x, y, arg, g, batch);
    else detail::cpu_for_each(batch * g.OH * g.OW * g.C, conv::max_pool_forward<T>{x, y, arg, g});
}
template <class P, class T>
void max_pool_backward(const T* dy, const T* arg, T* dx, const conv::geometry& g, std::size_t batch) {
    if constexpr (detail::is_cuda<P>) cuda_api::max_pool_backward(dy, arg, dx, g, batch);
    else detail::cpu_for_each(batch * g.H * g.W * g.C, conv::max_pool_backward<T>{dy, arg, dx, g});
}
template <class P, class T>
void avg_pool_forward(const T* x, T* y, const conv::geometry& g, std::size_t batch) {
    if constexpr (detail::is_cuda<P>) cuda_api::avg_pool_forward(x, y, g, batch);
    else detail::cpu_for_each(batch * g.OH * g.OW * g.C, conv::avg_pool_forward<T>{x, y, g});
}
template <class P, class T>
void avg_pool_backward(const T* dy, T* dx, const conv::geometry& g, std::size_t batch) {
    if constexpr (detail::is_cuda<P>) cuda_api::avg_pool_backward(dy, dx, g, batch);
    else detail::cpu_for_each(batch * g.H * g.W * g.C, conv::avg_pool_backward<T>{dy, dx, g});
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
