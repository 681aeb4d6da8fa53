// SPDX-License-Identifier: MIT
#pragma once
// The one finite-difference gradient checker: applied to every layer (wrapped in a one-layer model),
// every container and every loss, in double.
#include <catch2/catch.hpp>
#include <cmath>
#include <ctnn/ctnn.hpp>
#include <ctnn/testing/gradcheck.hpp>
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

/// Checks a model's backward (parameter and input gradients) against central differences with the
/// public checker (<ctnn/testing/gradcheck.hpp>), which users run on their own layers too.
template <class Model>
void check_model_gradients(const Model& original, std::size_t batch, double tol = 1e-6, std::uint64_t s = 1) {
    const auto r = ctnn::testing::check_gradients(original, batch, {.tolerance = tol, .seed = s});
    INFO(r.message());
    std::size_t inputs = 0;  // every parameter and every input element was checked
    if constexpr (requires { Model::input_count; })
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            ((inputs += Model::template input_shape<I>::size), ...);
        }(std::make_index_sequence<Model::input_count>{});
    else
        inputs = Model::input_shape::size;
    REQUIRE(r.checked == Model::parameter_count + batch * inputs);
    REQUIRE(r.ok);
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
