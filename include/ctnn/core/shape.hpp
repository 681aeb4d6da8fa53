// SPDX-License-Identifier: MIT
#pragma once
/// @file shape.hpp  Compile-time per-sample shapes and their algebra.
#include <array>
#include <cstddef>
#include <type_traits>
#include <utility>

namespace ctnn {

/// A per-sample shape known at compile time, e.g. `shape<28, 28, 1>` (H, W, C; channels last).
/// The batch dimension is never part of a shape: it is a runtime value.
template <std::size_t... Dims>
struct shape {
    static_assert(sizeof...(Dims) > 0, "ctnn::shape: a shape needs at least one dimension; use shape<1> for a scalar");
    static_assert(((Dims > 0) && ...), "ctnn::shape: every dimension must be positive; check the layer sizes");
    /// Number of dimensions.
    static constexpr std::size_t rank = sizeof...(Dims);
    /// Number of elements of one sample.
    static constexpr std::size_t size = (Dims * ...);
    /// The dimensions as an array.
    static constexpr std::array<std::size_t, rank> dims{Dims...};
    /// Dimension @p I.
    template <std::size_t I>
    static constexpr std::size_t dim = dims[I];
};

/// True for `shape<...>` types.
template <class S>
inline constexpr bool is_shape_v = false;
template <std::size_t... D>
inline constexpr bool is_shape_v<shape<D...>> = true;

/// Concept satisfied by `shape<...>` types.
template <class S>
concept shape_type = is_shape_v<S>;

namespace detail {
template <class A, class B>
struct shape_cat;
template <std::size_t... A, std::size_t... B>
struct shape_cat<shape<A...>, shape<B...>> {
    using type = shape<A..., B...>;
};
template <class S, class Seq>
struct shape_drop_last;
template <class S, std::size_t... I>
struct shape_drop_last<S, std::index_sequence<I...>> {
    using type = shape<S::dims[I]...>;
};
}  // namespace detail

/// Concatenation of dimensions: `shape_cat_t<shape<2>, shape<3, 4>>` is `shape<2, 3, 4>`.
template <shape_type A, shape_type B>
using shape_cat_t = typename detail::shape_cat<A, B>::type;

/// The flattened shape: `flat_t<shape<28, 28, 1>>` is `shape<784>`.
template <shape_type S>
using flat_t = shape<S::size>;

/// `S` with its last (channel/feature) dimension replaced by `N`.
template <shape_type S, std::size_t N>
using with_last_t = std::conditional_t<S::rank == 1, shape<N>,
    shape_cat_t<typename detail::shape_drop_last<S, std::make_index_sequence<(S::rank > 1 ? S::rank - 1 : 1)>>::type, shape<N>>>;

/// The last dimension (features for dense layers, channels for images).
template <shape_type S>
inline constexpr std::size_t last_dim_v = S::dims[S::rank - 1];

/// True when two shapes have the same dimensions.
template <shape_type A, shape_type B>
inline constexpr bool same_shape_v = std::is_same_v<A, B>;

}  // namespace ctnn
