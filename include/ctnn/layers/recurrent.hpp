// SPDX-License-Identifier: MIT
#pragma once
/// @file recurrent.hpp  Recurrent layers with PyTorch's semantics, layouts and state_dict names:
/// `lstm<H, {...}>` (nn.LSTM, gates i, f, g, o), `gru<H, {...}>` (nn.GRU, gates r, z, n with b_hn inside
/// the reset product) and `simple_rnn<H, {...}>` (nn.RNN, tanh or relu), always batch-first: input
/// shape<T, F> per sample (T steps of F features), output shape<T, D·H> (every step's hidden state,
/// `.return_sequences`) or shape<D·H> (the final state), D = 2 for `.bidirectional` (forward half
/// first, as PyTorch). `.layers` stacks layers (layer l > 0 reads layer l − 1's every-step output),
/// with `.dropout` on the outputs between them in training (nn.LSTM's `dropout`).
///
/// Parameters per layer l and direction, in nn.LSTM's state_dict order and names: `weight_ih_l<l>`
/// [G·H, in], `weight_hh_l<l>` [G·H, H], `bias_ih_l<l>` [G·H], `bias_hh_l<l>` [G·H], with the suffix
/// `_reverse` for the reverse direction (G = 4, 3, 1 gates), drawn from U(−1/√H, 1/√H) as PyTorch does.
///
/// Sequence lengths (sequence.hpp: `ctx.set_lengths`, `model.predict(x, lengths)`): a sample of
/// length n < T is masked after its n-th step — its padded steps change no state, output zeros and
/// receive no gradient, its final state is the state at step n − 1 (the reverse direction starts
/// there) — the same numbers as nn.LSTM on `pack_padded_sequence` + `pad_packed_sequence`.
///
/// Per direction the input projection of all steps is one GEMM; each step adds one recurrent GEMM and
/// a pointwise rule shared with the CUDA kernels (backend/recurrent_rules.hpp); backward is
/// backpropagation through time, with dW_ih and dX again one GEMM each. `step()` runs one time step
/// of batch 1 with compile-time sizes and no allocation (streaming, generation).
#include <array>
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <utility>

#include "../core/init.hpp"
#include "../ops/ops.hpp"
#include "concepts.hpp"
#include "sequence.hpp"

