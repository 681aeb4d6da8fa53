// SPDX-License-Identifier: MIT
#pragma once
/// @file attention.hpp  multi_head_attention<Heads, {...}>: self-attention over a sequence shape<T, E>
/// with nn.MultiheadAttention's semantics, layout and state_dict names (batch-first, query = key =
/// value = the input). The attention core is the fused kernel of backend/attention_rules.hpp (online
/// softmax, no T × T matrix). Per-sample lengths (`ctx.set_lengths`, `predict(x, lengths)`) mask the
/// padded keys as `key_padding_mask` does; `.causal` adds the causal mask (query i sees keys ≤ i).
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../backend/attention_rules.hpp"
#include "../core/error.hpp"
#include "../ops/ops.hpp"
#include "concepts.hpp"
#include "sequence.hpp"

namespace ctnn {

/// Options of multi_head_attention: attention dropout (on the softmax probabilities, training only),
/// the causal mask, and the projections' biases (nn.MultiheadAttention's `bias`).
struct attention_options {
    double dropout = 0;
    bool causal = false;
    bool bias = true;
};

/// nn.MultiheadAttention(E, Heads, dropout, bias, batch_first=True) applied as self-attention
/// mha(x, x, x, key_padding_mask = padding from the lengths, attn_mask = causal when `.causal`).
/// Parameters `in_proj_weight` [3E, E], `in_proj_bias` [3E], `out_proj.weight` [E, E],
/// `out_proj.bias` [E] (xavier-uniform in-projection, U(±1/√E) out-projection, zero biases, as PyTorch).
template <std::size_t Heads, attention_options O = attention_options{}>
struct multi_head_attention {
    static_assert(Heads > 0, "ctnn::multi_head_attention: the number of heads must be positive");
    static_assert(O.dropout >= 0 && O.dropout < 1, "ctnn::multi_head_attention: dropout must be in [0, 1)");

    template <shape_type In, class T, class P = cpu>
    struct bind : counter_stream {
        static_assert(In::rank == 2, "ctnn::multi_head_attention: the input is a sequence shape<T, E> (T positions of E features)");
        static constexpr std::size_t steps = In::dims[0], E = In::dims[In::rank - 1], d = E / Heads;
        static_assert(E % Heads == 0, "ctnn::multi_head_attention: the embedding size E must be divisible by the number of heads");
        using value_type = T;
        using input_shape = In;
        using output_shape = In;
        static constexpr std::string_view name = "multi_head_attention";
        static constexpr std::size_t parameter_count = 3 * E * E + E * E + (O.bias ? 4 * E : 0);
        /// per sample: the projections q, k, v [T, 3E], the heads' outputs [T, E], each row's log-sum-exp [Heads, T]
        static constexpr std::size_t cache_size = 4 * steps * E + Heads * steps;
        static constexpr auto parameters() noexcept {
            if constexpr (O.bias)
                return std::array<param_desc, 4>{param_desc{"in_proj_weight", {3 * E, E}, 2}, param_desc{"in_proj_bias", {3 * E}, 1},
                                                 param_desc{"out_proj.weight", {E, E}, 2}, param_desc{"out_proj.bias", {E}, 1}};
            else
                return std::array<param_desc, 2>{param_desc{"in_proj_weight", {3 * E, E}, 2}, param_desc{"out_proj.weight", {E, E}, 2}};
        }
        void attach(T* p, T* g) noexcept {
            m_w_in = p;
            m_dw_in = g;
            std::size_t o = 3 * E * E;
            if constexpr (O.bias) m_b_in = p + o, m_db_in = g + o, o += 3 * E;
            m_w_out = p + o;
            m_dw_out = g + o;
            o += E * E;
            if constexpr (O.bias) m_b_out = p + o, m_db_out = g + o;
        }
        void init(rng& g) {
            const double a = std::sqrt(6.0 / double(E + 3 * E)), b = 1.0 / std::sqrt(double(E));
            for (std::size_t i = 0; i < 3 * E * E; ++i) m_w_in[i] = T(g.uniform(-a, a));
            for (std::size_t i = 0; i < E * E; ++i) m_w_out[i] = T(g.uniform(-b, b));
            if constexpr (O.bias) {
                for (std::size_t i = 0; i < 3 * E; ++i) m_b_in[i] = T(0);
                for (std::size_t i = 0; i < E; ++i) m_b_out[i] = T(0);
            }
            reseed(g);
        }
        /// Scratch: predict's projections and head outputs, or backward's dO, d(q, k, v) and each row's
        /// dO·O; then the attention kernel's own (ops::attention_scratch).
        static constexpr std::size_t scratch_size(std::size_t batch) noexcept {
            return own_scratch(batch) + ops::attention_scratch<P>(batch * Heads, steps, d);
        }

