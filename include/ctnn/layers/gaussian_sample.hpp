// SPDX-License-Identifier: MIT
#pragma once
/// @file gaussian_sample.hpp  A VAE's reparameterisation trick as a layer: [μ | log σ²] → z = μ + σ·ε.
#include <cstddef>
#include <cstdint>

#include "../backend/rules.hpp"
#include "../ops/ops.hpp"
#include "concepts.hpp"

namespace ctnn {

/// The reparameterisation of a diagonal Gaussian encoder (Kingma & Welling): the input is the packed
/// statistics [μ (Latent) | log σ² (Latent)] of each sample (a `dense<2 * Latent>` head), the output
/// z = μ + exp(½ log σ²)·ε with ε ~ N(0, 1) in training, z = μ in eval and predict. Backward:
/// dμ = dz, d(log σ²) = ½·dz·ε·σ. ε element i of the c-th training forward is a pure function of (layer
/// seed, c, i) (`rules::counter_normal`), so the CPU and CUDA policies draw the same noise, and the
/// gradient checker (which reruns forward on copies) sees the same ε each time.
/// The KL term of the same statistics: `loss::gaussian_kl{}.packed(stats, dstats, batch)`.
template <std::size_t Latent>
struct gaussian_sample {
    static_assert(Latent > 0, "ctnn::gaussian_sample: the latent size must be positive, e.g. gaussian_sample<2>");
    template <shape_type In, class T, class P = cpu>
    struct bind : parameter_free, counter_stream {
        static_assert(In::size == 2 * Latent,
                      "ctnn::gaussian_sample<L>: the input must be the packed statistics [mu | log-variance] of 2·L values "
                      "per sample; put dense<2 * L> before it");
        using value_type = T;
        using input_shape = In;
        using output_shape = shape<Latent>;
        static constexpr std::string_view name = "gaussian_sample";
        static constexpr std::size_t cache_size = Latent;  // ε
        void init(rng& g) noexcept { reseed(g); }
        void forward(const T* x, T* y, std::size_t batch, T* eps, mode m) {
            const bool train = m != mode::eval;
            ops::gaussian_sample<P>(rules::gaussian_sample_forward<T>{x, y, eps, Latent, m_seed, train ? m_counter++ : 0, train},
                                    batch * Latent);
        }
        /// z = μ.
        void predict(const T* x, T* y, std::size_t batch) const {
            ops::gaussian_sample<P>(rules::gaussian_sample_forward<T>{x, y, nullptr, Latent, 0, 0, false}, batch * Latent);
        }
        void backward(const T* x, const T*, const T* dy, T* dx, std::size_t batch, const T* eps, bool) const {
            if (dx) ops::gaussian_sample<P>(rules::gaussian_sample_backward<T>{x, eps, dy, dx, Latent}, batch * Latent);
        }
    };
};

}  // namespace ctnn
