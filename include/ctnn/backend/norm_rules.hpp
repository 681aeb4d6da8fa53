// SPDX-License-Identifier: MIT
#pragma once
/// @file norm_rules.hpp  Batch normalisation over rows of channel-innermost data ([rows, C]: NHWC
/// pixels or dense features), per channel, as CTNN_HD functors (index = channel) shared by the CPU
/// and CUDA policies. Rows are summed in order, so results do not depend on scheduling.
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

}  // namespace ctnn::norm
