// SPDX-License-Identifier: MIT
#pragma once
/// @file position.hpp  Position codes added to a sequence of vectors (per sample shape<T, E>), as a
/// transformer needs them after its token embedding: `positional_embedding` (a learned table, as BERT's
/// and GPT-2's position embeddings) and `sinusoidal_encoding` (the fixed sin/cos code of "Attention is
/// all you need", PyTorch tutorial's PositionalEncoding without dropout). Both keep the shape.
#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "../core/error.hpp"
#include "../core/init.hpp"
#include "../ops/ops.hpp"
#include "concepts.hpp"

namespace ctnn {

namespace detail {
/// Throws ctnn::error naming @p layer unless position @p t < @p steps.
inline void check_position(std::size_t t, std::size_t steps, std::string_view layer) {
    if (t >= steps) [[unlikely]]
        fail(std::string(layer) + ": position " + std::to_string(t) + " is beyond the " + std::to_string(steps) +
             " positions of the model's sequences");
}
template <shape_type In>
constexpr void check_sequence_shape() {
    static_assert(In::rank == 2, "ctnn: position codes take sequences shape<T, E> (T positions of E values), e.g. after an embedding");
}
}  // namespace detail

/// Options of positional_embedding: the standard deviation of its N(0, std²) initialisation (BERT's and
/// GPT-2's 0.02).
struct positional_embedding_options {
    double init_std = 0.02;
};

/// y[t, :] = x[t, :] + weight[t, :] with a learned `weight` [T, E] (the state_dict entry of an
/// nn.Embedding(T, E) applied to positions 0 ... T-1).
template <positional_embedding_options O = positional_embedding_options{}>
struct positional_embedding {
    static_assert(O.init_std >= 0, "ctnn::positional_embedding: init_std must be >= 0");

    template <shape_type In, class T, class P = cpu>
    struct bind {
        static_assert((detail::check_sequence_shape<In>(), true));
        static constexpr std::size_t steps = In::dims[0], E = In::dims[In::rank - 1];
        using value_type = T;
        using input_shape = In;
        using output_shape = In;
        static constexpr std::string_view name = "positional_embedding";
        static constexpr std::size_t parameter_count = In::size;
        static constexpr std::size_t cache_size = 0;
        static constexpr auto parameters() noexcept { return std::array<param_desc, 1>{param_desc{"weight", {steps, E}, 2}}; }
        void attach(T* p, T* g) noexcept {
            m_w = p;
            m_dw = g;
        }
        void init(rng& g) { init::normal(std::span<T>(m_w, In::size), g, 0.0, O.init_std); }
        void forward(const T* x, T* y, std::size_t batch, T*, mode) const { predict(x, y, batch); }
        void predict(const T* x, T* y, std::size_t batch) const {
            ops::add_positions<P>(rules::add_positions<T>{x, m_w, y, In::size, E}, batch * In::size);
        }
        /// One position @p t of one sequence (batch-1 generation, CPU): y[0, E) = x + weight[t, :].
        void step(const T* x, std::size_t t, T* y) const
            requires std::same_as<P, cpu>
        {
            detail::check_position(t, steps, name);
            for (std::size_t j = 0; j < E; ++j) y[j] = x[j] + m_w[t * E + j];
        }
        /// dW += Σ over the batch of dy; dx = dy.
        void backward(const T*, const T*, const T* dy, T* dx, std::size_t batch, const T*, bool param_grads) const {
            if (param_grads) ops::accumulate_column_sums<P>(m_dw, dy, batch, In::size);
            if (dx) ops::copy<P>(dx, dy, batch * In::size);
        }

    private:
        T* m_w = nullptr;
        T* m_dw = nullptr;
    };
};

/// y[t, j] = x[t, j] + (sin(t·ω_j) for even j, cos(t·ω_{j-1}) for odd j), ω_j = 10000^(-j/E): the fixed
/// code of Vaswani et al. (computed in double, rounded to the model's type). No parameters.
struct sinusoidal_encoding {
    template <shape_type In, class T, class P = cpu>
    struct bind : parameter_free {
        static_assert((detail::check_sequence_shape<In>(), true));
        static constexpr std::size_t E = In::dims[In::rank - 1];
        using value_type = T;
        using input_shape = In;
        using output_shape = In;
        static constexpr std::string_view name = "sinusoidal_encoding";
        static constexpr std::size_t cache_size = 0;
        void forward(const T* x, T* y, std::size_t batch, T*, mode) const { predict(x, y, batch); }
        void predict(const T* x, T* y, std::size_t batch) const {
            ops::add_positions<P>(rules::add_positions<T>{x, nullptr, y, In::size, E}, batch * In::size);
        }
        /// One position @p t of one sequence (batch-1 generation, CPU): y[0, E) = x + the code of position t.
        void step(const T* x, std::size_t t, T* y) const
            requires std::same_as<P, cpu>
        {
            detail::check_position(t, In::dims[0], name);
            for (std::size_t j = 0; j < E; ++j) y[j] = x[j] + T(rules::sinusoid(t, j, E));
        }
        void backward(const T*, const T*, const T* dy, T* dx, std::size_t batch, const T*, bool) const {
            if (dx) ops::copy<P>(dx, dy, batch * In::size);
        }
    };
};

}  // namespace ctnn
