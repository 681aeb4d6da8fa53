// SPDX-License-Identifier: MIT
#pragma once
/// @file transformer.hpp  transformer_encoder_layer<{...}>: nn.TransformerEncoderLayer (batch-first) on
/// sequences shape<T, E> — self-attention and a feed-forward block, each with dropout, a residual
/// connection and layer normalisation after it (`norm_first = false`, PyTorch's default) or before it
/// (`norm_first = true`, GPT-2's pre-norm); `.causal` makes it the decoder-only block of a GPT. Names
/// and state_dict order as PyTorch: `self_attn.in_proj_weight`, `self_attn.in_proj_bias`,
/// `self_attn.out_proj.weight`, `self_attn.out_proj.bias`, `linear1.*`, `linear2.*`, `norm1.*`, `norm2.*`.
/// `transformer_encoder<N, {...}>` stacks N of them named `layers.0.` ... as nn.TransformerEncoder.
#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

#include "../backend/rules.hpp"
#include "../model/chain.hpp"
#include "../ops/ops.hpp"
#include "activation.hpp"
#include "attention.hpp"
#include "concepts.hpp"
#include "dense.hpp"
#include "dropout.hpp"
#include "named.hpp"
#include "norm.hpp"

namespace ctnn {

/// The feed-forward block's activation (nn.TransformerEncoderLayer's `activation`: "relu" or "gelu").
enum class transformer_activation { relu, gelu };

/// Options of transformer_encoder_layer, PyTorch's names and defaults. `d_model` 0 takes the input's E
/// (any other value must equal it); `dropout` applies to the attention probabilities, after the
/// attention, inside the feed-forward block and after it, in training only.
struct encoder_options {
    std::size_t d_model = 0;
    std::size_t nhead = 1;
    std::size_t dim_feedforward = 2048;
    double dropout = 0.1;
    transformer_activation activation = transformer_activation::relu;
    double layer_norm_eps = 1e-5;
    bool norm_first = false;
    bool causal = false;  ///< the causal mask (query i attends to keys ≤ i): a decoder-only block
};

/// nn.TransformerEncoderLayer(d_model = E, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
/// batch_first = True, norm_first) on shape<T, E>; per-sample lengths mask the padded keys
/// (src_key_padding_mask), `.causal` adds the causal mask.
template <encoder_options O>
struct transformer_encoder_layer {
    static_assert(O.nhead > 0 && O.dim_feedforward > 0, "ctnn::transformer_encoder_layer: nhead and dim_feedforward must be positive");
    static_assert(O.dropout >= 0 && O.dropout < 1, "ctnn::transformer_encoder_layer: dropout must be in [0, 1)");

    template <shape_type In, class T, class P = cpu>
    struct bind {
        static_assert(In::rank == 2, "ctnn::transformer_encoder_layer: the input is a sequence shape<T, E> (T positions of E features)");
        static constexpr std::size_t steps = In::dims[0], E = In::dims[1], F = O.dim_feedforward;
        static_assert(O.d_model == 0 || O.d_model == E,
                      "ctnn::transformer_encoder_layer: d_model must equal the input's last dimension E (or be left 0)");
        using ff_shape = shape<steps, F>;
        using attn_t = typename multi_head_attention<O.nhead, {.dropout = O.dropout, .causal = O.causal}>::template bind<In, T, P>;
        using norm_t = typename layer_norm<{.eps = O.layer_norm_eps}>::template bind<In, T, P>;
        using lin1_t = typename dense<F, true, initializer::torch>::template bind<In, T, P>;
        using lin2_t = typename dense<E, true, initializer::torch>::template bind<ff_shape, T, P>;
        using act_spec = std::conditional_t<O.activation == transformer_activation::gelu, gelu, relu>;
        using act_t = typename act_spec::template bind<ff_shape, T, P>;
        using drop_e = typename dropout<O.dropout>::template bind<In, T, P>;
        using drop_f = typename dropout<O.dropout>::template bind<ff_shape, T, P>;

        using value_type = T;
        using input_shape = In;
        using output_shape = In;
        static constexpr std::string_view name = "transformer_encoder_layer";
        static constexpr std::size_t parameter_count =
            attn_t::parameter_count + lin1_t::parameter_count + lin2_t::parameter_count + 2 * norm_t::parameter_count;
        static constexpr auto parameters() noexcept {
            return std::array<param_desc, 12>{
                param_desc{"self_attn.in_proj_weight", {3 * E, E}, 2}, param_desc{"self_attn.in_proj_bias", {3 * E}, 1},
                param_desc{"self_attn.out_proj.weight", {E, E}, 2},    param_desc{"self_attn.out_proj.bias", {E}, 1},
                param_desc{"linear1.weight", {F, E}, 2},               param_desc{"linear1.bias", {F}, 1},
                param_desc{"linear2.weight", {E, F}, 2},               param_desc{"linear2.bias", {E}, 1},
                param_desc{"norm1.weight", {E}, 1},                    param_desc{"norm1.bias", {E}, 1},
                param_desc{"norm2.weight", {E}, 1},                    param_desc{"norm2.bias", {E}, 1}};
        }