namespace ctnn {

/// Options of lstm and gru: every step's hidden state (shape<T, D·H>) or the final one (shape<D·H>);
/// stacked layers; both directions; dropout between stacked layers (training only).
struct recurrent_options {
    bool return_sequences = false;
    std::size_t layers = 1;
    bool bidirectional = false;
    double dropout = 0.0;
};

/// The nonlinearity of simple_rnn (nn.RNN's `nonlinearity`).
enum class rnn_nonlinearity { tanh, relu };
/// Options of simple_rnn: recurrent_options' and the nonlinearity.
struct rnn_options {
    bool return_sequences = false;
    rnn_nonlinearity nonlinearity = rnn_nonlinearity::tanh;
    std::size_t layers = 1;
    bool bidirectional = false;
    double dropout = 0.0;
};

namespace detail {

/// One direction of one layer: its four parameter tensors, their gradients and its input width.
template <class T>
struct cell_params {
    const T* w_ih;
    const T* w_hh;
    const T* b_ih;
    const T* b_hh;
    T* dw_ih;
    T* dw_hh;
    T* db_ih;
    T* db_hh;
    std::size_t in;
};

/// What every cell's forward and backward needs to know about the run.
template <class T>
struct cell_run {
    std::size_t batch, steps, hidden;
    bool reverse;
    const std::int32_t* lengths;
    /// Optional states of this layer-direction, [batch, H] each (nullptr: zeros / not wanted): the
    /// initial state (h0, c0), the gradient arriving at the final state (dh_n, dc_n), and where backward
    /// writes the initial state's gradient (dh0, dc0).
    const T* h0 = nullptr;
    const T* c0 = nullptr;
    const T* dh_n = nullptr;
    const T* dc_n = nullptr;
    T* dh0 = nullptr;
    T* dc0 = nullptr;
    /// Step s of the direction's order, as the rules see it.
    rules::step_info step(std::size_t s) const noexcept {
        const std::size_t t = reverse ? steps - 1 - s : s;
        return {t, reverse ? t + 1 : t - 1, s == 0, steps, hidden, lengths};
    }
};

/// The GEMMs around the per-step rules that every cell shares (G = gate rows).
template <class P, class T>
struct cell_gemm {
    /// rows [batch·T, G] = X·W_ihᵀ + bias.
    static void input_projection(const cell_params<T>& w, const T* x, T* rows, std::size_t n_rows, std::size_t G, const T* bias) {
        ops::gemm<P>(false, true, n_rows, G, w.in, T(1), x, w.in, w.w_ih, w.in, T(0), rows, G, epilogue<T>{bias});
    }
    /// out [b, ·] (ld ldo) = beta·out + h_prev · W_hhᵀ (+ bias) for the batch's rows.
    static void recurrent(const cell_params<T>& w, const T* h_prev, std::size_t ldh, T* out, std::size_t ldo, const cell_run<T>& r,
                          std::size_t G, T beta, const T* bias = nullptr) {
        ops::gemm<P>(false, true, r.batch, G, r.hidden, T(1), h_prev, ldh, w.w_hh, r.hidden, beta, out, ldo, epilogue<T>{bias});
    }
    /// The state step s continues: h_tp in the hidden states [b, T, H] (row stride T·H), or the initial
    /// state h0 [b, H] at the first step (nullptr when there is none: zeros).
    static std::pair<const T*, std::size_t> previous(const T* h, const cell_run<T>& r, const rules::step_info& si) noexcept {
        if (si.first) return {r.h0, r.hidden};
        return {h + si.tp * r.hidden, r.steps * r.hidden};
    }
    /// After step s's backward rule: dh += dz_t · W_hh and dW_hh += dz_tᵀ · h_tp (h0 at the first step,
    /// if given); at the first step dh then holds dL/dh0, copied to r.dh0 when wanted.
    static void recurrent_backward(const cell_params<T>& w, const T* dz, const T* h, T* dh, const cell_run<T>& r, std::size_t s,
                                   std::size_t G, bool param_grads) {
        const rules::step_info si = r.step(s);
        const auto [prev, ld] = previous(h, r, si);
        const T* dz_t = dz + si.t * G;
        if (!si.first || r.dh0)
            ops::gemm<P>(false, false, r.batch, r.hidden, G, T(1), dz_t, r.steps * G, w.w_hh, r.hidden, T(1), dh, r.hidden);
        if (param_grads && prev)
            ops::gemm<P>(true, false, G, r.hidden, r.batch, T(1), dz_t, r.steps * G, prev, ld, T(1), w.dw_hh, r.hidden);
        if (si.first && r.dh0) ops::copy<P>(r.dh0, dh, r.batch * r.hidden);
    }
    /// dh (and dc) at the start of backward: the final state's gradient, or zeros.
    static void start_backward(const cell_run<T>& r, T* dh, T* dc) {
        if (r.dh_n) ops::copy<P>(dh, r.dh_n, r.batch * r.hidden);
        else ops::fill<P>(dh, T(0), r.batch * r.hidden);
        if (!dc) return;
        if (r.dc_n) ops::copy<P>(dc, r.dc_n, r.batch * r.hidden);
        else ops::fill<P>(dc, T(0), r.batch * r.hidden);
    }
    /// The end of backward: dW_ih += dZxᵀ·X, db_ih += Σ dZx, db_hh += Σ dZh, dX = beta·dX + dZx·W_ih.
    static void input_backward(const cell_params<T>& w, const T* x, const T* dzx, const T* dzh, T* dx, T dx_beta, std::size_t n_rows,
                               std::size_t G, bool param_grads) {
        if (param_grads) {
            ops::gemm<P>(true, false, G, w.in, n_rows, T(1), dzx, G, x, w.in, T(1), w.dw_ih, w.in);
            ops::accumulate_column_sums<P>(w.db_ih, dzx, n_rows, G);
            ops::accumulate_column_sums<P>(w.db_hh, dzh, n_rows, G);
        }
        if (dx) ops::gemm<P>(false, false, n_rows, w.in, G, T(1), dzx, G, w.w_ih, w.in, dx_beta, dx, w.in);
    }
};

/// LSTM cell. Cache per sample: the activated gates [T, 4H], the cells [T, H], the hidden states [T, H].
template <class P, class T>
struct lstm_cell {
    static constexpr std::size_t gates = 4;
    static constexpr bool has_cell = true;
    static constexpr std::string_view name = "lstm";
    static constexpr std::size_t cache_per_step(std::size_t H) noexcept { return 6 * H; }
    static constexpr std::size_t forward_work(std::size_t, std::size_t, std::size_t H) noexcept { return 4 * H; }
    static constexpr std::size_t backward_work(std::size_t b, std::size_t T_, std::size_t H) noexcept { return 2 * b * H + b * T_ * 4 * H; }
    using gemm = cell_gemm<P, T>;

