// SPDX-License-Identifier: MIT
#pragma once
// The one finite-difference gradient checker: applied to every layer (wrapped in a one-layer model),
// every container and every loss, in double.
#include <catch2/catch.hpp>
#include <cmath>
#include <ctnn/ctnn.hpp>
#include <string>
#include <vector>

namespace ctnn::test {

/// Random values in [-1, 1) away from 0 by at least `gap` (keeps ReLU-like kinks out of reach of eps).
inline std::vector<double> random_values(std::size_t n, rng& g, double gap = 0.05) {
    std::vector<double> v(n);
    for (auto& x : v) {
        do x = g.uniform(-1, 1);
        while (std::abs(x) < gap);
    }
    return v;
}

inline double max_rel_error(double a, double b) { return std::abs(a - b) / std::max(1.0, std::abs(a) + std::abs(b)); }

/// Checks a model's backward (parameter and input gradients) against central differences of
/// L = sum(r ⊙ model(x)) with a fixed random r. Every forward runs on a fresh copy of the model so
/// stochastic layers (dropout) draw the same mask each time.
template <class Model>
void check_model_gradients(const Model& original, std::size_t batch, double tol = 1e-6, std::uint64_t s = 1) {
    static_assert(std::is_same_v<typename Model::value_type, double>, "gradient checks run in double");
    using in_s = typename Model::input_shape;
    using out_s = typename Model::output_shape;
    rng g{seed{s}};
    auto x = random_values(batch * in_s::size, g);
    const auto r = random_values(batch * out_s::size, g, 0.0);
    auto loss_of = [&](Model& m, const std::vector<double>& xin) {
        auto ctx = m.context(batch);
        auto y = m.forward(xin, ctx);
        double l = 0;
        for (std::size_t i = 0; i < y.size(); ++i) l += r[i] * y.data()[i];
        return l;
    };
    Model m = original;
    auto ctx = m.context(batch);
    m.zero_grad();
    m.forward(x, ctx);
    m.backward(r, ctx, true);
    const std::vector<double> analytic_params(m.gradients().begin(), m.gradients().end());
    std::vector<double> analytic_x(ctx.input_gradient().begin(), ctx.input_gradient().end());
    const double eps = 1e-6;
    double worst = 0;
    for (std::size_t i = 0; i < Model::parameter_count; ++i) {
        Model mp = original, mm = original;
        mp.parameter_values()[i] += eps;
        mm.parameter_values()[i] -= eps;
        const double num = (loss_of(mp, x) - loss_of(mm, x)) / (2 * eps);
        const double e = max_rel_error(num, analytic_params[i]);
        worst = std::max(worst, e);
        INFO("parameter " << i << ": numeric " << num << " analytic " << analytic_params[i]);
        REQUIRE(e < tol);
    }
    for (std::size_t i = 0; i < x.size(); ++i) {
        auto xp = x, xm = x;
        xp[i] += eps;
        xm[i] -= eps;
        Model a = original, b = original;
        const double num = (loss_of(a, xp) - loss_of(b, xm)) / (2 * eps);
        const double e = max_rel_error(num, analytic_x[i]);
        worst = std::max(worst, e);
        INFO("input " << i << ": numeric " << num << " analytic " << analytic_x[i]);
        REQUIRE(e < tol);
    }
    CHECK(worst < tol);
}

/// Checks a loss's gradient w.r.t. its input y against central differences.
template <class Loss, class Target>
void check_loss_gradient(const Loss& loss, std::vector<double> y, const Target& target, double tol = 1e-7) {
    std::vector<double> dy(y.size()), scratch(y.size());
    loss(y, target, dy);
    const double eps = 1e-6;
    for (std::size_t i = 0; i < y.size(); ++i) {
        auto yp = y, ym = y;
        yp[i] += eps;
        ym[i] -= eps;
        const double num = (loss(yp, target, scratch) - loss(ym, target, scratch)) / (2 * eps);
        INFO("element " << i << ": numeric " << num << " analytic " << dy[i]);
        REQUIRE(max_rel_error(num, dy[i]) < tol);
    }
}

}  // namespace ctnn::test
