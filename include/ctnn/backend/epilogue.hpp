// SPDX-License-Identifier: MIT
#pragma once
/// @file epilogue.hpp  What a GEMM applies to its output tile before storing it: a bias per column
/// and an activation. Policy-neutral (the scalar rule here is the reference every backend follows).
#include <cmath>
#include <cstddef>

namespace ctnn {

/// Activations a GEMM epilogue can apply (dense followed by one of these is fused by `sequential`).
enum class activation_kind { none, relu, leaky_relu, sigmoid, tanh };

/// y = act(x + bias[j]) for the output element in column j. `bias` may be null; `slope` is used by
/// leaky_relu only.
template <class T>
struct epilogue {
    const T* bias = nullptr;
    activation_kind act = activation_kind::none;
    T slope = T(0);

    bool empty() const noexcept { return bias == nullptr && act == activation_kind::none; }
    /// The same epilogue for a block of C starting at column j0.
    epilogue shifted(std::size_t j0) const noexcept { return {bias ? bias + j0 : nullptr, act, slope}; }
    /// The scalar rule (column j of the block this epilogue was shifted to).
    T operator()(T x, std::size_t j) const noexcept {
        if (bias) x += bias[j];
        return activate(x);
    }
    T activate(T x) const noexcept {
        switch (act) {
            case activation_kind::relu: return x > T(0) ? x : T(0);
            case activation_kind::leaky_relu: return x > T(0) ? x : slope * x;
            case activation_kind::sigmoid: return T(1) / (T(1) + std::exp(-x));
            case activation_kind::tanh: return std::tanh(x);
            default: return x;
        }
    }
};

}  // namespace ctnn
