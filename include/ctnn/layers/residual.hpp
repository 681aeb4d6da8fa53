// SPDX-License-Identifier: MIT
#pragma once
/// @file residual.hpp  residual<main, shortcut>: y = main(x) + shortcut(x), the block of ResNets, with
/// each branch a `chain<specs...>` of layers (an empty chain is the identity shortcut).
#include <array>
#include <cstddef>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "../model/parameters.hpp"
#include "../ops/conv.hpp"
#include "concepts.hpp"
#include "named.hpp"

namespace ctnn {

/// A list of layer specs run one after the other inside a block: `chain<conv2d<64, 3, {.padding = 1}>,
/// batch_norm2d<>, relu>`. `chain<>` is the identity.
template <class... Specs>
struct chain {};

namespace detail {
template <class In, class T, class P, class... Specs>
struct bind_chain;  // model/sequential.hpp

/// One branch of a block bound to its input: the bound layers, their per-sample activation and cache
/// sizes, and parameter/state offsets inside the block.
template <class In, class T, class P, class Chain>
struct branch;
template <class In, class T, class P, class... Specs>
struct branch<In, T, P, chain<Specs...>> {
    using layers = typename bind_chain<In, T, P, Specs...>::type;
    static constexpr std::size_t depth = sizeof...(Specs);
    template <std::size_t I>
    using layer_type = std::tuple_element_t<I, layers>;
    using output_shape = typename decltype([] {
        if constexpr (depth == 0) return std::type_identity<In>{};
        else return std::type_identity<typename layer_type<depth - 1>::output_shape>{};
    }())::type;

    template <class F>
    static constexpr auto per_layer(F f) {
        std::array<std::size_t, depth + 1> o{};
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            std::size_t acc = 0, k = 0;
            ((o[k++] = acc, acc += f(std::type_identity<layer_type<I>>{})), ...);
            o[depth] = acc;
        }(std::make_index_sequence<depth>{});
        return o;
    }
    static constexpr auto param_off = per_layer([](auto t) { return decltype(t)::type::parameter_count; });
    static constexpr auto state_off = per_layer([](auto t) { return state_count_of<typename decltype(t)::type>(); });
    // per sample: each layer's output, then each layer's cache
    static constexpr auto act_off = per_layer([](auto t) { return decltype(t)::type::output_shape::size; });
    static constexpr auto cache_off = per_layer([](auto t) { return decltype(t)::type::cache_size; });
    static constexpr std::size_t parameter_count = param_off[depth], state_count = state_off[depth];
    static constexpr std::size_t cache_size = act_off[depth] + cache_off[depth];
    static constexpr std::size_t widest = [] {
        std::size_t m = In::size;
        for (std::size_t i = 0; i < depth; ++i) m = std::max(m, act_off[i + 1] - act_off[i]);
        return m;
    }();

    layers m_layers{};

    template <class F>
    void each(F&& f) {
        [&]<std::size_t... I>(std::index_sequence<I...>) { (f(std::get<I>(m_layers), std::integral_constant<std::size_t, I>{}), ...); }(
            std::make_index_sequence<depth>{});
    }
    template <class F>
    void each(F&& f) const {
        [&]<std::size_t... I>(std::index_sequence<I...>) { (f(std::get<I>(m_layers), std::integral_constant<std::size_t, I>{}), ...); }(
            std::make_index_sequence<depth>{});
    }
    void attach(T* p, T* g) noexcept {
        each([&](auto& l, auto i) { l.attach(p + param_off[i], g + param_off[i]); });
    }
    void attach_state(T* s) noexcept {
        each([&](auto& l, auto i) {
            if constexpr (requires { l.attach_state(s); }) l.attach_state(s + state_off[i]);
        });
    }
    void init(rng& g) {
        each([&](auto& l, auto) { l.init(g); });
    }
    /// Output of layer i of the last forward, inside @p cache (batch-major regions).
    static T* act(T* cache, std::size_t batch, std::size_t i) noexcept { return cache + batch * act_off[i]; }
    static T* layer_cache(T* cache, std::size_t batch, std::size_t i) noexcept {
        return cache + batch * (act_off[depth] + cache_off[i]);
    }
    /// Runs the branch; returns its output (x itself for the identity).
    const T* forward(const T* x, std::size_t batch, T* cache, mode m) {
        const T* cur = x;
        each([&](auto& l, auto i) {
            l.forward(cur, act(cache, batch, i), batch, layer_cache(cache, batch, i), m);
            cur = act(cache, batch, i);
        });
        return cur;
    }
    /// Backward from dy (the branch output's gradient) to dx (may be null); g0, g1: scratch of
    /// `widest · batch` values each.
    void backward(const T* x, const T* dy, T* dx, std::size_t batch, T* cache, bool param_grads, T* g0, T* g1) {
        const T* cur = dy;
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            auto one = [&]<std::size_t J>(std::integral_constant<std::size_t, J>) {
                auto& l = std::get<J>(m_layers);
                const T* in = J == 0 ? x : act(cache, batch, J - 1);
                T* d = J == 0 ? dx : (J % 2 ? g1 : g0);
                l.backward(in, act(cache, batch, J), cur, d, batch, layer_cache(cache, batch, J), param_grads);
                cur = d;
            };
            (one(std::integral_constant<std::size_t, depth - 1 - I>{}), ...);
        }(std::make_index_sequence<depth>{});
    }
    /// Inference through scratch buffers s0/s1 (widest · batch each); returns the output pointer.
    const T* predict(const T* x, std::size_t batch, T* s0, T* s1) const {
        const T* cur = x;
        each([&](const auto& l, auto i) {
            T* out = i % 2 ? s1 : s0;
            l.predict(cur, out, batch);
            cur = out;
        });
        return cur;
    }
    void layout(const std::string& prefix, std::size_t param_base, std::size_t state_base, bool states,
                std::vector<parameter_entry>& out) const {
        each([&](const auto& l, auto i) {
            using L = std::remove_cvref_t<decltype(l)>;
            const std::string p = entry_prefix<L>(prefix, i());
            if constexpr (requires { l.layout(p, param_base, state_base, states, out); })
                l.layout(p, param_base + param_off[i], state_base + state_off[i], states, out);
            else {
                auto add = [&](const auto& descs, std::size_t off) {
                    for (const auto& d : descs) {
                        out.push_back({p + std::string(d.name), d, off});
                        off += d.size();
                    }
                };
                if (!states) add(L::parameters(), param_base + param_off[i]);
                else if constexpr (requires { L::states(); }) add(L::states(), state_base + state_off[i]);
            }
        });
    }
};
}  // namespace detail

