// SPDX-License-Identifier: MIT
#pragma once
/// @file tensor.hpp  Batched tensors: contiguous row-major [batch, sample...] data viewed through xtensor.
#include <array>
#include <concepts>
#include <cstddef>
#include <string>
#include <xtensor/xadapt.hpp>
#include <xtensor/xtensor.hpp>

#include "error.hpp"
#include "shape.hpp"

namespace ctnn {

/// Anything with contiguous row-major storage and a leading batch dimension: `xt::xtensor`,
/// `xt::xarray`, ctnn's adaptors, `std::vector` (batch = size).
template <class E>
concept contiguous_tensor = requires(E& e) {
    { e.data() };
    { e.size() } -> std::convertible_to<std::size_t>;
};

namespace detail {
template <class E>
std::size_t leading_dim(const E& e) {
    if constexpr (requires { e.shape(); e.dimension(); }) {
        return e.dimension() == 0 ? 1 : std::size_t(e.shape()[0]);
    } else {
        return e.size();
    }
}
}  // namespace detail

/// Batch size of @p x holding samples of shape `S`; throws ctnn::error naming @p what if the element
/// count is not a whole number of samples or the leading dimension disagrees.
template <shape_type S, contiguous_tensor E>
std::size_t batch_of(const E& x, const char* what) {
    const std::size_t n = x.size();
    if (n % S::size != 0 || n == 0)
        detail::fail(std::string(what) + ": expected [batch, ...] with " + std::to_string(S::size) +
                     " elements per sample, got " + std::to_string(n) + " elements");
    const std::size_t b = n / S::size;
    if constexpr (requires { x.dimension(); }) {
        if (x.dimension() > 1 && detail::leading_dim(x) != b)
            detail::fail(std::string(what) + ": leading (batch) dimension " + std::to_string(detail::leading_dim(x)) +
                         " does not match " + std::to_string(b) + " samples of " + std::to_string(S::size) + " elements");
    }
    return b;
}

/// A view of @p batch samples of shape `S` at @p p, as an xtensor adaptor of shape [batch, S...].
template <shape_type S, class T>
auto adapt_batch(T* p, std::size_t batch) {
    std::array<std::size_t, S::rank + 1> sh;
    sh[0] = batch;
    for (std::size_t i = 0; i < S::rank; ++i) sh[i + 1] = S::dims[i];
    return xt::adapt(p, batch * S::size, xt::no_ownership(), sh);
}

/// A flat 1-D xtensor view of @p n elements at @p p (for elementwise expressions).
template <class T>
auto adapt_flat(T* p, std::size_t n) {
    return xt::adapt(p, n, xt::no_ownership(), std::array<std::size_t, 1>{n});
}

}  // namespace ctnn
