// SPDX-License-Identifier: MIT
#pragma once
/// @file losses.hpp  Losses with mean reduction. Each call returns the loss and writes dL/d(input)
/// into a caller buffer (usually `ctx.output_gradient()`), so a training step allocates nothing.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>

#include <xsimd/xsimd.hpp>

#include "../backend/rules.hpp"
#include "../core/error.hpp"
#include "../core/tensor.hpp"

namespace ctnn::loss {

namespace detail {
template <class Y, class G>
void check_sizes(const char* loss, const Y& y, std::size_t target_size, const G& g) {
    if (y.size() != target_size) [[unlikely]]
        ctnn::detail::fail(std::string(loss) + ": prediction has " + std::to_string(y.size()) +
                           " elements but the target has " + std::to_string(target_size));
    if (g.size() != y.size()) [[unlikely]]
        ctnn::detail::fail(std::string(loss) + ": gradient buffer has " + std::to_string(g.size()) + " elements, expected " +
                           std::to_string(y.size()));
}

/// A loss that is the mean of `f(y_i, t_i) -> {term, dterm/dy_i}` over all n elements; writes the
/// gradient of the mean (dterm/n) into @p dy and returns the mean.
template <class Y, class Tg, class G, class F>
auto elementwise_mean(const char* name, const Y& y, const Tg& t, G& dy, F f) {
    using T = std::remove_cvref_t<decltype(*y.data())>;
    check_sizes(name, y, t.size(), dy);
    const std::size_t n = y.size();
    const T* yp = y.data();
    const auto* tp = t.data();
    T* g = dy.data();
    const T inv_n = T(1) / T(n);
    T sum = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const auto [term, grad] = f(yp[i], T(tp[i]));
        sum += term;
        g[i] = grad * inv_n;
    }
    return sum * inv_n;
}
}  // namespace detail

/// Mean squared error: mean over all elements of (y - t)². Gradient 2(y - t)/n.
struct mse {
    static constexpr const char* name = "mse";
    template <contiguous_tensor Y, contiguous_tensor Tg, contiguous_tensor G>
    auto operator()(const Y& y, const Tg& t, G&& dy) const {
        return detail::elementwise_mean(name, y, t, dy, [](auto yi, auto ti) {
            decltype(yi) v, g;
            rules::mse(yi, ti, v, g);
            return std::pair{v, g};
        });
    }
};

/// Binary cross-entropy on probabilities in [0, 1] (after a sigmoid layer); logs clamped at -100 as
/// PyTorch's nn.BCELoss does. Gradient (p - t)/(p(1 - p))/n with p(1 - p) floored at 1e-12.
/// Prefer `bce_with_logits` for training.
struct bce {
    static constexpr const char* name = "bce";
    /// Single-output class decision on this loss's input (probabilities): p > 0.5.
    static constexpr double decision_threshold = 0.5;
    template <contiguous_tensor Y, contiguous_tensor Tg, contiguous_tensor G>
    auto operator()(const Y& y, const Tg& t, G&& dy) const {
        return detail::elementwise_mean(name, y, t, dy, [](auto p, auto ti) {
            decltype(p) v, g;
            rules::bce(p, ti, v, g);
            return std::pair{v, g};
        });
    }
};

/// Binary cross-entropy on logits z (fused sigmoid, stable): mean of max(z,0) - z·t + log(1 + e^-|z|).
/// Gradient (sigmoid(z) - t)/n.
struct bce_with_logits {
    static constexpr const char* name = "bce_with_logits";
    /// Single-output class decision on this loss's input (logits): z > 0.
    static constexpr double decision_threshold = 0.0;
    template <contiguous_tensor Y, contiguous_tensor Tg, contiguous_tensor G>
    auto operator()(const Y& y, const Tg& t, G&& dy) const {
        return detail::elementwise_mean(name, y, t, dy, [](auto z, auto ti) {
            decltype(z) v, g;
            rules::bce_with_logits(z, ti, v, g);
            return std::pair{v, g};
        });
    }
};

/// Cross-entropy on logits [batch, classes] with integer labels [batch] (fused log-softmax + NLL, as
/// PyTorch's nn.CrossEntropyLoss). Mean over the batch. Gradient (softmax(z) - onehot)/batch.
/// Throws ctnn::error for a label outside [0, classes).
struct cross_entropy {
    static constexpr const char* name = "cross_entropy";
    template <contiguous_tensor Y, contiguous_tensor L, contiguous_tensor G>
    auto operator()(const Y& y, const L& labels, G&& dy) const {
        using T = std::remove_cvref_t<decltype(*y.data())>;
        const std::size_t batch = labels.size();
        if (batch == 0 || y.size() % batch != 0) [[unlikely]]
            ctnn::detail::fail(std::string(name) + ": logits have " + std::to_string(y.size()) +
                               " elements, not a multiple of the " + std::to_string(batch) + " labels");
        if (dy.size() != y.size()) [[unlikely]]
            ctnn::detail::fail(std::string(name) + ": gradient buffer has " + std::to_string(dy.size()) +
                               " elements, expected " + std::to_string(y.size()));
        const std::size_t k = y.size() / batch;
        const T* z = y.data();
        const auto* lab = labels.data();
        T* g = dy.data();
        T sum = 0;
        const T inv_b = T(1) / T(batch);
        // pass 1: check labels, shift each row by its max (stability), accumulate -(z_c - max)
        for (std::size_t b = 0; b < batch; ++b) {
            const long long c = static_cast<long long>(lab[b]);
            if (c < 0 || std::size_t(c) >= k) [[unlikely]]
                ctnn::detail::fail(std::string(name) + ": label " + std::to_string(c) + " at index " + std::to_string(b) +
                                   " is outside [0, " + std::to_string(k) + ")");
            const T* zb = z + b * k;
            T* gb = g + b * k;
            const T m = *std::max_element(zb, zb + k);
            for (std::size_t j = 0; j < k; ++j) gb[j] = zb[j] - m;
            sum -= gb[c];
        }
        // pass 2: one vectorised exp over the whole [batch, k] buffer (rows are often shorter than a vector)
        using vec = xsimd::batch<T>;
        const std::size_t n = batch * k;
        std::size_t i = 0;
        for (; i + vec::size <= n; i += vec::size) xsimd::exp(vec::load_unaligned(g + i)).store_unaligned(g + i);
        for (; i < n; ++i) g[i] = std::exp(g[i]);
        // pass 3: log-sum-exp per row, softmax - onehot, mean over the batch
        for (std::size_t b = 0; b < batch; ++b) {
            T* gb = g + b * k;
            T s = 0;
            for (std::size_t j = 0; j < k; ++j) s += gb[j];
            sum += std::log(s);
            const T inv_s = inv_b / s;
            for (std::size_t j = 0; j < k; ++j) gb[j] *= inv_s;
            gb[std::size_t(lab[b])] -= inv_b;
        }
        return sum * inv_b;
    }
};

}  // namespace ctnn::loss
