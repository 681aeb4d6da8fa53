// SPDX-License-Identifier: MIT
#pragma once
/// @file factorization.hpp  Rating predictors from biases and latent factors:
///  - `bias_baseline`: r̂ = μ + b_u + b_i, fitted by alternating regularised least squares (Surprise's BaselineOnly
///    with ALS: reg_u 15, reg_i 10, 10 sweeps);
///  - `biased_mf`: r̂ = μ + b_u + b_i + p_u·q_i (Funk's SVD as in Surprise's SVD), trained by stochastic gradient
///    descent (one shuffled pass per epoch) or by alternating least squares (each user's [p_u, b_u] and each
///    item's [q_i, b_i] a ridge regression, solved by Cholesky, with λ·n regularisation: ALS-WR).
/// Predictions are clipped to the rating range.
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

namespace detail_recsys {
inline void check_rating(const rating& r, std::size_t users, std::size_t items, const char* who) {
    if (r.user < 0 || r.item < 0 || std::size_t(r.user) >= users || std::size_t(r.item) >= items)
        detail::fail(std::string("recsys::") + who + ": a rating of user " + std::to_string(r.user) + ", item " + std::to_string(r.item) +
                     " is outside the " + std::to_string(users) + " users and " + std::to_string(items) + " items");
}
inline double mean_of(std::span<const rating> train) {
    detail::check(!train.empty(), "recsys: no training ratings");
    double s = 0;
    for (const auto& r : train) s += r.value;
    return s / double(train.size());
}
/// p·q with 8 independent partial sums (a strict left-to-right float sum would stay serial: -O2 may not
/// reorder it), so the compiler vectorises the loop.
inline float dot(const float* p, const float* q, std::size_t n) noexcept {
    float acc[8] = {};
    std::size_t f = 0;
    for (; f + 8 <= n; f += 8)
        for (std::size_t k = 0; k < 8; ++k) acc[k] += p[f + k] * q[f + k];
    for (; f < n; ++f) acc[0] += p[f] * q[f];
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}
/// Solves A x = b in place (A symmetric positive definite, n × n, row-major; b becomes x) by Cholesky.
inline void cholesky_solve(std::vector<double>& a, std::vector<double>& b, std::size_t n) {
    for (std::size_t j = 0; j < n; ++j) {
        double d = a[j * n + j];
        for (std::size_t k = 0; k < j; ++k) d -= a[j * n + k] * a[j * n + k];
        if (!(d > 0)) detail::fail("recsys: a normal-equation matrix is not positive definite (increase the regularisation)");
        const double l = std::sqrt(d);
        a[j * n + j] = l;
        for (std::size_t i = j + 1; i < n; ++i) {
            double s = a[i * n + j];
            for (std::size_t k = 0; k < j; ++k) s -= a[i * n + k] * a[j * n + k];
            a[i * n + j] = s / l;
        }
    }
    for (std::size_t i = 0; i < n; ++i) {  // L y = b
        double s = b[i];
        for (std::size_t k = 0; k < i; ++k) s -= a[i * n + k] * b[k];
        b[i] = s / a[i * n + i];
    }
    for (std::size_t i = n; i-- > 0;) {  // Lᵀ x = y
        double s = b[i];
        for (std::size_t k = i + 1; k < n; ++k) s -= a[k * n + i] * b[k];
        b[i] = s / a[i * n + i];
    }
}
}  // namespace detail_recsys

