// SPDX-License-Identifier: MIT
#pragma once
// Example 14's models and training step, shared with the test that checks one step against PyTorch
// (tests/unit/nn/gan_test.cpp): the seeds' GAN layer for layer, its conditional variant, and the
// alternating discriminator / generator step.
#include <algorithm>
#include <cstddef>
#include <ctnn/ctnn.hpp>
#include <span>
#include <tuple>
#include <type_traits>
#include <vector>

namespace gan {
using namespace ctnn;

inline constexpr std::size_t noise_size = 100, label_dim = 50, classes = 10;
template <std::size_t N, bool Bias = true>
using linear = dense<N, Bias, initializer::torch>;  // nn.Linear's default initialisation

/// The generator's body: Dense(256, no bias) → BatchNorm → LeakyReLU(0.2) → Dense(512) → BN → LeakyReLU →
/// Dense(1024) → BN → LeakyReLU → Dense(784, tanh) → 28×28×1.
using generator_body = chain<linear<256, false>, batch_norm1d<>, leaky_relu<0.2>, linear<512>, batch_norm1d<>, leaky_relu<0.2>,
                             linear<1024>, batch_norm1d<>, leaky_relu<0.2>, linear<784>, ctnn::tanh, reshape<28, 28, 1>>;
/// The discriminator's body: Dense(1024) → LeakyReLU(0.2) → Dropout(0.3) → Dense(512) → ... → Dense(1, sigmoid).
using discriminator_body = chain<linear<1024>, leaky_relu<0.2>, dropout<0.3>, linear<512>, leaky_relu<0.2>, dropout<0.3>, linear<256>,
                                 leaky_relu<0.2>, dropout<0.3>, linear<1>, sigmoid>;

/// The seeds' GAN as flat sequentials, so the state_dict names are nn.Sequential's ("0.weight", "1.running_mean", ...);
/// T = double for the reference test.
template <class T>
using basic_generator = basic_sequential<T, input<noise_size>, linear<256, false>, batch_norm1d<>, leaky_relu<0.2>, linear<512>,
                                         batch_norm1d<>, leaky_relu<0.2>, linear<1024>, batch_norm1d<>, leaky_relu<0.2>, linear<784>,
                                         ctnn::tanh, reshape<28, 28, 1>>;
template <class T>
using basic_discriminator = basic_sequential<T, input<28, 28, 1>, flatten, linear<1024>, leaky_relu<0.2>, dropout<0.3>, linear<512>,
                                             leaky_relu<0.2>, dropout<0.3>, linear<256>, leaky_relu<0.2>, dropout<0.3>, linear<1>, sigmoid>;
using generator = basic_generator<float>;
using discriminator = basic_discriminator<float>;
static_assert(generator::parameter_count == 100 * 256 + 2 * 256 + 256 * 512 + 512 + 2 * 512 + 512 * 1024 + 1024 + 2 * 1024 + 1024 * 784 + 784);

/// Conditional GAN: a label embedding (10 × 50) joined to z, and to the flattened image in the discriminator.
using label_embedding = named<"label", chain<embedding<classes, label_dim>, flatten>>;
using conditional_generator = graph<inputs<input<noise_size>, input<1>>,                  // z, label
                                    node<from<1>, label_embedding>,                       // 2: [50]
                                    node<concat_of<0, 2>, named<"net", generator_body>>,  // 3: [28, 28, 1]
                                    outputs<3>>;
using conditional_discriminator = graph<inputs<input<28, 28, 1>, input<1>>,                      // image, label
                                        node<from<0>, flatten>,                                  // 2: [784]
                                        node<from<1>, label_embedding>,                          // 3: [50]
                                        node<concat_of<2, 3>, named<"net", discriminator_body>>,  // 4: [1]
                                        outputs<4>>;

/// What one iteration measured: both losses and the discriminator's mean output on real and fake images.
struct step_result {
    double d_loss = 0, g_loss = 0, d_real = 0, d_fake = 0;
};

/// How the discriminator step sees real and fake images: one batch [real; fake] (the seeds' Keras recipe:
/// `train_on_batch` of the concatenation), or two batches, real then fake, with their losses added (PyTorch's
/// DCGAN recipe — needed when D has batch norm, so that its batch statistics never mix the two, as in the
/// generator's step, where D sees fake images alone).
enum class discriminator_batches { joined, separate };

/// The alternating step of the seeds' GAN for generator G and discriminator D (the plain sequentials, the
/// conditional graphs, or example 15's DCGAN), Adam for both. One iteration:
///  1. fake = G(z), G in training mode (batch-norm batch statistics);
///  2. discriminator step against targets 1 - smoothing (real; one-sided label smoothing) and 0 (fake), BCE,
///     Adam step of D only;
///  3. generator step through the updated D with D frozen (no parameter gradients, no update, its dropout
///     and batch norm still in training mode: `frozen_mode::model`, as Keras's `trainable = False`): the
///     non-saturating loss BCE(D(fake), 1), D's input gradient backpropagated into G from step 1's
///     activations (no second G forward), Adam step of G only.
/// Nothing is allocated after construction.
template <class G, class D>
class trainer {
    static constexpr bool conditional = requires { G::input_count; };  // the graphs
    static constexpr std::size_t image = 28 * 28;
    using T = typename G::value_type;

public:
    trainer(G& g, D& d, std::size_t max_batch, double lr, double beta1 = 0.5, double smoothing = 0.0,
            discriminator_batches how = discriminator_batches::joined)
        : m_g(g), m_d(d), m_cg(g.context(max_batch)), m_cd(d.context(2 * max_batch)),
          m_og(g.parameters(), {.lr = lr, .beta1 = beta1}), m_od(d.parameters(), {.lr = lr, .beta1 = beta1}),
          m_x(2 * max_batch * image), m_labels(2 * max_batch), m_t(2 * max_batch), m_ones(max_batch, T(1)), m_smoothing(smoothing),
          m_how(how) {}

