// SPDX-License-Identifier: MIT
#pragma once
/// @file metrics.hpp  Metrics of recommenders: RMSE and MAE of predicted ratings; precision@k, recall@k, NDCG@k
/// (binary relevance, log2 discounts) and hit rate of ranked lists, averaged over the users that have relevant
/// items; the top-k items of a score vector with already-seen items left out.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "../core/error.hpp"

namespace ctnn::recsys {

/// Root-mean-square error of @p predicted against @p actual.
inline double rmse(std::span<const float> predicted, std::span<const float> actual) {
    detail::check(!actual.empty() && predicted.size() == actual.size(), "recsys::rmse: " + std::to_string(predicted.size()) +
                                                                             " predictions for " + std::to_string(actual.size()) + " ratings");
    double s = 0;
    for (std::size_t k = 0; k < actual.size(); ++k) s += (double(predicted[k]) - actual[k]) * (double(predicted[k]) - actual[k]);
    return std::sqrt(s / double(actual.size()));
}
/// Mean absolute error of @p predicted against @p actual.
inline double mae(std::span<const float> predicted, std::span<const float> actual) {
    detail::check(!actual.empty() && predicted.size() == actual.size(), "recsys::mae: " + std::to_string(predicted.size()) +
                                                                            " predictions for " + std::to_string(actual.size()) + " ratings");
    double s = 0;
    for (std::size_t k = 0; k < actual.size(); ++k) s += std::abs(double(predicted[k]) - actual[k]);
    return s / double(actual.size());
}

/// The @p k highest-scoring items of @p scores (one per item), highest first (ties: lower index first), leaving out
/// the items flagged in @p exclude (same length, or empty).
inline std::vector<std::int32_t> top_k(std::span<const float> scores, std::size_t k, std::span<const std::uint8_t> exclude = {}) {
    detail::check(exclude.empty() || exclude.size() == scores.size(), "recsys::top_k: the exclusion mask must have one flag per item");
    std::vector<std::int32_t> idx;
    idx.reserve(scores.size());
    for (std::size_t i = 0; i < scores.size(); ++i)
        if (exclude.empty() || !exclude[i]) idx.push_back(std::int32_t(i));
    k = std::min(k, idx.size());
    const auto better = [&](std::int32_t a, std::int32_t b) { return scores[a] > scores[b] || (scores[a] == scores[b] && a < b); };
    std::partial_sort(idx.begin(), idx.begin() + std::ptrdiff_t(k), idx.end(), better);
    idx.resize(k);
    return idx;
}

/// Ranking metrics at k, averaged over users.
struct ranking_metrics {
    std::size_t k = 10, users = 0;  ///< the cut-off and the users averaged (those with a relevant item)
    double precision = 0, recall = 0, ndcg = 0, hit_rate = 0;
};

/// Accumulates the ranking metrics of one user at a time: `add(ranked, relevant)` with the recommended list
/// (best first, at least k long unless fewer items exist) and the user's relevant (held-out) items.
class ranking_evaluator {
public:
    explicit ranking_evaluator(std::size_t k) : m_k(k) { detail::check(k > 0, "recsys::ranking_evaluator: k must be positive"); }
    void add(std::span<const std::int32_t> ranked, std::span<const std::int32_t> relevant) {
        if (relevant.empty()) return;
        const std::size_t n = std::min(m_k, ranked.size());
        std::size_t hits = 0;
        double dcg = 0, idcg = 0;
        for (std::size_t r = 0; r < n; ++r)
            if (std::find(relevant.begin(), relevant.end(), ranked[r]) != relevant.end()) {
                ++hits;
                dcg += 1.0 / std::log2(double(r) + 2.0);
            }
        for (std::size_t r = 0; r < std::min(m_k, relevant.size()); ++r) idcg += 1.0 / std::log2(double(r) + 2.0);
        m_sum.precision += double(hits) / double(m_k);
        m_sum.recall += double(hits) / double(relevant.size());
        m_sum.ndcg += dcg / idcg;
        m_sum.hit_rate += hits > 0 ? 1.0 : 0.0;
        ++m_sum.users;
    }
    /// The averages over the users added so far.
    ranking_metrics result() const {
        ranking_metrics r = m_sum;
        r.k = m_k;
        if (r.users) {
            const double inv = 1.0 / double(r.users);
            r.precision *= inv, r.recall *= inv, r.ndcg *= inv, r.hit_rate *= inv;
        }
        return r;
    }

private:
    std::size_t m_k;
    ranking_metrics m_sum;
};

}  // namespace ctnn::recsys