        void forward(const T* x, T* y, std::size_t batch, T* cache, mode m, T* scratch) {
            m_dropped = m == mode::train && O.dropout > 0;
            if (m_dropped) m_forward_counter = m_counter++;
            run_forward(x, y, batch, cache, cache + batch * steps * 3 * E, cache + batch * steps * 4 * E, m_dropped,
                        scratch + own_scratch(batch));
        }
        void predict(const T* x, T* y, std::size_t batch, T* scratch) const {
            run_forward(x, y, batch, scratch, scratch + batch * steps * 3 * E, nullptr, false, scratch + own_scratch(batch));
        }
        void backward(const T* x, const T*, const T* dy, T* dx, std::size_t batch, const T* cache, bool param_grads, T* scratch) {
            if (!param_grads && !dx) return;
            const std::size_t n = batch * steps;
            const T* qkv = cache;
            const T* o = cache + n * 3 * E;
            const T* lse = cache + n * 4 * E;
            T* d_o = scratch;
            T* dqkv = scratch + n * E;
            T* delta = scratch + n * 4 * E;
            if (param_grads) {
                ops::gemm<P>(true, false, E, E, n, T(1), dy, E, o, E, T(1), m_dw_out, E);
                if constexpr (O.bias) ops::accumulate_column_sums<P>(m_db_out, dy, n, E);
            }
            ops::gemm<P>(false, false, n, E, E, T(1), dy, E, m_w_out, E, T(0), d_o, E);
            ops::attention_backward<P, d>(info(batch, m_dropped), qkv, o, lse, d_o, delta, dqkv, batch, scratch + own_scratch(batch));
            if (param_grads) {
                ops::gemm<P>(true, false, 3 * E, E, n, T(1), dqkv, 3 * E, x, E, T(1), m_dw_in, E);
                if constexpr (O.bias) ops::accumulate_column_sums<P>(m_db_in, dqkv, n, 3 * E);
            }
            if (dx) ops::gemm<P>(false, false, n, E, 3 * E, T(1), dqkv, 3 * E, m_w_in, E, T(0), dx, E);
        }

        /// The KV cache of one sequence for batch-1 generation (`step`): every position's projections
        /// [T, 3E] (keys and values kept, the query of the newest position) and head outputs; allocated
        /// once, `reset()` to start a new sequence.
        struct kv_cache {
            std::vector<T> qkv = std::vector<T>(steps * 3 * E), o = std::vector<T>(steps * E);
            std::size_t t = 0;  ///< positions fed so far
            void reset() noexcept { t = 0; }
        };
        /// One position of one sequence (CPU, a causal layer): y[0, E) is what predict gives at position
        /// c.t for the positions fed so far; the position's key and value join the cache. Attends over
        /// c.t + 1 keys instead of recomputing every position. Throws ctnn::error past T positions.
        void step(const T* x, kv_cache& c, T* y) const
            requires std::same_as<P, cpu>
        {
            static_assert(O.causal, "ctnn::multi_head_attention: step() (generation with a KV cache) needs a causal layer, {.causal = true}");
            if (c.t >= steps) [[unlikely]]
                detail::fail("multi_head_attention: the KV cache is full (" + std::to_string(steps) +
                             " positions, the model's sequence length); reset() it to start again");
            T* row = c.qkv.data() + c.t * 3 * E;
            ops::gemm<P>(false, true, 1, 3 * E, E, T(1), x, E, m_w_in, E, T(0), row, 3 * E, epilogue<T>{m_b_in});
            attn::shape_info<T> s;
            s.steps = steps;
            s.E = E;
            s.heads = Heads;
            s.d = d;
            s.scale = T(1) / std::sqrt(T(d));
            s.causal = true;
            const attn::forward_rows<T> rule{s, c.qkv.data(), c.o.data(), nullptr};
            for (std::size_t h = 0; h < Heads; ++h) rule(h * steps + c.t);
            ops::gemm<P>(false, true, 1, E, E, T(1), c.o.data() + c.t * E, E, m_w_out, E, T(0), y, E, epilogue<T>{m_b_out});
            ++c.t;
        }

    private:
        static constexpr std::size_t own_scratch(std::size_t batch) noexcept { return batch * (4 * steps * E + Heads * steps); }
        attn::shape_info<T> info(std::size_t batch, bool dropped) const {
            attn::shape_info<T> s;
            s.steps = steps;
            s.E = E;
            s.heads = Heads;
            s.d = d;
            s.scale = T(1) / std::sqrt(T(d));
            s.lengths = batch_lengths<P>(batch, steps, name);
            s.causal = O.causal;
            s.dropout = dropped ? O.dropout : 0.0;
            s.seed = m_seed;
            s.counter = m_forward_counter;
            return s;
        }
        void run_forward(const T* x, T* y, std::size_t batch, T* qkv, T* o, T* lse, bool dropped, T* scratch) const {
            const std::size_t n = batch * steps;
            ops::gemm<P>(false, true, n, 3 * E, E, T(1), x, E, m_w_in, E, T(0), qkv, 3 * E, epilogue<T>{m_b_in});
            ops::attention_forward<P, d>(info(batch, dropped), qkv, o, lse, batch, scratch);
            ops::gemm<P>(false, true, n, E, E, T(1), o, E, m_w_out, E, T(0), y, E, epilogue<T>{m_b_out});
        }
        T* m_w_in = nullptr;
        T* m_dw_in = nullptr;
        T* m_b_in = nullptr;
        T* m_db_in = nullptr;
        T* m_w_out = nullptr;
        T* m_dw_out = nullptr;
        T* m_b_out = nullptr;
        T* m_db_out = nullptr;
        std::uint64_t m_forward_counter = 0;
        bool m_dropped = false;
    };
};

}  // namespace ctnn