    static void forward(const cell_params<T>& w, const T* x, T* cache, const cell_run<T>& r, T* work) {
        const std::size_t H = r.hidden, G = 4 * H, n = r.batch * r.steps;
        T* gates_ = cache;
        T* c = cache + n * G;
        T* h = c + n * H;
        ops::add<P>(w.b_ih, w.b_hh, work, G);  // the summed bias: the input GEMM's epilogue
        gemm::input_projection(w, x, gates_, n, G, work);
        for (std::size_t s = 0; s < r.steps; ++s) {
            const rules::step_info si = r.step(s);
            if (const auto [prev, ld] = gemm::previous(h, r, si); prev) gemm::recurrent(w, prev, ld, gates_ + si.t * G, r.steps * G, r, G, T(1));
            ops::recurrent<P>(rules::lstm_step_forward<T>{si, gates_, c, h, r.h0, r.c0}, r.batch * H);
        }
    }
    static void backward(const cell_params<T>& w, const T* x, const T* cache, const cell_run<T>& r, rules::output_gradient<T> out, T* dx,
                         T dx_beta, bool param_grads, T* work) {
        const std::size_t H = r.hidden, G = 4 * H, n = r.batch * r.steps;
        const T* gates_ = cache;
        const T* c = cache + n * G;
        const T* h = c + n * H;
        T* dh = work;
        T* dc = dh + r.batch * H;
        T* dz = dc + r.batch * H;
        gemm::start_backward(r, dh, dc);
        for (std::size_t s = r.steps; s-- > 0;) {
            ops::recurrent<P>(rules::lstm_step_backward<T>{r.step(s), gates_, c, out, dh, dc, dz, r.c0}, r.batch * H);
            gemm::recurrent_backward(w, dz, h, dh, r, s, G, param_grads);
        }
        if (r.dc0) ops::copy<P>(r.dc0, dc, r.batch * H);
        gemm::input_backward(w, x, dz, dz, dx, dx_beta, n, G, param_grads);
    }
    /// One step of batch 1 from the state (h, c) [H] to the next, in place; work: step_work(H).
    static constexpr std::size_t step_work(std::size_t H) noexcept { return 4 * H + 2 * H; }
    static void step(const cell_params<T>& w, const T* x, T* h, T* c, std::size_t H, T* work) {
        const std::size_t G = 4 * H;
        T* z = work;
        T* c1 = work + G;
        T* h1 = c1 + H;
        for (std::size_t i = 0; i < G; ++i) z[i] = w.b_ih[i] + w.b_hh[i];
        ops::gemm<cpu>(false, true, 1, G, w.in, T(1), x, w.in, w.w_ih, w.in, T(1), z, G);
        ops::gemm<cpu>(false, true, 1, G, H, T(1), h, H, w.w_hh, H, T(1), z, G);
        const rules::lstm_step_forward<T> rule{rules::step_info{0, 0, true, 1, H, nullptr}, z, c1, h1, h, c};
        for (std::size_t j = 0; j < H; ++j) rule(j);
        std::copy(c1, c1 + H, c);
        std::copy(h1, h1 + H, h);
    }
};

/// GRU cell. Cache per sample: r, z, n [T, 3H], W_hn·h + b_hn [T, H], the hidden states [T, H].
template <class P, class T>
struct gru_cell {
    static constexpr std::size_t gates = 3;
    static constexpr bool has_cell = false;
    static constexpr std::string_view name = "gru";
    static constexpr std::size_t cache_per_step(std::size_t H) noexcept { return 5 * H; }
    static constexpr std::size_t forward_work(std::size_t b, std::size_t, std::size_t H) noexcept { return b * 3 * H; }
    static constexpr std::size_t backward_work(std::size_t b, std::size_t T_, std::size_t H) noexcept { return b * H + 2 * b * T_ * 3 * H; }
    using gemm = cell_gemm<P, T>;

