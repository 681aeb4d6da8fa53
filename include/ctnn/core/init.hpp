// SPDX-License-Identifier: MIT
#pragma once
/// @file init.hpp  Parameter initialisers (fan-in/fan-out based, as in PyTorch).
#include <cmath>
#include <cstddef>
#include <span>

#include "random.hpp"

namespace ctnn {

/// How a layer initialises its weights.
enum class initializer {
    he,      ///< He/Kaiming uniform, fan_in (ReLU nets); bias zero
    xavier,  ///< Xavier/Glorot uniform (tanh/sigmoid nets); bias zero
    torch    ///< PyTorch's nn.Linear default: U(±1/sqrt(fan_in)) for weight and bias
};

}  // namespace ctnn

namespace ctnn::init {


/// Every element set to zero.
template <class T>
void zeros(std::span<T> w) noexcept {
    for (auto& v : w) v = T(0);
}
/// Every element set to @p value.
template <class T>
void constant(std::span<T> w, T value) noexcept {
    for (auto& v : w) v = value;
}
/// Uniform in [lo, hi).
template <class T>
void uniform(std::span<T> w, rng& g, double lo, double hi) noexcept {
    for (auto& v : w) v = static_cast<T>(g.uniform(lo, hi));
}
/// Normal with mean @p mean and standard deviation @p stddev.
template <class T>
void normal(std::span<T> w, rng& g, double mean, double stddev) noexcept {
    for (auto& v : w) v = static_cast<T>(mean + stddev * g.normal());
}
/// He/Kaiming normal for ReLU nets: N(0, 2 / fan_in).
template <class T>
void he_normal(std::span<T> w, rng& g, std::size_t fan_in) noexcept {
    normal(w, g, 0.0, std::sqrt(2.0 / double(fan_in)));
}
/// He/Kaiming uniform: U(-b, b), b = sqrt(6 / fan_in).
template <class T>
void he_uniform(std::span<T> w, rng& g, std::size_t fan_in) noexcept {
    const double b = std::sqrt(6.0 / double(fan_in));
    uniform(w, g, -b, b);
}
/// Xavier/Glorot uniform: U(-b, b), b = sqrt(6 / (fan_in + fan_out)).
template <class T>
void xavier_uniform(std::span<T> w, rng& g, std::size_t fan_in, std::size_t fan_out) noexcept {
    const double b = std::sqrt(6.0 / double(fan_in + fan_out));
    uniform(w, g, -b, b);
}
/// Xavier/Glorot normal: N(0, 2 / (fan_in + fan_out)).
template <class T>
void xavier_normal(std::span<T> w, rng& g, std::size_t fan_in, std::size_t fan_out) noexcept {
    normal(w, g, 0.0, std::sqrt(2.0 / double(fan_in + fan_out)));
}
/// PyTorch's default for nn.Linear bias: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
template <class T>
void fan_in_uniform(std::span<T> w, rng& g, std::size_t fan_in) noexcept {
    const double b = 1.0 / std::sqrt(double(fan_in));
    uniform(w, g, -b, b);
}

/// A layer's weight and bias (empty span: none) by initializer @p how: He/Xavier uniform with zero
/// bias, or PyTorch's default U(±1/√fan_in) for both (nn.Linear, nn.Conv2d).
template <class T>
void layer(initializer how, std::span<T> w, std::span<T> b, std::size_t fan_in, std::size_t fan_out, rng& g) noexcept {
    if (how == initializer::he) he_uniform(w, g, fan_in);
    else if (how == initializer::xavier) xavier_uniform(w, g, fan_in, fan_out);
    else fan_in_uniform(w, g, fan_in);
    if (how == initializer::torch) fan_in_uniform(b, g, fan_in);
    else zeros(b);
}

}  // namespace ctnn::init
