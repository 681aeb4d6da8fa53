// SPDX-License-Identifier: MIT
#pragma once
/// @file recurrent.hpp  lstm<H, {.return_sequences}>: one LSTM layer over batch-first sequences
/// (nn.LSTM(F, H, batch_first=True)), input shape<T, F> per sample, output shape<T, H> (every step's
/// hidden state) or shape<H> (the last one). Gates in PyTorch's order i, f, g, o:
///   z_t = W_ih·x_t + b_ih + W_hh·h_{t-1} + b_hh,  i, f, o = σ(z), g = tanh(z),
///   c_t = f ⊙ c_{t-1} + i ⊙ g,  h_t = o ⊙ tanh(c_t),  h_{-1} = c_{-1} = 0.
/// Parameters `weight_ih_l0` [4H, F], `weight_hh_l0` [4H, H], `bias_ih_l0` [4H], `bias_hh_l0` [4H], so an
/// nn.LSTM state_dict loads unchanged; drawn from U(-1/√H, 1/√H) as PyTorch does. The input projection
/// of all steps is one GEMM; each step adds one recurrent GEMM and a pointwise rule shared with the
/// CUDA kernels (backend/recurrent_rules.hpp); backward is backpropagation through time, with dW_ih
/// and dX again one GEMM each. Every sequence has its full length T (masking of padded steps with
/// per-sample lengths is not implemented yet).
#include <array>
#include <cmath>
#include <cstddef>
#include <span>

#include "../core/init.hpp"
#include "../ops/ops.hpp"
#include "concepts.hpp"

namespace ctnn {

/// Options of lstm: `return_sequences` (every step's hidden state, shape<T, H>) or the last one (shape<H>).
struct recurrent_options {
    bool return_sequences = false;
};

namespace detail {
/// What lstm, gru and simple_rnn share: a batch-first sequence shape<T, F> in, Gates·H gate rows,
/// PyTorch's four parameter tensors (`weight_ih_l0` [Gates·H, F], `weight_hh_l0` [Gates·H, H],
/// `bias_ih_l0`, `bias_hh_l0`) drawn from U(-1/√H, 1/√H), the output (every step or the last), and the
/// GEMMs around the per-step rules: dh_{t-1} and dW_hh per step, dW_ih, the biases and dX at the end.
template <shape_type In, class T, class P, std::size_t H, std::size_t Gates, bool Sequences>
struct recurrent_base {
    static_assert(In::rank == 2, "ctnn::lstm/gru/simple_rnn: the input must be a sequence shape<T, F> per sample (steps, "
                                 "features); an embedding of input<T> gives one");
    static constexpr std::size_t steps = In::dims[0], F = In::dims[In::rank - 1], G = Gates * H;
    using value_type = T;
    using input_shape = In;
    using output_shape = std::conditional_t<Sequences, shape<steps, H>, shape<H>>;
    static constexpr std::size_t parameter_count = G * F + G * H + 2 * G;
    static constexpr auto parameters() noexcept {
        return std::array<param_desc, 4>{param_desc{"weight_ih_l0", {G, F}, 2}, param_desc{"weight_hh_l0", {G, H}, 2},
                                         param_desc{"bias_ih_l0", {G}, 1}, param_desc{"bias_hh_l0", {G}, 1}};
    }
    void attach(T* p, T* g) noexcept {
        m_w = p;
        m_dw = g;
    }
    void init(rng& g) {
        const double k = 1.0 / std::sqrt(double(H));
        for (auto& v : std::span<T>(m_w, parameter_count)) v = T(g.uniform(-k, k));
    }

protected:
    const T* w_hh() const noexcept { return m_w + G * F; }
    const T* b_ih() const noexcept { return m_w + G * F + G * H; }
    const T* b_hh() const noexcept { return b_ih() + G; }
    /// y: every step's hidden state [batch, T, H], or the last one [batch, H].
    static void emit(const T* h, T* y, std::size_t batch) {
        if constexpr (Sequences) ops::copy<P>(y, h, batch * steps * H);
        else
            for (std::size_t b = 0; b < batch; ++b) ops::copy<P>(y + b * H, h + (b * steps + steps - 1) * H, H);
    }
    /// Step s of backward, after its rule: dh (+)= dzh_s · W_hh (beta: 0 to overwrite, 1 to add) and
    /// dW_hh += dzh_sᵀ · h_{s-1} (s > 0).
    void recurrent_backward(const T* dzh, const T* h, T* dh, std::size_t batch, std::size_t s, T beta, bool param_grads) {
        if (s == 0) return;
        const T* dz_t = dzh + s * G;
        ops::gemm<P>(false, false, batch, H, G, T(1), dz_t, steps * G, w_hh(), H, beta, dh, H);
        if (param_grads) ops::gemm<P>(true, false, G, H, batch, T(1), dz_t, steps * G, h + (s - 1) * H, steps * H, T(1), m_dw + G * F, H);
    }
    /// The end of backward: dW_ih += dZxᵀ·X, db_ih += Σ dZx, db_hh += Σ dZh, dX = dZx·W_ih.
    void input_backward(const T* x, const T* dzx, const T* dzh, T* dx, std::size_t batch, bool param_grads) {
        const std::size_t rows = batch * steps;
        if (param_grads) {
            ops::gemm<P>(true, false, G, F, rows, T(1), dzx, G, x, F, T(1), m_dw, F);
            ops::accumulate_column_sums<P>(m_dw + G * F + G * H, dzx, rows, G);
            ops::accumulate_column_sums<P>(m_dw + G * F + G * H + G, dzh, rows, G);
        }
        if (dx) ops::gemm<P>(false, false, rows, F, G, T(1), dzx, G, m_w, F, T(0), dx, F);
    }
    T* m_w = nullptr;
    T* m_dw = nullptr;
};
}  // namespace detail

/// One LSTM layer with H hidden units (see the file comment).
template <std::size_t H, recurrent_options O = recurrent_options{}>
struct lstm {
    static_assert(H > 0, "ctnn::lstm: the hidden size must be positive");

