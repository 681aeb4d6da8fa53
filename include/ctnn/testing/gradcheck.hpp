// SPDX-License-Identifier: MIT
#pragma once
/// @file gradcheck.hpp  The finite-difference gradient checker ctnn's own tests use, public so that
/// users test their own layers the same way (as dlib's `test_layer`): wrap the layer in a model over
/// `double` (`basic_sequential<double, input<...>, my_layer<...>>`, or a `basic_graph`) and call
/// `check_gradients(model, batch)`. It compares backward's parameter and input gradients with central
/// differences of L = Σ_j sum(r_j ⊙ y_j) for fixed random r_j, running every forward on a fresh copy
/// of the model so stochastic layers draw the same masks each time.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <sstream>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/random.hpp"

namespace ctnn::testing {

/// Options of check_gradients.
struct gradcheck_options {
    double tolerance = 1e-6;  ///< largest accepted |numeric − analytic| / max(1, |numeric| + |analytic|)
    double epsilon = 1e-6;    ///< central-difference step
    std::uint64_t seed = 1;   ///< draws the inputs and the output weights r
    double gap = 0.05;        ///< inputs are at least this far from 0 (keeps ReLU kinks out of reach)
    /// The inputs to use (one vector per model input, batch × input size values each) instead of
    /// random ones — e.g. token ids for an embedding.
    std::vector<std::vector<double>> inputs{};
    /// Whether to check the input gradients (false for discrete inputs such as token ids, where
    /// a finite difference is not an input).
    bool input_gradients = true;
    /// Per-sample sequence lengths for the model's recurrent layers (sequence.hpp; empty: full length).
    std::vector<std::int32_t> lengths{};
};

/// What check_gradients found: `ok`, the worst relative error, and where it was, in words.
struct gradcheck_result {
    bool ok = true;
    double worst = 0;
    std::size_t checked = 0;
    std::string worst_at;  ///< e.g. "parameter 12 (1.weight): numeric 0.31 analytic 0.29"
    std::string message() const {
        std::ostringstream s;
        s << (ok ? "gradients match" : "gradients differ") << ": worst relative error " << worst << " at " << worst_at << " ("
          << checked << " values checked)";
        return s.str();
    }
};

namespace detail {
inline std::vector<double> random_values(std::size_t n, rng& g, double gap) {
    std::vector<double> v(n);
    for (auto& x : v) {
        do x = g.uniform(-1, 1);
        while (std::abs(x) < gap);
    }
    return v;
}
inline double relative_error(double a, double b) { return std::abs(a - b) / std::max(1.0, std::abs(a) + std::abs(b)); }

/// A single-input, single-output model (sequential) seen as a graph with one input and one output.
template <class M>
struct model_io {
    static constexpr bool graph = requires { M::input_count; };
    static constexpr std::size_t inputs = [] {
        if constexpr (graph) return M::input_count;
        else return std::size_t(1);
    }();
    static constexpr std::size_t outputs = [] {
        if constexpr (graph) return M::output_count;
        else return std::size_t(1);
    }();
    template <std::size_t I>
    static constexpr std::size_t input_size() {
        if constexpr (graph) return M::template input_shape<I>::size;
        else return M::input_shape::size;
    }
    template <std::size_t J>
    static constexpr std::size_t output_size() {
        if constexpr (graph) return M::template output_shape<J>::size;
        else return M::output_shape::size;
    }
    using vecs_in = std::array<std::vector<double>, inputs>;
    using vecs_out = std::array<std::vector<double>, outputs>;
    /// Σ_j sum(r_j ⊙ y_j) of a training forward; with @p grads, also backward (dL/dy_j = r_j) and the
    /// input gradients into *dx.
    static double run(M& m, const vecs_in& x, const vecs_out& r, std::size_t batch, vecs_in* dx, const std::vector<std::int32_t>& lengths) {
        auto ctx = m.context(batch);
        if (!lengths.empty()) ctx.set_lengths(lengths);
        double l = 0;
        if constexpr (graph) {
            auto xs = [&]<std::size_t... I>(std::index_sequence<I...>) { return std::tie(x[I]...); }(std::make_index_sequence<inputs>{});
            const auto ys = m.forward(xs, ctx);
            [&]<std::size_t... J>(std::index_sequence<J...>) {
                ((l += dot(std::get<J>(ys), r[J])), ...);
                if (dx) m.backward(std::tie(r[J]...), ctx, true);
            }(std::make_index_sequence<outputs>{});
            if (dx)
                [&]<std::size_t... I>(std::index_sequence<I...>) {
                    (((*dx)[I].assign(ctx.template input_gradient<I>().begin(), ctx.template input_gradient<I>().end())), ...);
                }(std::make_index_sequence<inputs>{});
        } else {
            const auto y = m.forward(x[0], ctx);
            l = dot(y, r[0]);
            if (dx) {
                m.backward(r[0], ctx, true);
                (*dx)[0].assign(ctx.input_gradient().begin(), ctx.input_gradient().end());
            }
        }
        return l;
    }
    template <class Y>
    static double dot(const Y& y, const std::vector<double>& r) {
        double s = 0;
        for (std::size_t i = 0; i < r.size(); ++i) s += r[i] * y.data()[i];
        return s;
    }
};
}  // namespace detail

/// Checks @p original's backward (every parameter gradient and every input gradient) against central
/// differences, for a batch of @p batch random samples. The model's value type must be double.
template <class Model>
gradcheck_result check_gradients(const Model& original, std::size_t batch, const gradcheck_options& o = {}) {
    static_assert(std::is_same_v<typename Model::value_type, double>,
                  "ctnn::testing::check_gradients: run gradient checks on a model over double (basic_sequential<double, ...>)");
    using io = detail::model_io<Model>;
    rng g{seed{o.seed}};
    typename io::vecs_in x;
    typename io::vecs_out r;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        ((x[I] = detail::random_values(batch * io::template input_size<I>(), g, o.gap)), ...);
    }(std::make_index_sequence<io::inputs>{});
    if (!o.inputs.empty()) {
        if (o.inputs.size() != io::inputs) ctnn::detail::fail("check_gradients: options.inputs needs one vector per model input");
        for (std::size_t k = 0; k < io::inputs; ++k) {
            if (o.inputs[k].size() != x[k].size())
                ctnn::detail::fail("check_gradients: options.inputs[" + std::to_string(k) + "] has " +
                                   std::to_string(o.inputs[k].size()) + " values, expected " + std::to_string(x[k].size()));
            x[k] = o.inputs[k];
        }
    }
    [&]<std::size_t... J>(std::index_sequence<J...>) {
        ((r[J] = detail::random_values(batch * io::template output_size<J>(), g, 0.0)), ...);
    }(std::make_index_sequence<io::outputs>{});

