// SPDX-License-Identifier: MIT
#pragma once
/// @file epilogue.hpp  What a GEMM applies to its output tile before storing it: a bias per column
/// and an activation. Policy-neutral (the scalar rule here is the reference every backend follows);
/// C++17 and usable in CUDA device code.
#include <cmath>
#include <cstddef>

#include "host_device.hpp"
#include "rules.hpp"

namespace ctnn {

/// Activations a GEMM epilogue can apply (dense followed by one of relu ... tanh is fused by
/// `sequential`; gelu and gelu_tanh need their input for backward, so they run as their own layer and
/// appear here for the GPU's elementwise kernels).
enum class activation_kind { none, relu, leaky_relu, sigmoid, tanh, gelu, gelu_tanh };

/// y = act(x + bias[j]) for the output element in column j. `bias` may be null; `slope` is used by
/// leaky_relu only.
template <class T>
struct epilogue {
    const T* bias = nullptr;
    activation_kind act = activation_kind::none;
    T slope = T(0);

    /// d act / d x from the activation's output y (relu/leaky_relu: y > 0 exactly where x > 0 for a
    /// slope >= 0; sigmoid: y(1-y); tanh: 1-y²). Backward of every fusable activation.
    CTNN_HD static T derivative_from_output(activation_kind act, T slope, T y) noexcept {
        switch (act) {
            case activation_kind::relu: return y > T(0) ? T(1) : T(0);
            case activation_kind::leaky_relu: return y > T(0) ? T(1) : slope;
            case activation_kind::sigmoid: return y * (T(1) - y);
            case activation_kind::tanh: return T(1) - y * y;
            default: return T(1);
        }
    }

    CTNN_HD bool empty() const noexcept { return bias == nullptr && act == activation_kind::none; }
    /// The same epilogue for a block of C starting at column j0.
    CTNN_HD epilogue shifted(std::size_t j0) const noexcept { return {bias ? bias + j0 : nullptr, act, slope}; }
    /// The scalar rule (column j of the block this epilogue was shifted to).
    CTNN_HD T operator()(T x, std::size_t j) const noexcept {
        if (bias) x += bias[j];
        return activate(x);
    }
    CTNN_HD T activate(T x) const noexcept {
        switch (act) {
            case activation_kind::relu: return x > T(0) ? x : T(0);
            case activation_kind::leaky_relu: return x > T(0) ? x : slope * x;
            case activation_kind::sigmoid: return T(1) / (T(1) + std::exp(-x));
            case activation_kind::tanh: return std::tanh(x);
            case activation_kind::gelu: return rules::gelu(x);
            case activation_kind::gelu_tanh: return rules::gelu_tanh(x);
            default: return x;
        }
    }
};

}  // namespace ctnn
