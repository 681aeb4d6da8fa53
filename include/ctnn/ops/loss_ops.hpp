// SPDX-License-Identifier: MIT
#pragma once
/// @file loss_ops.hpp  The operations losses (and fit) call, dispatched on the execution policy like the
/// layers' ops: every pointer is in P's memory, the loss value is written to a scalar in P's memory
/// (`loss_out`), nothing waits for a GPU. Rules shared by both policies are in backend/loss_rules.hpp;
/// labels and targets are checked on the host by the loss before these run.
#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include <xsimd/xsimd.hpp>

#include "../backend/cuda/api.hpp"
#include "../backend/loss_rules.hpp"
#include "../backend/policy.hpp"
#include "../metrics/confusion.hpp"

namespace ctnn::ops {

namespace loss_detail {
template <class P>
inline constexpr bool on_cuda = std::same_as<P, cuda>;
template <class P>
inline constexpr bool known_policy = is_policy_v<P>;
template <class P>
constexpr void check_policy() {
    static_assert(known_policy<P>, "ctnn::ops: unknown execution policy; use ctnn::cpu or ctnn::cuda");
}
template <class L>
constexpr void check_cuda_labels() {
    static_assert(std::is_same_v<std::remove_cv_t<L>, std::int32_t>,
                  "ctnn::ops: the CUDA policy takes labels as std::int32_t; convert them (datasets already hold int32)");
}
/// Σ_i f(i) for i in [0, n), in index order (the CUDA emulation sums in the same order).
template <class T, class F>
T sum_terms(std::size_t n, const F& f) {
    T s = 0;
    for (std::size_t i = 0; i < n; ++i) s += f(i);
    return s;
}
template <class T>
T inverse_count(std::size_t n) {
    return T(1) / T(n ? n : 1);
}
}  // namespace loss_detail

/// *dst = *src, one scalar in P's memory (e.g. a step's loss into a per-epoch buffer).
template <class P, class T>
void copy_scalar(T* dst, const T* src) {
    loss_detail::check_policy<P>();
    if constexpr (loss_detail::on_cuda<P>) cuda_api::copy_on_device(dst, src, sizeof(T));
    else *dst = *src;
}

/// The value of a scalar in P's memory, on the host (waits for the GPU under the CUDA policy).
template <class P, class T>
T read_scalar(const T* src) {
    loss_detail::check_policy<P>();
    if constexpr (loss_detail::on_cuda<P>) return cuda_api::read_scalar(src);
    else return *src;
}

/// Mean elementwise loss over n elements: *loss_out = Σ_i w[i % w_len]·f(y_i, t_i)/n and
/// dy_i = w[i % w_len]·f'(y_i, t_i)/n, for the rule @p rule (mse, bce, bce_with_logits, huber,
/// smooth_l1, with an optional affine map of the target). @p w may be null (no weights); otherwise it
/// holds w_len weights broadcast over the elements (PyTorch's `weight` of shape [outputs]).
template <class P, class T>
void pointwise_loss(const rules::pointwise_loss<T>& rule, const T* y, const T* t, const T* w, std::size_t w_len,
                    std::size_t n, T* dy, T* loss_out) {
    loss_detail::check_policy<P>();
    if constexpr (loss_detail::on_cuda<P>) cuda_api::pointwise_loss(rule, y, t, w, w_len, n, dy, loss_out);
    else
        *loss_out = loss_detail::sum_terms<T>(
            n, rules::pointwise_terms<T>{rule, y, t, w, w_len, dy, loss_detail::inverse_count<T>(n)});
}

namespace loss_detail {
/// The CPU cross-entropy of both ops: rows whose label is @p ignore (when @p ignoring) get a zero
/// gradient and no loss, and the mean is over the other rows (0 and a zero gradient when none is left).
template <class T, class L>
void cross_entropy_cpu(const T* z, const L* labels, std::size_t batch, std::size_t k, T* dz, T* loss_out, bool ignoring,
                       long long ignore) {
    auto skipped = [&](std::size_t b) { return ignoring && static_cast<long long>(labels[b]) == ignore; };
    std::size_t counted = batch;
    if (ignoring)
        for (std::size_t b = 0; b < batch; ++b) counted -= skipped(b);
    T sum = 0;
    const T inv_b = inverse_count<T>(counted);
    // pass 1: shift each row by its max (stability), accumulate -(z_c - max)
    for (std::size_t b = 0; b < batch; ++b) {
        const T* zb = z + b * k;
        T* gb = dz + b * k;
        const T m = *std::max_element(zb, zb + k);
        for (std::size_t j = 0; j < k; ++j) gb[j] = zb[j] - m;
        if (!skipped(b)) sum -= gb[std::size_t(labels[b])];
    }
    // pass 2: one vectorised exp over the whole [batch, k] buffer (rows are often shorter than a vector)
    using vec = xsimd::batch<T>;
    const std::size_t n = batch * k;
    std::size_t i = 0;
    for (; i + vec::size <= n; i += vec::size) xsimd::exp(vec::load_unaligned(dz + i)).store_unaligned(dz + i);
    for (; i < n; ++i) dz[i] = std::exp(dz[i]);
    // pass 3: log-sum-exp per row, softmax - onehot, mean over the counted rows
    for (std::size_t b = 0; b < batch; ++b) {
        T* gb = dz + b * k;
        if (skipped(b)) {
            std::fill(gb, gb + k, T(0));
            continue;
        }
        T s = 0;
        for (std::size_t j = 0; j < k; ++j) s += gb[j];
        sum += std::log(s);
        const T inv_s = inv_b / s;
        for (std::size_t j = 0; j < k; ++j) gb[j] *= inv_s;
        gb[std::size_t(labels[b])] -= inv_b;
    }
    *loss_out = sum * inv_b;
}
}  // namespace loss_detail

/// Cross-entropy on logits z [batch, classes] with integer labels [batch] (fused log-softmax + NLL,
/// mean over the batch): dz = (softmax(z) - onehot)/batch. Labels must be in range (checked by the loss).
template <class P, class T, class L>
void cross_entropy(const T* z, const L* labels, std::size_t batch, std::size_t k, T* dz, T* loss_out) {
    loss_detail::check_policy<P>();
    if constexpr (loss_detail::on_cuda<P>) {
        loss_detail::check_cuda_labels<L>();
        cuda_api::cross_entropy(z, labels, batch, k, dz, loss_out);
    } else
        loss_detail::cross_entropy_cpu(z, labels, batch, k, dz, loss_out, false, 0);
}

/// cross_entropy with PyTorch's `ignore_index`: rows labelled @p ignore_index contribute no loss and a
/// zero gradient, and the mean is over the other rows — dz = (softmax(z) - onehot)/counted there. With
/// no row left the loss is 0 and the gradient zero (PyTorch returns NaN). Other labels must be in range.
template <class P, class T, class L>
void cross_entropy_ignoring(const T* z, const L* labels, std::size_t batch, std::size_t k, std::int32_t ignore_index, T* dz,
                            T* loss_out) {
    loss_detail::check_policy<P>();
    if constexpr (loss_detail::on_cuda<P>) {
        loss_detail::check_cuda_labels<L>();
        cuda_api::cross_entropy_ignoring(z, labels, batch, k, ignore_index, dz, loss_out);
    } else
        loss_detail::cross_entropy_cpu(z, labels, batch, k, dz, loss_out, true, ignore_index);
}

/// Negative log-likelihood on log-probabilities [batch, classes] with integer labels (nn.NLLLoss,
/// mean over the batch): -logp[b, label_b] averaged; d(logp) = -onehot/batch.
template <class P, class T, class L>
void nll(const T* logp, const L* labels, std::size_t batch, std::size_t k, T* dlogp, T* loss_out) {
    loss_detail::check_policy<P>();
    if constexpr (loss_detail::on_cuda<P>) {
        loss_detail::check_cuda_labels<L>();
        cuda_api::nll(logp, labels, batch, k, dlogp, loss_out);
    } else
        *loss_out = loss_detail::sum_terms<T>(
            batch, rules::nll_rows<T, L>{logp, labels, dlogp, k, loss_detail::inverse_count<T>(batch)});
}

/// Categorical cross-entropy on probabilities p [batch, classes] with integer labels (mean over the
/// batch): -log(max(p[b, label_b], eps)) averaged; dp = -onehot/(p·batch) where p[b, label_b] >= eps.
template <class P, class T, class L>
void categorical_cross_entropy(const T* p, const L* labels, std::size_t batch, std::size_t k, T eps, T* dp, T* loss_out) {
    loss_detail::check_policy<P>();
    if constexpr (loss_detail::on_cuda<P>) {
        loss_detail::check_cuda_labels<L>();
        cuda_api::categorical_cross_entropy(p, labels, batch, k, eps, dp, loss_out);
    } else
        *loss_out = loss_detail::sum_terms<T>(
            batch, rules::categorical_cross_entropy_rows<T, L>{p, labels, dp, k, eps, loss_detail::inverse_count<T>(batch)});
}

/// Log-softmax over each of `rows` rows of n values (numerically stable; y may equal x).
template <class P, class T>
void log_softmax_forward(const T* x, T* y, std::size_t rows, std::size_t n) {
    loss_detail::check_policy<P>();
    if constexpr (loss_detail::on_cuda<P>) cuda_api::log_softmax_forward(x, y, rows, n);
    else {
        const rules::log_softmax_rows<T> f{x, y, n};
        for (std::size_t r = 0; r < rows; ++r) f(r);
    }
}
/// dx = dy - exp(y)·Σ dy per row, from log-softmax's output y.
template <class P, class T>
void log_softmax_backward(const T* y, const T* dy, T* dx, std::size_t rows, std::size_t n) {
    loss_detail::check_policy<P>();
    if constexpr (loss_detail::on_cuda<P>) cuda_api::log_softmax_backward(y, dy, dx, rows, n);
    else {
        const rules::log_softmax_rows_backward<T> f{y, dy, dx, n};
        for (std::size_t r = 0; r < rows; ++r) f(r);
    }
}

/// KL(N(μ, σ²) ‖ N(0, 1)) summed over the latent dimensions and averaged over the batch, from μ and
/// log σ² [batch, latent] whose rows are @p stride apart (0: latent; 2·latent for packed [μ | log σ²]);
/// writes dμ and d(log σ²) of that value at the same places.
template <class P, class T>
void gaussian_kl(const T* mu, const T* logvar, std::size_t batch, std::size_t latent, T* dmu, T* dlogvar, T* loss_out,
                 std::size_t stride = 0) {
    loss_detail::check_policy<P>();
    if constexpr (loss_detail::on_cuda<P>) cuda_api::gaussian_kl(mu, logvar, batch, latent, stride, dmu, dlogvar, loss_out);
    else
        *loss_out = loss_detail::sum_terms<T>(
            batch, rules::gaussian_kl_rows<T>{mu, logvar, dmu, dlogvar, latent, loss_detail::inverse_count<T>(batch), stride});
}

/// Cosine embedding loss of a, b [batch, dim] with targets t [batch] in {1, -1} (nn.CosineEmbeddingLoss,
/// mean over the batch); writes the gradients of a and b.
template <class P, class T>
void cosine_embedding(const T* a, const T* b, const T* t, std::size_t batch, std::size_t dim, T margin, T* da, T* db,
                      T* loss_out) {
    loss_detail::check_policy<P>();
    if constexpr (loss_detail::on_cuda<P>) cuda_api::cosine_embedding(a, b, t, batch, dim, margin, da, db, loss_out);
    else
        *loss_out = loss_detail::sum_terms<T>(
            batch, rules::cosine_embedding_rows<T>{a, b, t, da, db, dim, margin, loss_detail::inverse_count<T>(batch)});
}

/// Margin ranking loss of a, b [n] with targets t [n] in {1, -1} (nn.MarginRankingLoss, mean over n):
/// max(0, -t(a - b) + margin); writes the gradients of a and b.
template <class P, class T>
void margin_ranking(const T* a, const T* b, const T* t, std::size_t n, T margin, T* da, T* db, T* loss_out) {
    loss_detail::check_policy<P>();
    if constexpr (loss_detail::on_cuda<P>) cuda_api::margin_ranking(a, b, t, n, margin, da, db, loss_out);
    else
        *loss_out = loss_detail::sum_terms<T>(
            n, rules::margin_ranking_terms<T>{a, b, t, da, db, margin, loss_detail::inverse_count<T>(n)});
}

/// The predicted class of each row of x [rows, n] (metrics::predicted_class: arg max, or x > threshold
/// for one output) into out [rows]; with @p labels (may be null), 1 where it equals the label, else 0.
template <class P, class T, class L>
void predicted_class_rows(const T* x, std::size_t rows, std::size_t n, T threshold, const L* labels, std::int32_t* out) {
    loss_detail::check_policy<P>();
    if constexpr (loss_detail::on_cuda<P>) {
        loss_detail::check_cuda_labels<L>();
        cuda_api::predicted_class_rows(x, rows, n, threshold, labels, out);
    } else
        for (std::size_t r = 0; r < rows; ++r) {
            const std::size_t c = metrics::predicted_class(x + r * n, n, threshold);
            out[r] = labels ? std::int32_t(std::int64_t(c) == std::int64_t(labels[r])) : std::int32_t(c);
        }
}

}  // namespace ctnn::ops
