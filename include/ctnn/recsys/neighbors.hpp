// SPDX-License-Identifier: MIT
#pragma once
/// @file neighbors.hpp  k-nearest-neighbour collaborative filtering, user-based or item-based, with cosine or
/// Pearson similarity and mean-centred predictions (Surprise's KNNWithMeans):
///   r̂(u, i) = μ_e + Σ_{e' ∈ N_k} s(e, e') (r_e' − μ_e') / Σ_{e' ∈ N_k} s(e, e'),
/// where e is the user (user-based; e' the users who rated i) or the item (item-based; e' the items u rated), N_k
/// the k most similar of them with a positive similarity, μ the means of the training ratings.
/// Similarities are over co-rated entries only and are computed as blocked GEMMs on the rating matrix X
/// (entities × features, 0 where unrated), its square X∘X and its mask M:
///   s(e, e') = (X Xᵀ)_{ee'} / sqrt((X∘X Mᵀ)_{ee'} (M (X∘X)ᵀ)_{ee'}),
/// cosine on the raw ratings, Pearson on ratings centred by each entity's mean; a block of target entities' rows at
/// a time, so memory stays O(block × entities), not O(entities²).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "../backend/cpu/gemm.hpp"
#include "../core/error.hpp"
#include "ratings.hpp"

namespace ctnn::recsys {

enum class similarity { cosine, pearson };
enum class neighborhood { user_based, item_based };

struct knn_options {
    neighborhood kind = neighborhood::user_based;
    similarity measure = similarity::pearson;
    std::size_t k = 40;      ///< neighbours per prediction
    std::size_t min_k = 1;   ///< fewer usable neighbours: predict the entity's mean
    std::size_t block = 256; ///< target rows per similarity GEMM
};

class knn {
public:
    /// Keeps the training ratings (dense matrices of users × items floats: refused above 2^31 cells).
    knn(std::span<const rating> train, std::size_t users, std::size_t items, knn_options o, float lo = 0.5f, float hi = 5.0f)
        : m_o(o), m_lo(lo), m_hi(hi) {
        detail::check(o.k > 0 && o.block > 0, "recsys::knn: k and block must be positive");
        detail::check(!train.empty(), "recsys::knn: no training ratings");
        const bool by_user = o.kind == neighborhood::user_based;
        m_e = by_user ? users : items;
        m_f = by_user ? items : users;
        if (double(m_e) * double(m_f) > double(1u << 31))
            detail::fail("recsys::knn: a " + std::to_string(users) + " × " + std::to_string(items) +
                         " rating matrix is too large for the dense similarity computation");
        m_x.assign(m_e * m_f, 0.0f);
        m_mask.assign(m_e * m_f, 0.0f);
        m_mean.assign(m_e, 0.0);
        std::vector<std::size_t> count(m_e, 0);
        double total = 0;
        for (const auto& r : train) {
            if (std::size_t(r.user) >= users || std::size_t(r.item) >= items || r.user < 0 || r.item < 0)
                detail::fail("recsys::knn: a rating of user " + std::to_string(r.user) + ", item " + std::to_string(r.item) +
                             " is outside the " + std::to_string(users) + " users and " + std::to_string(items) + " items");
            const std::size_t e = by_user ? std::size_t(r.user) : std::size_t(r.item), f = by_user ? std::size_t(r.item) : std::size_t(r.user);
            m_x[e * m_f + f] = r.value;
            m_mask[e * m_f + f] = 1.0f;
            m_mean[e] += r.value;
            ++count[e];
            total += r.value;
        }
        m_global = total / double(train.size());
        for (std::size_t e = 0; e < m_e; ++e) m_mean[e] = count[e] ? m_mean[e] / double(count[e]) : m_global;
        // the raters of each feature (CSR): who can be a neighbour for a prediction on feature f
        m_start.assign(m_f + 1, 0);
        for (std::size_t e = 0; e < m_e; ++e)
            for (std::size_t f = 0; f < m_f; ++f) m_start[f + 1] += m_mask[e * m_f + f] != 0;
        for (std::size_t f = 0; f < m_f; ++f) m_start[f + 1] += m_start[f];
        m_raters.resize(m_start[m_f]);
        std::vector<std::size_t> fill(m_start.begin(), m_start.end() - 1);
        for (std::size_t e = 0; e < m_e; ++e)
            for (std::size_t f = 0; f < m_f; ++f)
                if (m_mask[e * m_f + f] != 0) m_raters[fill[f]++] = {std::int32_t(e), m_x[e * m_f + f] - float(m_mean[e])};
        if (o.measure == similarity::pearson)
            for (std::size_t e = 0; e < m_e; ++e)
                for (std::size_t f = 0; f < m_f; ++f)
                    if (m_mask[e * m_f + f] != 0) m_x[e * m_f + f] -= float(m_mean[e]);
        m_x2.resize(m_x.size());
        for (std::size_t k = 0; k < m_x.size(); ++k) m_x2[k] = m_x[k] * m_x[k];
    }

