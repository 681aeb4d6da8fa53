// SPDX-License-Identifier: MIT
#pragma once
/// @file embedding.hpp  embedding<Vocab, Dim, {.padding_idx}>: token ids → learned vectors
/// (nn.Embedding). Input: per sample a shape of token ids held as values of the model's type
/// (`input<T>` for a sequence of T tokens); output: that shape with Dim appended (`shape<T, Dim>`).
/// Weight `weight` [Vocab, Dim], drawn from N(0, 1) as PyTorch does; the padding row starts at zero
/// and never gets a gradient. Ids are checked on the host at the model's boundary (`check_input`):
/// each must be an integer in [0, Vocab).
#include <array>
#include <cmath>
#include <cstddef>
#include <span>
#include <string>

#include "../core/error.hpp"
#include "../core/init.hpp"
#include "../ops/ops.hpp"
#include "concepts.hpp"

namespace ctnn {

/// Options of embedding: `padding_idx` (nn.Embedding's; negative: none).
struct embedding_options {
    long padding_idx = -1;
};

/// nn.Embedding(Vocab, Dim, padding_idx): y[..., :] = weight[id, :].
template <std::size_t Vocab, std::size_t Dim, embedding_options O = embedding_options{}>
struct embedding {
    static_assert(Vocab > 0 && Dim > 0, "ctnn::embedding: the vocabulary and the dimension must be positive");
    static_assert(O.padding_idx < long(Vocab), "ctnn::embedding: padding_idx must be below the vocabulary size");
    static_assert(Vocab <= (std::size_t(1) << 24), "ctnn::embedding: ids travel as model values; float holds ids up to 2^24 exactly");

    template <shape_type In, class T, class P = cpu>
    struct bind {
        using value_type = T;
        using input_shape = In;
        using output_shape = shape_cat_t<In, shape<Dim>>;
        static constexpr std::string_view name = "embedding";
        static constexpr std::size_t parameter_count = Vocab * Dim;
        static constexpr std::size_t cache_size = 0;
        static constexpr std::size_t padding = O.padding_idx < 0 ? Vocab : std::size_t(O.padding_idx);
        static constexpr auto parameters() noexcept { return std::array<param_desc, 1>{param_desc{"weight", {Vocab, Dim}, 2}}; }

        /// The input check capability: every id of @p n (host memory) is an integer in [0, Vocab).
        static void check_input(const T* x, std::size_t n) {
            for (std::size_t i = 0; i < n; ++i)
                if (!(x[i] >= T(0) && x[i] < T(Vocab) && std::floor(x[i]) == x[i])) [[unlikely]]
                    detail::fail("embedding: token id " + std::to_string(double(x[i])) + " at input index " + std::to_string(i) +
                                 " is not an integer in [0, " + std::to_string(Vocab) + ")");
        }
        void attach(T* p, T* g) noexcept {
            m_w = p;
            m_dw = g;
        }
        void init(rng& g) {
            init::normal(std::span<T>(m_w, Vocab * Dim), g, 0.0, 1.0);
            if constexpr (padding < Vocab)
                for (std::size_t d = 0; d < Dim; ++d) m_w[padding * Dim + d] = T(0);  // (host memory at init)
        }
        void forward(const T* x, T* y, std::size_t batch, T*, mode) const { predict(x, y, batch); }
        void predict(const T* x, T* y, std::size_t batch) const {
            ops::embedding_forward<P>(x, m_w, y, batch * In::size, Dim, Vocab);
        }
        /// dW[id] += dY rows (not the padding row); the ids get no gradient (dx = 0).
        void backward(const T* x, const T*, const T* dy, T* dx, std::size_t batch, const T*, bool param_grads) const {
            if (param_grads) ops::embedding_backward<P>(x, dy, m_dw, batch * In::size, Dim, Vocab, padding);
            if (dx) ops::fill<P>(dx, T(0), batch * In::size);
        }

    private:
        T* m_w = nullptr;
        T* m_dw = nullptr;
    };
};

}  // namespace ctnn