namespace detail {
/// Two branches on the same input: their parameters, states and caches side by side, and running
/// both (what residual and concat share; they differ only in how the outputs merge).
template <class In, class T, class P, class A, class B>
struct branch_pair {
    using a_branch = branch<In, T, P, A>;
    using b_branch = branch<In, T, P, B>;
    using value_type = T;
    using input_shape = In;
    static constexpr std::size_t parameter_count = a_branch::parameter_count + b_branch::parameter_count;
    static constexpr std::size_t state_count = a_branch::state_count + b_branch::state_count;
    static constexpr std::size_t cache_size = a_branch::cache_size + b_branch::cache_size;
    static constexpr std::size_t widest = std::max(a_branch::widest, b_branch::widest);
    static constexpr std::array<param_desc, 0> parameters() noexcept { return {}; }  // named by layout()

    void attach(T* p, T* g) noexcept {
        m_a.attach(p, g);
        m_b.attach(p + a_branch::parameter_count, g + a_branch::parameter_count);
    }
    void attach_state(T* s) noexcept {
        m_a.attach_state(s);
        m_b.attach_state(s + a_branch::state_count);
    }
    void init(rng& g) {
        m_a.init(g);
        m_b.init(g);
    }
    /// Both branches' outputs of a training forward (kept in @p cache).
    std::pair<const T*, const T*> forward_both(const T* x, std::size_t batch, T* cache, mode m) {
        const T* a = m_a.forward(x, batch, cache, m);
        return {a, m_b.forward(x, batch, cache + batch * a_branch::cache_size, m)};
    }
    /// Both branches' outputs at inference, in workspace `Use`.
    template <int Use>
    std::pair<const T*, const T*> predict_both(const T* x, std::size_t batch) const {
        T* s = ops::detail::workspace<P, T, Use>(4 * widest * batch);
        return {m_a.predict(x, batch, s, s + widest * batch), m_b.predict(x, batch, s + 2 * widest * batch, s + 3 * widest * batch)};
    }
    /// Backward of both branches from their output gradients da, db: dx = dx_a + dx_b (when dx is not
    /// null); `Use` names the scratch workspace.
    template <int Use>
    void backward_both(const T* x, const T* da, const T* db, T* dx, std::size_t batch, const T* cache, bool param_grads) {
        T* c = const_cast<T*>(cache);  // (the branches read their own activations from it)
        T* s = ops::detail::workspace<P, T, Use>(3 * widest * batch);
        T* dx_b = dx ? s + 2 * widest * batch : nullptr;
        run_backward(m_a, x, da, dx, batch, c, param_grads, s);
        run_backward(m_b, x, db, dx_b, batch, c + batch * a_branch::cache_size, param_grads, s);
        if (dx) ops::add<P>(dx, dx_b, dx, batch * In::size);
    }
    void layout_both(const std::string& prefix_a, const std::string& prefix_b, std::size_t param_base, std::size_t state_base,
                     bool states, std::vector<parameter_entry>& out) const {
        m_a.layout(prefix_a, param_base, state_base, states, out);
        m_b.layout(prefix_b, param_base + a_branch::parameter_count, state_base + a_branch::state_count, states, out);
    }

private:
    /// A branch's backward; the identity branch passes its gradient through.
    template <class Br>
    static void run_backward(Br& br, const T* x, const T* d, T* dx, std::size_t batch, T* cache, bool param_grads, T* s) {
        if constexpr (Br::depth == 0) {
            if (dx) ops::copy<P>(dx, d, batch * In::size);
        } else
            br.backward(x, d, dx, batch, cache, param_grads, s, s + widest * batch);
    }
    a_branch m_a;
    b_branch m_b;
};
}  // namespace detail

