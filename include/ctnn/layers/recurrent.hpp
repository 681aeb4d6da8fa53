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
///
/// On the CPU (backend/cpu/recurrent.hpp) the rules run as vectorised rows; batches of up to 4 fuse
/// each step's products into them (dot products of the weight rows with each sample's h and x, no
/// GEMM call: batch-1 inference and `step()`); larger batches are split among the threads once per
/// sequence, each thread running its samples' per-step GEMMs (W_hhᵀ packed once) and rules with no
/// synchronisation between steps, and dW_hh is one GEMM over all steps after the loop. Results do not
/// depend on the thread count.
#include <array>
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <utility>

#include "../backend/cpu/recurrent.hpp"
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
    /// On the CPU, batches up to this size compute the step's recurrent product inside the vectorised
    /// rule (dot products of W_hh's rows with each sample's h_tp) instead of a GEMM call per step.
    static constexpr std::size_t fused_batch = 4;
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

    // ---- The CPU's sequence loops ----
    // The batch is split among the threads once for the whole sequence (a sample's steps depend only on
    // its own earlier steps): each thread runs its samples' per-step products (gemm_packed / gemm_rows:
    // the same numbers for any split) and vectorised rules, with no parallel region per step; the
    // products that sum over the batch (dW_hh, dW_ih) come after the loop. With per-sample lengths only
    // the valid steps (t < length) enter the products, as in PyTorch's packed sequences: the masked ones
    // add exact zeros (dz is zero there) or produce values nothing reads (their gates).

    /// Sample b's valid steps (all T without lengths).
    static std::size_t valid_steps(const cell_run<T>& r, std::size_t b) noexcept { return r.lengths ? std::size_t(r.lengths[b]) : r.steps; }
    /// Extra forward work of the CPU's loops: W_hhᵀ and W_ihᵀ packed, and the rows gathered per step.
    static constexpr std::size_t cpu_forward_work(std::size_t b, std::size_t in, std::size_t H, std::size_t G) noexcept {
        if constexpr (!std::same_as<P, cpu>) return 0;
        return backend::cpu::packed_size<T>(H, G) + backend::cpu::packed_size<T>(in, G) + b * (H + G);
    }
    /// Extra backward work of the CPU's loops: the rows gathered per step, and for the weight gradients
    /// the states each step continued from and the valid rows of x and of the `dz_count` gate gradients.
    static constexpr std::size_t cpu_backward_work(std::size_t b, std::size_t T_, std::size_t in, std::size_t H, std::size_t G,
                                                   std::size_t dz_count) noexcept {
        if constexpr (!std::same_as<P, cpu>) return 0;
        return b * (G + H) + b * T_ * (H + in + dz_count * G);
    }

    /// One direction's forward on the CPU: the packed weights and the per-step gather buffer.
    struct cpu_forward {
        const cell_run<T>& r;
        std::size_t in, G;
        backend::cpu::packed_operand<T> whh, wih;
        T* gather;  ///< [batch, H] gathered h_tp rows, then [batch, G] their products

        /// Packs W_hhᵀ (and W_ihᵀ when there are lengths) into @p work [cpu_forward_work].
        cpu_forward(const cell_params<T>& w, const cell_run<T>& r_, std::size_t G_, T* work) : r(r_), in(w.in), G(G_) {
            const std::size_t H = r.hidden;
            whh = backend::cpu::pack_operand(backend::cpu::strided<T>{w.w_hh, 1, std::ptrdiff_t(H)}, H, G, work);
            work += backend::cpu::packed_size<T>(H, G);
            if (r.lengths) wih = backend::cpu::pack_operand(backend::cpu::strided<T>{w.w_ih, 1, std::ptrdiff_t(in)}, in, G, work);
            gather = work + backend::cpu::packed_size<T>(in, G);
        }
        /// With lengths, samples [b0, b1): rows (b, t < length) [b, T, G] = x·W_ihᵀ + bias, sample by sample
        /// (without lengths the caller runs one GEMM for the batch before the loop).
        void input_rows(const T* x, T* rows, const T* bias, std::size_t b0, std::size_t b1) const {
            if (!r.lengths) return;
            for (std::size_t b = b0; b < b1; ++b)
                backend::cpu::gemm_packed(valid_steps(r, b), T(1), backend::cpu::strided<T>{x + b * r.steps * in, std::ptrdiff_t(in), 1}, wih,
                                          T(0), rows + b * r.steps * G, G, epilogue<T>{bias});
        }
        /// Samples [b0, b1) of step si's recurrent product: out (row b at out + b·ldo) = beta·out +
        /// h_tp·W_hhᵀ (+ bias), for the samples not masked at si (gathered when some are); nothing at a
        /// first step without initial state.
        void recurrent_rows(const T* h, const rules::step_info& si, std::size_t b0, std::size_t b1, T* out, std::size_t ldo, T beta,
                            const T* bias = nullptr) const {
            const std::size_t H = r.hidden;
            const auto [prev, ld] = previous(h, r, si);
            if (!prev) return;
            std::size_t n = 0;
            for (std::size_t b = b0; b < b1; ++b) n += !si.masked(b);
            if (n == b1 - b0) {
                backend::cpu::gemm_packed(n, T(1), backend::cpu::strided<T>{prev + b0 * ld, std::ptrdiff_t(ld), 1}, whh, beta, out + b0 * ldo,
                                          ldo, epilogue<T>{bias});
                return;
            }
            T* a = gather + b0 * H;
            T* c = gather + r.batch * H + b0 * G;
            for (std::size_t b = b0, i = 0; b < b1; ++b)
                if (!si.masked(b)) std::copy(prev + b * ld, prev + b * ld + H, a + i++ * H);
            backend::cpu::gemm_packed(n, T(1), backend::cpu::strided<T>{a, std::ptrdiff_t(H), 1}, whh, T(0), c, G, epilogue<T>{bias});
            for (std::size_t b = b0, i = 0; b < b1; ++b) {
                if (si.masked(b)) continue;
                T* o = out + b * ldo;
                const T* ci = c + i++ * G;
                if (beta == T(0)) std::copy(ci, ci + G, o);
                else ops::add<cpu>(o, ci, o, G);  // = the GEMM's beta = 1 (one rounding)
            }
        }
    };

    /// Samples [b0, b1) after step s's backward rule: dh += dz_t · W_hh for the samples not masked at
    /// step s (gathered into @p gather [batch, G + H] when some are); dL/dh0 copied out at the first step.
    static void recurrent_backward_rows(const cell_params<T>& w, const T* dz, T* dh, const cell_run<T>& r, std::size_t s, std::size_t G,
                                        std::size_t b0, std::size_t b1, T* gather) {
        const rules::step_info si = r.step(s);
        const std::size_t H = r.hidden;
        if (!si.first || r.dh0) {
            std::size_t n = 0;
            for (std::size_t b = b0; b < b1; ++b) n += !si.masked(b);
            const backend::cpu::strided<T> whh{w.w_hh, std::ptrdiff_t(H), 1};
            if (n == b1 - b0) {
                backend::cpu::gemm_rows(n, H, G, T(1), backend::cpu::strided<T>{dz + (b0 * r.steps + si.t) * G, std::ptrdiff_t(r.steps * G), 1},
                                        whh, T(1), dh + b0 * H, H);
            } else if (n > 0) {
                T* a = gather + b0 * G;
                T* c = gather + r.batch * G + b0 * H;
                for (std::size_t b = b0, i = 0; b < b1; ++b)
                    if (!si.masked(b)) std::copy(dz + (b * r.steps + si.t) * G, dz + (b * r.steps + si.t + 1) * G, a + i++ * G);
                backend::cpu::gemm_rows(n, H, G, T(1), backend::cpu::strided<T>{a, std::ptrdiff_t(G), 1}, whh, T(0), c, H);
                for (std::size_t b = b0, i = 0; b < b1; ++b)
                    if (!si.masked(b)) ops::add<cpu>(dh + b * H, c + i++ * H, dh + b * H, H);
            }
        }
        if (si.first && r.dh0) std::copy(dh + b0 * H, dh + b1 * H, r.dh0 + b0 * H);
    }

    /// The end of the CPU's backward (after the loop over steps): dW_hh += Σ dzhᵀ·h_tp over every valid
    /// step as one GEMM, then what input_backward does, from the valid rows only when there are lengths
    /// (dW_ih over the gathered rows; dX sample by sample, zero — or kept, dx_beta 1 — where masked).
    /// @p work: the gather buffer's size past cpu_backward_work's per-step part.
    static void cpu_end_backward(const cell_params<T>& w, const T* x, const T* dzx, const T* dzh, const T* h, const cell_run<T>& r, T* dx,
                                 T dx_beta, std::size_t G, bool param_grads, T* work) {
        const std::size_t H = r.hidden, in = w.in, n = r.batch * r.steps;
        if (!r.lengths) {
            if (param_grads) {
                T* prev = work;
                for (std::size_t s = 0; s < r.steps; ++s) {
                    const rules::step_info si = r.step(s);
                    const auto [p, ld] = previous(h, r, si);
                    for (std::size_t b = 0; b < r.batch; ++b) {
                        T* dst = prev + (b * r.steps + si.t) * H;
                        if (p) std::copy(p + b * ld, p + b * ld + H, dst);
                        else std::fill(dst, dst + H, T(0));
                    }
                }
                ops::gemm<P>(true, false, G, H, n, T(1), dzh, G, prev, H, T(1), w.dw_hh, H);
            }
            input_backward(w, x, dzx, dzh, dx, dx_beta, n, G, param_grads);
            return;
        }
        if (param_grads) {
            std::size_t rows = 0;
            for (std::size_t b = 0; b < r.batch; ++b) rows += valid_steps(r, b);
            T* prev = work;
            T* dzx_c = prev + rows * H;
            T* x_c = dzx_c + rows * G;
            T* dzh_c = dzh == dzx ? dzx_c : x_c + rows * in;
            for (std::size_t b = 0, o = 0; b < r.batch; o += valid_steps(r, b), ++b) {
                const std::size_t nb = valid_steps(r, b), row = b * r.steps;
                std::copy(dzx + row * G, dzx + (row + nb) * G, dzx_c + o * G);
                std::copy(x + row * in, x + (row + nb) * in, x_c + o * in);
                if (dzh != dzx) std::copy(dzh + row * G, dzh + (row + nb) * G, dzh_c + o * G);
                for (std::size_t s = 0; s < r.steps; ++s) {
                    const rules::step_info si = r.step(s);
                    if (si.t >= nb) continue;
                    const auto [p, ld] = previous(h, r, si);
                    T* dst = prev + (o + si.t) * H;
                    if (p) std::copy(p + b * ld, p + b * ld + H, dst);
                    else std::fill(dst, dst + H, T(0));
                }
            }
            ops::gemm<P>(true, false, G, H, rows, T(1), dzh_c, G, prev, H, T(1), w.dw_hh, H);
            ops::gemm<P>(true, false, G, in, rows, T(1), dzx_c, G, x_c, in, T(1), w.dw_ih, in);
            ops::accumulate_column_sums<P>(w.db_ih, dzx_c, rows, G);
            ops::accumulate_column_sums<P>(w.db_hh, dzh_c, rows, G);
        }
        if (!dx) return;
        backend::cpu::for_samples(r.batch, [&](std::size_t b0, std::size_t b1) {
            for (std::size_t b = b0; b < b1; ++b) {
                const std::size_t nb = valid_steps(r, b), row = b * r.steps;
                backend::cpu::gemm_rows(nb, in, G, T(1), backend::cpu::strided<T>{dzx + row * G, std::ptrdiff_t(G), 1},
                                        backend::cpu::strided<T>{w.w_ih, std::ptrdiff_t(in), 1}, dx_beta, dx + row * in, in);
                if (dx_beta == T(0)) std::fill(dx + (row + nb) * in, dx + (row + r.steps) * in, T(0));
            }
        });
    }
};

