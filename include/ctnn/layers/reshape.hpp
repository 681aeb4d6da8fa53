// SPDX-License-Identifier: MIT
#pragma once
/// @file reshape.hpp  flatten and reshape<...>: change the per-sample shape, keep the data.
#include <cstddef>
#include <cstring>

#include "../ops/ops.hpp"
#include "concepts.hpp"

namespace ctnn {

namespace detail {
/// A layer whose output is its input reinterpreted as shape `Out` (a copy, so buffers stay separate).
template <shape_type In, shape_type Out, class T, const char* Name, class P = cpu>
struct reinterpret_layer : parameter_free {
    using value_type = T;
    using input_shape = In;
    using output_shape = Out;
    static constexpr std::string_view name = Name;
    static constexpr std::size_t cache_size = 0;
    void forward(const T* x, T* y, std::size_t batch, T*, mode) const { predict(x, y, batch); }
    void predict(const T* x, T* y, std::size_t batch) const { ops::copy<P>(y, x, batch * In::size); }
    void backward(const T*, const T*, const T* dy, T* dx, std::size_t batch, const T*, bool) const {
        if (dx) ops::copy<P>(dx, dy, batch * In::size);
    }
};
inline constexpr char flatten_name[] = "flatten";
inline constexpr char reshape_name[] = "reshape";
}  // namespace detail

/// Flattens each sample to one dimension: shape<H, W, C> -> shape<H·W·C> (PyTorch nn.Flatten).
struct flatten {
    template <shape_type In, class T, class P = cpu>
    using bind = detail::reinterpret_layer<In, flat_t<In>, T, detail::flatten_name, P>;
};

/// Reshapes each sample to shape<Dims...>; the element count must match.
template <std::size_t... Dims>
struct reshape {
    template <shape_type In, class T, class P = cpu>
    struct bind : detail::reinterpret_layer<In, shape<Dims...>, T, detail::reshape_name, P> {
        static_assert(shape<Dims...>::size == In::size,
                      "ctnn::reshape: the target shape must have as many elements as the input shape; "
                      "check the dimensions of reshape<...> against the previous layer's output");
    };
};

}  // namespace ctnn