    static void forward(const cell_params<T>& w, const T* x, T* cache, const cell_run<T>& r, T* work) {
        const std::size_t H = r.hidden, G = 3 * H, n = r.batch * r.steps;
        T* gx = cache;
        T* hn = cache + n * G;
        T* h = hn + n * H;
        T* hp = work;  // W_hh·h_tp + b_hh of the step
        gemm::input_projection(w, x, gx, n, G, w.b_ih);
        for (std::size_t s = 0; s < r.steps; ++s) {
            const rules::step_info si = r.step(s);
            if (const auto [prev, ld] = gemm::previous(h, r, si); prev) gemm::recurrent(w, prev, ld, hp, G, r, G, T(0), w.b_hh);
            ops::recurrent<P>(rules::gru_step_forward<T>{si, gx, hp, w.b_hh, hn, h, r.h0}, r.batch * H);
        }
    }
    static void backward(const cell_params<T>& w, const T* x, const T* cache, const cell_run<T>& r, rules::output_gradient<T> out, T* dx,
                         T dx_beta, bool param_grads, T* work) {
        const std::size_t H = r.hidden, G = 3 * H, n = r.batch * r.steps;
        const T* gates_ = cache;
        const T* hn = cache + n * G;
        const T* h = hn + n * H;
        T* dh = work;
        T* dzx = dh + r.batch * H;
        T* dzh = dzx + n * G;
        gemm::start_backward(r, dh, nullptr);
        for (std::size_t s = r.steps; s-- > 0;) {
            ops::recurrent<P>(rules::gru_step_backward<T>{r.step(s), gates_, hn, h, out, dh, dzx, dzh, r.h0}, r.batch * H);
            gemm::recurrent_backward(w, dzh, h, dh, r, s, G, param_grads);
        }
        gemm::input_backward(w, x, dzx, dzh, dx, dx_beta, n, G, param_grads);
    }
    static constexpr std::size_t step_work(std::size_t H) noexcept { return 6 * H + 2 * H; }
    static void step(const cell_params<T>& w, const T* x, T* h, T*, std::size_t H, T* work) {
        const std::size_t G = 3 * H;
        T* gx = work;
        T* hp = work + G;
        T* hn = hp + G;
        T* h1 = hn + H;
        ops::gemm<cpu>(false, true, 1, G, w.in, T(1), x, w.in, w.w_ih, w.in, T(0), gx, G, epilogue<T>{w.b_ih});
        ops::gemm<cpu>(false, true, 1, G, H, T(1), h, H, w.w_hh, H, T(0), hp, G, epilogue<T>{w.b_hh});
        const rules::gru_step_forward<T> rule{rules::step_info{0, 0, true, 1, H, nullptr}, gx, hp, w.b_hh, hn, h1, h};
        for (std::size_t j = 0; j < H; ++j) rule(j);
        std::copy(h1, h1 + H, h);
    }
};

/// Elman RNN cell. Cache per sample: the hidden states [T, H] (backward reads only the activation's
/// output); the pre-activations live in the forward's work memory.
template <class P, class T, activation_kind Act>
struct rnn_cell {
    static constexpr std::size_t gates = 1;
    static constexpr bool has_cell = false;
    static constexpr std::string_view name = "simple_rnn";
    static constexpr std::size_t cache_per_step(std::size_t H) noexcept { return H; }
    static constexpr std::size_t forward_work(std::size_t b, std::size_t T_, std::size_t H) noexcept { return H + b * T_ * H; }
    static constexpr std::size_t backward_work(std::size_t b, std::size_t T_, std::size_t H) noexcept { return b * H + b * T_ * H; }
    using gemm = cell_gemm<P, T>;