    template <shape_type In, class T, class P = cpu>
    struct bind : detail::recurrent_base<In, T, P, H, 4, O.return_sequences> {
        using base = detail::recurrent_base<In, T, P, H, 4, O.return_sequences>;
        using base::steps, base::F, base::G;
        static constexpr std::string_view name = "lstm";
        /// Per sample: the activated gates [T, 4H], the cells [T, H] and the hidden states [T, H].
        static constexpr std::size_t cache_size = steps * (G + 2 * H);
        /// The summed bias, then predict's gates/cells/states or backward's dh, dc and dZ [T, 4H].
        static constexpr std::size_t scratch_size(std::size_t batch) noexcept {
            return G + batch * std::max(cache_size, 2 * H + steps * G);
        }

        void forward(const T* x, T* y, std::size_t batch, T* cache, mode, T* scratch) const { run(x, y, batch, cache, scratch); }
        void predict(const T* x, T* y, std::size_t batch, T* scratch) const { run(x, y, batch, scratch + G, scratch); }
        void backward(const T* x, const T*, const T* dy, T* dx, std::size_t batch, const T* cache, bool param_grads, T* scratch) {
            const T* gates = cache;
            const T* c = cache + batch * steps * G;
            const T* h = c + batch * steps * H;
            T* dh = scratch + G;
            T* dc = dh + batch * H;
            T* dz = dc + batch * H;
            ops::fill<P>(dh, T(0), 2 * batch * H);
            for (std::size_t s = steps; s-- > 0;) {
                ops::lstm_step_backward<P>(gates, c, dy, O.return_sequences, dh, dc, dz, batch, s, steps, H);
                this->recurrent_backward(dz, h, dh, batch, s, T(0), param_grads);  // dh_{t-1} = dz_t · W_hh
            }
            this->input_backward(x, dz, dz, dx, batch, param_grads);
        }

