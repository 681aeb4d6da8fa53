// SPDX-License-Identifier: MIT
#pragma once
/// @file reshape.hpp  flatten and reshape<...>: change the per-sample shape, keep the data.
#include <cstddef>
#include <cstring>

#include <type_traits>

#include "../backend/conv_rules.hpp"
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

namespace detail {
/// flatten of NHWC images shape<H, W, C> (C > 1, H·W > 1): the features come out in PyTorch's order
/// (c, h, w), the order nn.Flatten gives an NCHW tensor, so a dense layer after it has the same weight
/// columns as the nn.Linear after nn.Flatten, and state_dicts load unchanged.
template <shape_type In, class T, class P>
struct flatten_chw : parameter_free {
    using value_type = T;
    using input_shape = In;
    using output_shape = flat_t<In>;
    static constexpr std::string_view name = flatten_name;
    static constexpr std::size_t cache_size = 0;
    static constexpr conv::geometry g{In::dims[0], In::dims[1], In::dims[2], 1, 1, In::dims[0], In::dims[1], 1, 1, 0, 0, 1, 1};
    void forward(const T* x, T* y, std::size_t batch, T*, mode) const { predict(x, y, batch); }
    void predict(const T* x, T* y, std::size_t batch) const { ops::hwc_to_chw<P>(x, y, g, batch, false); }
    void backward(const T*, const T*, const T* dy, T* dx, std::size_t batch, const T*, bool) const {
        if (dx) ops::hwc_to_chw<P>(dy, dx, g, batch, true);
    }
};
template <shape_type In>
constexpr bool needs_chw_order() {
    if constexpr (In::rank == 3) return In::dims[2] > 1 && In::dims[0] * In::dims[1] > 1;
    else return false;
}
}  // namespace detail

/// Flattens each sample to one dimension (nn.Flatten): shape<H, W, C> -> shape<H·W·C> in PyTorch's
/// feature order (c, h, w) — ctnn's NHWC images are permuted, so a dense layer after a flatten has the
/// weights of the equivalent nn.Linear; other shapes (and C = 1 or 1×1 images) are kept in place.
struct flatten {
    template <shape_type In, class T, class P = cpu>
    using bind = std::conditional_t<detail::needs_chw_order<In>(), detail::flatten_chw<In, T, P>,
                                    detail::reinterpret_layer<In, flat_t<In>, T, detail::flatten_name, P>>;
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
