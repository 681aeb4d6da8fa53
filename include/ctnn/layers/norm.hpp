// SPDX-License-Identifier: MIT
#pragma once
/// @file norm.hpp  Batch normalisation over the last (channel) dimension, PyTorch's BatchNorm1d/2d:
/// batch statistics and running-statistics updates in training, running statistics in evaluation;
/// layer normalisation of every sample's last dimension (nn.LayerNorm), the same in both modes.
#include <array>
#include <cstddef>
#include <span>

#include "../backend/norm_rules.hpp"
#include "../ops/ops.hpp"
#include "concepts.hpp"

namespace ctnn {

/// Options of batch_norm (PyTorch's defaults).
struct batch_norm_options {
    double eps = 1e-5;
    double momentum = 0.1;
    bool affine = true;  ///< learnable weight (γ, init 1) and bias (β, init 0)
};

namespace detail {
template <std::size_t MinRank, std::size_t MaxRank, batch_norm_options O>
struct batch_norm_spec {
    static_assert(O.eps > 0 && O.momentum >= 0 && O.momentum <= 1, "ctnn::batch_norm: eps must be > 0, momentum in [0, 1]");

    template <shape_type In, class T, class P = cpu>
    struct bind {
        static_assert(In::rank >= MinRank && In::rank <= MaxRank,
                      "ctnn::batch_norm: batch_norm2d takes NHWC samples shape<H, W, C>, batch_norm1d takes shape<C> "
                      "or shape<L, C>");
        static constexpr std::size_t C = last_dim_v<In>;
        using value_type = T;
        using input_shape = In;
        using output_shape = In;
        static constexpr std::string_view name = "batch_norm";
        static constexpr std::size_t parameter_count = O.affine ? 2 * C : 0;
        static constexpr std::size_t cache_size = 0;
        static constexpr auto parameters() noexcept {
            if constexpr (O.affine) return std::array<param_desc, 2>{param_desc{"weight", {C}, 1}, param_desc{"bias", {C}, 1}};
            else return std::array<param_desc, 0>{};
        }
        /// running_mean, running_var, num_batches_tracked (saved, as in a state_dict) and the last
        /// batch's mean and 1/std (kept for backward, not saved).
        static constexpr std::size_t state_count = 4 * C + 1;
        static constexpr auto states() noexcept {
            return std::array<param_desc, 5>{param_desc{"running_mean", {C}, 1},
                                             param_desc{"running_var", {C}, 1},
                                             param_desc{"num_batches_tracked", {}, 0, true, true},
                                             param_desc{"batch_mean", {C}, 1, false},
                                             param_desc{"batch_invstd", {C}, 1, false}};
        }

        void attach(T* p, T* g) noexcept {
            m_gamma = O.affine ? p : nullptr;
            m_beta = O.affine ? p + C : nullptr;
            m_dgamma = O.affine ? g : nullptr;
            m_dbeta = O.affine ? g + C : nullptr;
        }
        void attach_state(T* s) noexcept { m_state = s; }
        void init(rng&) noexcept {
            if constexpr (O.affine)
                for (std::size_t c = 0; c < C; ++c) m_gamma[c] = T(1), m_beta[c] = T(0);
            for (std::size_t c = 0; c < C; ++c) running_mean()[c] = T(0), running_var()[c] = T(1);
            *batches() = T(0);
        }
        /// Scratch per call (the container's plan): the CPU sweeps' per-channel sums and coefficients.
        static constexpr std::size_t scratch_size(std::size_t) noexcept { return ops::batch_norm_scratch<P>(C); }
        void forward(const T* x, T* y, std::size_t batch, T*, mode m, T* scratch) {
            m_trained = m == mode::train;
            const std::size_t rows = batch * (In::size / C);
            if (m_trained)
                ops::batch_norm<P>(norm::batch_norm_train<T>{x, y, m_gamma, m_beta, running_mean(), running_var(), batch_mean(),
                                                             batch_invstd(), batches(), rows, C, T(O.momentum), T(O.eps)},
                                   scratch);
            else
                predict(x, y, batch, scratch);
        }
        void predict(const T* x, T* y, std::size_t batch, T* scratch) const {
            ops::batch_norm<P>(norm::batch_norm_eval<T>{x, y, m_gamma, m_beta, running_mean(), running_var(),
                                                        batch * (In::size / C), C, T(O.eps)},
                               scratch);
        }
        void backward(const T* x, const T*, const T* dy, T* dx, std::size_t batch, const T*, bool param_grads, T* scratch) {
            const std::size_t rows = batch * (In::size / C);
            T* dgamma = param_grads ? m_dgamma : nullptr;
            if (!dgamma && !dx) return;
            if (m_trained)
                ops::batch_norm<P>(norm::batch_norm_train_backward<T>{x, dy, m_gamma, batch_mean(), batch_invstd(), dgamma,
                                                                      m_dbeta, dx, rows, C},
                                   scratch);
            else
                ops::batch_norm<P>(norm::batch_norm_eval_backward<T>{x, dy, m_gamma, running_mean(), running_var(), dgamma,
                                                                     m_dbeta, dx, rows, C, T(O.eps)},
                                   scratch);
        }

