// SPDX-License-Identifier: MIT
#pragma once
/// @file ops.hpp  The operations layers call, dispatched on the execution policy.
#include <cstddef>
#include <xtensor/xnoalias.hpp>

#include "../backend/cpu/gemm.hpp"
#include "../backend/policy.hpp"
#include "../core/tensor.hpp"
#ifdef CTNN_USE_BLAS
#include <cblas.h>
#endif

namespace ctnn::ops {

namespace detail {
template <class P>
inline constexpr bool no_kernel = false;
}

/// c[i, j] = ep(c[i, j]) for a [rows, n] block with leading dimension ldc (the GEMM epilogue as a pass).
template <class P, class T>
void apply_epilogue(const epilogue<T>& ep, T* c, std::size_t rows, std::size_t n, std::size_t ldc) {
    static_assert(std::same_as<P, cpu>, "ctnn::ops::apply_epilogue: no kernel for this execution policy; add one in backend/");
    if (ep.empty()) return;
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
    } else
        static_assert(detail::no_kernel<P>, "ctnn::ops::gemm: no kernel for this execution policy; add one in backend/");
}

/// acc[j] += sum_r a[r, j] for a [rows, n].
template <class P, class T>
void accumulate_column_sums(T* acc, const T* a, std::size_t rows, std::size_t n) {
    static_assert(std::same_as<P, cpu>, "ctnn::ops::accumulate_column_sums: no kernel for this execution policy; add one in backend/");
    auto av = adapt_flat(acc, n);
    for (std::size_t r = 0; r < rows; ++r) xt::noalias(av) += adapt_flat(a + r * n, n);
}

}  // namespace ctnn::ops
