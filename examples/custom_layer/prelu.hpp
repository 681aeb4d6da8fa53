// SPDX-License-Identifier: MIT
#pragma once
/// @file prelu.hpp  A layer written outside the library, as docs/write_a_layer.md explains: PReLU
/// (torch.nn.PReLU(num_parameters = C)) — y = x for x > 0, a_c · x otherwise, with one learned slope
/// a_c per channel (the last dimension). tests/unit/nn/custom_layer_test.cpp checks it with the
/// public gradient checker and round-trips it through save/load.
#include <array>
#include <cstddef>
#include <string_view>

#include <ctnn/ctnn.hpp>

namespace my {

/// PReLU with one slope per channel, initialised to `Init` (PyTorch: 0.25).
template <double Init = 0.25>
struct prelu {
    template <ctnn::shape_type In, class T, class P = ctnn::cpu>
    struct bind {
        static_assert(std::same_as<P, ctnn::cpu>, "my::prelu: CPU only (write it with ops:: calls to run on the GPU)");
        static constexpr std::size_t C = ctnn::last_dim_v<In>;
        // the core of the contract: types, sizes, names
        using value_type = T;
        using input_shape = In;
        using output_shape = In;
        static constexpr std::string_view name = "prelu";
        static constexpr std::size_t parameter_count = C;
        static constexpr std::size_t cache_size = 0;  // backward reads x, which the container keeps
        static constexpr auto parameters() noexcept { return std::array<ctnn::param_desc, 1>{ctnn::param_desc{"weight", {C}, 1}}; }

        void attach(T* p, T* g) noexcept {
            m_a = p;
            m_da = g;
        }
        void init(ctnn::rng&) noexcept {
            for (std::size_t c = 0; c < C; ++c) m_a[c] = T(Init);
        }
        void forward(const T* x, T* y, std::size_t batch, T*, ctnn::mode) const { predict(x, y, batch); }
        void predict(const T* x, T* y, std::size_t batch) const {
            for (std::size_t i = 0; i < batch * In::size; ++i) y[i] = x[i] > 0 ? x[i] : m_a[i % C] * x[i];
        }
        /// dL/da_c += Σ dy·x over x ≤ 0 of channel c; dx = dy or a_c·dy.
        void backward(const T* x, const T*, const T* dy, T* dx, std::size_t batch, const T*, bool param_grads) {
            for (std::size_t i = 0; i < batch * In::size; ++i) {
                const bool pos = x[i] > 0;
                if (param_grads && !pos) m_da[i % C] += dy[i] * x[i];
                if (dx) dx[i] = pos ? dy[i] : m_a[i % C] * dy[i];
            }
        }

    private:
        T* m_a = nullptr;
        T* m_da = nullptr;
    };
};

}  // namespace my