    static void forward(const cell_params<T>& w, const T* x, T* h, const cell_run<T>& r, T* work) {
        const std::size_t H = r.hidden, n = r.batch * r.steps;
        T* bias = work;
        T* z = work + H;
        ops::add<P>(w.b_ih, w.b_hh, bias, H);
        gemm::input_projection(w, x, z, n, H, bias);
        for (std::size_t s = 0; s < r.steps; ++s) {
            const rules::step_info si = r.step(s);
            if (const auto [prev, ld] = gemm::previous(h, r, si); prev) gemm::recurrent(w, prev, ld, z + si.t * H, r.steps * H, r, H, T(1));
            ops::recurrent<P>(rules::rnn_step_forward<T>{si, z, h, Act, r.h0}, r.batch * H, 8);
        }
    }
    static void backward(const cell_params<T>& w, const T* x, const T* h, const cell_run<T>& r, rules::output_gradient<T> out, T* dx,
                         T dx_beta, bool param_grads, T* work) {
        const std::size_t H = r.hidden, n = r.batch * r.steps;
        T* dh = work;
        T* dz = dh + r.batch * H;
        gemm::start_backward(r, dh, nullptr);
        for (std::size_t s = r.steps; s-- > 0;) {
            ops::recurrent<P>(rules::rnn_step_backward<T>{r.step(s), h, out, dh, dz, Act}, r.batch * H, 8);
            gemm::recurrent_backward(w, dz, h, dh, r, s, H, param_grads);
        }
        gemm::input_backward(w, x, dz, dz, dx, dx_beta, n, H, param_grads);
    }
    static constexpr std::size_t step_work(std::size_t H) noexcept { return H; }
    static void step(const cell_params<T>& w, const T* x, T* h, T*, std::size_t H, T* z) {
        for (std::size_t i = 0; i < H; ++i) z[i] = w.b_ih[i] + w.b_hh[i];
        ops::gemm<cpu>(false, true, 1, H, w.in, T(1), x, w.in, w.w_ih, w.in, T(1), z, H);
        ops::gemm<cpu>(false, true, 1, H, H, T(1), h, H, w.w_hh, H, T(1), z, H);
        for (std::size_t j = 0; j < H; ++j) h[j] = epilogue<T>{nullptr, Act}.activate(z[j]);
    }
};

/// The state_dict names of L layers × D directions: weight_ih_l<l>[_reverse], weight_hh_..., bias_ih_...,
/// bias_hh_..., in nn.LSTM's order.
template <std::size_t L, std::size_t D>
struct recurrent_names {
    static constexpr std::size_t count = 4 * L * D;
    std::array<std::array<char, 40>, count> text{};
    std::array<std::size_t, count> length{};
    constexpr recurrent_names() {
        constexpr const char* stems[4] = {"weight_ih_l", "weight_hh_l", "bias_ih_l", "bias_hh_l"};
        std::size_t i = 0;
        for (std::size_t l = 0; l < L; ++l)
            for (std::size_t d = 0; d < D; ++d)
                for (const char* stem : stems) {
                    std::size_t n = 0;
                    for (const char* c = stem; *c; ++c) text[i][n++] = *c;
                    char digits[20]{};
                    std::size_t k = 0, v = l;
                    do {
                        digits[k++] = char('0' + v % 10);
                        v /= 10;
                    } while (v);
                    while (k) text[i][n++] = digits[--k];
                    if (d == 1)
                        for (const char* c = "_reverse"; *c; ++c) text[i][n++] = *c;
                    length[i++] = n;
                }
    }
    constexpr std::string_view operator[](std::size_t i) const noexcept { return {text[i].data(), length[i]}; }
};

/// A stack of `layers` recurrent layers of one cell type, one or two directions each (see the file
/// comment). Cache per sample: each layer-direction's cell cache, then each layer boundary's output
/// [T, D·H] (the next layer's input) and, with dropout, its scaled mask.
template <shape_type In, class T, class P, std::size_t H, class Cell, bool Sequences, std::size_t Layers, bool Bidirectional,
          double Dropout>
struct recurrent_stack {
    static_assert(In::rank == 2, "ctnn::lstm/gru/simple_rnn: the input must be a sequence shape<T, F> per sample (steps, "
                                 "features); an embedding of input<T> gives one");
    static_assert(Layers >= 1, "ctnn::lstm/gru/simple_rnn: `.layers` must be at least 1");
    static_assert(Dropout >= 0.0 && Dropout < 1.0, "ctnn::lstm/gru/simple_rnn: `.dropout` must be in [0, 1)");
    static constexpr std::size_t steps = In::dims[0], F = In::dims[1], D = Bidirectional ? 2 : 1, L = Layers, DH = D * H,
                                 G = Cell::gates * H;
    using value_type = T;
    using input_shape = In;
    using output_shape = std::conditional_t<Sequences, shape<steps, DH>, shape<DH>>;
    static constexpr std::string_view name = Cell::name;

    static constexpr std::size_t in_of(std::size_t l) noexcept { return l == 0 ? F : DH; }
    static constexpr std::size_t block_of(std::size_t l) noexcept { return G * in_of(l) + G * H + 2 * G; }
    /// Offset of layer l, direction d's parameters.
    static constexpr std::size_t offset(std::size_t l, std::size_t d) noexcept {
        std::size_t o = 0;
        for (std::size_t i = 0; i < l; ++i) o += D * block_of(i);
        return o + d * block_of(l);
    }
    static constexpr std::size_t parameter_count = offset(L, 0);
    static constexpr recurrent_names<L, D> names{};
    static constexpr auto parameters() noexcept {
        std::array<param_desc, 4 * L * D> p{};
        std::size_t i = 0;
        for (std::size_t l = 0; l < L; ++l)
            for (std::size_t d = 0; d < D; ++d) {
                p[i] = param_desc{names[i], {G, in_of(l)}, 2};
                p[i + 1] = param_desc{names[i + 1], {G, H}, 2};
                p[i + 2] = param_desc{names[i + 2], {G}, 1};
                p[i + 3] = param_desc{names[i + 3], {G}, 1};
                i += 4;
            }
        return p;
    }

