// SPDX-License-Identifier: MIT
#pragma once
/// @file rules.hpp  Per-element rules shared by the CPU kernels and the CUDA kernels (C++17, CTNN_HD):
/// the elementwise losses, GELU, position codes and the counter-based dropout mask. One definition, so both policies compute
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

/// GELU, exact (nn.GELU()): x·Φ(x) = x/2·(1 + erf(x/√2)).
template <class T>
CTNN_HD T gelu(T x) noexcept {
    return T(0.5) * x * (T(1) + std::erf(x * T(0.70710678118654752440)));
}
/// d gelu / dx = Φ(x) + x·φ(x).
template <class T>
CTNN_HD T gelu_derivative(T x) noexcept {
    const T cdf = T(0.5) * (T(1) + std::erf(x * T(0.70710678118654752440)));
    return cdf + x * std::exp(T(-0.5) * x * x) * T(0.39894228040143267794);
}
/// GELU, tanh approximation (nn.GELU(approximate="tanh")): x/2·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
template <class T>
CTNN_HD T gelu_tanh(T x) noexcept {
    return T(0.5) * x * (T(1) + std::tanh(T(0.79788456080286535588) * (x + T(0.044715) * x * x * x)));
}
/// d gelu_tanh / dx = (1 + t)/2 + x/2·(1 - t²)·√(2/π)·(1 + 3·0.044715·x²), t = tanh(√(2/π)·(x + 0.044715·x³)).
template <class T>
CTNN_HD T gelu_tanh_derivative(T x) noexcept {
    const T k = T(0.79788456080286535588);
    const T t = std::tanh(k * (x + T(0.044715) * x * x * x));
    return T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * k * (T(1) + T(3 * 0.044715) * x * x);
}

/// The sinusoidal position code of "Attention is all you need" (and PyTorch's tutorial), in double:
/// value j of position t is sin(t·ω) for even j, cos(t·ω) for odd j, ω = 10000^(-(j - j mod 2)/E).
CTNN_HD inline double sinusoid(std::size_t t, std::size_t j, std::size_t E) noexcept {
    const double w = std::exp(-double(j - j % 2) * (9.21034037197618273607 / double(E)));  // ln 10000
    return j % 2 == 0 ? std::sin(double(t) * w) : std::cos(double(t) * w);
}

/// y = x + p for [batch, T, E] sequences: p is the learned table [T, E] (`table`), or the sinusoid when
/// `table` is null. Index = element of the batch.
template <class T>
struct add_positions {
    const T* x;
    const T* table;
    T* y;
    std::size_t per_sample;  // T·E
    std::size_t E;
    CTNN_HD void operator()(std::size_t i) const {
        const std::size_t p = i % per_sample;
        y[i] = x[i] + (table ? table[p] : T(sinusoid(p / E, p % E, E)));
    }
};

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

/// A standard normal value that depends only on (seed, counter, index) (Box-Muller on two counter
/// uniforms), so the CPU and CUDA policies draw the same noise.
CTNN_HD inline double counter_normal(std::uint64_t seed, std::uint64_t counter, std::uint64_t index) noexcept {
    const double u1 = 1.0 - counter_uniform(seed, counter, 2 * index);  // (0, 1]: the log is finite
    const double u2 = counter_uniform(seed, counter, 2 * index + 1);
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

/// The reparameterisation z = μ + exp(½ log σ²)·ε of a VAE over n = batch·latent elements: `stats` rows
/// are [μ (latent) | log σ² (latent)]; ε (element i of the `counter`-th draw from `seed`) is kept in `eps`
/// for backward (when `eps` is not null). `train == false` gives z = μ (and ε = 0).
template <class T>
struct gaussian_sample_forward {
    const T* stats;
    T* z;
    T* eps;
    std::size_t latent;
    std::uint64_t seed, counter;
    bool train;
    CTNN_HD void operator()(std::size_t i) const noexcept {
        const std::size_t r = i / latent, j = i % latent;
        const T mu = stats[2 * latent * r + j], logvar = stats[2 * latent * r + latent + j];
        const T e = train ? T(counter_normal(seed, counter, i)) : T(0);
        if (eps) eps[i] = e;
        z[i] = mu + std::exp(T(0.5) * logvar) * e;
    }
};

/// Backward of gaussian_sample_forward over n = batch·latent elements: dμ = dz, d(log σ²) = ½·dz·ε·σ.
template <class T>
struct gaussian_sample_backward {
    const T* stats;
    const T* eps;
    const T* dz;
    T* dstats;
    std::size_t latent;
    CTNN_HD void operator()(std::size_t i) const noexcept {
        const std::size_t r = i / latent, j = i % latent;
        const T logvar = stats[2 * latent * r + latent + j];
        dstats[2 * latent * r + j] = dz[i];
        dstats[2 * latent * r + latent + j] = T(0.5) * dz[i] * eps[i] * std::exp(T(0.5) * logvar);
    }
};

}  // namespace ctnn::rules