    Model m = original;
    m.zero_grad();
    typename io::vecs_in dx;
    io::run(m, x, r, batch, &dx, o.lengths);
    const auto analytic = m.gradients();
    const auto layout = original.parameter_layout();
    gradcheck_result res;
    auto record = [&](double num, double ana, const std::string& where) {
        const double e = detail::relative_error(num, ana);
        ++res.checked;
        if (e >= res.worst) {
            res.worst = e;
            std::ostringstream s;
            s << where << ": numeric " << num << " analytic " << ana;
            res.worst_at = s.str();
        }
    };
    for (std::size_t i = 0; i < Model::parameter_count; ++i) {
        Model mp = original, mm = original;
        mp.parameter_values()[i] += o.epsilon;
        mm.parameter_values()[i] -= o.epsilon;
        const double num = (io::run(mp, x, r, batch, nullptr, o.lengths) - io::run(mm, x, r, batch, nullptr, o.lengths)) / (2 * o.epsilon);
        std::string name = "parameter " + std::to_string(i);
        for (const auto& e : layout)
            if (i >= e.offset && i < e.offset + e.desc.size()) name += " (" + e.name + ")";
        record(num, analytic[i], name);
    }
    for (std::size_t k = 0; k < (o.input_gradients ? io::inputs : 0); ++k)
        for (std::size_t i = 0; i < x[k].size(); ++i) {
            auto xp = x, xm = x;
            xp[k][i] += o.epsilon;
            xm[k][i] -= o.epsilon;
            Model a = original, b = original;
            const double num = (io::run(a, xp, r, batch, nullptr, o.lengths) - io::run(b, xm, r, batch, nullptr, o.lengths)) / (2 * o.epsilon);
            record(num, dx[k][i], "input " + std::to_string(k) + " element " + std::to_string(i));
        }
    res.ok = res.worst < o.tolerance;
    return res;
}

}  // namespace ctnn::testing