    static constexpr std::size_t cell_cache = steps * Cell::cache_per_step(H);
    static constexpr std::size_t boundary = steps * DH * (Dropout > 0.0 ? 2 : 1);
    static constexpr std::size_t cache_size = L * D * cell_cache + (L - 1) * boundary;
    /// Forward: the cell's work memory; predict: the whole cache too; backward: the cell's work and two
    /// [batch, T, D·H] gradient buffers between layers.
    static constexpr std::size_t scratch_size(std::size_t batch) noexcept {
        const std::size_t fwd = Cell::forward_work(batch, steps, H);
        const std::size_t bwd = Cell::backward_work(batch, steps, H) + (L > 1 ? 2 * batch * steps * DH : 0);
        return std::max(batch * cache_size + fwd, bwd);
    }

    void attach(T* p, T* g) noexcept {
        m_w = p;
        m_dw = g;
    }
    void init(rng& g) {
        const double k = 1.0 / std::sqrt(double(H));
        for (auto& v : std::span<T>(m_w, parameter_count)) v = T(g.uniform(-k, k));
        if constexpr (Dropout > 0.0) {
            m_seed = g();
            m_counter = 0;
        }
    }

    void forward(const T* x, T* y, std::size_t batch, T* cache, mode m, T* scratch) { run(x, y, batch, cache, m, scratch); }
    void predict(const T* x, T* y, std::size_t batch, T* scratch) const {
        run(x, y, batch, scratch, mode::eval, scratch + batch * cache_size);
    }
    void backward(const T* x, const T*, const T* dy, T* dx, std::size_t batch, const T* cache, bool param_grads, T* scratch) {
        const std::int32_t* lengths = batch_lengths<P>(batch, steps, name);
        const std::size_t seq = batch * steps * DH;
        T* buffers[2] = {scratch + Cell::backward_work(batch, steps, H), scratch + Cell::backward_work(batch, steps, H) + seq};
        const T* grad = dy;
        bool every = Sequences;
        for (std::size_t l = L; l-- > 0;) {
            const T* in = l == 0 ? x : boundary_out(cache, batch, l - 1);
            T* dx_l = l == 0 ? dx : buffers[l % 2];
            for (std::size_t d = 0; d < D; ++d) {
                const cell_run<T> r = run_of(batch, l, d, lengths);
                const rules::output_gradient<T> out{grad + d * H, DH, every, d == 1 ? 0 : steps - 1};
                Cell::backward(params(l, d), in, cell_cache_of(cache, batch, l, d), r, out, dx_l, T(d == 0 ? 0 : 1), param_grads, scratch);
            }
            if (l > 0 && Dropout > 0.0) ops::multiply<P>(dx_l, boundary_mask(cache, batch, l - 1), dx_l, seq);
            grad = dx_l;
            every = true;
        }
    }

    /// Initial states for the following forwards, backwards and predicts of batch @p batch, in PyTorch's
    /// h_0 / c_0 layout [layers·D, batch, H] and the policy's memory (c0: LSTM only); nullptr for zeros
    /// (the default). The memory must stay valid while set; `set_initial_state()` clears.
    void set_initial_state(const T* h0 = nullptr, const T* c0 = nullptr, std::size_t batch = 0) noexcept {
        m_h0 = h0;
        m_c0 = Cell::has_cell ? c0 : nullptr;
        m_state_batch = batch;
    }
    /// For the following backwards of batch @p batch: @p dh_n / @p dc_n [layers·D, batch, H] arrive at
    /// the final states (as h_n / c_n; added to what the output's gradient gives — e.g. from a decoder
    /// that started from them), and backward writes dL/dh0, dL/dc0 into @p dh0 / @p dc0 (nullptr: not
    /// wanted). `set_state_gradients()` clears.
    void set_state_gradients(const T* dh_n = nullptr, const T* dc_n = nullptr, T* dh0 = nullptr, T* dc0 = nullptr,
                             std::size_t batch = 0) noexcept {
        m_dh_n = dh_n;
        m_dc_n = Cell::has_cell ? dc_n : nullptr;
        m_dh0 = dh0;
        m_dc0 = Cell::has_cell ? dc0 : nullptr;
        m_gradient_batch = batch;
    }
    /// The final states of the forward whose cache is @p cache (a context's `layer_cache<K>()`), as
    /// nn.LSTM's h_n / c_n [layers·D, batch, H]: each sample's state at its own length, the reverse
    /// direction's at step 0. @p c_n (LSTM only) may be nullptr. Policy memory.
    void final_state(const T* cache, std::size_t batch, T* h_n, T* c_n = nullptr) const {
        for (std::size_t l = 0; l < L; ++l)
            for (std::size_t d = 0; d < D; ++d) {
                const std::size_t k = (l * D + d) * batch * H, last = d == 1 ? 0 : steps - 1;
                const T* cell = cell_cache_of(cache, batch, l, d);
                ops::recurrent<P>(rules::sequence_emit<T>{hidden_of(cell, batch), h_n + k, steps, H, H, last, false, nullptr}, batch * H, 4);
                if constexpr (Cell::has_cell)
                    if (c_n)
                        ops::recurrent<P>(rules::sequence_emit<T>{cell + batch * steps * G, c_n + k, steps, H, H, last, false, nullptr},
                                          batch * H, 4);
            }
    }