/// LSTM cell. Cache per sample: the activated gates [T, 4H], the cells [T, H], the hidden states [T, H].
/// On the CPU the per-step rules run as vectorised rows (backend/cpu/recurrent.hpp).
template <class P, class T, std::size_t H>
struct lstm_cell {
    static constexpr std::size_t gates = 4;
    static constexpr bool has_cell = true;
    static constexpr std::string_view name = "lstm";
    using gemm = cell_gemm<P, T>;
    static constexpr std::size_t G = 4 * H;
    static constexpr std::size_t cache_per_step(std::size_t) noexcept { return 6 * H; }
    /// Work of forward and backward for a batch of b, T_ steps of `in` features.
    static constexpr std::size_t forward_work(std::size_t b, std::size_t, std::size_t in) noexcept {
        return G + gemm::cpu_forward_work(b, in, H, G);
    }
    static constexpr std::size_t backward_work(std::size_t b, std::size_t T_, std::size_t in) noexcept {
        return 2 * b * H + b * T_ * G + gemm::cpu_backward_work(b, T_, in, H, G, 1);
    }

    /// x [b, T, In] → the cache; work: forward_work.
    template <std::size_t In>
    static void forward(const cell_params<T>& w, const T* x, T* cache, const cell_run<T>& r, T* work) {
        const std::size_t n = r.batch * r.steps;
        T* gates_ = cache;
        T* c = cache + n * G;
        T* h = c + n * H;
        if constexpr (std::same_as<P, cpu>)
            if (r.batch <= gemm::fused_batch) {  // both products inside the vectorised rule, step by step
                for (std::size_t s = 0; s < r.steps; ++s)
                    backend::cpu::lstm_forward_rows<T, H, In>({r.step(s), gates_, c, h, r.h0, r.c0}, w.w_hh, 0, r.batch, w.w_ih, x,
                                                              w.b_ih, w.b_hh);
                return;
            }
        T* bias = work;
        ops::add<P>(w.b_ih, w.b_hh, bias, 4 * r.hidden);  // the summed bias: the input GEMM's epilogue (a runtime
                                                          // size: g++ 12 misreads the constant one's tail loop)
        if constexpr (std::same_as<P, cpu>) {
            const typename gemm::cpu_forward run(w, r, G, work + G);
            if (!r.lengths) gemm::input_projection(w, x, gates_, n, G, bias);
            backend::cpu::for_samples(r.batch, [&](std::size_t b0, std::size_t b1) {
                run.input_rows(x, gates_, bias, b0, b1);
                for (std::size_t s = 0; s < r.steps; ++s) {
                    const rules::step_info si = r.step(s);
                    run.recurrent_rows(h, si, b0, b1, gates_ + si.t * G, r.steps * G, T(1));
                    backend::cpu::lstm_forward_rows<T, H>({si, gates_, c, h, r.h0, r.c0}, nullptr, b0, b1);
                }
            });
        } else {
            gemm::input_projection(w, x, gates_, n, G, bias);
            for (std::size_t s = 0; s < r.steps; ++s) {
                const rules::step_info si = r.step(s);
                if (const auto [prev, ld] = gemm::previous(h, r, si); prev)
                    gemm::recurrent(w, prev, ld, gates_ + si.t * G, r.steps * G, r, G, T(1));
                ops::recurrent<P>(rules::lstm_step_forward<T>{si, gates_, c, h, r.h0, r.c0}, r.batch * H);
            }
        }
    }
    static void backward(const cell_params<T>& w, const T* x, const T* cache, const cell_run<T>& r, rules::output_gradient<T> out, T* dx,
                         T dx_beta, bool param_grads, T* work) {
        const std::size_t n = r.batch * r.steps;
        const T* gates_ = cache;
        const T* c = cache + n * G;
        const T* h = c + n * H;
        T* dh = work;
        T* dc = dh + r.batch * H;
        T* dz = dc + r.batch * H;
        gemm::start_backward(r, dh, dc);
        if constexpr (std::same_as<P, cpu>) {
            T* gather = dz + n * G;
            backend::cpu::for_samples(r.batch, [&](std::size_t b0, std::size_t b1) {
                for (std::size_t s = r.steps; s-- > 0;) {
                    backend::cpu::lstm_backward_rows<T, H>({r.step(s), gates_, c, out, dh, dc, dz, r.c0}, b0, b1);
                    gemm::recurrent_backward_rows(w, dz, dh, r, s, G, b0, b1, gather);
                }
            });
            if (r.dc0) ops::copy<P>(r.dc0, dc, r.batch * H);
            gemm::cpu_end_backward(w, x, dz, dz, h, r, dx, dx_beta, G, param_grads, gather + r.batch * (G + H));
        } else {
            for (std::size_t s = r.steps; s-- > 0;) {
                ops::recurrent<P>(rules::lstm_step_backward<T>{r.step(s), gates_, c, out, dh, dc, dz, r.c0}, r.batch * H);
                gemm::recurrent_backward(w, dz, h, dh, r, s, G, param_grads);
            }
            if (r.dc0) ops::copy<P>(r.dc0, dc, r.batch * H);
            gemm::input_backward(w, x, dz, dz, dx, dx_beta, n, G, param_grads);
        }
    }
    /// One step of batch 1 from the state (h, c) [H] to the next, in place (CPU; x [In]): both products
    /// fused into the vectorised cell, nothing dispatched; work: step_work(H).
    static constexpr std::size_t step_work(std::size_t) noexcept { return H; }
    template <std::size_t In>
    static void step(const cell_params<T>& w, const T* x, T* h, T* c, T* work) {
        backend::cpu::lstm_cell_row<T, H, In, H>({w.b_ih, w.b_hh, w.w_ih, x, w.w_hh, h, c, nullptr, c, work});
        std::copy(work, work + H, h);
    }
};

