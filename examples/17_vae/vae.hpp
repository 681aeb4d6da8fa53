// SPDX-License-Identifier: MIT
#pragma once
// Example 17's VAE and its training step (shared with benchmarks/compare/compare_generative.cpp): an MLP encoder to
// the packed statistics [μ | log σ²], the reparameterisation (ctnn::gaussian_sample), an MLP decoder to Bernoulli
// pixel probabilities; loss = BCE (mean per pixel) + β·KL/784 — the negative ELBO per pixel.
#include <algorithm>
#include <cstddef>
#include <ctnn/ctnn.hpp>
#include <span>
#include <vector>

namespace vae {
using namespace ctnn;

template <std::size_t N>
using linear = dense<N, true, initializer::torch>;  // nn.Linear's default initialisation
inline constexpr std::size_t pixels = 28 * 28;

/// 784 → 512 → 256 → 2·L statistics [μ | log σ²].
template <std::size_t L, class T = float>
using encoder = basic_sequential<T, input<28, 28, 1>, flatten, linear<512>, relu, linear<256>, relu, linear<2 * L>>;
/// z = μ + σ·ε in training (μ in eval), as a model of its own between encoder and decoder.
template <std::size_t L, class T = float>
using sampler = basic_sequential<T, input<2 * L>, gaussian_sample<L>>;
/// L → 256 → 512 → 784 pixel probabilities.
template <std::size_t L, class T = float>
using decoder = basic_sequential<T, input<L>, linear<256>, relu, linear<512>, relu, linear<pixels>, sigmoid, reshape<28, 28, 1>>;

/// One step's loss (per pixel, what Adam minimises) and its two parts per image, in nats.
struct step_result {
    double loss = 0, reconstruction = 0, kl = 0;
};

/// Trains encoder + decoder with Adam on batches of images in [0, 1]. Nothing is allocated after construction.
template <std::size_t L, class T = float>
class trainer {
public:
    trainer(encoder<L, T>& e, sampler<L, T>& s, decoder<L, T>& d, std::size_t max_batch, double lr, double beta = 1.0)
        : m_e(e), m_s(s), m_d(d), m_ce(e.context(max_batch)), m_cs(s.context(max_batch)), m_cd(d.context(max_batch)),
          m_oe(e.parameters(), {.lr = lr}), m_od(d.parameters(), {.lr = lr}), m_dkl(max_batch * 2 * L), m_beta(beta) {}

    step_result step(const T* x, std::size_t batch) {
        const std::span<const T> xs{x, batch * pixels};
        m_e.zero_grad();
        m_d.zero_grad();
        const auto stats = m_e.forward(xs, m_ce);
        const auto z = m_s.forward(stats, m_cs);
        const auto xr = m_d.forward(z, m_cd);
        auto dxr = m_cd.output_gradient();
        step_result r;
        const double bce = loss::bce{}(xr, xs, dxr, batch);  // mean over batch·784
        m_d.backward(dxr, m_cd, true);
        m_s.backward(m_cd.input_gradient(), m_cs, true);
        std::span<T> dkl{m_dkl.data(), batch * 2 * L};
        r.kl = loss::gaussian_kl{}.packed(stats, dkl, batch);  // per image
        // d(stats) = d(reconstruction)/d(stats) + β/784 · dKL/d(stats)
        auto dstats = m_cs.input_gradient();
        T* ds = const_cast<T*>(dstats.data());
        const T w = T(m_beta / double(pixels));
        for (std::size_t i = 0; i < batch * 2 * L; ++i) ds[i] += w * dkl[i];
        m_e.backward(dstats, m_ce);
        m_oe.step();
        m_od.step();
        r.reconstruction = bce * double(pixels);
        r.loss = bce + m_beta * r.kl / double(pixels);
        return r;
    }

private:
    encoder<L, T>& m_e;
    sampler<L, T>& m_s;
    decoder<L, T>& m_d;
    typename encoder<L, T>::context_type m_ce;
    typename sampler<L, T>::context_type m_cs;
    typename decoder<L, T>::context_type m_cd;
    optim::adam<T> m_oe, m_od;
    std::vector<T> m_dkl;
    double m_beta;
};

}  // namespace vae
