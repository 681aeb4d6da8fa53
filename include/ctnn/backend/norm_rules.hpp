// SPDX-License-Identifier: MIT
#pragma once
/// @file norm_rules.hpp  Batch normalisation over rows of channel-innermost data ([rows, C]: NHWC
/// pixels or dense features), per channel, and layer normalisation of each row over its N values, as
/// CTNN_HD functors shared by the CPU and CUDA policies. Sums run in index order, so results do not
/// depend on scheduling.
#include <cmath>
#include <cstddef>

#include "host_device.hpp"

namespace ctnn::norm {

/// Training forward of channel c (PyTorch's BatchNorm): batch mean and biased variance normalise x;
/// running_mean/var move by `momentum` towards the batch mean and the *unbiased* variance; the batch
/// mean and 1/sqrt(var + eps) are kept for backward.
template <class T>
struct batch_norm_train {
    const T* x;
    T* y;
    const T* gamma;  // null: no affine
    const T* beta;
    T* running_mean;
    T* running_var;
    T* batch_mean;
    T* batch_invstd;
    T* batches_tracked;  // incremented once per call (by channel 0)
    std::size_t rows, C;
    T momentum, eps;
    CTNN_HD void operator()(std::size_t c) const {
        if (c == 0) *batches_tracked += T(1);
        T s = 0;
        for (std::size_t r = 0; r < rows; ++r) s += x[r * C + c];
        const T mean = s / T(rows);
        T q = 0;
        for (std::size_t r = 0; r < rows; ++r) {
            const T d = x[r * C + c] - mean;
            q += d * d;
        }
        const T var = q / T(rows);
        const T invstd = T(1) / std::sqrt(var + eps);
        const T g = gamma ? gamma[c] : T(1), b = beta ? beta[c] : T(0);
        for (std::size_t r = 0; r < rows; ++r) y[r * C + c] = (x[r * C + c] - mean) * invstd * g + b;
        running_mean[c] = (T(1) - momentum) * running_mean[c] + momentum * mean;
        running_var[c] = (T(1) - momentum) * running_var[c] + momentum * (rows > 1 ? q / T(rows - 1) : var);
        batch_mean[c] = mean;
        batch_invstd[c] = invstd;
    }
};

/// Evaluation forward: normalise with the running statistics.
template <class T>
struct batch_norm_eval {
    const T* x;
    T* y;
    const T* gamma;
    const T* beta;
    const T* running_mean;
    const T* running_var;
    std::size_t rows, C;
    T eps;
    CTNN_HD void operator()(std::size_t c) const {
        const T invstd = T(1) / std::sqrt(running_var[c] + eps);
        const T g = gamma ? gamma[c] : T(1), b = beta ? beta[c] : T(0);
        for (std::size_t r = 0; r < rows; ++r) y[r * C + c] = (x[r * C + c] - running_mean[c]) * invstd * g + b;
    }
};

/// Backward of the training forward: dγ += Σ dy·x̂, dβ += Σ dy (when dgamma is not null), and
/// dx = γ·invstd·(dy - mean(dy) - x̂·mean(dy·x̂)) (when dx is not null), x̂ = (x - mean)·invstd.
template <class T>
struct batch_norm_train_backward {
    const T* x;
    const T* dy;
    const T* gamma;
    const T* batch_mean;
    const T* batch_invstd;
    T* dgamma;
    T* dbeta;
    T* dx;
    std::size_t rows, C;
    CTNN_HD void operator()(std::size_t c) const {
        const T mean = batch_mean[c], invstd = batch_invstd[c];
        T sdy = 0, sdyx = 0;
        for (std::size_t r = 0; r < rows; ++r) {
            const T d = dy[r * C + c];
            sdy += d;
            sdyx += d * (x[r * C + c] - mean) * invstd;
        }
        if (dgamma) {
            dgamma[c] += sdyx;
            dbeta[c] += sdy;
        }
        if (!dx) return;
        const T k = (gamma ? gamma[c] : T(1)) * invstd, n = T(rows);
        for (std::size_t r = 0; r < rows; ++r) {
            const T xh = (x[r * C + c] - mean) * invstd;
            dx[r * C + c] = k * (dy[r * C + c] - sdy / n - xh * sdyx / n);
        }
    }
};

/// Backward of the evaluation forward (a fixed affine map per channel).
template <class T>
struct batch_norm_eval_backward {
    const T* x;
    const T* dy;
    const T* gamma;
    const T* running_mean;
    const T* running_var;
    T* dgamma;
    T* dbeta;
    T* dx;
    std::size_t rows, C;
    T eps;
    CTNN_HD void operator()(std::size_t c) const {
        const T invstd = T(1) / std::sqrt(running_var[c] + eps);
        if (dgamma) {
            T sdy = 0, sdyx = 0;
            for (std::size_t r = 0; r < rows; ++r) {
                sdy += dy[r * C + c];
                sdyx += dy[r * C + c] * (x[r * C + c] - running_mean[c]) * invstd;
            }
            dgamma[c] += sdyx;
            dbeta[c] += sdy;
        }
        if (!dx) return;
        const T k = (gamma ? gamma[c] : T(1)) * invstd;
        for (std::size_t r = 0; r < rows; ++r) dx[r * C + c] = k * dy[r * C + c];
    }
};

/// Layer normalisation of row r over its N values (nn.LayerNorm(N)): biased variance, y = x̂·γ + β with
/// x̂ = (x - mean)·invstd, invstd = 1/sqrt(var + eps); the row's mean and invstd are kept for backward
/// when `mean` is not null. Index = row.
template <class T>
struct layer_norm_forward {
    const T* x;
    T* y;
    const T* gamma;  // null: no elementwise affine
    const T* beta;   // null: no bias
    T* mean;         // null: not kept (inference)
    T* invstd;
    std::size_t N;
    T eps;
    CTNN_HD void operator()(std::size_t r) const {
        const T* xr = x + r * N;
        T s = 0;
        for (std::size_t j = 0; j < N; ++j) s += xr[j];
        const T m = s / T(N);
        T q = 0;
        for (std::size_t j = 0; j < N; ++j) {
            const T d = xr[j] - m;
            q += d * d;
        }
        const T is = T(1) / std::sqrt(q / T(N) + eps);
        T* yr = y + r * N;
        for (std::size_t j = 0; j < N; ++j) yr[j] = (xr[j] - m) * is * (gamma ? gamma[j] : T(1)) + (beta ? beta[j] : T(0));
        if (mean) {
            mean[r] = m;
            invstd[r] = is;
        }
    }
};

/// dx of row r: with g = dy·γ, dx = invstd·(g - mean(g) - x̂·mean(g·x̂)). Index = row.
template <class T>
struct layer_norm_input_backward {
    const T* x;
    const T* dy;
    const T* gamma;
    const T* mean;
    const T* invstd;
    T* dx;
    std::size_t N;
    CTNN_HD void operator()(std::size_t r) const {
        const T* xr = x + r * N;
        const T* dyr = dy + r * N;
        const T m = mean[r], is = invstd[r];
        T sg = 0, sgx = 0;
        for (std::size_t j = 0; j < N; ++j) {
            const T g = dyr[j] * (gamma ? gamma[j] : T(1));
            sg += g;
            sgx += g * (xr[j] - m) * is;
        }
        sg /= T(N);
        sgx /= T(N);
        for (std::size_t j = 0; j < N; ++j)
            dx[r * N + j] = is * (dyr[j] * (gamma ? gamma[j] : T(1)) - sg - (xr[j] - m) * is * sgx);
    }
};

/// dγ[j] += Σ_r dy·x̂, dβ[j] += Σ_r dy over `rows` rows in order (dbeta may be null). Index = column j.
template <class T>
struct layer_norm_param_backward {
    const T* x;
    const T* dy;
    const T* mean;
    const T* invstd;
    T* dgamma;
    T* dbeta;
    std::size_t rows, N;
    CTNN_HD void operator()(std::size_t j) const {
        T sg = 0, sb = 0;
        for (std::size_t r = 0; r < rows; ++r) {
            sg += dy[r * N + j] * (x[r * N + j] - mean[r]) * invstd[r];
            sb += dy[r * N + j];
        }
        dgamma[j] += sg;
        if (dbeta) dbeta[j] += sb;
    }
};

}  // namespace ctnn::norm