/// GRU cell. Cache per sample: r, z, n [T, 3H], W_hn·h + b_hn [T, H], the hidden states [T, H].
/// On the CPU the per-step rules run as vectorised rows (backend/cpu/recurrent.hpp).
template <class P, class T, std::size_t H>
struct gru_cell {
    static constexpr std::size_t gates = 3;
    static constexpr bool has_cell = false;
    static constexpr std::string_view name = "gru";
    using gemm = cell_gemm<P, T>;
    static constexpr std::size_t G = 3 * H;
    static constexpr std::size_t cache_per_step(std::size_t) noexcept { return 5 * H; }
    static constexpr std::size_t forward_work(std::size_t b, std::size_t, std::size_t in) noexcept {
        return b * G + gemm::cpu_forward_work(b, in, H, G);
    }
    static constexpr std::size_t backward_work(std::size_t b, std::size_t T_, std::size_t in) noexcept {
        return b * H + 2 * b * T_ * G + gemm::cpu_backward_work(b, T_, in, H, G, 2);
    }

    template <std::size_t In>
    static void forward(const cell_params<T>& w, const T* x, T* cache, const cell_run<T>& r, T* work) {
        const std::size_t n = r.batch * r.steps;
        T* gx = cache;
        T* hn = cache + n * G;
        T* h = hn + n * H;
        T* hp = work;  // W_hh·h_tp + b_hh of the step [b, G]
        if constexpr (std::same_as<P, cpu>) {
            if (r.batch <= gemm::fused_batch) {  // the recurrent product inside the vectorised rule
                gemm::input_projection(w, x, gx, n, G, w.b_ih);
                for (std::size_t s = 0; s < r.steps; ++s)
                    backend::cpu::gru_forward_rows<T, H>({r.step(s), gx, hp, w.b_hh, hn, h, r.h0}, w.w_hh, 0, r.batch);
                return;
            }
            const typename gemm::cpu_forward run(w, r, G, work + r.batch * G);
            if (!r.lengths) gemm::input_projection(w, x, gx, n, G, w.b_ih);
            backend::cpu::for_samples(r.batch, [&](std::size_t b0, std::size_t b1) {
                run.input_rows(x, gx, w.b_ih, b0, b1);
                for (std::size_t s = 0; s < r.steps; ++s) {
                    const rules::step_info si = r.step(s);
                    run.recurrent_rows(h, si, b0, b1, hp, G, T(0), w.b_hh);
                    backend::cpu::gru_forward_rows<T, H>({si, gx, hp, w.b_hh, hn, h, r.h0}, nullptr, b0, b1);
                }
            });
        } else {
            gemm::input_projection(w, x, gx, n, G, w.b_ih);
            for (std::size_t s = 0; s < r.steps; ++s) {
                const rules::step_info si = r.step(s);
                if (const auto [prev, ld] = gemm::previous(h, r, si); prev) gemm::recurrent(w, prev, ld, hp, G, r, G, T(0), w.b_hh);
                ops::recurrent<P>(rules::gru_step_forward<T>{si, gx, hp, w.b_hh, hn, h, r.h0}, r.batch * H);
            }
        }
    }
    static void backward(const cell_params<T>& w, const T* x, const T* cache, const cell_run<T>& r, rules::output_gradient<T> out, T* dx,
                         T dx_beta, bool param_grads, T* work) {
        const std::size_t n = r.batch * r.steps;
        const T* gates_ = cache;
        const T* hn = cache + n * G;
        const T* h = hn + n * H;
        T* dh = work;
        T* dzx = dh + r.batch * H;
        T* dzh = dzx + n * G;
        gemm::start_backward(r, dh, nullptr);
        if constexpr (std::same_as<P, cpu>) {
            T* gather = dzh + n * G;
            backend::cpu::for_samples(r.batch, [&](std::size_t b0, std::size_t b1) {
                for (std::size_t s = r.steps; s-- > 0;) {
                    backend::cpu::gru_backward_rows<T, H>({r.step(s), gates_, hn, h, out, dh, dzx, dzh, r.h0}, b0, b1);
                    gemm::recurrent_backward_rows(w, dzh, dh, r, s, G, b0, b1, gather);
                }
            });
            gemm::cpu_end_backward(w, x, dzx, dzh, h, r, dx, dx_beta, G, param_grads, gather + r.batch * (G + H));
        } else {
            for (std::size_t s = r.steps; s-- > 0;) {
                ops::recurrent<P>(rules::gru_step_backward<T>{r.step(s), gates_, hn, h, out, dh, dzx, dzh, r.h0}, r.batch * H);
                gemm::recurrent_backward(w, dzh, h, dh, r, s, G, param_grads);
            }
            gemm::input_backward(w, x, dzx, dzh, dx, dx_beta, n, G, param_grads);
        }
    }
    static constexpr std::size_t step_work(std::size_t) noexcept { return H; }
    template <std::size_t In>
    static void step(const cell_params<T>& w, const T* x, T* h, T*, T* work) {
        backend::cpu::gru_cell_row<T, H, In, H>({w.b_ih, w.w_ih, x, nullptr, w.b_hh, w.w_hh, h, nullptr, nullptr, work});
        std::copy(work, work + H, h);
    }
};