    private:
        static constexpr std::size_t TE = steps * E, TF = steps * F;
        /// Per-sample cache regions, in order: the attention's cache, the three dropout masks, the layer
        /// norms' statistics, three [T, E] activations (post-norm: x + attn, norm1's output, its sum
        /// with the feed-forward output; pre-norm: norm1's output, x + attn, norm2's output) and the
        /// feed-forward block's pre-activation, activation and dropped activation [T, F].
        static constexpr std::array<std::size_t, 11> region_sizes{attn_t::cache_size, TE, TF, TE, norm_t::cache_size, norm_t::cache_size,
                                                                  TE, TE, TE, 3 * TF, 0};
        enum region : std::size_t { r_attn, r_mask1, r_maskf, r_mask2, r_norm1, r_norm2, r_a, r_b, r_c, r_ff, r_end };
        static constexpr std::size_t region_offset(std::size_t k) noexcept {
            std::size_t o = 0;
            for (std::size_t i = 0; i < k; ++i) o += region_sizes[i];
            return o;
        }
        static T* at(T* cache, std::size_t batch, region k) noexcept { return cache + batch * region_offset(k); }
        static const T* at(const T* cache, std::size_t batch, region k) noexcept { return cache + batch * region_offset(k); }
        static constexpr std::size_t sub_scratch(std::size_t batch) noexcept {
            return attn_t::scratch_size(batch) > norm_t::scratch_size(batch) ? attn_t::scratch_size(batch) : norm_t::scratch_size(batch);
        }

    public:
        static constexpr std::size_t cache_size = region_offset(r_end);
        /// Scratch: three [T, E] and two [T, F] temporaries per sample, and the attention's or layer norm's own.
        static constexpr std::size_t scratch_size(std::size_t batch) noexcept { return batch * (3 * TE + 2 * TF) + sub_scratch(batch); }

        void attach(T* p, T* g) noexcept {
            std::size_t o = 0;
            auto next = [&](auto& layer) {
                layer.attach(p + o, g + o);
                o += std::remove_reference_t<decltype(layer)>::parameter_count;
            };
            next(m_attn);
            next(m_lin1);
            next(m_lin2);
            next(m_norm1);
            next(m_norm2);
        }
        void init(rng& g) {
            m_attn.init(g);
            m_lin1.init(g);
            m_lin2.init(g);
            m_norm1.init(g);
            m_norm2.init(g);
            set_mask_stream(g(), 0);
        }

        void forward(const T* x, T* y, std::size_t batch, T* cache, mode m, T* scratch) {
            const std::size_t ne = batch * TE;
            T* t0 = scratch;
            T* sub = scratch + batch * (3 * TE + 2 * TF);
            T *A = at(cache, batch, r_a), *B = at(cache, batch, r_b), *C = at(cache, batch, r_c);
            T *F1 = at(cache, batch, r_ff), *G = F1 + batch * TF, *GD = G + batch * TF;
            if constexpr (!O.norm_first) {
                m_attn.forward(x, t0, batch, at(cache, batch, r_attn), m, sub);
                m_drop1.forward(t0, t0, batch, at(cache, batch, r_mask1), m);
                ops::add<P>(x, t0, A, ne);                                            // x + attn
                m_norm1.forward(A, B, batch, at(cache, batch, r_norm1), m, sub);     // h = norm1(...)
                feed_forward(B, t0, batch, cache, m, F1, G, GD);
                ops::add<P>(B, t0, C, ne);                                            // h + ff(h)
                m_norm2.forward(C, y, batch, at(cache, batch, r_norm2), m, sub);
            } else {
                m_norm1.forward(x, A, batch, at(cache, batch, r_norm1), m, sub);
                m_attn.forward(A, t0, batch, at(cache, batch, r_attn), m, sub);
                m_drop1.forward(t0, t0, batch, at(cache, batch, r_mask1), m);
                ops::add<P>(x, t0, B, ne);                                            // r = x + attn(norm1(x))
                m_norm2.forward(B, C, batch, at(cache, batch, r_norm2), m, sub);
                feed_forward(C, t0, batch, cache, m, F1, G, GD);
                ops::add<P>(B, t0, y, ne);                                            // r + ff(norm2(r))
            }
        }

