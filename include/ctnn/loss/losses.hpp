// SPDX-License-Identifier: MIT
#pragma once
/// @file losses.hpp  Losses of one model output, mean reduction (PyTorch's default). Each is a
/// `loss::loss_function` (loss/concepts.hpp): `evaluate<P>` calls `ops::*<P>` (ops/loss_ops.hpp), so the
/// same loss runs on the CPU and the GPU; the CPU form `loss(y, target, dy)` returns the loss and writes
/// dL/dy into a caller buffer (usually `ctx.output_gradient()`), so a training step allocates nothing.
/// Losses of two outputs (gaussian_kl, cosine_embedding, margin_ranking) are in pair_losses.hpp.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "../backend/buffer.hpp"
#include "../backend/loss_rules.hpp"
#include "../core/error.hpp"
#include "../ops/loss_ops.hpp"
#include "concepts.hpp"

namespace ctnn::loss {

namespace detail {
/// Throws unless every label is in [0, k) or equals @p ignore (when set): "<loss>: label 3 at index 1 is
/// outside [0, 3)" (+ " and is not the ignore_index -100").
template <class L>
void check_labels(const char* loss, const L* labels, std::size_t batch, std::size_t k, std::optional<std::int32_t> ignore = {}) {
    for (std::size_t b = 0; b < batch; ++b) {
        const long long c = static_cast<long long>(labels[b]);
        if ((c < 0 || static_cast<unsigned long long>(c) >= k) && !(ignore && c == *ignore)) [[unlikely]]
            ctnn::detail::fail(std::string(loss) + ": label " + std::to_string(c) + " at index " + std::to_string(b) +
                               " is outside [0, " + std::to_string(k) + ")" +
                               (ignore ? " and is not the ignore_index " + std::to_string(*ignore) : std::string()));
    }
}
/// The mean of rule over n = batch·per_sample elements, weights w[i % w_len] (w may be null).
template <class P, class T, class Tg>
void pointwise(const rules::pointwise_loss<T>& rule, const T* y, const Tg* t, T* dy, std::size_t n, T* out,
               const T* w = nullptr, std::size_t w_len = 1) {
    static_assert(std::is_same_v<Tg, T>, "ctnn::loss: targets of an elementwise loss have the model's value type; convert them");
    ops::pointwise_loss<P>(rule, y, t, w, w_len, n, dy, out);
}
}  // namespace detail

/// Mean squared error (nn.MSELoss): mean over all elements of (y - t)². Gradient 2(y - t)/n.
struct mse : base<mse> {
    static constexpr const char* name = "mse";
    using target_kind = value_target;
    template <class P, class T, class Tg>
    void evaluate(const T* y, const Tg* t, T* dy, std::size_t batch, std::size_t per_sample, T* loss_out) const {
        detail::pointwise<P>(rules::pointwise_loss<T>{rules::pointwise_kind::mse}, y, t, dy, batch * per_sample, loss_out);
    }
};

/// Binary cross-entropy on probabilities in [0, 1] (after a sigmoid layer); logs clamped at -100 as
/// PyTorch's nn.BCELoss does. Gradient (p - t)/(p(1 - p))/n with p(1 - p) floored at 1e-12.
/// Prefer `bce_with_logits` for training.
struct bce : base<bce> {
    static constexpr const char* name = "bce";
    using target_kind = value_target;
    /// Single-output class decision on this loss's input (probabilities): p > 0.5.
    static constexpr double decision_threshold = 0.5;
    template <class P, class T, class Tg>
    void evaluate(const T* y, const Tg* t, T* dy, std::size_t batch, std::size_t per_sample, T* loss_out) const {
        detail::pointwise<P>(rules::pointwise_loss<T>{rules::pointwise_kind::bce}, y, t, dy, batch * per_sample, loss_out);
    }
};

/// How `label_smoothing` ε moves the targets of bce_with_logits.
enum class smoothing_mode {
    one_sided,  ///< t' = t·(1 - ε): positives become 1 - ε, zeros stay 0 (Salimans et al. 2016, GAN discriminators)
    two_sided   ///< t' = t·(1 - ε) + ε/2: 1 → 1 - ε/2, 0 → ε/2 (symmetric smoothing of two classes)
};

namespace detail {
/// The pointwise rule of bce_with_logits with label smoothing ε in @p mode.
template <class T>
rules::pointwise_loss<T> bce_logits_rule(double eps, smoothing_mode mode) {
    return {rules::pointwise_kind::bce_with_logits, T(0), T(1 - eps), mode == smoothing_mode::two_sided ? T(eps / 2) : T(0)};
}
inline void check_smoothing(const char* loss, double eps) {
    if (!(eps >= 0 && eps < 1)) [[unlikely]]
        ctnn::detail::fail(std::string(loss) + ": label_smoothing is " + std::to_string(eps) + ", expected a value in [0, 1)");
}
}  // namespace detail

/// Binary cross-entropy on logits z (nn.BCEWithLogitsLoss; fused sigmoid, stable): mean of
/// max(z,0) - z·t' + log(1 + e^-|z|), gradient (sigmoid(z) - t')/n, where t' is the target after label
/// smoothing (`smoothing_mode`; ε = 0, the default, leaves t unchanged).
struct bce_with_logits : base<bce_with_logits> {
    static constexpr const char* name = "bce_with_logits";
    using target_kind = value_target;
    /// Single-output class decision on this loss's input (logits): z > 0.
    static constexpr double decision_threshold = 0.0;
    double label_smoothing = 0;
    smoothing_mode smoothing = smoothing_mode::one_sided;