    std::size_t entities() const noexcept { return m_e; }

    /// Rows [e0, e1) of the similarity matrix, [(e1 − e0) × entities] (the diagonal is 0: no entity is its own
    /// neighbour).
    std::vector<float> similarity_rows(std::size_t e0, std::size_t e1) const {
        detail::check(e0 <= e1 && e1 <= m_e, "recsys::knn::similarity_rows: rows outside [0, " + std::to_string(m_e) + ")");
        const std::size_t b = e1 - e0;
        std::vector<float> num(b * m_e), d1(b * m_e), d2(b * m_e);
        using backend::cpu::gemm;
        gemm<float>(false, true, b, m_e, m_f, 1.0f, m_x.data() + e0 * m_f, m_f, m_x.data(), m_f, 0.0f, num.data(), m_e);
        gemm<float>(false, true, b, m_e, m_f, 1.0f, m_x2.data() + e0 * m_f, m_f, m_mask.data(), m_f, 0.0f, d1.data(), m_e);
        gemm<float>(false, true, b, m_e, m_f, 1.0f, m_mask.data() + e0 * m_f, m_f, m_x2.data(), m_f, 0.0f, d2.data(), m_e);
        for (std::size_t k = 0; k < num.size(); ++k) {
            const double d = double(d1[k]) * double(d2[k]);
            num[k] = d > 0 ? float(double(num[k]) / std::sqrt(d)) : 0.0f;
        }
        for (std::size_t r = 0; r < b; ++r) num[r * m_e + e0 + r] = 0.0f;
        return num;
    }

    /// Predicted ratings of (user, item) pairs (the `value` of each is ignored), clipped to the rating range.
    std::vector<float> predict(std::span<const rating> pairs) const {
        const bool by_user = m_o.kind == neighborhood::user_based;
        // group the pairs by target entity, then walk the entities a block of similarity rows at a time
        std::vector<std::size_t> order(pairs.size());
        for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
        auto target = [&](std::size_t k) { return std::size_t(by_user ? pairs[k].user : pairs[k].item); };
        auto other = [&](std::size_t k) { return std::size_t(by_user ? pairs[k].item : pairs[k].user); };
        std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return target(a) < target(b); });
        std::vector<float> out(pairs.size());
        std::vector<std::pair<float, float>> cand;  // (similarity, centred rating)
        std::size_t k = 0;
        while (k < order.size()) {
            const std::size_t e0 = target(order[k]);
            if (e0 >= m_e) {  // an entity never seen in training: the global mean
                out[order[k++]] = clip(m_global);
                continue;
            }
            const std::size_t e1 = std::min(m_e, e0 + m_o.block);
            const auto sim = similarity_rows(e0, e1);
            for (; k < order.size() && target(order[k]) < e1; ++k) {
                const std::size_t e = target(order[k]), f = other(order[k]);
                if (f >= m_f) {
                    out[order[k]] = clip(m_mean[e]);
                    continue;
                }
                cand.clear();
                for (std::size_t q = m_start[f]; q < m_start[f + 1]; ++q) {
                    const float s = sim[(e - e0) * m_e + std::size_t(m_raters[q].first)];
                    if (s > 0) cand.emplace_back(s, m_raters[q].second);
                }
                const std::size_t n = std::min(m_o.k, cand.size());
                std::partial_sort(cand.begin(), cand.begin() + std::ptrdiff_t(n), cand.end(),
                                  [](const auto& a, const auto& b) { return a.first > b.first; });
                double num = 0, den = 0;
                for (std::size_t q = 0; q < n; ++q) num += double(cand[q].first) * cand[q].second, den += cand[q].first;
                out[order[k]] = clip(n >= m_o.min_k && den > 0 ? m_mean[e] + num / den : m_mean[e]);
            }
        }
        return out;
    }

private:
    float clip(double v) const noexcept { return float(std::clamp(v, double(m_lo), double(m_hi))); }
    knn_options m_o;
    float m_lo, m_hi;
    std::size_t m_e = 0, m_f = 0;
    std::vector<float> m_x, m_x2, m_mask;
    std::vector<double> m_mean;
    double m_global = 0;
    std::vector<std::size_t> m_start;
    std::vector<std::pair<std::int32_t, float>> m_raters;  // per feature: (entity, rating − entity mean)
};

}  // namespace ctnn::recsys