        void predict(const T* x, T* y, std::size_t batch, T* scratch) const {
            const std::size_t ne = batch * TE;
            T *t0 = scratch, *A = t0 + ne, *B = A + ne, *F1 = B + ne, *G = F1 + batch * TF;
            T* sub = scratch + batch * (3 * TE + 2 * TF);
            auto ff = [&](const T* h, T* out) {
                m_lin1.predict(h, F1, batch);
                m_act.predict(F1, G, batch);
                m_lin2.predict(G, out, batch);
            };
            if constexpr (!O.norm_first) {
                m_attn.predict(x, t0, batch, sub);
                ops::add<P>(x, t0, A, ne);
                m_norm1.predict(A, B, batch, sub);
                ff(B, t0);
                ops::add<P>(B, t0, A, ne);
                m_norm2.predict(A, y, batch, sub);
            } else {
                m_norm1.predict(x, A, batch, sub);
                m_attn.predict(A, t0, batch, sub);
                ops::add<P>(x, t0, B, ne);
                m_norm2.predict(B, A, batch, sub);
                ff(A, t0);
                ops::add<P>(B, t0, y, ne);
            }
        }

        void backward(const T* x, const T* y, const T* dy, T* dx, std::size_t batch, const T* cache, bool pg, T* scratch) {
            const std::size_t ne = batch * TE;
            T *d0 = scratch, *d1 = d0 + ne, *d2 = d1 + ne, *dF = d2 + ne, *dG = dF + batch * TF;
            T* sub = scratch + batch * (3 * TE + 2 * TF);
            const T *A = at(cache, batch, r_a), *B = at(cache, batch, r_b), *C = at(cache, batch, r_c);
            const T *F1 = at(cache, batch, r_ff), *G = F1 + batch * TF, *GD = G + batch * TF;
            if constexpr (!O.norm_first) {
                m_norm2.backward(C, y, dy, d0, batch, at(cache, batch, r_norm2), pg, sub);  // d(h + ff(h))
                feed_forward_backward(B, d0, d1, batch, cache, pg, F1, G, GD, dF, dG);    // d1 = ff's dh
                ops::add<P>(d0, d1, d1, ne);                                              // dh
                m_norm1.backward(A, B, d1, d0, batch, at(cache, batch, r_norm1), pg, sub); // d(x + attn)
                m_drop1.backward(nullptr, nullptr, d0, d2, batch, at(cache, batch, r_mask1), pg);
                m_attn.backward(x, nullptr, d2, dx ? d1 : nullptr, batch, at(cache, batch, r_attn), pg, sub);
                if (dx) ops::add<P>(d0, d1, dx, ne);
            } else {
                feed_forward_backward(C, dy, d1, batch, cache, pg, F1, G, GD, dF, dG);    // d1 = d norm2(r)
                m_norm2.backward(B, C, d1, d2, batch, at(cache, batch, r_norm2), pg, sub);
                ops::add<P>(dy, d2, d2, ne);                                              // dr
                m_drop1.backward(nullptr, nullptr, d2, d0, batch, at(cache, batch, r_mask1), pg);
                m_attn.backward(A, nullptr, d0, d1, batch, at(cache, batch, r_attn), pg, sub);  // d norm1(x)
                m_norm1.backward(x, A, d1, dx ? d0 : nullptr, batch, at(cache, batch, r_norm1), pg, sub);
                if (dx) ops::add<P>(d2, d0, dx, ne);
            }
        }

        /// The state of one sequence for batch-1 generation (`step`): the attention's KV cache and the
        /// rows one position needs; allocated once, `reset()` to start a new sequence.
        struct stream_state {
            typename attn_t::kv_cache attn;
            std::vector<T> rows = std::vector<T>(4 * E + 2 * F);
            void reset() noexcept { attn.reset(); }
            std::size_t position() const noexcept { return attn.t; }
        };
        /// One position of one sequence (CPU, a `.causal` layer; dropout off): y[0, E) equals predict's
        /// output at that position for the positions fed so far, at the cost of one position (the
        /// attention reads the cached keys and values) instead of all of them.
        void step(const T* x, stream_state& st, T* y) const
            requires std::same_as<P, cpu>
        {
            static_assert(O.causal, "ctnn::transformer_encoder_layer: step() (generation with a KV cache) needs {.causal = true}");
            T *a = st.rows.data(), *b = a + E, *c = b + E, *f1 = c + E, *g = f1 + F, *f2 = g + F;
            auto ff = [&](const T* h, T* out) {
                m_lin1.predict_rows(h, f1, 1);
                for (std::size_t j = 0; j < F; ++j)
                    g[j] = O.activation == transformer_activation::gelu ? rules::gelu(f1[j]) : (f1[j] > T(0) ? f1[j] : T(0));
                m_lin2.predict_rows(g, out, 1);
            };
            if constexpr (!O.norm_first) {
                m_attn.step(x, st.attn, a);
                for (std::size_t j = 0; j < E; ++j) a[j] += x[j];
                m_norm1.predict_rows(a, b, 1);
                ff(b, f2);
                for (std::size_t j = 0; j < E; ++j) c[j] = b[j] + f2[j];
                m_norm2.predict_rows(c, y, 1);
            } else {
                m_norm1.predict_rows(x, a, 1);
                m_attn.step(a, st.attn, b);
                for (std::size_t j = 0; j < E; ++j) b[j] += x[j];
                m_norm2.predict_rows(b, c, 1);
                ff(c, f2);
                for (std::size_t j = 0; j < E; ++j) y[j] = b[j] + f2[j];
            }
        }