    bce_with_logits() = default;
    /// Label smoothing ε in [0, 1) applied as @p mode says.
    explicit bce_with_logits(double eps, smoothing_mode mode = smoothing_mode::one_sided) : label_smoothing(eps), smoothing(mode) {
        detail::check_smoothing(name, eps);
    }
    template <class P, class T, class Tg>
    void evaluate(const T* y, const Tg* t, T* dy, std::size_t batch, std::size_t per_sample, T* loss_out) const {
        detail::pointwise<P>(detail::bce_logits_rule<T>(label_smoothing, smoothing), y, t, dy, batch * per_sample, loss_out);
    }
};

/// bce_with_logits with per-element weights (nn.BCEWithLogitsLoss(weight=w)): mean over all n elements
/// of w[i % W]·bce(z_i, t'_i), i.e. W weights broadcast over the batch (typically W = outputs per
/// sample). The weights are a member tensor in P's memory (uploaded once by the constructor), so the
/// loss object belongs to one policy and value type: `weighted_bce_with_logits<float, cuda>` for a
/// CUDA float model. (The op `ops::pointwise_loss<P>` takes weights per call instead.)
template <class T, class P = cpu>
class weighted_bce_with_logits : public base<weighted_bce_with_logits<T, P>> {
public:
    static constexpr const char* name = "weighted_bce_with_logits";
    using target_kind = value_target;
    static constexpr double decision_threshold = 0.0;

    /// @p weights: W > 0 host values; @p eps, @p mode: label smoothing as in bce_with_logits.
    explicit weighted_bce_with_logits(const std::vector<T>& weights, double eps = 0,
                                      smoothing_mode mode = smoothing_mode::one_sided)
        : m_w(weights.size()), m_n(weights.size()), m_eps(eps), m_mode(mode) {
        if (weights.empty()) [[unlikely]]
            ctnn::detail::fail(std::string(name) + ": no weights; pass one weight per output (or per element)");
        detail::check_smoothing(name, eps);
        copy_from_host<P>(m_w.data(), weights.data(), weights.size());
    }
    /// Number of weights W.
    std::size_t weight_count() const noexcept { return m_n; }

