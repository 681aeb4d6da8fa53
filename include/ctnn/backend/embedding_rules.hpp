// SPDX-License-Identifier: MIT
#pragma once
/// @file embedding_rules.hpp  The embedding lookup and its weight gradient as per-index rules (C++17,
/// CTNN_HD) shared by the CPU and the CUDA kernels. Token ids arrive as values of the model's type
/// (ids up to 2^24 are exact in float); the model checks them on the host, so the rules only clamp.
#include <cstddef>

#include "host_device.hpp"

namespace ctnn::rules {

/// The weight row of token value @p x, rounded and clamped into [0, vocab).
template <class T>
CTNN_HD std::size_t token_row(T x, std::size_t vocab) noexcept {
    const T r = x + T(0.5);
    if (!(r >= T(1))) return 0;
    const std::size_t v = static_cast<std::size_t>(r);
    return v < vocab ? v : vocab - 1;
}

/// y[p, d] = w[row(ids[p]), d] for every output element i = p·dim + d.
template <class T>
struct embedding_gather {
    const T* ids;
    const T* w;
    T* y;
    std::size_t dim, vocab;
    CTNN_HD void operator()(std::size_t i) const { y[i] = w[token_row(ids[i / dim], vocab) * dim + i % dim]; }
};

/// dw[v, d] += Σ_p [row(ids[p]) = v] dy[p, d] for weight element e = v·dim + d, positions in order (the
/// CPU adds the same terms in the same order: bit-identical for the same dy); the padding row
/// (v = padding, if padding < vocab) gets nothing. O(positions) per element: for small vocabularies.
template <class T>
struct embedding_scatter {
    const T* ids;
    const T* dy;
    T* dw;
    std::size_t positions, dim, vocab, padding;
    CTNN_HD void operator()(std::size_t e) const {
        const std::size_t v = e / dim, d = e % dim;
        if (v == padding) return;
        T s = dw[e];
        for (std::size_t p = 0; p < positions; ++p)
            if (token_row(ids[p], vocab) == v) s += dy[p * dim + d];
        dw[e] = s;
    }
};

}  // namespace ctnn::rules
