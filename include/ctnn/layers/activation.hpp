// SPDX-License-Identifier: MIT
#pragma once
/// @file activation.hpp  Elementwise activations: relu, leaky_relu<slope>, sigmoid, tanh, gelu, gelu_tanh, identity.
#include <cstddef>
#include <cstring>
#include <type_traits>
#include <utility>
#include <xtensor/xmath.hpp>
#include <xtensor/xnoalias.hpp>
#include <xtensor/xoperation.hpp>

#include "../backend/epilogue.hpp"
#include "../core/tensor.hpp"
#include "../ops/ops.hpp"
#include "concepts.hpp"

namespace ctnn {

namespace detail {
/// An elementwise activation layer: `F::forward(x)` is an xtensor expression of x; `F::backward(x, y, dy)`
/// gives dx from the input, the output and the upstream gradient. When `F::fusable`, backward reads only
/// y and dy, and any chain may fuse the layer into a preceding dense/conv layer's GEMM epilogue
/// (`F::kind`, `F::slope`); its input is then never stored.
template <class F, const char* Name>
struct elementwise {
    template <shape_type In, class T, class P = cpu>
    struct bind : parameter_free {
        using value_type = T;
        using input_shape = In;
        using output_shape = In;
        static constexpr std::string_view name = Name;
        static constexpr std::size_t cache_size = 0;
        static constexpr bool fusable = F::fusable;
        static constexpr activation_kind kind = F::kind;
        static constexpr T slope = T(F::slope);
        void forward(const T* x, T* y, std::size_t batch, T*, mode) const { predict(x, y, batch); }
        void predict(const T* x, T* y, std::size_t batch) const { ops::activation_forward<P, F>(x, y, batch * In::size); }
        void backward(const T* x, const T* y, const T* dy, T* dx, std::size_t batch, const T*, bool) const {
            if (dx) ops::activation_backward<P, F>(x, y, dy, dx, batch * In::size);
        }
    };
};

/// The value type of an xtensor expression (so constants match it and SIMD stays on).
template <class E>
using value_of = typename std::decay_t<E>::value_type;

/// Defaults for activations with a GEMM-epilogue form.
template <activation_kind K, double Slope = 0.0>
struct fusable_as {
    static constexpr bool fusable = true;
    static constexpr activation_kind kind = K;
    static constexpr double slope = Slope;
};
struct relu_fn : fusable_as<activation_kind::relu> {
    static auto forward(const auto& x) { return xt::maximum(x, value_of<decltype(x)>(0)); }
    // y > 0 exactly where x > 0
    static auto backward(const auto&, const auto& y, const auto& dy) {
        using T = value_of<decltype(y)>;
        return xt::where(y > T(0), dy, T(0));
    }
};
template <double Slope>
struct leaky_relu_fn {
    // with Slope >= 0, y > 0 exactly where x > 0, so backward can read y (and the layer can be fused)
    static constexpr bool fusable = Slope >= 0;
    static constexpr activation_kind kind = activation_kind::leaky_relu;
    static constexpr double slope = Slope;
    static auto forward(const auto& x) {
        using T = value_of<decltype(x)>;
        return xt::where(x > T(0), x, T(Slope) * x);
    }
    static auto backward(const auto& x, const auto& y, const auto& dy) {
        using T = value_of<decltype(x)>;
        if constexpr (fusable) return xt::where(y > T(0), dy, T(Slope) * dy);
        else return xt::where(x > T(0), dy, T(Slope) * dy);
    }
};
struct sigmoid_fn : fusable_as<activation_kind::sigmoid> {
    static auto forward(const auto& x) {
        using T = value_of<decltype(x)>;
        return T(1) / (T(1) + xt::exp(-x));
    }
    static auto backward(const auto&, const auto& y, const auto& dy) { return dy * y * (value_of<decltype(y)>(1) - y); }
};
struct tanh_fn : fusable_as<activation_kind::tanh> {
    static auto forward(const auto& x) { return xt::tanh(x); }
    static auto backward(const auto&, const auto& y, const auto& dy) { return dy * (value_of<decltype(y)>(1) - y * y); }
};
struct identity_fn : fusable_as<activation_kind::none> {
    static auto forward(const auto& x) { return x; }
    static auto backward(const auto&, const auto&, const auto& dy) { return dy; }
};
/// GELU (nn.GELU): exact x·Φ(x) through erf, or its tanh approximation. Backward needs x, so it is
/// not fused into a GEMM epilogue (the layer keeps its input).
template <bool Tanh>
struct gelu_fn {
    static constexpr bool fusable = false;
    static constexpr activation_kind kind = Tanh ? activation_kind::gelu_tanh : activation_kind::gelu;
    static constexpr double slope = 0;
    static auto forward(const auto& x) {
        using T = value_of<decltype(x)>;
        if constexpr (Tanh)
            return T(0.5) * x * (T(1) + xt::tanh(T(0.79788456080286535588) * (x + T(0.044715) * x * x * x)));
        else return T(0.5) * x * (T(1) + xt::erf(x * T(0.70710678118654752440)));
    }
    static auto backward(const auto& x, const auto&, const auto& dy) {
        using T = value_of<decltype(x)>;
        if constexpr (Tanh) {
            // (the returned expression owns its copies of t: a named local held by reference would dangle)
            auto t = xt::tanh(T(0.79788456080286535588) * (x + T(0.044715) * x * x * x));
            auto t2 = t;
            return dy * (T(0.5) * (T(1) + std::move(t)) + T(0.5) * x * (T(1) - xt::square(std::move(t2))) *
                                                             T(0.79788456080286535588) * (T(1) + T(3 * 0.044715) * x * x));
        } else
            return dy * (T(0.5) * (T(1) + xt::erf(x * T(0.70710678118654752440))) +
                         x * xt::exp(T(-0.5) * x * x) * T(0.39894228040143267794));
    }
};
inline constexpr char relu_name[] = "relu";
inline constexpr char gelu_name[] = "gelu";
inline constexpr char leaky_relu_name[] = "leaky_relu";
inline constexpr char sigmoid_name[] = "sigmoid";
inline constexpr char tanh_name[] = "tanh";
inline constexpr char identity_name[] = "identity";
}  // namespace detail

/// max(x, 0).
using relu = detail::elementwise<detail::relu_fn, detail::relu_name>;
/// x for x > 0, Slope·x otherwise (PyTorch default slope 0.01), e.g. `leaky_relu<0.2>`.
template <double Slope = 0.01>
using leaky_relu = detail::elementwise<detail::leaky_relu_fn<Slope>, detail::leaky_relu_name>;
/// 1 / (1 + exp(-x)).
using sigmoid = detail::elementwise<detail::sigmoid_fn, detail::sigmoid_name>;
/// tanh(x). (Named `tanh` inside namespace ctnn; qualify as `ctnn::tanh`.)
using tanh = detail::elementwise<detail::tanh_fn, detail::tanh_name>;
/// GELU as nn.GELU(approximate="none"): x·Φ(x) = x/2·(1 + erf(x/√2)).
using gelu = detail::elementwise<detail::gelu_fn<false>, detail::gelu_name>;
/// GELU as nn.GELU(approximate="tanh"): x/2·(1 + tanh(√(2/π)·(x + 0.044715·x³))) (GPT-2, BERT's original).
using gelu_tanh = detail::elementwise<detail::gelu_fn<true>, detail::gelu_name>;
/// y = x (a placeholder layer, e.g. for a head that a loss applies its own activation to).
using identity = detail::elementwise<detail::identity_fn, detail::identity_name>;

}  // namespace ctnn
