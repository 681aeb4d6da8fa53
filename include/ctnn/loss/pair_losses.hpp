// SPDX-License-Identifier: MIT
#pragma once
/// @file pair_losses.hpp  Losses of two model outputs a, b [batch, per_sample] that write the gradient
/// of both (`loss::pair_loss_function`, loss/concepts.hpp):
///   `l.evaluate<P>(a, b, t, da, db, batch, per_sample, loss_out)` — every pointer in P's memory, the
///   loss into the scalar *loss_out, dL/da and dL/db into da and db; the target is checked first on the
///   host with `l.check_target(t, n, batch, per_sample)` (or `loss::check_batch`);
///   `l(a, b, target, da, db, batch)` — the CPU form, returns the loss.
/// A VAE feeds gaussian_kl its μ and log σ² heads; a recommender feeds cosine_embedding or
/// margin_ranking two towers' outputs. Each backpropagates da into one head and db into the other.
#include <cstddef>
#include <span>
#include <string>
#include <type_traits>

#include "../core/error.hpp"
#include "../ops/loss_ops.hpp"
#include "concepts.hpp"

namespace ctnn::loss {

namespace detail {
inline void check_margin(const char* loss, double margin, double lo, double hi) {
    if (!(margin >= lo && margin <= hi)) [[unlikely]]
        ctnn::detail::fail(std::string(loss) + ": margin is " + std::to_string(margin) + ", expected a value in [" +
                           std::to_string(lo) + ", " + std::to_string(hi) + "]");
}
}  // namespace detail

/// KL(N(μ, σ²) ‖ N(0, I)) of a diagonal Gaussian encoder: ½ Σ_j (μ_j² + σ_j² - 1 - log σ_j²) summed over
/// the latent dimensions and averaged over the batch (torch.distributions.kl_divergence(...).sum(-1).mean(),
/// the usual VAE term). Inputs a = μ, b = log σ² [batch, latent]; writes dμ = μ/batch and
/// d(log σ²) = ½(σ² - 1)/batch. No target.
struct gaussian_kl : pair_base<gaussian_kl> {
    static constexpr const char* name = "gaussian_kl";
    using target_kind = no_target;
    template <class P, class T, class Tg>
    void evaluate(const T* mu, const T* logvar, const Tg*, T* dmu, T* dlogvar, std::size_t batch, std::size_t latent,
                  T* loss_out) const {
        ops::gaussian_kl<P>(mu, logvar, batch, latent, dmu, dlogvar, loss_out);
    }
    using pair_base<gaussian_kl>::operator();
    /// CPU form without a target: the KL of μ and log σ² [batch, mu.size()/batch].
    template <contiguous_tensor M, contiguous_tensor V, contiguous_tensor GM, contiguous_tensor GV>
    auto operator()(const M& mu, const V& logvar, GM&& dmu, GV&& dlogvar, std::size_t batch) const {
        using T = detail::value_of_t<M>;
        return (*this)(mu, logvar, std::span<const T>{}, dmu, dlogvar, batch);
    }
    /// The packed statistics of gaussian_sample: rows [μ (latent) | log σ² (latent)] of @p stats
    /// [batch, 2·latent]; the gradient into @p dstats in the same layout (overwritten). Pointers in P's memory.
    template <class P, class T>
    void evaluate_packed(const T* stats, T* dstats, std::size_t batch, std::size_t latent, T* loss_out) const {
        ops::gaussian_kl<P>(stats, stats + latent, batch, latent, dstats, dstats + latent, loss_out, 2 * latent);
    }
    /// CPU form of evaluate_packed: returns the KL of @p stats [batch, 2·latent], its gradient into @p dstats.
    template <contiguous_tensor S, contiguous_tensor G>
    auto packed(const S& stats, G&& dstats, std::size_t batch) const {
        using T = detail::value_of_t<S>;
        if (batch == 0 || stats.size() % (2 * batch) != 0) [[unlikely]]
            ctnn::detail::fail(std::string(name) + ": packed statistics have " + std::to_string(stats.size()) +
                               " elements, expected batch " + std::to_string(batch) + " × 2·latent ([mu | log-variance] rows)");
        detail::check_gradient_size(name, dstats.size(), stats.size(), "the gradient buffer");
        T out{};
        evaluate_packed<cpu>(stats.data(), dstats.data(), batch, stats.size() / (2 * batch), &out);
        return out;
    }
};

/// Cosine embedding loss (nn.CosineEmbeddingLoss(margin)), mean over the batch: for a, b [batch, dim] and
/// one target t ∈ {1, -1} per sample, 1 - cos(a, b) where t = 1 and max(0, cos(a, b) - margin) where
/// t = -1 (cos with PyTorch's ε = 1e-12 added to each squared norm). margin ∈ [-1, 1].
struct cosine_embedding : pair_base<cosine_embedding> {
    static constexpr const char* name = "cosine_embedding";
    using target_kind = value_target;
    double margin = 0;
    cosine_embedding() = default;
    /// margin ∈ [-1, 1].
    explicit cosine_embedding(double m) : margin(m) { detail::check_margin(name, m, -1, 1); }
    /// One target per sample.
    std::size_t target_elements(std::size_t batch, std::size_t) const noexcept { return batch; }
    /// Sizes, and every target 1 or -1.
    template <class Tg>
    void check_target(const Tg* t, std::size_t n, std::size_t batch, std::size_t per_sample) const {
        detail::check_target_size(name, n, batch, batch, per_sample, "one target per sample");
        detail::check_plus_minus_one(name, t, n);
    }
    template <class P, class T, class Tg>
    void evaluate(const T* a, const T* b, const Tg* t, T* da, T* db, std::size_t batch, std::size_t dim, T* loss_out) const {
        static_assert(std::is_same_v<Tg, T>, "ctnn::loss: cosine_embedding targets have the inputs' value type; convert them");
        ops::cosine_embedding<P>(a, b, t, batch, dim, T(margin), da, db, loss_out);
    }
};

/// Margin ranking loss (nn.MarginRankingLoss(margin)), mean over all elements: max(0, -t(a - b) + margin)
/// for scores a, b and targets t ∈ {1, -1} of the same shape (t = 1: a should rank above b).
struct margin_ranking : pair_base<margin_ranking> {
    static constexpr const char* name = "margin_ranking";
    using target_kind = value_target;
    double margin = 0;
    margin_ranking() = default;
    /// margin ≥ 0.
    explicit margin_ranking(double m) : margin(m) { detail::check_margin(name, m, 0, 1e300); }
    /// Sizes, and every target 1 or -1.
    template <class Tg>
    void check_target(const Tg* t, std::size_t n, std::size_t batch, std::size_t per_sample) const {
        pair_base<margin_ranking>::check_target(t, n, batch, per_sample);
        detail::check_plus_minus_one(name, t, n);
    }
    template <class P, class T, class Tg>
    void evaluate(const T* a, const T* b, const Tg* t, T* da, T* db, std::size_t batch, std::size_t per_sample,
                  T* loss_out) const {
        static_assert(std::is_same_v<Tg, T>, "ctnn::loss: margin_ranking targets have the inputs' value type; convert them");
        ops::margin_ranking<P>(a, b, t, batch * per_sample, T(margin), da, db, loss_out);
    }
};

}  // namespace ctnn::loss