    /// One iteration on @p batch real images [batch, 28, 28, 1] in [-1, 1] and noise z [batch, 100]; the
    /// conditional GAN also takes the real images' labels and the labels to generate (as floats).
    step_result step(const T* real, const T* z, std::size_t batch, const T* real_labels = nullptr, const T* fake_labels = nullptr) {
        step_result r;
        const std::span<const T> zs{z, batch * noise_size};
        // 1. generate
        const T* fake = nullptr;
        if constexpr (conditional) {
            const std::span<const T> fl{fake_labels, batch};
            fake = std::get<0>(m_g.forward(std::tie(zs, fl), m_cg)).data();
        } else
            fake = m_g.forward(zs, m_cg).data();
        // 2. discriminator step
        std::fill_n(m_t.data(), batch, T(1.0 - m_smoothing));
        std::fill_n(m_t.data() + batch, batch, T(0));
        m_d.zero_grad();
        if (m_how == discriminator_batches::joined) {
            std::copy_n(real, batch * image, m_x.data());
            std::copy_n(fake, batch * image, m_x.data() + batch * image);
            if constexpr (conditional) {
                std::copy_n(real_labels, batch, m_labels.data());
                std::copy_n(fake_labels, batch, m_labels.data() + batch);
            }
            r.d_loss = d_pass(m_x.data(), m_labels.data(), m_t.data(), 2 * batch, false, batch, r.d_real, r.d_fake);
        } else {
            double unused = 0;
            r.d_loss = d_pass(real, real_labels, m_t.data(), batch, false, batch, r.d_real, unused) +
                       d_pass(fake, fake_labels, m_t.data() + batch, batch, false, batch, r.d_fake, unused);
        }
        m_od.step();
        // 3. generator step through the frozen discriminator
        freeze_d(true);
        m_g.zero_grad();
        double unused = 0, unused2 = 0;
        r.g_loss = d_pass(fake, fake_labels, m_ones.data(), batch, true, batch, unused, unused2);
        if constexpr (conditional) m_g.backward(std::tuple{m_cd.template input_gradient<0>()}, m_cg);
        else m_g.backward(m_cd.input_gradient(), m_cg);
        m_og.step();
        freeze_d(false);
        return r;
    }

private:
    /// D's forward on @p n images (and labels), BCE against @p targets, backward (with D's input gradient when
    /// @p input_gradient); returns the loss; the mean output of the first @p split samples into @p mean_a, of
    /// the rest into @p mean_b.
    double d_pass(const T* x, const T* labels, const T* targets, std::size_t n, bool input_gradient, std::size_t split, double& mean_a,
                  double& mean_b) {
        const std::span<const T> xs{x, n * image}, ts{targets, n};
        double l = 0;
        const T* p = nullptr;
        if constexpr (conditional) {
            const std::span<const T> ls{labels, n};
            p = std::get<0>(m_d.forward(std::tie(xs, ls), m_cd)).data();
            auto dp = m_cd.template output_gradient<0>();
            l = loss::bce{}(std::span<const T>{p, n}, ts, dp, n);
            m_d.backward(std::tuple{dp}, m_cd, input_gradient);
        } else {
            p = m_d.forward(xs, m_cd).data();
            auto dp = m_cd.output_gradient();
            l = loss::bce{}(std::span<const T>{p, n}, ts, dp, n);
            m_d.backward(dp, m_cd, input_gradient);
        }
        for (std::size_t i = 0; i < n; ++i) (i < split ? mean_a : mean_b) += double(p[i]) / double(i < split ? split : n - split);
        return l;
    }
    void freeze_d(bool on) {
        if constexpr (conditional) {
            for (const char* n : {"label", "net"})
                on ? m_d.freeze(n, frozen_mode::model) : m_d.unfreeze(n);
        } else {
            for (std::size_t i = 0; i < D::depth; ++i) on ? m_d.freeze(i, frozen_mode::model) : m_d.unfreeze(i);
        }
    }
    G& m_g;
    D& m_d;
    typename G::context_type m_cg;
    typename D::context_type m_cd;
    optim::adam<T> m_og, m_od;
    std::vector<T> m_x, m_labels, m_t, m_ones;
    double m_smoothing;
    discriminator_batches m_how;
};

}  // namespace gan