    private:
        /// The forward into @p state (gates, cells, hidden states of every step), then y.
        void run(const T* x, T* y, std::size_t batch, T* state, T* scratch) const {
            T* gates = state;
            T* c = state + batch * steps * G;
            T* h = c + batch * steps * H;
            T* bias = scratch;  // b_ih + b_hh, the input GEMM's epilogue bias
            ops::add<P>(this->b_ih(), this->b_hh(), bias, G);
            ops::gemm<P>(false, true, batch * steps, G, F, T(1), x, F, this->m_w, F, T(0), gates, G, epilogue<T>{bias});
            for (std::size_t s = 0; s < steps; ++s) {
                if (s > 0)
                    ops::gemm<P>(false, true, batch, G, H, T(1), h + (s - 1) * H, steps * H, this->w_hh(), H, T(1), gates + s * G,
                                 steps * G);
                ops::lstm_step_forward<P>(gates, c, h, batch, s, steps, H);
            }
            this->emit(h, y, batch);
        }
    };
};

}  // namespace ctnn

namespace ctnn {

/// One GRU layer with H hidden units over batch-first sequences (nn.GRU(F, H, batch_first=True)):
///   r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz),
///   n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}, h_{−1} = 0
/// (b_hn inside the reset product, as nn.GRU). Parameters `weight_ih_l0` [3H, F], `weight_hh_l0` [3H, H],
/// `bias_ih_l0` [3H], `bias_hh_l0` [3H] in PyTorch's gate order r, z, n; output as lstm's.
template <std::size_t H, recurrent_options O = recurrent_options{}>
struct gru {
    static_assert(H > 0, "ctnn::gru: the hidden size must be positive");

    template <shape_type In, class T, class P = cpu>
    struct bind : detail::recurrent_base<In, T, P, H, 3, O.return_sequences> {
        using base = detail::recurrent_base<In, T, P, H, 3, O.return_sequences>;
        using base::steps, base::F, base::G;
        static constexpr std::string_view name = "gru";
        /// Per sample: r, z, n [T, 3H], W_hn·h + b_hn [T, H] and the hidden states [T, H].
        static constexpr std::size_t cache_size = steps * (G + 2 * H);
        /// The recurrent projection [batch, 3H], then predict's state or backward's dh, dZx, dZh.
        static constexpr std::size_t scratch_size(std::size_t batch) noexcept {
            return batch * (G + std::max(cache_size, H + 2 * steps * G));
        }

        void forward(const T* x, T* y, std::size_t batch, T* cache, mode, T* scratch) const { run(x, y, batch, cache, scratch); }
        void predict(const T* x, T* y, std::size_t batch, T* scratch) const { run(x, y, batch, scratch + batch * G, scratch); }
        void backward(const T* x, const T*, const T* dy, T* dx, std::size_t batch, const T* cache, bool param_grads, T* scratch) {
            const T* gates = cache;
            const T* hn = cache + batch * steps * G;
            const T* h = hn + batch * steps * H;
            T* dh = scratch + batch * G;
            T* dzx = dh + batch * H;
            T* dzh = dzx + batch * steps * G;
            ops::fill<P>(dh, T(0), batch * H);
            for (std::size_t s = steps; s-- > 0;) {
                ops::gru_step_backward<P>(gates, hn, h, dy, O.return_sequences, dh, dzx, dzh, batch, s, steps, H);
                this->recurrent_backward(dzh, h, dh, batch, s, T(1), param_grads);  // dh_{t-1} = z ⊙ dh + dZh · W_hh
            }
            this->input_backward(x, dzx, dzh, dx, batch, param_grads);
        }