    /// What a streaming run carries from one step to the next: every layer's hidden state (and cell
    /// state for the LSTM), zeros at the start.
    struct stream_state {
        std::array<T, L * H> h{};
        std::array<T, Cell::has_cell ? L * H : 0> c{};
        void reset() noexcept {
            h.fill(T(0));
            c.fill(T(0));
        }
    };
    /// One time step of a batch of 1 (CPU, one direction): x_t [F] → y [H], the top layer's new
    /// hidden state, advancing @p s. Compile-time sizes, no allocation, no dropout (evaluation): the
    /// streaming form of predict — feeding a sequence step by step gives predict's every-step output.
    void step(const T* x, stream_state& s, T* y) const
        requires(!Bidirectional && std::same_as<P, cpu>)
    {
        std::array<T, Cell::step_work(H) + H> work;
        const T* in = x;
        for (std::size_t l = 0; l < L; ++l) {
            T* h = s.h.data() + l * H;
            T* c = Cell::has_cell ? s.c.data() + l * H : nullptr;
            Cell::step(params(l, 0), in, h, c, H, work.data());
            in = h;
        }
        std::copy(in, in + H, y);
    }

    /// The mask stream of the dropout between layers (with `.dropout` > 0).
    std::uint64_t mask_seed() const noexcept
        requires(Dropout > 0.0)
    {
        return m_seed;
    }
    std::uint64_t mask_counter() const noexcept
        requires(Dropout > 0.0)
    {
        return m_counter;
    }
    void set_mask_stream(std::uint64_t seed, std::uint64_t counter) noexcept
        requires(Dropout > 0.0)
    {
        m_seed = seed;
        m_counter = counter;
    }

protected:
    /// The run of layer l, direction d: sizes, lengths, and its slices of the states set above.
    cell_run<T> run_of(std::size_t batch, std::size_t l, std::size_t d, const std::int32_t* lengths) const {
        const std::size_t k = (l * D + d) * batch * H;
        auto slice = [k](auto* p) { return p ? p + k : nullptr; };
        if ((m_h0 || m_c0) && m_state_batch != batch)
            detail::fail(std::string(name) + ": the initial state was set for a batch of " + std::to_string(m_state_batch) +
                         ", this run has " + std::to_string(batch));
        if ((m_dh_n || m_dc_n || m_dh0 || m_dc0) && m_gradient_batch != batch)
            detail::fail(std::string(name) + ": the state gradients were set for a batch of " + std::to_string(m_gradient_batch) +
                         ", this run has " + std::to_string(batch));
        return {batch, steps, H, d == 1, lengths, slice(m_h0), slice(m_c0), slice(m_dh_n), slice(m_dc_n), slice(m_dh0), slice(m_dc0)};
    }
    cell_params<T> params(std::size_t l, std::size_t d) const noexcept {
        const std::size_t o = offset(l, d), in = in_of(l);
        T* dw = m_dw ? m_dw + o : nullptr;
        return {m_w + o,
                m_w + o + G * in,
                m_w + o + G * in + G * H,
                m_w + o + G * in + G * H + G,
                dw,
                dw ? dw + G * in : nullptr,
                dw ? dw + G * in + G * H : nullptr,
                dw ? dw + G * in + G * H + G : nullptr,
                in};
    }
    static T* cell_cache_of(T* cache, std::size_t batch, std::size_t l, std::size_t d) noexcept {
        return cache + batch * (l * D + d) * cell_cache;
    }
    static const T* cell_cache_of(const T* cache, std::size_t batch, std::size_t l, std::size_t d) noexcept {
        return cache + batch * (l * D + d) * cell_cache;
    }
    /// The hidden states [batch, T, H] inside a cell's cache (its last region).
    static const T* hidden_of(const T* cell, std::size_t batch) noexcept { return cell + batch * (cell_cache - steps * H); }
    static T* boundary_out(T* cache, std::size_t batch, std::size_t l) noexcept {
        return cache + batch * (L * D * cell_cache + l * boundary);
    }
    static const T* boundary_out(const T* cache, std::size_t batch, std::size_t l) noexcept {
        return cache + batch * (L * D * cell_cache + l * boundary);
    }
    static const T* boundary_mask(const T* cache, std::size_t batch, std::size_t l) noexcept {
        return boundary_out(cache, batch, l) + batch * steps * DH;
    }

