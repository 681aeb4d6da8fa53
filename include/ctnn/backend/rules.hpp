// SPDX-License-Identifier: MIT
#pragma once
/// @file rules.hpp  Per-element rules shared by the CPU kernels and the CUDA kernels (C++17, CTNN_HD):
/// the elementwise losses and the counter-based dropout mask. One definition, so both policies compute
/// the same values and draw the same masks.
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "host_device.hpp"

namespace ctnn::rules {

/// (y - t)², gradient 2(y - t).
template <class T>
CTNN_HD void mse(T y, T t, T& value, T& grad) noexcept {
    const T d = y - t;
    value = d * d;
    grad = T(2) * d;
}

/// Binary cross-entropy on a probability p: logs clamped at -100 (as nn.BCELoss), gradient
/// (p - t)/(p(1 - p)) with p(1 - p) floored at 1e-12.
template <class T>
CTNN_HD void bce(T p, T t, T& value, T& grad) noexcept {
    T lp = std::log(p), lq = std::log(T(1) - p);
    lp = lp > T(-100) ? lp : T(-100);
    lq = lq > T(-100) ? lq : T(-100);
    value = -(t * lp + (T(1) - t) * lq);
    const T pq = p * (T(1) - p);
    grad = (p - t) / (pq > T(1e-12) ? pq : T(1e-12));
}

/// Binary cross-entropy on a logit z, stable: max(z, 0) - z·t + log(1 + e^-|z|); gradient sigmoid(z) - t.
template <class T>
CTNN_HD void bce_with_logits(T z, T t, T& value, T& grad) noexcept {
    const T e = std::exp(-std::abs(z));  // in (0, 1]: never overflows
    const T s = z >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
    value = (z > T(0) ? z : T(0)) - z * t + std::log1p(e);
    grad = s - t;
}

/// y[j] = exp(x[j] - m) for a row of n values, m = max x (written to @p m); returns Σ y. The stable
/// core of softmax and cross-entropy on both policies. y may equal x.
template <class T>
CTNN_HD T exp_shifted(const T* x, T* y, std::size_t n, T& m) noexcept {
    m = x[0];
    for (std::size_t j = 1; j < n; ++j) m = x[j] > m ? x[j] : m;
    T s = 0;
    for (std::size_t j = 0; j < n; ++j) s += (y[j] = std::exp(x[j] - m));
    return s;
}

/// SplitMix64 finaliser: a bijective 64-bit mix (Steele, Lea, Flood 2014).
CTNN_HD inline std::uint64_t mix64(std::uint64_t z) noexcept {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/// A uniform double in [0, 1) that depends only on (seed, counter, index): element `index` of the
/// `counter`-th mask drawn from `seed`. Stateless, so any thread on any device draws it alike.
CTNN_HD inline double counter_uniform(std::uint64_t seed, std::uint64_t counter, std::uint64_t index) noexcept {
    const std::uint64_t h = mix64(mix64(seed ^ mix64(counter + 0x9e3779b97f4a7c15ULL)) + index);
    return double(h >> 11) * 0x1.0p-53;
}

/// Inverted-dropout mask value: 0 with probability `rate`, 1/(1 - rate) otherwise.
template <class T>
CTNN_HD T dropout_mask(std::uint64_t seed, std::uint64_t counter, std::size_t index, double rate) noexcept {
    return counter_uniform(seed, counter, index) < rate ? T(0) : T(1.0 / (1.0 - rate));
}

}  // namespace ctnn::rules