    /// Sizes, and batch × per_sample a multiple of W.
    template <class Tg>
    void check_target(const Tg* t, std::size_t n, std::size_t batch, std::size_t per_sample) const {
        base<weighted_bce_with_logits>::check_target(t, n, batch, per_sample);
        if ((batch * per_sample) % m_n != 0) [[unlikely]]
            ctnn::detail::fail(std::string(name) + ": " + std::to_string(batch * per_sample) +
                               " predictions are not a multiple of the " + std::to_string(m_n) + " weights");
    }
    template <class P2, class T2, class Tg>
    void evaluate(const T2* y, const Tg* t, T2* dy, std::size_t batch, std::size_t per_sample, T2* loss_out) const {
        static_assert(std::is_same_v<P2, P> && std::is_same_v<T2, T>,
                      "ctnn::loss: weighted_bce_with_logits<T, P> holds its weights in P's memory as T; construct it "
                      "with the model's value type and policy");
        detail::pointwise<P>(detail::bce_logits_rule<T>(m_eps, m_mode), y, t, dy, batch * per_sample, loss_out, m_w.data(), m_n);
    }

private:
    buffer_t<P, T> m_w;
    std::size_t m_n;
    double m_eps;
    smoothing_mode m_mode;
};

/// Huber loss (nn.HuberLoss(delta)): mean of ½d² for |d| < δ, δ(|d| - ½δ) beyond, d = y - t. The
/// usual DQN loss (δ = 1).
struct huber : base<huber> {
    static constexpr const char* name = "huber";
    using target_kind = value_target;
    double delta = 1.0;
    huber() = default;
    /// δ > 0.
    explicit huber(double d) : delta(d) {
        if (!(d > 0)) [[unlikely]]
            ctnn::detail::fail(std::string(name) + ": delta is " + std::to_string(d) + ", expected a value > 0");
    }
    template <class P, class T, class Tg>
    void evaluate(const T* y, const Tg* t, T* dy, std::size_t batch, std::size_t per_sample, T* loss_out) const {
        detail::pointwise<P>(rules::pointwise_loss<T>{rules::pointwise_kind::huber, T(delta)}, y, t, dy, batch * per_sample,
                             loss_out);
    }
};

/// Smooth L1 loss (nn.SmoothL1Loss(beta)): mean of ½d²/β for |d| < β, |d| - ½β beyond (β = 0: L1).
/// Equals huber(δ)/δ for β = δ.
struct smooth_l1 : base<smooth_l1> {
    static constexpr const char* name = "smooth_l1";
    using target_kind = value_target;
    double beta = 1.0;
    smooth_l1() = default;
    /// β ≥ 0.
    explicit smooth_l1(double b) : beta(b) {
        if (!(b >= 0)) [[unlikely]]
            ctnn::detail::fail(std::string(name) + ": beta is " + std::to_string(b) + ", expected a value >= 0");
    }
    template <class P, class T, class Tg>
    void evaluate(const T* y, const Tg* t, T* dy, std::size_t batch, std::size_t per_sample, T* loss_out) const {
        detail::pointwise<P>(rules::pointwise_loss<T>{rules::pointwise_kind::smooth_l1, T(beta)}, y, t, dy, batch * per_sample,
                             loss_out);
    }
};

/// Options of cross_entropy.
struct cross_entropy_options {
    /// PyTorch's `ignore_index`: rows with this label add no loss and get a zero gradient, and the mean
    /// is over the other rows (masked-language-model targets: -100 everywhere but at the masked
    /// positions). Unset (the default): every label must be a class.
    std::optional<std::int32_t> ignore_index;
};

/// Cross-entropy on logits with integer labels (fused log-softmax + NLL, as PyTorch's nn.CrossEntropyLoss).
/// `cross_entropy{}`: logits [batch, classes], one label per sample. `cross_entropy{classes}`: the last
/// dimension of the output holds the classes and every row of it has a label — logits [batch, T, classes]
/// with labels [batch, T] for a sequence model's every step (PyTorch: the loss of the flattened logits
/// (batch·T, classes) and labels (batch·T)); labels per sample = per_sample / classes. Mean over every
/// labelled row (batch × rows); gradient (softmax(z) - onehot)/(batch × rows). Throws ctnn::error for a
/// label outside [0, classes), or outputs per sample that are not a multiple of the classes.
/// `cross_entropy{classes, {.ignore_index = -100}}` (or `cross_entropy{{.ignore_index = -100}}` for one
/// label per sample) skips the rows labelled -100: the mean and its gradient are over the other rows
/// (PyTorch's ignore_index; a batch with no other row gives loss 0 and a zero gradient, not NaN).
struct cross_entropy : base<cross_entropy> {
    static constexpr const char* name = "cross_entropy";
    using target_kind = label_target;
    /// Logits per labelled row: the last dimension of the output; 0 (the default): the whole sample.
    std::size_t classes = 0;
    /// The label of rows to skip (cross_entropy_options::ignore_index).
    std::optional<std::int32_t> ignore_index;