    void run(const T* x, T* y, std::size_t batch, T* cache, mode m, T* work) const {
        const std::int32_t* lengths = batch_lengths<P>(batch, steps, name);
        const T* in = x;
        for (std::size_t l = 0; l < L; ++l) {
            const bool top = l + 1 == L;
            T* out = top ? y : boundary_out(cache, batch, l);
            for (std::size_t d = 0; d < D; ++d) {
                T* cell = cell_cache_of(cache, batch, l, d);
                Cell::forward(params(l, d), in, cell, run_of(batch, l, d, lengths), work);
                const bool every = !top || Sequences;
                ops::recurrent<P>(rules::sequence_emit<T>{hidden_of(cell, batch), out + d * H, steps, H, DH, d == 1 ? 0 : steps - 1, every, lengths},
                                  batch * (every ? steps : 1) * H, 4);
            }
            if constexpr (Dropout > 0.0)
                if (!top) {
                    T* mask = out + batch * steps * DH;
                    if (m == mode::train) ops::dropout_forward<P>(out, out, mask, batch * steps * DH, Dropout, m_seed, m_counter++);
                    else ops::fill<P>(mask, T(1), batch * steps * DH);
                }
            in = out;
        }
    }

    T* m_w = nullptr;
    T* m_dw = nullptr;
    const T* m_h0 = nullptr;
    const T* m_c0 = nullptr;
    const T* m_dh_n = nullptr;
    const T* m_dc_n = nullptr;
    T* m_dh0 = nullptr;
    T* m_dc0 = nullptr;
    std::size_t m_state_batch = 0, m_gradient_batch = 0;
    std::uint64_t m_seed = 0;
    mutable std::uint64_t m_counter = 0;  // advanced by training forwards only (predict never draws)
};

template <class P, class T, rnn_nonlinearity N>
using rnn_cell_of = rnn_cell<P, T, N == rnn_nonlinearity::tanh ? activation_kind::tanh : activation_kind::relu>;

}  // namespace detail

/// LSTM layers with H hidden units (see the file comment): `lstm<64>`, `lstm<64, {.return_sequences = true}>`,
/// `lstm<64, {.layers = 2, .bidirectional = true, .dropout = 0.2}>`.
template <std::size_t H, recurrent_options O = recurrent_options{}>
struct lstm {
    static_assert(H > 0, "ctnn::lstm: the hidden size must be positive");
    template <shape_type In, class T, class P = cpu>
    struct bind : detail::recurrent_stack<In, T, P, H, detail::lstm_cell<P, T>, O.return_sequences, O.layers, O.bidirectional, O.dropout> {};
};

/// GRU layers with H hidden units (nn.GRU; see the file comment):
///   r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz),
///   n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}.
template <std::size_t H, recurrent_options O = recurrent_options{}>
struct gru {
    static_assert(H > 0, "ctnn::gru: the hidden size must be positive");
    template <shape_type In, class T, class P = cpu>
    struct bind : detail::recurrent_stack<In, T, P, H, detail::gru_cell<P, T>, O.return_sequences, O.layers, O.bidirectional, O.dropout> {};
};

/// Elman RNN layers (nn.RNN): h_t = act(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh), act = tanh or relu.
template <std::size_t H, rnn_options O = rnn_options{}>
struct simple_rnn {
    static_assert(H > 0, "ctnn::simple_rnn: the hidden size must be positive");
    template <shape_type In, class T, class P = cpu>
    struct bind : detail::recurrent_stack<In, T, P, H, detail::rnn_cell_of<P, T, O.nonlinearity>, O.return_sequences, O.layers,
                                          O.bidirectional, O.dropout> {};
};

}  // namespace ctnn