    private:
        T* running_mean() const noexcept { return m_state; }
        T* running_var() const noexcept { return m_state + C; }
        T* batches() const noexcept { return m_state + 2 * C; }
        T* batch_mean() const noexcept { return m_state + 2 * C + 1; }
        T* batch_invstd() const noexcept { return m_state + 3 * C + 1; }
        T* m_gamma = nullptr;
        T* m_beta = nullptr;
        T* m_dgamma = nullptr;
        T* m_dbeta = nullptr;
        T* m_state = nullptr;
        bool m_trained = true;
    };
};
}  // namespace detail

/// BatchNorm2d on NHWC samples shape<H, W, C>: statistics per channel over the batch and all pixels.
template <batch_norm_options O = batch_norm_options{}>
using batch_norm2d = detail::batch_norm_spec<3, 3, O>;
/// BatchNorm1d on shape<C> (features) or shape<L, C> (sequences, channel last).
template <batch_norm_options O = batch_norm_options{}>
using batch_norm1d = detail::batch_norm_spec<1, 2, O>;

/// Options of layer_norm (nn.LayerNorm's defaults).
struct layer_norm_options {
    double eps = 1e-5;
    bool elementwise_affine = true;  ///< learnable weight (γ, init 1)
    bool bias = true;                ///< and bias (β, init 0; only with elementwise_affine)
};

/// nn.LayerNorm(N) over the last dimension N of each sample (shape<N>, shape<T, N>, ...): every row of N
/// values is normalised by its own mean and biased variance, in training and evaluation alike.
/// Parameters `weight` [N] and `bias` [N].
template <layer_norm_options O = layer_norm_options{}>
struct layer_norm {
    static_assert(O.eps > 0, "ctnn::layer_norm: eps must be > 0");

    template <shape_type In, class T, class P = cpu>
    struct bind {
        static constexpr std::size_t N = last_dim_v<In>;
        static constexpr std::size_t rows = In::size / N;  ///< rows per sample
        static constexpr bool affine = O.elementwise_affine, has_bias = O.elementwise_affine && O.bias;
        using value_type = T;
        using input_shape = In;
        using output_shape = In;
        static constexpr std::string_view name = "layer_norm";
        static constexpr std::size_t parameter_count = (affine ? N : 0) + (has_bias ? N : 0);
        static constexpr std::size_t cache_size = 2 * rows;  ///< each row's mean and 1/std
        static constexpr auto parameters() noexcept {
            if constexpr (has_bias) return std::array<param_desc, 2>{param_desc{"weight", {N}, 1}, param_desc{"bias", {N}, 1}};
            else if constexpr (affine) return std::array<param_desc, 1>{param_desc{"weight", {N}, 1}};
            else return std::array<param_desc, 0>{};
        }
        void attach(T* p, T* g) noexcept {
            if constexpr (affine) m_gamma = p, m_dgamma = g;
            if constexpr (has_bias) m_beta = p + N, m_dbeta = g + N;
        }
        void init(rng&) noexcept {
            if constexpr (affine)
                for (std::size_t j = 0; j < N; ++j) m_gamma[j] = T(1);
            if constexpr (has_bias)
                for (std::size_t j = 0; j < N; ++j) m_beta[j] = T(0);
        }
        static constexpr std::size_t scratch_size(std::size_t) noexcept { return ops::layer_norm_scratch<P>(N); }
        void forward(const T* x, T* y, std::size_t batch, T* cache, mode, T*) const {
            const std::size_t n = batch * rows;
            ops::layer_norm<P>(norm::layer_norm_forward<T>{x, y, m_gamma, m_beta, cache, cache + n, N, T(O.eps)}, n,
                               static_cast<T*>(nullptr));
        }
        void predict(const T* x, T* y, std::size_t batch, T*) const {
            ops::layer_norm<P>(norm::layer_norm_forward<T>{x, y, m_gamma, m_beta, nullptr, nullptr, N, T(O.eps)}, batch * rows,
                               static_cast<T*>(nullptr));
        }
        /// Normalises @p n rows of N values (any number, e.g. one position while generating).
        void predict_rows(const T* x, T* y, std::size_t n) const {
            ops::layer_norm<P>(norm::layer_norm_forward<T>{x, y, m_gamma, m_beta, nullptr, nullptr, N, T(O.eps)}, n,
                               static_cast<T*>(nullptr));
        }
        void backward(const T* x, const T*, const T* dy, T* dx, std::size_t batch, const T* cache, bool param_grads,
                      T* scratch) const {
            const std::size_t n = batch * rows;
            if (param_grads && affine)
                ops::layer_norm<P>(norm::layer_norm_param_backward<T>{x, dy, cache, cache + n, m_dgamma, m_dbeta, n, N}, N, scratch);
            if (dx) ops::layer_norm<P>(norm::layer_norm_input_backward<T>{x, dy, m_gamma, cache, cache + n, dx, N}, n, scratch);
        }

    private:
        T* m_gamma = nullptr;
        T* m_beta = nullptr;
        T* m_dgamma = nullptr;
        T* m_dbeta = nullptr;
    };
};

}  // namespace ctnn