/// μ + b_u + b_i by alternating regularised least squares.
class bias_baseline {
public:
    struct options {
        double reg_user = 15, reg_item = 10;
        std::size_t sweeps = 10;
    };
    bias_baseline(std::span<const rating> train, std::size_t users, std::size_t items, options o, float lo = 0.5f, float hi = 5.0f)
        : m_bu(users, 0.0), m_bi(items, 0.0), m_lo(lo), m_hi(hi) {
        for (const auto& r : train) detail_recsys::check_rating(r, users, items, "bias_baseline");
        m_mu = detail_recsys::mean_of(train);
        std::vector<double> num;
        std::vector<std::size_t> n;
        for (std::size_t s = 0; s < o.sweeps; ++s) {
            num.assign(items, 0.0), n.assign(items, 0);
            for (const auto& r : train) num[std::size_t(r.item)] += r.value - m_mu - m_bu[std::size_t(r.user)], ++n[std::size_t(r.item)];
            for (std::size_t i = 0; i < items; ++i) m_bi[i] = num[i] / (o.reg_item + double(n[i]));
            num.assign(users, 0.0), n.assign(users, 0);
            for (const auto& r : train) num[std::size_t(r.user)] += r.value - m_mu - m_bi[std::size_t(r.item)], ++n[std::size_t(r.user)];
            for (std::size_t u = 0; u < users; ++u) m_bu[u] = num[u] / (o.reg_user + double(n[u]));
        }
    }
    float predict(std::int32_t u, std::int32_t i) const {
        double v = m_mu;
        if (u >= 0 && std::size_t(u) < m_bu.size()) v += m_bu[std::size_t(u)];
        if (i >= 0 && std::size_t(i) < m_bi.size()) v += m_bi[std::size_t(i)];
        return float(std::clamp(v, double(m_lo), double(m_hi)));
    }
    std::vector<float> predict(std::span<const rating> pairs) const {
        std::vector<float> out(pairs.size());
        for (std::size_t k = 0; k < pairs.size(); ++k) out[k] = predict(pairs[k].user, pairs[k].item);
        return out;
    }
    double item_bias(std::size_t i) const { return m_bi.at(i); }

private:
    double m_mu = 0;
    std::vector<double> m_bu, m_bi;
    float m_lo, m_hi;
};

/// Biased matrix factorisation μ + b_u + b_i + p_u·q_i.
class biased_mf {
public:
    /// Factors drawn from N(0, @p init_std²), biases 0 (Surprise's SVD initialisation); μ, the training mean, is
    /// computed by each sgd_epoch / als_sweep from the ratings it is given.
    biased_mf(std::size_t users, std::size_t items, std::size_t factors, seed s, double init_std = 0.1, float lo = 0.5f, float hi = 5.0f)
        : m_users(users), m_items(items), m_f(factors), m_bu(users, 0.0f), m_bi(items, 0.0f), m_p(users * factors), m_q(items * factors),
          m_lo(lo), m_hi(hi) {
        detail::check(users > 0 && items > 0 && factors > 0, "recsys::biased_mf: users, items and factors must be positive");
        rng g{s};
        for (auto& v : m_p) v = float(init_std * g.normal());
        for (auto& v : m_q) v = float(init_std * g.normal());
    }

    /// One SGD epoch over @p train in a shuffled order from @p g: for each rating, e = r − r̂ and
    /// b_u += lr(e − λ b_u), b_i += lr(e − λ b_i), p_u += lr(e q_i − λ p_u), q_i += lr(e p_u − λ q_i) (old p_u).
    /// Returns the training RMSE seen during the pass.
    double sgd_epoch(std::span<const rating> train, double lr, double reg, rng& g) {
        prepare(train);
        m_order.resize(train.size());
        for (std::size_t k = 0; k < m_order.size(); ++k) m_order[k] = std::uint32_t(k);
        g.shuffle(m_order.data(), m_order.size());
        const float a = float(lr), l = float(reg), mu = float(m_mu);
        const std::size_t F = m_f;
        double sq = 0;
        for (std::uint32_t k : m_order) {
            const rating& r = train[k];
            float* p = m_p.data() + std::size_t(r.user) * F;
            float* q = m_q.data() + std::size_t(r.item) * F;
            float& bu = m_bu[std::size_t(r.user)];
            float& bi = m_bi[std::size_t(r.item)];
            const float dot = detail_recsys::dot(p, q, F);
            const float e = r.value - (mu + bu + bi + dot);
            sq += double(e) * e;
            bu += a * (e - l * bu);
            bi += a * (e - l * bi);
            for (std::size_t f = 0; f < F; ++f) {
                const float pf = p[f], qf = q[f];
                p[f] = pf + a * (e * qf - l * pf);
                q[f] = qf + a * (e * pf - l * qf);
            }
        }
        return std::sqrt(sq / double(train.size()));
    }

    /// One ALS sweep: every user's [p_u, b_u] given the items, then every item's [q_i, b_i] given the users; each a
    /// ridge regression on the residuals r − μ − (the other side's bias) with penalty λ·n (n: that user's or item's
    /// ratings).
    void als_sweep(std::span<const rating> train, double reg) {
        prepare(train);
        solve_side(train, true, reg);
        solve_side(train, false, reg);
    }