/// Elman RNN cell. Cache per sample: the hidden states [T, H] (backward reads only the activation's
/// output); the pre-activations live in the forward's work memory.
template <class P, class T, std::size_t H, activation_kind Act>
struct rnn_cell {
    static constexpr std::size_t gates = 1;
    static constexpr bool has_cell = false;
    static constexpr std::string_view name = "simple_rnn";
    using gemm = cell_gemm<P, T>;
    static constexpr std::size_t cache_per_step(std::size_t) noexcept { return H; }
    static constexpr std::size_t forward_work(std::size_t b, std::size_t T_, std::size_t in) noexcept {
        return H + b * T_ * H + gemm::cpu_forward_work(b, in, H, H);
    }
    static constexpr std::size_t backward_work(std::size_t b, std::size_t T_, std::size_t in) noexcept {
        return b * H + b * T_ * H + gemm::cpu_backward_work(b, T_, in, H, H, 1);
    }

    template <std::size_t In>
    static void forward(const cell_params<T>& w, const T* x, T* h, const cell_run<T>& r, T* work) {
        const std::size_t n = r.batch * r.steps;
        T* bias = work;
        T* z = work + H;
        ops::add<P>(w.b_ih, w.b_hh, bias, r.hidden);  // runtime size: see lstm_cell::forward
        if constexpr (std::same_as<P, cpu>) {
            if (r.batch <= gemm::fused_batch) {  // the recurrent product inside the vectorised rule
                gemm::input_projection(w, x, z, n, H, bias);
                for (std::size_t s = 0; s < r.steps; ++s)
                    backend::cpu::rnn_forward_rows<T, H>({r.step(s), z, h, Act, r.h0}, w.w_hh, 0, r.batch);
                return;
            }
            const typename gemm::cpu_forward run(w, r, H, z + n * H);
            if (!r.lengths) gemm::input_projection(w, x, z, n, H, bias);
            backend::cpu::for_samples(r.batch, [&](std::size_t b0, std::size_t b1) {
                run.input_rows(x, z, bias, b0, b1);
                for (std::size_t s = 0; s < r.steps; ++s) {
                    const rules::step_info si = r.step(s);
                    run.recurrent_rows(h, si, b0, b1, z + si.t * H, r.steps * H, T(1));
                    backend::cpu::rnn_forward_rows<T, H>({si, z, h, Act, r.h0}, nullptr, b0, b1);
                }
            });
        } else {
            gemm::input_projection(w, x, z, n, H, bias);
            for (std::size_t s = 0; s < r.steps; ++s) {
                const rules::step_info si = r.step(s);
                if (const auto [prev, ld] = gemm::previous(h, r, si); prev)
                    gemm::recurrent(w, prev, ld, z + si.t * H, r.steps * H, r, H, T(1));
                ops::recurrent<P>(rules::rnn_step_forward<T>{si, z, h, Act, r.h0}, r.batch * H, 8);
            }
        }
    }
    static void backward(const cell_params<T>& w, const T* x, const T* h, const cell_run<T>& r, rules::output_gradient<T> out, T* dx,
                         T dx_beta, bool param_grads, T* work) {
        const std::size_t n = r.batch * r.steps;
        T* dh = work;
        T* dz = dh + r.batch * H;
        gemm::start_backward(r, dh, nullptr);
        if constexpr (std::same_as<P, cpu>) {
            T* gather = dz + n * H;
            backend::cpu::for_samples(r.batch, [&](std::size_t b0, std::size_t b1) {
                for (std::size_t s = r.steps; s-- > 0;) {
                    backend::cpu::rnn_backward_rows<T, H>({r.step(s), h, out, dh, dz, Act}, b0, b1);
                    gemm::recurrent_backward_rows(w, dz, dh, r, s, H, b0, b1, gather);
                }
            });
            gemm::cpu_end_backward(w, x, dz, dz, h, r, dx, dx_beta, H, param_grads, gather + r.batch * 2 * H);
        } else {
            for (std::size_t s = r.steps; s-- > 0;) {
                ops::recurrent<P>(rules::rnn_step_backward<T>{r.step(s), h, out, dh, dz, Act}, r.batch * H, 8);
                gemm::recurrent_backward(w, dz, h, dh, r, s, H, param_grads);
            }
            gemm::input_backward(w, x, dz, dz, dx, dx_beta, n, H, param_grads);
        }
    }
    static constexpr std::size_t step_work(std::size_t) noexcept { return H; }
    template <std::size_t In>
    static void step(const cell_params<T>& w, const T* x, T* h, T*, T* work) {
        backend::cpu::rnn_cell_row<T, H, In, H>(Act, w.b_ih, w.b_hh, w.w_ih, x, w.w_hh, h, work);
        std::copy(work, work + H, h);
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
    static constexpr std::size_t max_in = F > DH ? F : DH;  ///< the widest layer input
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
        const std::size_t fwd = Cell::forward_work(batch, steps, max_in);
        const std::size_t bwd = Cell::backward_work(batch, steps, max_in) + (L > 1 ? 2 * batch * steps * DH : 0);
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
        T* buffers[2] = {scratch + Cell::backward_work(batch, steps, max_in), scratch + Cell::backward_work(batch, steps, max_in) + seq};
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
        std::array<T, Cell::step_work(H)> work;
        const T* in = x;
        for (std::size_t l = 0; l < L; ++l) {
            T* h = s.h.data() + l * H;
            T* c = Cell::has_cell ? s.c.data() + l * H : nullptr;
            if (l == 0) Cell::template step<F>(params(l, 0), in, h, c, work.data());
            else Cell::template step<H>(params(l, 0), in, h, c, work.data());
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
                if (l == 0) Cell::template forward<F>(params(l, d), in, cell, run_of(batch, l, d, lengths), work);
                else Cell::template forward<DH>(params(l, d), in, cell, run_of(batch, l, d, lengths), work);
                const bool every = !top || Sequences;
                const rules::sequence_emit<T> emit{hidden_of(cell, batch), out + d * H, steps, H, DH, d == 1 ? 0 : steps - 1, every, lengths};
                if constexpr (std::same_as<P, cpu>) backend::cpu::sequence_emit_rows(emit, batch);
                else ops::recurrent<P>(emit, batch * (every ? steps : 1) * H, 4);
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

template <class P, class T, std::size_t H, rnn_nonlinearity N>
using rnn_cell_of = rnn_cell<P, T, H, N == rnn_nonlinearity::tanh ? activation_kind::tanh : activation_kind::relu>;

}  // namespace detail

/// LSTM layers with H hidden units (see the file comment): `lstm<64>`, `lstm<64, {.return_sequences = true}>`,
/// `lstm<64, {.layers = 2, .bidirectional = true, .dropout = 0.2}>`.
template <std::size_t H, recurrent_options O = recurrent_options{}>
struct lstm {
    static_assert(H > 0, "ctnn::lstm: the hidden size must be positive");
    template <shape_type In, class T, class P = cpu>
    struct bind : detail::recurrent_stack<In, T, P, H, detail::lstm_cell<P, T, H>, O.return_sequences, O.layers, O.bidirectional, O.dropout> {};
};

/// GRU layers with H hidden units (nn.GRU; see the file comment):
///   r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz),
///   n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}.
template <std::size_t H, recurrent_options O = recurrent_options{}>
struct gru {
    static_assert(H > 0, "ctnn::gru: the hidden size must be positive");
    template <shape_type In, class T, class P = cpu>
    struct bind : detail::recurrent_stack<In, T, P, H, detail::gru_cell<P, T, H>, O.return_sequences, O.layers, O.bidirectional, O.dropout> {};
};

/// Elman RNN layers (nn.RNN): h_t = act(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh), act = tanh or relu.
template <std::size_t H, rnn_options O = rnn_options{}>
struct simple_rnn {
    static_assert(H > 0, "ctnn::simple_rnn: the hidden size must be positive");
    template <shape_type In, class T, class P = cpu>
    struct bind : detail::recurrent_stack<In, T, P, H, detail::rnn_cell_of<P, T, H, O.nonlinearity>, O.return_sequences, O.layers,
                                          O.bidirectional, O.dropout> {};
};

}  // namespace ctnn
