// SPDX-License-Identifier: MIT
#pragma once
/// @file loss_rules.hpp  The losses' per-element and per-row rules, written once for both policies
/// (C++17, CTNN_HD): the CPU ops (ops/loss_ops.hpp) call them in a loop and sum the returned terms in
/// index order; the CUDA kernels run the same functors per index, store the terms and reduce them
/// with CUB. Every functor's `operator()(i)` writes the gradient of its index and returns its share of
/// the mean loss (its term already divided by the count of the mean).
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "host_device.hpp"
#include "rules.hpp"

namespace ctnn::rules {

/// Huber loss (nn.HuberLoss): ½d² for |d| < δ, else δ(|d| - ½δ), d = y - t; gradient d or δ·sign(d).
template <class T>
CTNN_HD void huber(T y, T t, T delta, T& value, T& grad) noexcept {
    const T d = y - t, a = d < T(0) ? -d : d;
    if (a < delta) {
        value = T(0.5) * d * d;
        grad = d;
    } else {
        value = delta * (a - T(0.5) * delta);
        grad = d > T(0) ? delta : (d < T(0) ? -delta : T(0));
    }
}

/// Smooth L1 loss (nn.SmoothL1Loss): ½d²/β for |d| < β, else |d| - ½β (β = 0: |d|); gradient d/β or sign(d).
template <class T>
CTNN_HD void smooth_l1(T y, T t, T beta, T& value, T& grad) noexcept {
    const T d = y - t, a = d < T(0) ? -d : d;
    if (a < beta) {
        value = T(0.5) * d * d / beta;
        grad = d / beta;
    } else {
        value = a - T(0.5) * beta;
        grad = d > T(0) ? T(1) : (d < T(0) ? T(-1) : T(0));
    }
}

/// The elementwise losses a `pointwise_loss` rule can name.
enum class pointwise_kind : int { mse, bce, bce_with_logits, huber, smooth_l1 };

/// One elementwise loss as a value (what the CUDA library receives): the kind, its parameter (Huber's
/// δ, smooth L1's β) and an affine map of the target applied first, t' = target_scale·t + target_offset
/// (label smoothing of bce_with_logits; identity otherwise).
template <class T>
struct pointwise_loss {
    pointwise_kind kind = pointwise_kind::mse;
    T param = 0;
    T target_scale = 1, target_offset = 0;
    /// value and d(value)/dy of one element.
    CTNN_HD void operator()(T y, T t, T& value, T& grad) const noexcept {
        t = target_scale * t + target_offset;
        switch (kind) {
            case pointwise_kind::mse: mse(y, t, value, grad); break;
            case pointwise_kind::bce: bce(y, t, value, grad); break;
            case pointwise_kind::bce_with_logits: bce_with_logits(y, t, value, grad); break;
            case pointwise_kind::huber: huber(y, t, param, value, grad); break;
            default: smooth_l1(y, t, param, value, grad); break;
        }
    }
};

/// Element i of a mean elementwise loss over n elements with optional weights w[i % w_len] (w null:
/// all 1), i.e. PyTorch's `weight` broadcast over the leading dimensions.
template <class T>
struct pointwise_terms {
    pointwise_loss<T> rule;
    const T* y;
    const T* t;
    const T* w;
    std::size_t w_len;
    T* g;
    T inv_n;
    CTNN_HD T operator()(std::size_t i) const noexcept {
        T v, d;
        rule(y[i], t[i], v, d);
        const T wi = w ? w[i % w_len] : T(1);
        g[i] = wi * d * inv_n;
        return wi * v * inv_n;
    }
};

/// Row r of the negative log-likelihood on log-probabilities [batch, k] (nn.NLLLoss, mean):
/// term -logp[r, c]/batch, gradient -1/batch at the label, 0 elsewhere. Labels checked beforehand.
template <class T, class L = std::int32_t>
struct nll_rows {
    const T* logp;
    const L* labels;
    T* g;
    std::size_t k;
    T inv_batch;
    CTNN_HD T operator()(std::size_t r) const noexcept {
        T* gr = g + r * k;
        for (std::size_t j = 0; j < k; ++j) gr[j] = T(0);
        const std::size_t c = std::size_t(labels[r]);
        gr[c] = -inv_batch;
        return -logp[r * k + c] * inv_batch;
    }
};

/// Row r of the categorical cross-entropy on probabilities [batch, k] (nn.NLLLoss of
/// log(p.clamp_min(eps)), mean): term -log(max(p[r, c], eps))/batch; gradient -1/(p[r, c]·batch) at the
/// label where p[r, c] >= eps (clamp_min passes the gradient there), 0 elsewhere. Labels checked beforehand.
template <class T, class L = std::int32_t>
struct categorical_cross_entropy_rows {
    const T* p;
    const L* labels;
    T* g;
    std::size_t k;
    T eps;
    T inv_batch;
    CTNN_HD T operator()(std::size_t r) const noexcept {
        T* gr = g + r * k;
        for (std::size_t j = 0; j < k; ++j) gr[j] = T(0);
        const std::size_t c = std::size_t(labels[r]);
        const T pc = p[r * k + c];
        if (pc >= eps) {
            gr[c] = -inv_batch / pc;
            return -std::log(pc) * inv_batch;
        }
        return -std::log(eps) * inv_batch;
    }
};

/// Row r of log-softmax: y = x - max - log Σ exp(x - max) (y may equal x).
template <class T>
struct log_softmax_rows {
    const T* x;
    T* y;
    std::size_t n;
    CTNN_HD void operator()(std::size_t r) const noexcept {
        const T* xr = x + r * n;
        T* yr = y + r * n;
        T m = xr[0];
        for (std::size_t j = 1; j < n; ++j) m = xr[j] > m ? xr[j] : m;
        T s = 0;
        for (std::size_t j = 0; j < n; ++j) s += std::exp(xr[j] - m);
        const T shift = m + std::log(s);
        for (std::size_t j = 0; j < n; ++j) yr[j] = xr[j] - shift;
    }
};

/// Row r of log-softmax's backward from its output y: dx = dy - exp(y)·Σ dy.
template <class T>
struct log_softmax_rows_backward {
    const T* y;
    const T* dy;
    T* dx;
    std::size_t n;
    CTNN_HD void operator()(std::size_t r) const noexcept {
        const T* yr = y + r * n;
        const T* dyr = dy + r * n;
        T s = 0;
        for (std::size_t j = 0; j < n; ++j) s += dyr[j];
        for (std::size_t j = 0; j < n; ++j) dx[r * n + j] = dyr[j] - std::exp(yr[j]) * s;
    }
};

/// Sample r of KL(N(μ, σ²) ‖ N(0, 1)) = ½ Σ_j (μ² + σ² - 1 - log σ²) from μ and log σ² [batch, latent],
/// divided by the batch; dμ = μ/batch, d(log σ²) = ½(σ² - 1)/batch. Rows are `stride` apart in all four
/// arrays (0: latent; 2·latent for the packed [μ | log σ²] statistics of gaussian_sample).
template <class T>
struct gaussian_kl_rows {
    const T* mu;
    const T* logvar;
    T* dmu;
    T* dlogvar;
    std::size_t latent;
    T inv_batch;
    std::size_t stride = 0;
    CTNN_HD T operator()(std::size_t r) const noexcept {
        T s = 0;
        for (std::size_t j = r * (stride ? stride : latent), e = j + latent; j < e; ++j) {
            const T v = std::exp(logvar[j]);
            s += mu[j] * mu[j] + v - T(1) - logvar[j];
            dmu[j] = mu[j] * inv_batch;
            dlogvar[j] = T(0.5) * (v - T(1)) * inv_batch;
        }
        return T(0.5) * s * inv_batch;
    }
};

/// Sample r of the cosine embedding loss (nn.CosineEmbeddingLoss, mean over the batch): with
/// cos = <a, b>/√((|a|² + 1e-12)(|b|² + 1e-12)) (PyTorch's ε), 1 - cos for t = 1 and max(0, cos - margin)
/// for t = -1; the gradients of both inputs [batch, dim].
template <class T>
struct cosine_embedding_rows {
    const T* a;
    const T* b;
    const T* t;
    T* da;
    T* db;
    std::size_t dim;
    T margin, inv_batch;
    CTNN_HD T operator()(std::size_t r) const noexcept {
        const T* ar = a + r * dim;
        const T* br = b + r * dim;
        T dot = 0, ma = T(1e-12), mb = T(1e-12);
        for (std::size_t j = 0; j < dim; ++j) {
            dot += ar[j] * br[j];
            ma += ar[j] * ar[j];
            mb += br[j] * br[j];
        }
        const T denom = std::sqrt(ma * mb), cos = dot / denom;
        T value = 0, dcos = 0;  // dL/dcos
        if (t[r] > T(0)) {
            value = T(1) - cos;
            dcos = T(-1);
        } else if (cos > margin) {
            value = cos - margin;
            dcos = T(1);
        }
        const T s = dcos * inv_batch;
        for (std::size_t j = 0; j < dim; ++j) {
            da[r * dim + j] = s * (br[j] / denom - cos * ar[j] / ma);
            db[r * dim + j] = s * (ar[j] / denom - cos * br[j] / mb);
        }
        return value * inv_batch;
    }
};

/// Element i of the margin ranking loss (nn.MarginRankingLoss, mean over n): max(0, -t(a - b) + margin);
/// where positive, da = -t/n and db = t/n.
template <class T>
struct margin_ranking_terms {
    const T* a;
    const T* b;
    const T* t;
    T* da;
    T* db;
    T margin, inv_n;
    CTNN_HD T operator()(std::size_t i) const noexcept {
        const T v = -t[i] * (a[i] - b[i]) + margin;
        const bool active = v > T(0);
        da[i] = active ? -t[i] * inv_n : T(0);
        db[i] = active ? t[i] * inv_n : T(0);
        return active ? v * inv_n : T(0);
    }
};

}  // namespace ctnn::rules