    cross_entropy() = default;
    /// One label per row of @p k logits (k > 0).
    explicit cross_entropy(std::size_t k, cross_entropy_options o = {}) : classes(k), ignore_index(o.ignore_index) {
        if (k == 0) [[unlikely]]
            ctnn::detail::fail(std::string(name) + ": classes is 0; pass the size of the output's last dimension, or use "
                                                   "cross_entropy{} for one label per sample");
    }
    /// One label per sample, with options.
    explicit cross_entropy(cross_entropy_options o) : ignore_index(o.ignore_index) {}
    /// Labels a batch needs: batch × (per_sample / classes), i.e. one per sample for cross_entropy{}.
    std::size_t target_elements(std::size_t batch, std::size_t per_sample) const noexcept {
        return batch * (classes ? per_sample / classes : 1);
    }
    /// Sizes (per_sample a multiple of the classes), and every label in [0, classes) or the ignored one.
    template <class L>
    void check_target(const L* labels, std::size_t n, std::size_t batch, std::size_t per_sample) const {
        const std::size_t k = classes ? classes : per_sample;
        if (per_sample % k != 0) [[unlikely]]
            ctnn::detail::fail(std::string(name) + ": " + std::to_string(per_sample) +
                               " outputs per sample are not a multiple of the " + std::to_string(k) +
                               " classes; pass the size of the output's last dimension");
        if (const std::size_t expected = target_elements(batch, per_sample); n != expected) [[unlikely]] {
            const std::string what = classes ? "one label per row of " + std::to_string(k) + " classes" : "one label per sample";
            detail::check_target_size(name, n, expected, batch, per_sample, what.c_str());
        }
        detail::check_labels(name, labels, n, k, ignore_index);
    }
    template <class P, class T, class L>
    void evaluate(const T* y, const L* labels, T* dy, std::size_t batch, std::size_t per_sample, T* loss_out) const {
        const std::size_t k = classes ? classes : per_sample;
        if (ignore_index) ops::cross_entropy_ignoring<P>(y, labels, batch * (per_sample / k), k, *ignore_index, dy, loss_out);
        else ops::cross_entropy<P>(y, labels, batch * (per_sample / k), k, dy, loss_out);
    }
};

/// Negative log-likelihood on log-probabilities [batch, classes] with integer labels [batch]
/// (nn.NLLLoss, mean): -logp[b, label_b] averaged over the batch; put `log_softmax` before it
/// (log_softmax + nll = cross_entropy). Throws ctnn::error for a label outside [0, classes).
struct nll : base<nll> {
    static constexpr const char* name = "nll";
    using target_kind = label_target;
    /// Sizes, and every label in [0, per_sample).
    template <class L>
    void check_target(const L* labels, std::size_t n, std::size_t batch, std::size_t per_sample) const {
        base<nll>::check_target(labels, n, batch, per_sample);
        detail::check_labels(name, labels, batch, per_sample);
    }
    template <class P, class T, class L>
    void evaluate(const T* y, const L* labels, T* dy, std::size_t batch, std::size_t per_sample, T* loss_out) const {
        ops::nll<P>(y, labels, batch, per_sample, dy, loss_out);
    }
};

/// Categorical cross-entropy on probabilities [batch, classes] with integer labels [batch] — the loss of
/// a model whose output is already a distribution: a `softmax` layer, or the average of several
/// (`parallel<merge::average, chain<..., softmax>, chain<..., softmax>>`, an ensemble trained end to
/// end). Mean over the batch of -log(max(p[b, label_b], ε)); gradient -1/(p·batch) at the label where
/// p >= ε, 0 elsewhere (and 0 where the clamp holds, as clamp_min does). PyTorch:
/// `F.nll_loss(torch.log(p.clamp_min(eps)), labels)`; Keras: `sparse_categorical_crossentropy` with
/// `from_logits=False` (which also clips at 1 - ε and renormalises rows; for rows that sum to 1 the
/// renormalisation changes neither value nor the gradient through a softmax). ε defaults to Keras's
/// 1e-7. For a single softmax head prefer logits + `cross_entropy` (fused and exact for any logits).
/// Throws ctnn::error for a label outside [0, classes) or an ε outside (0, 1).
struct categorical_cross_entropy : base<categorical_cross_entropy> {
    static constexpr const char* name = "categorical_cross_entropy";
    using target_kind = label_target;
    double eps = 1e-7;

    categorical_cross_entropy() = default;
    /// Probabilities are clamped from below at @p epsilon, in (0, 1).
    explicit categorical_cross_entropy(double epsilon) : eps(epsilon) {
        if (!(epsilon > 0 && epsilon < 1)) [[unlikely]]
            ctnn::detail::fail(std::string(name) + ": eps is " + std::to_string(epsilon) + ", expected a value in (0, 1)");
    }
    /// Sizes, and every label in [0, per_sample).
    template <class L>
    void check_target(const L* labels, std::size_t n, std::size_t batch, std::size_t per_sample) const {
        base<categorical_cross_entropy>::check_target(labels, n, batch, per_sample);
        detail::check_labels(name, labels, batch, per_sample);
    }
    template <class P, class T, class L>
    void evaluate(const T* y, const L* labels, T* dy, std::size_t batch, std::size_t per_sample, T* loss_out) const {
        ops::categorical_cross_entropy<P>(y, labels, batch, per_sample, T(eps), dy, loss_out);
    }
};

}  // namespace ctnn::loss
