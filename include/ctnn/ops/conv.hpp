// SPDX-License-Identifier: MIT
#pragma once
/// @file conv.hpp  2-D convolution lowered to the GEMM, per policy.
///  - CPU forward with 8 or more channels per group: an implicit GEMM (backend::cpu::gemm_gathered) that
///    gathers the im2col rows block by block in cache, never the whole column matrix.
///  - CPU otherwise, and backward: im2col in tap-major order (ky, kx, c): every tap of an output pixel copies C/groups
///    contiguous NHWC channels, and the weights [F, C/g, KH, KW] are permuted to that order per call
///    (F·C·KH·KW values, small next to the GEMM). Backward scatters the column gradient back tap by
///    tap, samples split among threads (each thread owns its samples' dx: deterministic).
///  - CUDA: im2col/col2im as gather functors in PyTorch's column order (conv_rules.hpp), weights used
///    as they are.
/// Both compute y = act(conv(x, W) + b) with the bias/activation in the GEMM epilogue.
#include <algorithm>
#include <cstddef>
#include <cstring>

#include "../backend/buffer.hpp"
#include "../backend/conv_rules.hpp"
#include "ops.hpp"

namespace ctnn::ops {

/// What a convolution needs besides its pointers: the window geometry, groups and filters.
struct conv_shape {
    conv::geometry g;
    std::size_t groups, filters;
    constexpr std::size_t cg() const { return g.C / groups; }
    constexpr std::size_t fg() const { return filters / groups; }
    constexpr std::size_t taps() const { return g.KH * g.KW; }
    constexpr std::size_t kg() const { return cg() * taps(); }     // GEMM depth per group
    constexpr std::size_t ncols() const { return g.C * taps(); }  // im2col row length
};

namespace detail {
/// CPU im2col, tap-major: cols[r, g·Kg + (ky·KW + kx)·Cg + cg] = x[n, iy, ix, g·Cg + cg] (0 in padding).
template <class T>
void im2col_taps(const T* x, T* cols, const conv_shape& s, std::size_t batch) {
    const auto& g = s.g;
    const std::size_t cg = s.cg(), kg = s.kg(), ncols = s.ncols(), rows = batch * g.OH * g.OW;
    cpu_for_each(rows, [&](std::size_t r) {
        const std::size_t n = r / (g.OH * g.OW), oy = r / g.OW % g.OH, ox = r % g.OW;
        T* row = cols + r * ncols;
        for (std::size_t ky = 0; ky < g.KH; ++ky) {
            const long iy = g.iy(oy, ky);
            for (std::size_t kx = 0; kx < g.KW; ++kx) {
                const long ix = g.ix(ox, kx);
                const std::size_t tap = ky * g.KW + kx;
                const bool inside = iy >= 0 && iy < long(g.H) && ix >= 0 && ix < long(g.W);
                const T* src = inside ? x + ((n * g.H + std::size_t(iy)) * g.W + std::size_t(ix)) * g.C : nullptr;
                for (std::size_t grp = 0; grp < s.groups; ++grp) {
                    T* dst = row + grp * kg + tap * cg;
                    if (!inside) std::fill(dst, dst + cg, T(0));
                    else if (cg >= 4) std::memcpy(dst, src + grp * cg, cg * sizeof(T));
                    else
                        for (std::size_t c = 0; c < cg; ++c) dst[c] = src[grp * cg + c];  // a call per tap costs more
                }
            }
        }
    }, s.ncols());
}

/// The block cols[i0:i0+mc, g·Kg + k0 : g·Kg + k0 + kc] of im2col_taps (group g), row-major with leading
/// dimension kc, for the implicit GEMM: runs of contiguous channels copied tap by tap.
template <class T>
void gather_cols(const T* x, const conv_shape& s, std::size_t grp, std::size_t i0, std::size_t mc, std::size_t k0, std::size_t kc,
                 T* out) {
    const auto& g = s.g;
    const std::size_t cg = s.cg();
    for (std::size_t r = i0; r < i0 + mc; ++r) {
        const std::size_t n = r / (g.OH * g.OW), oy = r / g.OW % g.OH, ox = r % g.OW;
        T* dst = out + (r - i0) * kc;
        for (std::size_t k = k0; k < k0 + kc;) {
            const std::size_t tap = k / cg, c = k % cg, run = std::min(cg - c, k0 + kc - k);
            const long iy = g.iy(oy, tap / g.KW), ix = g.ix(ox, tap % g.KW);
            if (iy < 0 || iy >= long(g.H) || ix < 0 || ix >= long(g.W)) std::fill(dst, dst + run, T(0));
            else {
                const T* src = x + ((n * g.H + std::size_t(iy)) * g.W + std::size_t(ix)) * g.C + grp * cg + c;
                if (run >= 4) std::memcpy(dst, src, run * sizeof(T));
                else
                    for (std::size_t i = 0; i < run; ++i) dst[i] = src[i];
            }
            dst += run;
            k += run;
        }
    }
}

/// d[0, n) += s[0, n), vectorised.
template <class T>
void add_into(T* d, const T* s, std::size_t n) noexcept {
    using batch = xsimd::batch<T>;
    std::size_t i = 0;
    for (; i + batch::size <= n; i += batch::size)
        (batch::load_unaligned(d + i) + batch::load_unaligned(s + i)).store_unaligned(d + i);
    for (; i < n; ++i) d[i] += s[i];
}

/// CPU col2im of tap-major columns: dx = Σ over taps of the column gradient (overwrites dx).
template <class T>
void col2im_taps(const T* dcols, T* dx, const conv_shape& s, std::size_t batch) {
    const auto& g = s.g;
    const std::size_t cg = s.cg(), kg = s.kg(), ncols = s.ncols(), sample = g.H * g.W * g.C;
    cpu_for_each(batch, [&](std::size_t n) {  // each sample's rows only reach that sample's dx
        T* dxs = dx + n * sample;
        std::fill(dxs, dxs + sample, T(0));
        for (std::size_t oy = 0; oy < g.OH; ++oy)
            for (std::size_t ox = 0; ox < g.OW; ++ox) {
                const T* row = dcols + ((n * g.OH + oy) * g.OW + ox) * ncols;
                for (std::size_t ky = 0; ky < g.KH; ++ky) {
                    const long iy = g.iy(oy, ky);
                    if (iy < 0 || iy >= long(g.H)) continue;
                    for (std::size_t kx = 0; kx < g.KW; ++kx) {
                        const long ix = g.ix(ox, kx);
                        if (ix < 0 || ix >= long(g.W)) continue;
                        T* d = dxs + (std::size_t(iy) * g.W + std::size_t(ix)) * g.C;
                        const std::size_t tap = ky * g.KW + kx;
                        for (std::size_t grp = 0; grp < s.groups; ++grp) add_into(d + grp * cg, row + grp * kg + tap * cg, cg);
                    }
                }
            }
    }, g.OH * g.OW * ncols);
}

/// W [F, Cg, KH, KW] → tap-major [F, KH, KW, Cg] (to_taps) or back, accumulating (from_taps).
template <class T>
void permute_weights(const T* w, T* wt, const conv_shape& s) {
    const std::size_t cg = s.cg(), taps = s.taps();
    for (std::size_t f = 0; f < s.filters; ++f)
        for (std::size_t c = 0; c < cg; ++c)
            for (std::size_t t = 0; t < taps; ++t) wt[(f * taps + t) * cg + c] = w[(f * cg + c) * taps + t];
}
template <class T>
void accumulate_unpermuted(const T* wt, T* w, const conv_shape& s) {
    const std::size_t cg = s.cg(), taps = s.taps();
    for (std::size_t f = 0; f < s.filters; ++f)
        for (std::size_t c = 0; c < cg; ++c)
            for (std::size_t t = 0; t < taps; ++t) w[(f * cg + c) * taps + t] += wt[(f * taps + t) * cg + c];
}
/// The tap-major weights of the convolution that computes a stride-1 convolution's input gradient, in
/// one pass: that convolution has C filters over F channels and the flipped, transposed kernel,
/// W'[g·Cg + c, f, ky, kx] = W[g·Fg + f, c, KH−1−ky, KW−1−kx], stored as [C, KH, KW, Fg] (permute_weights' order).
template <class T>
void flipped_taps(const T* w, T* wt, const conv_shape& s) {
    const std::size_t cg = s.cg(), fg = s.fg(), taps = s.taps();
    for (std::size_t grp = 0; grp < s.groups; ++grp)
        for (std::size_t f = 0; f < fg; ++f) {
            const T* row = w + (grp * fg + f) * cg * taps;  // read in order, write with stride fg
            for (std::size_t c = 0; c < cg; ++c)
                for (std::size_t t = 0; t < taps; ++t) wt[((grp * cg + c) * taps + (taps - 1 - t)) * fg + f] = row[c * taps + t];
        }
}

/// The implicit-GEMM forward with tap-major weights wt [F, KH, KW, Cg] (CPU, 8+ channels per group).
template <class T>
void conv_forward_taps(const T* x, T* y, const T* wt, const epilogue<T>& ep, const conv_shape& s, std::size_t batch) {
    const std::size_t rows = batch * s.g.OH * s.g.OW, kg = s.kg(), fg = s.fg();
    for (std::size_t grp = 0; grp < s.groups; ++grp)
        backend::cpu::gemm_gathered<T>(
            rows, fg, kg,
            [&](std::size_t i0, std::size_t mc, std::size_t k0, std::size_t kc, T* out) { gather_cols(x, s, grp, i0, mc, k0, kc, out); },
            backend::cpu::strided<T>{wt + grp * fg * kg, 1, std::ptrdiff_t(kg)}, y + grp * fg, s.filters, ep.shifted(grp * fg));
}

/// Whether a convolution's column matrix is large enough (> 16 MB) that gathering it block by block in
/// the backward beats materialising it (measured: 2× at 56×56×64, slower below ~15 MB).
template <class T>
bool large_columns(const conv_shape& s, std::size_t batch) {
    return batch * s.g.OH * s.g.OW * s.ncols() * sizeof(T) > (std::size_t(16) << 20);
}
}  // namespace detail

/// Scratch values conv2d_forward and conv2d_backward need for any batch up to @p batch samples of @p s
/// (the largest of the paths either may take): the weights in tap order (F·Kg) and, where a path
/// materialises it, the column matrix (rows · ncols; the CPU's implicit-GEMM paths gather it block by
/// block instead, and below 16 MB they materialise it, hence that bound for smaller batches). The
/// caller owns it: the layer's slice of its container's scratch plan.
template <class P, class T>
constexpr std::size_t conv_scratch(const conv_shape& s, std::size_t batch) noexcept {
    const std::size_t cols = batch * s.g.OH * s.g.OW * s.ncols();
    bool implicit = !detail::is_cuda<P>;
#ifdef CTNN_USE_BLAS
    implicit = false;
#endif
    const auto& g = s.g;
    const bool large = cols * sizeof(T) > (std::size_t(16) << 20);
    // every path gathers: the forward (8+ channels per group), dW (large columns) and dX (large, stride 1)
    const bool all_gather = implicit && s.cg() >= 8 && large && g.sh == 1 && g.sw == 1 && g.ph <= g.dh * (g.KH - 1) &&
                            g.pw <= g.dw * (g.KW - 1) && s.fg() >= 8;
    const std::size_t below_large = (std::size_t(16) << 20) / sizeof(T);
    return s.filters * s.kg() + (all_gather ? below_large : cols);
}

/// y [batch, OH, OW, F] = ep(conv(x, w)) with w [F, C/groups, KH, KW]; the epilogue's bias is per filter.
template <class P, class T>
void conv2d_forward(const T* x, T* y, const T* w, const epilogue<T>& ep, const conv_shape& s, std::size_t batch, T* scratch) {
    const std::size_t rows = batch * s.g.OH * s.g.OW, kg = s.kg(), fg = s.fg();
    T* const wt = scratch;                      // F·Kg: weights in tap order
    T* const cols = scratch + s.filters * kg;  // rows·ncols: the column matrix
#ifndef CTNN_USE_BLAS
    // implicit GEMM: the im2col rows gathered block by block (with fewer than 8 channels per group the
    // per-tap runs are too short to gather fast, and the columns are small anyway: materialised below)
    if constexpr (!detail::is_cuda<P>) {
        if (s.cg() >= 8) {
            detail::permute_weights(w, wt, s);
            detail::conv_forward_taps(x, y, wt, ep, s, batch);
            return;
        }
    }
#endif
    const T* wk = w;
    if constexpr (detail::is_cuda<P>) cuda_api::im2col(x, cols, s.g, batch);
    else {
        detail::im2col_taps(x, cols, s, batch);
        detail::permute_weights(w, wt, s);
        wk = wt;
    }
    for (std::size_t grp = 0; grp < s.groups; ++grp)
        gemm<P>(false, true, rows, fg, kg, T(1), cols + grp * kg, s.ncols(), wk + grp * fg * kg, kg, T(0), y + grp * fg,
                s.filters, ep.shifted(grp * fg));
}

/// Backward of conv2d_forward (before its activation): dw += dYᵀ·cols and db += Σ dY when dw is not
/// null; dx = col2im(dY·W) when dx is not null.
template <class P, class T>
void conv2d_backward(const T* x, const T* dy, const T* w, T* dw, T* db, T* dx, const conv_shape& s, std::size_t batch,
                     T* scratch) {
    constexpr bool gpu = detail::is_cuda<P>;
    const std::size_t rows = batch * s.g.OH * s.g.OW, kg = s.kg(), fg = s.fg(), ncols = s.ncols();
    T* const wk_buf = scratch;                      // F·Kg: permuted, flipped or gradient weights
    T* const cols = scratch + s.filters * kg;      // rows·ncols: columns, then their gradient
#ifndef CTNN_USE_BLAS
    if constexpr (!gpu) {
        // large column matrices, 8+ channels per group: dW = dYᵀ·cols, the columns gathered a block of
        // pixels at a time
        const bool large = detail::large_columns<T>(s, batch);
        if (dw && s.cg() >= 8 && large) {
            T* dwk = wk_buf;
            for (std::size_t grp = 0; grp < s.groups; ++grp)
                backend::cpu::gemm_gathered_b<T>(
                    fg, kg, rows, backend::cpu::strided<T>{dy + grp * fg, 1, std::ptrdiff_t(s.filters)},
                    [&](std::size_t r0, std::size_t nr, std::size_t k0, std::size_t nk, T* out) {
                        detail::gather_cols(x, s, grp, r0, nr, k0, nk, out);
                    },
                    T(0), dwk + grp * fg * kg, kg);
            detail::accumulate_unpermuted(dwk, dw, s);
            if (db) accumulate_column_sums<P>(db, dy, rows, s.filters);
            dw = nullptr;  // done
        }
        // large columns, stride 1, 8+ filters and channels per group: dX is the convolution of dY with the
        // flipped, transposed kernel (padding d·(k − 1) − p), an implicit GEMM like the forward; no column
        // matrix, no scatter
        const auto& g = s.g;
        if (dx && large && g.sh == 1 && g.sw == 1 && g.ph <= g.dh * (g.KH - 1) && g.pw <= g.dw * (g.KW - 1) && fg >= 8 &&
            s.cg() >= 8) {
            const conv_shape t{{g.OH, g.OW, s.filters, g.H, g.W, g.KH, g.KW, 1, 1, g.dh * (g.KH - 1) - g.ph, g.dw * (g.KW - 1) - g.pw,
                                g.dh, g.dw},
                               s.groups,
                               g.C};
            T* wf = wk_buf;
            detail::flipped_taps(w, wf, s);
            detail::conv_forward_taps(dy, dx, static_cast<const T*>(wf), epilogue<T>{}, t, batch);
            dx = nullptr;  // done
        }
    }
#endif
    if (dw) {
        T* dwk = dw;  // the columns are recomputed: cheaper than keeping them per sample
        if constexpr (gpu) cuda_api::im2col(x, cols, s.g, batch);
        else {
            detail::im2col_taps(x, cols, s, batch);
            dwk = wk_buf;
        }
        for (std::size_t grp = 0; grp < s.groups; ++grp)
            gemm<P>(true, false, fg, kg, rows, T(1), dy + grp * fg, s.filters, cols + grp * kg, ncols, gpu ? T(1) : T(0),
                    dwk + grp * fg * kg, kg);
        if constexpr (!gpu) detail::accumulate_unpermuted(dwk, dw, s);
        if (db) accumulate_column_sums<P>(db, dy, rows, s.filters);
    }
    if (dx) {
        T* dcols = cols;
        const T* wk = w;
        if constexpr (!gpu) {
            detail::permute_weights(w, wk_buf, s);
            wk = wk_buf;
        }
        for (std::size_t grp = 0; grp < s.groups; ++grp)
            gemm<P>(false, false, rows, kg, fg, T(1), dy + grp * fg, s.filters, wk + grp * fg * kg, kg, T(0), dcols + grp * kg,
                    ncols);
        if constexpr (gpu) cuda_api::col2im(dcols, dx, s.g, batch);
        else detail::col2im_taps(dcols, dx, s, batch);
    }
}

}  // namespace ctnn::ops
