// SPDX-License-Identifier: MIT
#pragma once
/// @file implicit.hpp  Implicit feedback (who rated what, not how): the items each user has seen, uniform negative
/// sampling among the unseen ones, the BPR loss (Rendle et al. 2009) on score pairs, and the popularity ranking.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../core/random.hpp"
#include "ratings.hpp"

namespace ctnn::recsys {

/// Each user's seen items (sorted), from training interactions.
class interactions {
public:
    interactions(std::span<const rating> train, std::size_t users, std::size_t items) : m_items(items), m_seen(users) {
        for (const auto& r : train) {
            if (r.user < 0 || r.item < 0 || std::size_t(r.user) >= users || std::size_t(r.item) >= items)
                detail::fail("recsys::interactions: user " + std::to_string(r.user) + ", item " + std::to_string(r.item) +
                             " is outside the " + std::to_string(users) + " users and " + std::to_string(items) + " items");
            m_seen[std::size_t(r.user)].push_back(r.item);
        }
        for (auto& v : m_seen) {
            std::sort(v.begin(), v.end());
            v.erase(std::unique(v.begin(), v.end()), v.end());
        }
    }
    std::size_t users() const noexcept { return m_seen.size(); }
    std::size_t items() const noexcept { return m_items; }
    std::span<const std::int32_t> seen(std::size_t u) const { return m_seen.at(u); }
    bool has(std::size_t u, std::int32_t i) const { return std::binary_search(m_seen[u].begin(), m_seen[u].end(), i); }
    /// A flag per item: 1 where user @p u has seen it (for top_k's exclusion).
    void seen_mask(std::size_t u, std::vector<std::uint8_t>& mask) const {
        mask.assign(m_items, 0);
        for (std::int32_t i : m_seen.at(u)) mask[std::size_t(i)] = 1;
    }
    /// An item user @p u has not seen, uniformly (rejection sampling); an error when the user has seen them all.
    std::int32_t sample_unseen(std::size_t u, rng& g) const {
        if (m_seen.at(u).size() >= m_items)
            detail::fail("recsys::interactions: user " + std::to_string(u) + " has seen every item; no negative to sample");
        for (;;) {
            const auto i = std::int32_t(g.below(m_items));
            if (!has(u, i)) return i;
        }
    }
    /// Items by the number of users who saw them, most first (ties: lower index first): the popularity ranking.
    std::vector<std::int32_t> by_popularity() const {
        std::vector<std::size_t> count(m_items, 0);
        for (const auto& v : m_seen)
            for (std::int32_t i : v) ++count[std::size_t(i)];
        std::vector<std::int32_t> order(m_items);
        for (std::size_t i = 0; i < m_items; ++i) order[i] = std::int32_t(i);
        std::stable_sort(order.begin(), order.end(), [&](std::int32_t a, std::int32_t b) { return count[std::size_t(a)] > count[std::size_t(b)]; });
        return order;
    }

private:
    std::size_t m_items;
    std::vector<std::vector<std::int32_t>> m_seen;
};

/// The BPR loss on the scores of (user, seen item) and (user, unseen item) pairs: L = (1/B) Σ −log σ(x⁺ − x⁻) =
/// (1/B) Σ softplus(x⁻ − x⁺); writes dL/dx⁺ = −σ(x⁻ − x⁺)/B and dL/dx⁻ = +σ(x⁻ − x⁺)/B. Returns L.
template <class T>
double bpr_loss(std::span<const T> pos, std::span<const T> neg, std::span<T> dpos, std::span<T> dneg) {
    const std::size_t B = pos.size();
    if (B == 0 || neg.size() != B || dpos.size() < B || dneg.size() < B)
        detail::fail("recsys::bpr_loss: " + std::to_string(pos.size()) + " positive and " + std::to_string(neg.size()) +
                     " negative scores; expected the same number, at least one, with gradients as large");
    double loss = 0;
    for (std::size_t k = 0; k < B; ++k) {
        const double d = double(neg[k]) - double(pos[k]);
        loss += d > 0 ? d + std::log1p(std::exp(-d)) : std::log1p(std::exp(d));  // softplus, stable
        const double s = 1.0 / (1.0 + std::exp(-d));
        dpos[k] = T(-s / double(B));
        dneg[k] = T(s / double(B));
    }
    return loss / double(B);
}

}  // namespace ctnn::recsys
