// SPDX-License-Identifier: MIT
#pragma once
/// @file conv_rules.hpp  Index rules of convolution and pooling on NHWC data, as per-index functors
/// (C++17, CTNN_HD): the CPU policy runs them in loops, the CUDA policy launches the very same
/// functors. Every backward is a gather (each input element sums what reaches it), so no two threads
/// write one element and results do not depend on scheduling.
#include <cstddef>

#include "host_device.hpp"

namespace ctnn::conv {

/// The geometry of a 2-D window operation on NHWC samples: input H×W×C, output OH×OW, kernel KH×KW,
/// stride, zero padding, dilation.
struct geometry {
    std::size_t H, W, C, OH, OW, KH, KW, sh, sw, ph, pw, dh, dw;
    /// Input row/column of kernel tap k at output position o (may be outside [0, H) / [0, W)).
    CTNN_HD long iy(std::size_t oy, std::size_t ky) const { return long(oy * sh + ky * dh) - long(ph); }
    CTNN_HD long ix(std::size_t ox, std::size_t kx) const { return long(ox * sw + kx * dw) - long(pw); }
    /// The output position whose tap k reads input position i, or -1 (none: off the stride grid or out of range).
    CTNN_HD static long source(long i, std::size_t k, std::size_t s, std::size_t p, std::size_t d, std::size_t out) {
        const long t = i + long(p) - long(k * d);
        if (t < 0 || t % long(s) != 0) return -1;
        const long o = t / long(s);
        return o < long(out) ? o : -1;
    }
    /// f(ky, kx, oy, ox) for every tap (ky, kx) and output position (oy, ox) that reads input (y, x): the
    /// loop every gather-form backward shares.
    template <class F>
    CTNN_HD void for_each_reader(std::size_t y, std::size_t x, F&& f) const {
        for (std::size_t ky = 0; ky < KH; ++ky) {
            const long oy = source(long(y), ky, sh, ph, dh, OH);
            if (oy < 0) continue;
            for (std::size_t kx = 0; kx < KW; ++kx) {
                const long ox = source(long(x), kx, sw, pw, dw, OW);
                if (ox >= 0) f(ky, kx, std::size_t(oy), std::size_t(ox));
            }
        }
    }
};

/// im2col: cols [N·OH·OW, C·KH·KW] with column c·KH·KW + ky·KW + kx (PyTorch's weight order [F, C/g,
/// KH, KW] flattened, channels of group g contiguous), zero where the tap falls in the padding.
template <class T>
struct im2col {
    const T* x;
    T* cols;
    geometry g;
    CTNN_HD void operator()(std::size_t idx) const {
        const std::size_t ncols = g.C * g.KH * g.KW;
        const std::size_t r = idx / ncols, q = idx % ncols;
        const std::size_t n = r / (g.OH * g.OW), oy = r / g.OW % g.OH, ox = r % g.OW;
        const std::size_t c = q / (g.KH * g.KW), ky = q / g.KW % g.KH, kx = q % g.KW;
        const long y = g.iy(oy, ky), xx = g.ix(ox, kx);
        cols[idx] = (y < 0 || y >= long(g.H) || xx < 0 || xx >= long(g.W)) ? T(0)
                                                                           : x[((n * g.H + std::size_t(y)) * g.W + std::size_t(xx)) * g.C + c];
    }
};

/// col2im as a gather: dx[n, y, x, c] = Σ over the taps that read it of dcols (overwrites dx).
template <class T>
struct col2im {
    const T* dcols;
    T* dx;
    geometry g;
    CTNN_HD void operator()(std::size_t idx) const {
        const std::size_t c = idx % g.C, xx = idx / g.C % g.W, y = idx / (g.C * g.W) % g.H, n = idx / (g.C * g.W * g.H);
        const std::size_t ncols = g.C * g.KH * g.KW;
        T s = 0;
        g.for_each_reader(y, xx, [&](std::size_t ky, std::size_t kx, std::size_t oy, std::size_t ox) {
            s += dcols[((n * g.OH + oy) * g.OW + ox) * ncols + (c * g.KH + ky) * g.KW + kx];
        });
        dx[idx] = s;
    }
};

/// Max pooling forward: y = max over the window (padding never wins, as PyTorch's -inf padding); the
/// per-sample index of the winning input (first on ties) goes to `arg` for backward.
template <class T>
struct max_pool_forward {
    const T* x;
    T* y;
    T* arg;
    geometry g;
    CTNN_HD void operator()(std::size_t idx) const {
        const std::size_t c = idx % g.C, ox = idx / g.C % g.OW, oy = idx / (g.C * g.OW) % g.OH, n = idx / (g.C * g.OW * g.OH);
        const T* xs = x + n * g.H * g.W * g.C;
        bool any = false;
        T best = T(0);
        std::size_t where = 0;
        for (std::size_t ky = 0; ky < g.KH; ++ky) {
            const long yy = g.iy(oy, ky);
            if (yy < 0 || yy >= long(g.H)) continue;
            for (std::size_t kx = 0; kx < g.KW; ++kx) {
                const long xx = g.ix(ox, kx);
                if (xx < 0 || xx >= long(g.W)) continue;
                const std::size_t i = (std::size_t(yy) * g.W + std::size_t(xx)) * g.C + c;
                if (!any || xs[i] > best) {
                    best = xs[i];
                    where = i;
                    any = true;
                }
            }
        }
        y[idx] = best;
        arg[idx] = T(where);
    }
};

/// Max pooling backward as a gather: each input element sums dy of the outputs whose maximum it was.
template <class T>
struct max_pool_backward {
    const T* dy;
    const T* arg;
    T* dx;
    geometry g;
    CTNN_HD void operator()(std::size_t idx) const {
        const std::size_t c = idx % g.C, xx = idx / g.C % g.W, y = idx / (g.C * g.W) % g.H, n = idx / (g.C * g.W * g.H);
        const std::size_t self = (y * g.W + xx) * g.C + c;
        T s = 0;
        g.for_each_reader(y, xx, [&](std::size_t, std::size_t, std::size_t oy, std::size_t ox) {
            const std::size_t o = ((n * g.OH + oy) * g.OW + ox) * g.C + c;
            if (std::size_t(arg[o]) == self) s += dy[o];
        });
        dx[idx] = s;
    }
};

/// Average pooling forward, PyTorch's default count_include_pad=True: the window sum / (KH·KW).
template <class T>
struct avg_pool_forward {
    const T* x;
    T* y;
    geometry g;
    CTNN_HD void operator()(std::size_t idx) const {
        const std::size_t c = idx % g.C, ox = idx / g.C % g.OW, oy = idx / (g.C * g.OW) % g.OH, n = idx / (g.C * g.OW * g.OH);
        const T* xs = x + n * g.H * g.W * g.C;
        T s = 0;
        for (std::size_t ky = 0; ky < g.KH; ++ky) {
            const long yy = g.iy(oy, ky);
            if (yy < 0 || yy >= long(g.H)) continue;
            for (std::size_t kx = 0; kx < g.KW; ++kx) {
                const long xx = g.ix(ox, kx);
                if (xx >= 0 && xx < long(g.W)) s += xs[(std::size_t(yy) * g.W + std::size_t(xx)) * g.C + c];
            }
        }
        y[idx] = s / T(g.KH * g.KW);
    }
};

/// Average pooling backward as a gather: dx = Σ dy / (KH·KW) over the windows that contain the element.
template <class T>
struct avg_pool_backward {
    const T* dy;
    T* dx;
    geometry g;
    CTNN_HD void operator()(std::size_t idx) const {
        const std::size_t c = idx % g.C, xx = idx / g.C % g.W, y = idx / (g.C * g.W) % g.H, n = idx / (g.C * g.W * g.H);
        T s = 0;
        g.for_each_reader(y, xx, [&](std::size_t, std::size_t, std::size_t oy, std::size_t ox) {
            s += dy[((n * g.OH + oy) * g.OW + ox) * g.C + c];
        });
        dx[idx] = s / T(g.KH * g.KW);
    }
};

/// Zero padding of H×W×C samples into OH×OW: ph rows above, pw columns to the left, the rest below and
/// to the right. Forward: index over the output; backward (a gather, overwrites dx): index over the input.
template <class T>
struct zero_pad {
    const T* in;
    T* out;
    geometry g;
    bool backward;
    CTNN_HD void operator()(std::size_t idx) const {
        const std::size_t c = idx % g.C;
        if (!backward) {
            const std::size_t ox = idx / g.C % g.OW, oy = idx / (g.C * g.OW) % g.OH, n = idx / (g.C * g.OW * g.OH);
            const long y = long(oy) - long(g.ph), x = long(ox) - long(g.pw);
            out[idx] = (y < 0 || y >= long(g.H) || x < 0 || x >= long(g.W))
                           ? T(0)
                           : in[((n * g.H + std::size_t(y)) * g.W + std::size_t(x)) * g.C + c];
        } else {
            const std::size_t x = idx / g.C % g.W, y = idx / (g.C * g.W) % g.H, n = idx / (g.C * g.W * g.H);
            out[idx] = in[((n * g.OH + y + g.ph) * g.OW + x + g.pw) * g.C + c];
        }
    }
};

/// Nearest-neighbour upsampling by (sh, sw) (nn.Upsample(mode='nearest')): y[oy, ox] = x[oy / sh,
/// ox / sw]; backward gathers the sh·sw gradients of each input element.
template <class T>
struct upsample_nearest {
    const T* in;
    T* out;
    geometry g;
    bool backward;
    CTNN_HD void operator()(std::size_t idx) const {
        const std::size_t c = idx % g.C;
        if (!backward) {
            const std::size_t ox = idx / g.C % g.OW, oy = idx / (g.C * g.OW) % g.OH, n = idx / (g.C * g.OW * g.OH);
            out[idx] = in[((n * g.H + oy / g.sh) * g.W + ox / g.sw) * g.C + c];
        } else {
            const std::size_t x = idx / g.C % g.W, y = idx / (g.C * g.W) % g.H, n = idx / (g.C * g.W * g.H);
            T s = 0;
            for (std::size_t a = 0; a < g.sh; ++a)
                for (std::size_t b = 0; b < g.sw; ++b) s += in[((n * g.OH + y * g.sh + a) * g.OW + x * g.sw + b) * g.C + c];
            out[idx] = s;
        }
    }
};

/// Channel concatenation of [rows, ca] and [rows, cb] into [rows, ca + cb] (index over the result), or,
/// with `split`, the reverse (the gradient of the concatenation).
template <class T>
struct concat_channels {
    T* a;
    T* b;
    T* y;
    std::size_t ca, cb;
    bool split;
    CTNN_HD void operator()(std::size_t idx) const {
        const std::size_t w = ca + cb, r = idx / w, c = idx % w;
        T& part = c < ca ? a[r * ca + c] : b[r * cb + (c - ca)];
        if (split) part = y[idx];
        else y[idx] = part;
    }
};

}  // namespace ctnn::conv