        /// One seed and counter for the four dropout streams (the attention's and the three dropouts'):
        /// each draws from its own seed derived from it, all advancing once per training forward.
        std::uint64_t mask_seed() const noexcept { return m_seed; }
        std::uint64_t mask_counter() const noexcept { return m_attn.mask_counter(); }
        void set_mask_stream(std::uint64_t seed, std::uint64_t counter) noexcept {
            m_seed = seed;
            m_attn.set_mask_stream(rules::mix64(seed + 1), counter);
            m_drop1.set_mask_stream(rules::mix64(seed + 2), counter);
            m_dropf.set_mask_stream(rules::mix64(seed + 3), counter);
            m_drop2.set_mask_stream(rules::mix64(seed + 4), counter);
        }

    private:
        /// out = dropout2(linear2(dropout(act(linear1(h))))), keeping F1, G, GD.
        void feed_forward(const T* h, T* out, std::size_t batch, T* cache, mode m, T* F1, T* G, T* GD) {
            m_lin1.forward(h, F1, batch, nullptr, m);
            m_act.forward(F1, G, batch, nullptr, m);
            m_dropf.forward(G, GD, batch, at(cache, batch, r_maskf), m);
            m_lin2.forward(GD, out, batch, nullptr, m);
            m_drop2.forward(out, out, batch, at(cache, batch, r_mask2), m);
        }
        /// dh (written to @p dh) of the feed-forward block from d(out) (@p dout; unchanged).
        void feed_forward_backward(const T* h, const T* dout, T* dh, std::size_t batch, const T* cache, bool pg, const T* F1, const T* G,
                                   const T* GD, T* dF, T* dG) {
            T* dtmp = dh;  // d(linear2's output), before dh is needed
            m_drop2.backward(nullptr, nullptr, dout, dtmp, batch, at(cache, batch, r_mask2), pg);
            m_lin2.backward(GD, nullptr, dtmp, dF, batch, nullptr, pg);
            m_dropf.backward(nullptr, nullptr, dF, dG, batch, at(cache, batch, r_maskf), pg);
            m_act.backward(F1, G, dG, dF, batch, nullptr, pg);
            m_lin1.backward(h, nullptr, dF, dh, batch, nullptr, pg);
        }

        attn_t m_attn;
        lin1_t m_lin1;
        lin2_t m_lin2;
        norm_t m_norm1, m_norm2;
        act_t m_act;
        drop_e m_drop1, m_drop2;
        drop_f m_dropf;
        std::uint64_t m_seed = 0;
    };
};

namespace detail {
/// "layers.<I>" as a template argument.
template <std::size_t I>
constexpr auto layers_name() {
    constexpr std::size_t digits = I < 10 ? 1 : I < 100 ? 2 : 3;
    static_assert(I < 1000, "ctnn::transformer_encoder: at most 1000 layers");
    char s[7 + digits + 1] = {'l', 'a', 'y', 'e', 'r', 's', '.'};
    std::size_t v = I;
    for (std::size_t k = 0; k < digits; ++k, v /= 10) s[7 + digits - 1 - k] = char('0' + v % 10);
    s[7 + digits] = '\0';
    return fixed_string<7 + digits + 1>(s);
}
template <encoder_options O, class Seq>
struct encoder_stack;
template <encoder_options O, std::size_t... I>
struct encoder_stack<O, std::index_sequence<I...>> {
    using type = chain<named<layers_name<I>(), transformer_encoder_layer<O>>...>;
};
}  // namespace detail

/// nn.TransformerEncoder(encoder_layer, N) without a final norm: N encoder layers in a chain, named
/// `layers.0.self_attn.in_proj_weight`, ... as PyTorch's state_dict.
template <std::size_t N, encoder_options O>
using transformer_encoder = typename detail::encoder_stack<O, std::make_index_sequence<N>>::type;

}  // namespace ctnn