/// How a residual block names its branches' entries: `<block>.main.<i>.` / `<block>.shortcut.<i>.`
/// (positional), or, with `flat`, only by the layers' own `named<>` names (torchvision's BasicBlock:
/// `layer1.0.conv1.weight`, `layer1.0.downsample.0.weight`).
enum class branch_names { positional, flat };

/// y = main(x) + shortcut(x). Shapes are checked at compile time: both branches must produce the
/// same shape (a projection shortcut — conv2d 1×1 with stride, batch_norm2d — makes them agree).
template <class Main, class Shortcut = chain<>, branch_names Names = branch_names::positional>
struct residual {
    template <shape_type In, class T, class P = cpu>
    struct bind : detail::branch_pair<In, T, P, Main, Shortcut> {
        using base = detail::branch_pair<In, T, P, Main, Shortcut>;
        static_assert(std::is_same_v<typename base::a_branch::output_shape, typename base::b_branch::output_shape>,
                      "ctnn::residual: the main branch and the shortcut produce different shapes; give the shortcut a "
                      "projection (e.g. chain<conv2d<F, 1, {.stride = S, .bias = false}>, batch_norm2d<>>)");
        using output_shape = typename base::a_branch::output_shape;
        static constexpr std::string_view name = "residual";

        void forward(const T* x, T* y, std::size_t batch, T* cache, mode m) {
            const auto [a, b] = this->forward_both(x, batch, cache, m);
            ops::add<P>(a, b, y, batch * output_shape::size);
        }
        void predict(const T* x, T* y, std::size_t batch) const {
            const auto [a, b] = this->template predict_both<10>(x, batch);
            ops::add<P>(a, b, y, batch * output_shape::size);
        }
        void backward(const T* x, const T*, const T* dy, T* dx, std::size_t batch, const T* cache, bool param_grads) {
            this->template backward_both<11>(x, dy, dy, dx, batch, cache, param_grads);
        }
        /// Names and offsets of the block's parameters or states for a model's state_dict.
        void layout(const std::string& prefix, std::size_t param_base, std::size_t state_base, bool states,
                    std::vector<parameter_entry>& out) const {
            const bool flat = Names == branch_names::flat;
            this->layout_both(flat ? prefix : prefix + "main.", flat ? prefix : prefix + "shortcut.", param_base, state_base, states,
                              out);
        }
    };
};

/// y = [a(x), b(x)] along the last (channel) dimension: two branches of layer chains on the same input
/// whose outputs agree in every dimension but the last (Inception/DenseNet-style merges; `chain<>` is
/// the input itself). Entries are named `<block>.a.<i>.` and `<block>.b.<i>.`.
template <class A, class B>
struct concat {
    template <shape_type In, class T, class P = cpu>
    struct bind : detail::branch_pair<In, T, P, A, B> {
        using base = detail::branch_pair<In, T, P, A, B>;
        using a_shape = typename base::a_branch::output_shape;
        using b_shape = typename base::b_branch::output_shape;
        static constexpr std::size_t ca = last_dim_v<a_shape>, cb = last_dim_v<b_shape>;
        static_assert(a_shape::size / ca == b_shape::size / cb && a_shape::rank == b_shape::rank,
                      "ctnn::concat: the branches' outputs must agree in every dimension but the last (channels)");
        using output_shape = with_last_t<a_shape, ca + cb>;
        static constexpr std::string_view name = "concat";

        void forward(const T* x, T* y, std::size_t batch, T* cache, mode m) {
            const auto [a, b] = this->forward_both(x, batch, cache, m);
            join(a, b, y, batch);
        }
        void predict(const T* x, T* y, std::size_t batch) const {
            const auto [a, b] = this->template predict_both<12>(x, batch);
            join(a, b, y, batch);
        }
        void backward(const T* x, const T*, const T* dy, T* dx, std::size_t batch, const T* cache, bool param_grads) {
            T* da = ops::detail::workspace<P, T, 13>((a_shape::size + b_shape::size) * batch);
            T* db = da + a_shape::size * batch;
            ops::resample<P>(conv::concat_channels<T>{da, db, const_cast<T*>(dy), ca, cb, true}, batch * output_shape::size);
            this->template backward_both<14>(x, da, db, dx, batch, cache, param_grads);
        }
        void layout(const std::string& prefix, std::size_t param_base, std::size_t state_base, bool states,
                    std::vector<parameter_entry>& out) const {
            this->layout_both(prefix + "a.", prefix + "b.", param_base, state_base, states, out);
        }

    private:
        static void join(const T* a, const T* b, T* y, std::size_t batch) {
            ops::resample<P>(conv::concat_channels<T>{const_cast<T*>(a), const_cast<T*>(b), y, ca, cb, false},
                             batch * output_shape::size);
        }
    };
};

}  // namespace ctnn
