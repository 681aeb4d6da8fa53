// SPDX-License-Identifier: MIT
#pragma once
/// @file softmax.hpp  Softmax over the last dimension.
#include <algorithm>
#include <cmath>
#include <cstddef>

#include "concepts.hpp"

namespace ctnn {

/// Softmax over the last dimension (numerically stable). For training a classifier prefer logits +
/// `loss::cross_entropy`, which fuses log-softmax.
struct softmax {
    template <shape_type In, class T>
    struct bind : parameter_free {
        using value_type = T;
        using input_shape = In;
        using output_shape = In;
        static constexpr std::string_view name = "softmax";
        static constexpr std::size_t cache_size = 0;
        static constexpr std::size_t n = last_dim_v<In>;
        void forward(const T* x, T* y, std::size_t batch, T*, mode) const { predict(x, y, batch); }
        void predict(const T* x, T* y, std::size_t batch) const {
            const std::size_t rows = batch * (In::size / n);
            for (std::size_t r = 0; r < rows; ++r) {
                const T* xr = x + r * n;
                T* yr = y + r * n;
                const T m = *std::max_element(xr, xr + n);
                T s = 0;
                for (std::size_t j = 0; j < n; ++j) s += (yr[j] = std::exp(xr[j] - m));
                const T inv = T(1) / s;
                for (std::size_t j = 0; j < n; ++j) yr[j] *= inv;
            }
        }
        void backward(const T*, const T* y, const T* dy, T* dx, std::size_t batch, const T*, bool) const {
            if (!dx) return;
            const std::size_t rows = batch * (In::size / n);
            for (std::size_t r = 0; r < rows; ++r) {
                const T* yr = y + r * n;
                const T* dyr = dy + r * n;
                T dot = 0;
                for (std::size_t j = 0; j < n; ++j) dot += yr[j] * dyr[j];
                for (std::size_t j = 0; j < n; ++j) dx[r * n + j] = yr[j] * (dyr[j] - dot);
            }
        }
    };
};

}  // namespace ctnn