    private:
        void run(const T* x, T* y, std::size_t batch, T* state, T* scratch) const {
            T* gates = state;
            T* hn = state + batch * steps * G;
            T* h = hn + batch * steps * H;
            T* hp = scratch;
            ops::gemm<P>(false, true, batch * steps, G, F, T(1), x, F, this->m_w, F, T(0), gates, G, epilogue<T>{this->b_ih()});
            for (std::size_t s = 0; s < steps; ++s) {
                if (s > 0)
                    ops::gemm<P>(false, true, batch, G, H, T(1), h + (s - 1) * H, steps * H, this->w_hh(), H, T(0), hp, G,
                                 epilogue<T>{this->b_hh()});
                ops::gru_step_forward<P>(gates, hp, this->b_hh(), hn, h, batch, s, steps, H);
            }
            this->emit(h, y, batch);
        }
    };
};

}  // namespace ctnn

namespace ctnn {

/// The nonlinearity of simple_rnn (nn.RNN's `nonlinearity`).
enum class rnn_nonlinearity { tanh, relu };
/// Options of simple_rnn: return_sequences as lstm's, and the nonlinearity.
struct rnn_options {
    bool return_sequences = false;
    rnn_nonlinearity nonlinearity = rnn_nonlinearity::tanh;
};

/// One Elman RNN layer (nn.RNN(F, H, nonlinearity, batch_first=True)): h_t = act(W_ih x_t + b_ih + W_hh
/// h_{t−1} + b_hh), h_{−1} = 0; parameters `weight_ih_l0` [H, F], `weight_hh_l0` [H, H], `bias_ih_l0`,
/// `bias_hh_l0`; output as lstm's. Backward reads only the activation's output.
template <std::size_t H, rnn_options O = rnn_options{}>
struct simple_rnn {
    static_assert(H > 0, "ctnn::simple_rnn: the hidden size must be positive");

    template <shape_type In, class T, class P = cpu>
    struct bind : detail::recurrent_base<In, T, P, H, 1, O.return_sequences> {
        using base = detail::recurrent_base<In, T, P, H, 1, O.return_sequences>;
        using base::steps, base::F;
        static constexpr activation_kind act = O.nonlinearity == rnn_nonlinearity::tanh ? activation_kind::tanh : activation_kind::relu;
        static constexpr std::string_view name = "simple_rnn";
        /// Per sample: the hidden states [T, H].
        static constexpr std::size_t cache_size = steps * H;
        /// The summed bias, then the pre-activations z [T, H] and predict's states, or backward's dh and dZ.
        static constexpr std::size_t scratch_size(std::size_t batch) noexcept { return H + batch * (steps * H + std::max(cache_size, H)); }

        void forward(const T* x, T* y, std::size_t batch, T* cache, mode, T* scratch) const { run(x, y, batch, cache, scratch); }
        void predict(const T* x, T* y, std::size_t batch, T* scratch) const {
            run(x, y, batch, scratch + H + batch * steps * H, scratch);
        }
        void backward(const T* x, const T*, const T* dy, T* dx, std::size_t batch, const T* h, bool param_grads, T* scratch) {
            T* dh = scratch + H;
            T* dz = dh + batch * H;
            ops::fill<P>(dh, T(0), batch * H);
            for (std::size_t s = steps; s-- > 0;) {
                ops::rnn_step_backward<P>(h, dy, O.return_sequences, dh, dz, act, batch, s, steps, H);
                this->recurrent_backward(dz, h, dh, batch, s, T(0), param_grads);
            }
            this->input_backward(x, dz, dz, dx, batch, param_grads);
        }

    private:
        void run(const T* x, T* y, std::size_t batch, T* h, T* scratch) const {
            T* bias = scratch;
            T* z = scratch + H;
            ops::add<P>(this->b_ih(), this->b_hh(), bias, H);
            ops::gemm<P>(false, true, batch * steps, H, F, T(1), x, F, this->m_w, F, T(0), z, H, epilogue<T>{bias});
            for (std::size_t s = 0; s < steps; ++s) {
                if (s > 0)
                    ops::gemm<P>(false, true, batch, H, H, T(1), h + (s - 1) * H, steps * H, this->w_hh(), H, T(1), z + s * H, steps * H);
                ops::rnn_step_forward<P>(z, h, act, batch, s, steps, H);
            }
            this->emit(h, y, batch);
        }
    };
};

}  // namespace ctnn
