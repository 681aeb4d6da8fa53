// SPDX-License-Identifier: MIT
#pragma once
/// @file dropout.hpp  Inverted dropout: zero with probability Rate in training, identity in eval.
#include <cstddef>
#include <cstring>

#include "concepts.hpp"

namespace ctnn {

/// Dropout with drop probability `Rate` (e.g. `dropout<0.5>`). Training scales kept values by
/// 1/(1-Rate) (inverted dropout, as PyTorch), so eval/predict is the identity. The mask is drawn from
/// the layer's own generator, seeded from the model seed.
template <double Rate>
struct dropout {
    static_assert(Rate >= 0.0 && Rate < 1.0, "ctnn::dropout: the rate must be in [0, 1); e.g. dropout<0.5>");
    template <shape_type In, class T>
    struct bind : parameter_free {
        using value_type = T;
        using input_shape = In;
        using output_shape = In;
        static constexpr std::string_view name = "dropout";
        static constexpr std::size_t cache_size = In::size;  // the scaled mask
        void init(rng& g) noexcept { m_rng = g.split(); }
        void forward(const T* x, T* y, std::size_t batch, T* mask, mode m) {
            const std::size_t n = batch * In::size;
            if (m == mode::eval || Rate == 0.0) {
                for (std::size_t i = 0; i < n; ++i) mask[i] = T(1);
                std::memcpy(y, x, n * sizeof(T));
                return;
            }
            const T scale = T(1.0 / (1.0 - Rate));
            for (std::size_t i = 0; i < n; ++i) {
                mask[i] = m_rng.uniform() < Rate ? T(0) : scale;
                y[i] = x[i] * mask[i];
            }
        }
        void predict(const T* x, T* y, std::size_t batch) const { std::memcpy(y, x, batch * In::size * sizeof(T)); }
        void backward(const T*, const T*, const T* dy, T* dx, std::size_t batch, const T* mask, bool) const {
            if (!dx) return;
            for (std::size_t i = 0; i < batch * In::size; ++i) dx[i] = dy[i] * mask[i];
        }
        /// Reseeds the mask generator (used by gradient checks to repeat a mask).
        void reseed(rng g) noexcept { m_rng = g; }
        const rng& generator() const noexcept { return m_rng; }

    private:
        rng m_rng;
    };
};

}  // namespace ctnn
