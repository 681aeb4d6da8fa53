// SPDX-License-Identifier: MIT
#pragma once
/// @file softmax.hpp  Softmax and log-softmax over the last dimension.
#include <algorithm>
#include <cmath>
#include <cstddef>

#include "../ops/loss_ops.hpp"
#include "../ops/ops.hpp"
#include "concepts.hpp"

namespace ctnn {

namespace detail {
/// A row-wise normaliser over the last dimension, backward from its output: softmax (Log = false)
/// or log-softmax (Log = true), dispatched to ops.
template <bool Log, const char* Name>
struct row_softmax {
    template <shape_type In, class T, class P = cpu>
    struct bind : parameter_free {
        using value_type = T;
        using input_shape = In;
        using output_shape = In;
        static constexpr std::string_view name = Name;
        static constexpr std::size_t cache_size = 0;
        static constexpr std::size_t n = last_dim_v<In>;
        void forward(const T* x, T* y, std::size_t batch, T*, mode) const { predict(x, y, batch); }
        void predict(const T* x, T* y, std::size_t batch) const {
            if constexpr (Log) ops::log_softmax_forward<P>(x, y, batch * (In::size / n), n);
            else ops::softmax_forward<P>(x, y, batch * (In::size / n), n);
        }
        void backward(const T*, const T* y, const T* dy, T* dx, std::size_t batch, const T*, bool) const {
            if (!dx) return;
            if constexpr (Log) ops::log_softmax_backward<P>(y, dy, dx, batch * (In::size / n), n);
            else ops::softmax_backward<P>(y, dy, dx, batch * (In::size / n), n);
        }
    };
};
inline constexpr char softmax_name[] = "softmax";
inline constexpr char log_softmax_name[] = "log_softmax";
}  // namespace detail

/// Softmax over the last dimension (numerically stable). For training a classifier prefer logits +
/// `loss::cross_entropy`, which fuses log-softmax.
using softmax = detail::row_softmax<false, detail::softmax_name>;

/// Log-softmax over the last dimension (nn.LogSoftmax(dim=-1)): y = x - max(x) - log Σ exp(x - max(x)),
/// stable for any logits. Backward from its output: dx = dy - exp(y)·Σ dy. Pair it with `loss::nll`
/// (the two together are `loss::cross_entropy`), or use its outputs as log-probabilities.
using log_softmax = detail::row_softmax<true, detail::log_softmax_name>;

}  // namespace ctnn
