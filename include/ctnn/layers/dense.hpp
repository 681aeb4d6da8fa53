// SPDX-License-Identifier: MIT
#pragma once
/// @file dense.hpp  Fully connected layer y = x·Wᵀ + b on the last dimension (PyTorch nn.Linear).
#include <array>
#include <cstddef>
#include <span>

#include "../core/init.hpp"
#include "../core/tensor.hpp"
#include "../ops/ops.hpp"
#include "concepts.hpp"

namespace ctnn {


/// Dense (fully connected) layer with `N` outputs on the last input dimension.
/// Parameters: `weight` [N, in] and, if `Bias`, `bias` [N] (PyTorch layout).
template <std::size_t N, bool Bias = true, initializer Init = initializer::he>
struct dense {
    static_assert(N > 0, "ctnn::dense: the output size N must be positive; write dense<N> with N >= 1");

    template <shape_type In, class T, class P = cpu>
    struct bind {
        using value_type = T;
        using input_shape = In;
        using output_shape = with_last_t<In, N>;
        static constexpr std::string_view name = "dense";
        static constexpr std::size_t in = last_dim_v<In>;
        static constexpr std::size_t rows_per_sample = In::size / in;
        static constexpr std::size_t parameter_count = N * in + (Bias ? N : 0);
        static constexpr std::size_t cache_size = 0;
        static constexpr auto parameters() noexcept {
            if constexpr (Bias)
                return std::array<param_desc, 2>{param_desc{"weight", {N, in}, 2}, param_desc{"bias", {N}, 1}};
            else
                return std::array<param_desc, 1>{param_desc{"weight", {N, in}, 2}};
        }

        void attach(T* p, T* g) noexcept {
            m_w = p;
            m_dw = g;
            m_b = Bias ? p + N * in : nullptr;
            m_db = Bias ? g + N * in : nullptr;
        }
        void init(rng& g) { init::layer(Init, std::span<T>(m_w, N * in), std::span<T>(m_b, Bias ? N : 0), in, N, g); }
        /// The weight [N, in] (PyTorch layout) as an xtensor view into the model's parameter buffer
        /// (CPU policy; a CUDA model's parameters are read with `host_parameters()`).
        auto weight() const
            requires std::same_as<P, cpu>
        {
            return xt::adapt(m_w, N * in, xt::no_ownership(), std::array<std::size_t, 2>{N, in});
        }
        /// The bias [N] (only with Bias; CPU policy).
        auto bias() const
            requires std::same_as<P, cpu>
        {
            static_assert(Bias, "ctnn::dense: this layer has no bias; declare it dense<N, true>");
            return adapt_flat(m_b, N);
        }
        void forward(const T* x, T* y, std::size_t batch, T*, mode) const { predict(x, y, batch); }
        void predict(const T* x, T* y, std::size_t batch) const { predict_fused(x, y, batch, activation_kind::none, T(0)); }
        /// A chain (any container) fuses a following relu/leaky_relu/sigmoid/tanh/identity layer into this one:
        /// y = act(x·Wᵀ + b), with bias and activation applied to each GEMM output tile in registers.
        static constexpr bool fuses_activation = true;
        void predict_fused(const T* x, T* y, std::size_t batch, activation_kind act, T slope) const {
            const std::size_t rows = batch * rows_per_sample;
            const epilogue<T> ep{Bias ? m_b : nullptr, act, slope};
            if constexpr (N * in <= small_gemv_limit && std::same_as<P, cpu>) {
                if (rows == 1) {  // compile-time sizes, no dispatch: what a tiny batch-1 model spends its time on
                    small_gemv(x, y, ep);
                    return;
                }
            }
            ops::gemm<P>(false, true, rows, N, in, T(1), x, in, m_w, in, T(0), y, N, ep);
        }
        /// y = x·Wᵀ + b for @p rows rows of `in` values (any number of rows, e.g. one position of a
        /// sequence layer while generating).
        void predict_rows(const T* x, T* y, std::size_t rows) const {
            ops::gemm<P>(false, true, rows, N, in, T(1), x, in, m_w, in, T(0), y, N, epilogue<T>{Bias ? m_b : nullptr});
        }
        void backward(const T* x, const T*, const T* dy, T* dx, std::size_t batch, const T*, bool param_grads) {
            const std::size_t rows = batch * rows_per_sample;
            if (param_grads) {
                ops::gemm<P>(true, false, N, in, rows, T(1), dy, N, x, in, T(1), m_dw, in);
                if constexpr (Bias) ops::accumulate_column_sums<P>(m_db, dy, rows, N);
            }
            if (dx) ops::gemm<P>(false, false, rows, in, N, T(1), dy, N, m_w, in, T(0), dx, in);
        }

    private:
        /// Weights up to this many values take the fully compile-time batch-1 path.
        static constexpr std::size_t small_gemv_limit = 4096;
        void small_gemv(const T* x, T* y, const epilogue<T>& ep) const noexcept {
            for (std::size_t j = 0; j < N; ++j) {
                const T* w = m_w + j * in;
                T s = Bias ? m_b[j] : T(0);
                for (std::size_t k = 0; k < in; ++k) s += w[k] * x[k];
                y[j] = s;
            }
            ops::apply_epilogue<cpu>(epilogue<T>{nullptr, ep.act, ep.slope}, y, 1, N, N);  // vectorised activation
        }
        T* m_w = nullptr;
        T* m_dw = nullptr;
        T* m_b = nullptr;
        T* m_db = nullptr;
    };
};

}  // namespace ctnn
