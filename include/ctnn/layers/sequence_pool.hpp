// SPDX-License-Identifier: MIT
#pragma once
/// @file sequence_pool.hpp  `sequence_pool<pooling::mean | pooling::max>`: a sequence shape<T, F> per
/// sample pooled over its valid steps into shape<F> — every step without sequence lengths, the first
/// n steps of a sample of length n with them (sequence.hpp), so padding never enters the mean or the
/// maximum. The max's gradient goes to the first step holding the maximum (as torch.max's argmax).
#include <cstddef>

#include "../ops/ops.hpp"
#include "concepts.hpp"
#include "sequence.hpp"

namespace ctnn {

/// How sequence_pool reduces the steps.
enum class pooling { mean, max };

/// Pooling over each sample's valid steps (see the file comment).
template <pooling K>
struct sequence_pool {
    template <shape_type In, class T, class P = cpu>
    struct bind : parameter_free {
        static_assert(In::rank == 2, "ctnn::sequence_pool: the input must be a sequence shape<T, F> per sample (steps, features), "
                                     "e.g. the output of lstm<H, {.return_sequences = true}>");
        static constexpr std::size_t steps = In::dims[0], F = In::dims[1];
        using value_type = T;
        using input_shape = In;
        using output_shape = shape<F>;
        static constexpr std::string_view name = K == pooling::mean ? "sequence_mean" : "sequence_max";
        static constexpr std::size_t cache_size = 0;

        void forward(const T* x, T* y, std::size_t batch, T*, mode) const { predict(x, y, batch); }
        void predict(const T* x, T* y, std::size_t batch) const {
            ops::recurrent<P>(rules::sequence_pool_forward<T>{x, y, steps, F, K == pooling::max, batch_lengths<P>(batch, steps, name)},
                              batch * F, steps);
        }
        void backward(const T* x, const T* y, const T* dy, T* dx, std::size_t batch, const T*, bool) const {
            if (!dx) return;
            ops::recurrent<P>(rules::sequence_pool_backward<T>{x, y, dy, dx, steps, F, K == pooling::max, batch_lengths<P>(batch, steps, name)},
                              batch * steps * F, K == pooling::max ? steps : 1);
        }
    };
};

}  // namespace ctnn