    float predict(std::int32_t u, std::int32_t i) const {
        double v = m_mu;
        const bool ku = u >= 0 && std::size_t(u) < m_users, ki = i >= 0 && std::size_t(i) < m_items;
        if (ku) v += m_bu[std::size_t(u)];
        if (ki) v += m_bi[std::size_t(i)];
        if (ku && ki) {
            const float* p = m_p.data() + std::size_t(u) * m_f;
            const float* q = m_q.data() + std::size_t(i) * m_f;
            for (std::size_t f = 0; f < m_f; ++f) v += double(p[f]) * q[f];
        }
        return float(std::clamp(v, double(m_lo), double(m_hi)));
    }
    std::vector<float> predict(std::span<const rating> pairs) const {
        std::vector<float> out(pairs.size());
        for (std::size_t k = 0; k < pairs.size(); ++k) out[k] = predict(pairs[k].user, pairs[k].item);
        return out;
    }
    std::size_t factors() const noexcept { return m_f; }
    double global_mean() const noexcept { return m_mu; }
    std::span<const float> user_factors(std::size_t u) const { return std::span<const float>(m_p).subspan(u * m_f, m_f); }
    std::span<const float> item_factors(std::size_t i) const { return std::span<const float>(m_q).subspan(i * m_f, m_f); }
    float user_bias(std::size_t u) const { return m_bu.at(u); }
    float item_bias(std::size_t i) const { return m_bi.at(i); }

private:
    void prepare(std::span<const rating> train) {  // O(n), small beside an epoch's O(n·F)
        for (const auto& r : train) detail_recsys::check_rating(r, m_users, m_items, "biased_mf");
        m_mu = detail_recsys::mean_of(train);
    }
    void solve_side(std::span<const rating> train, bool users, double reg) {
        const std::size_t n_side = users ? m_users : m_items, F = m_f, D = F + 1;
        // ratings grouped by this side's index (counting sort)
        std::vector<std::size_t> start(n_side + 1, 0);
        for (const auto& r : train) ++start[std::size_t(users ? r.user : r.item) + 1];
        for (std::size_t k = 0; k < n_side; ++k) start[k + 1] += start[k];
        std::vector<std::uint32_t> idx(train.size());
        std::vector<std::size_t> fill(start.begin(), start.end() - 1);
        for (std::size_t k = 0; k < train.size(); ++k) idx[fill[std::size_t(users ? train[k].user : train[k].item)]++] = std::uint32_t(k);
        std::vector<double> a(D * D), b(D), z(D);
        for (std::size_t s = 0; s < n_side; ++s) {
            const std::size_t n = start[s + 1] - start[s];
            float* w = (users ? m_p.data() : m_q.data()) + s * F;
            float& bias = users ? m_bu[s] : m_bi[s];
            if (n == 0) {  // nothing to fit: the penalty's minimum
                std::fill_n(w, F, 0.0f);
                bias = 0;
                continue;
            }
            std::fill(a.begin(), a.end(), 0.0);
            std::fill(b.begin(), b.end(), 0.0);
            for (std::size_t k = start[s]; k < start[s + 1]; ++k) {
                const rating& r = train[idx[k]];
                const std::size_t o = std::size_t(users ? r.item : r.user);
                const float* other = (users ? m_q.data() : m_p.data()) + o * F;
                const double y = double(r.value) - m_mu - (users ? m_bi[o] : m_bu[o]);
                for (std::size_t f = 0; f < F; ++f) z[f] = other[f];
                z[F] = 1.0;
                for (std::size_t i = 0; i < D; ++i) {
                    b[i] += z[i] * y;
                    for (std::size_t j = 0; j <= i; ++j) a[i * D + j] += z[i] * z[j];
                }
            }
            for (std::size_t i = 0; i < D; ++i) {
                for (std::size_t j = 0; j < i; ++j) a[j * D + i] = a[i * D + j];
                a[i * D + i] += reg * double(n);
            }
            detail_recsys::cholesky_solve(a, b, D);
            for (std::size_t f = 0; f < F; ++f) w[f] = float(b[f]);
            bias = float(b[F]);
        }
    }
    std::size_t m_users, m_items, m_f;
    double m_mu = 0;
    std::vector<float> m_bu, m_bi, m_p, m_q;
    std::vector<std::uint32_t> m_order;
    float m_lo, m_hi;
};

}  // namespace ctnn::recsys
