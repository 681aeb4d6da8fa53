// SPDX-License-Identifier: MIT
#pragma once
/// @file dropout.hpp  Inverted dropout: zero with probability Rate in training, identity in eval.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../core/random.hpp"
#include "../ops/ops.hpp"
#include "concepts.hpp"

namespace ctnn {

/// Dropout with drop probability `Rate` (e.g. `dropout<0.5>`). Training scales kept values by
/// 1/(1-Rate) (inverted dropout, as PyTorch), so eval/predict is the identity. Mask element i of the
/// c-th training forward is a pure function of (layer seed, c, i) (`rules::dropout_mask`): the layer
/// seed comes from the model seed, and the CPU and CUDA policies draw identical masks.
template <double Rate>
struct dropout {
    static_assert(Rate >= 0.0 && Rate < 1.0, "ctnn::dropout: the rate must be in [0, 1); e.g. dropout<0.5>");
    template <shape_type In, class T, class P = cpu>
    struct bind : parameter_free, counter_stream {
        using value_type = T;
        using input_shape = In;
        using output_shape = In;
        static constexpr std::string_view name = "dropout";
        static constexpr std::size_t cache_size = In::size;  // the scaled mask
        void init(rng& g) noexcept { reseed(g); }
        void forward(const T* x, T* y, std::size_t batch, T* mask, mode m) {
            const std::size_t n = batch * In::size;
            if (m == mode::eval || Rate == 0.0) {
                ops::fill<P>(mask, T(1), n);
                ops::copy<P>(y, x, n);
                return;
            }
            ops::dropout_forward<P>(x, y, mask, n, Rate, m_seed, m_counter++);
        }
        void predict(const T* x, T* y, std::size_t batch) const { ops::copy<P>(y, x, batch * In::size); }
        void backward(const T*, const T*, const T* dy, T* dx, std::size_t batch, const T* mask, bool) const {
            if (dx) ops::multiply<P>(dy, mask, dx, batch * In::size);
        }
    };
};

}  // namespace ctnn
