// SPDX-License-Identifier: MIT
#pragma once
/// @file chain.hpp  The one chain implementation: a list of layer specs bound one after the other and
/// run as a single composite layer. `sequential` is a chain with buffers and a context around it; the
/// branches of residual/concat/parallel blocks and the nodes of graphs are chains; `chain<...>` and a
/// model type are layer specs, so chains nest to any depth.
///
/// What a chain does for its layers, identically at every depth: parameter and state offsets, entry
/// names (`<i>.<name>`, or a layer's `named<>` name), fusing a dense/conv layer with the activation
/// after it, freezing (both modes), train/eval, the input gradient only where something needs it, and
/// the scratch plan (below).
///
/// Scratch plan: a layer that needs temporary memory declares `scratch_size(batch)`; a chain needs its
/// own ping-pong buffers (2 · widest · batch) followed by the largest of its layers' needs, since its
/// layers run one after another. Nested containers get the region after their parent's own, so the
/// plan is a stack laid out at compile time per model type; the model reserves it once per context
/// (and per thread for predict). No buffer is shared between two things that are live at once.
#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "../backend/buffer.hpp"
#include "../core/error.hpp"
#include "../core/random.hpp"
#include "../layers/concepts.hpp"
#include "../layers/named.hpp"
#include "../layers/reshape.hpp"
#include "../ops/ops.hpp"
#include "composite.hpp"

namespace ctnn {

/// The per-sample input shape of a model; the first type of a `sequential`, e.g. `input<28, 28, 1>`.
template <std::size_t... Dims>
struct input {
    using shape_type = ctnn::shape<Dims...>;
};

namespace detail {
template <class In, class T, class P, class... Specs>
class chain_core;
}

/// A list of layer specs run one after the other: `chain<conv2d<64, 3, {.padding = 1}>, batch_norm2d<>,
/// relu>`. A layer spec itself (a sub-model; entries `<i>.<j>.<name>` as a nested nn.Sequential) and
/// the branch type of blocks; `chain<>` is the identity.
template <class... Specs>
struct chain {
    template <shape_type In, class T, class P = cpu>
    using bind = detail::chain_core<In, T, P, Specs...>;
};

namespace detail {
template <class T>
inline constexpr bool is_input_v = false;
template <std::size_t... D>
inline constexpr bool is_input_v<input<D...>> = true;

/// The shape of an input<...>; shape<1> for anything else, so that a model whose first type is not
/// an input<...> fails with its own static_assert first (its base classes still instantiate).
template <class I>
struct input_shape_of {
    using type = shape<1>;
};
template <std::size_t... D>
struct input_shape_of<input<D...>> {
    using type = shape<D...>;
};
template <class I>
using input_shape_of_t = typename input_shape_of<I>::type;

inline constexpr char invalid_name[] = "invalid";
/// Stands in for a type that is not a layer spec, so the static_assert is the only error shown.
struct invalid_spec {
    template <shape_type In, class T, class P = cpu>
    using bind = reinterpret_layer<In, In, T, invalid_name, P>;
};

/// Binds each spec to the output shape of the previous one; yields std::tuple<bound layers...>.
template <class In, class T, class P, class... Specs>
struct bind_chain {
    using type = std::tuple<>;
};
template <class In, class T, class P, class S, class... Rest>
struct bind_chain<In, T, P, S, Rest...> {
    static_assert(layer_spec<S>,
                  "ctnn::sequential: every type after input<...> must be a layer spec such as dense<N>, relu or "
                  "flatten; check the layer list for a typo or a missing template argument");
    using bound = typename std::conditional_t<layer_spec<S>, S, invalid_spec>::template bind<In, T, P>;
    static_assert(check_layer_contract<bound>());
    using type = decltype(std::tuple_cat(std::declval<std::tuple<bound>>(),
                                         std::declval<typename bind_chain<typename bound::output_shape, T, P, Rest...>::type>()));
};

// ---- calling a layer with or without its capabilities ------------------------------------------

template <class L>
constexpr std::size_t scratch_of(std::size_t batch) noexcept {
    if constexpr (scratch_layer<L>) return L::scratch_size(batch);
    else return 0;
}
template <class L, class T>
void call_forward(L& l, const T* x, T* y, std::size_t batch, T* cache, mode m, T* scratch) {
    if constexpr (scratch_layer<L>) l.forward(x, y, batch, cache, m, scratch);
    else l.forward(x, y, batch, cache, m);
}
template <class L, class T>
void call_predict(const L& l, const T* x, T* y, std::size_t batch, T* scratch) {
    if constexpr (scratch_layer<L>) l.predict(x, y, batch, scratch);
    else l.predict(x, y, batch);
}
template <class L, class T>
void call_predict_fused(const L& l, const T* x, T* y, std::size_t batch, activation_kind k, T slope, T* scratch) {
    if constexpr (scratch_layer<L>) l.predict_fused(x, y, batch, k, slope, scratch);
    else l.predict_fused(x, y, batch, k, slope);
}
template <class L, class T>
void call_backward(L& l, const T* x, const T* y, const T* dy, T* dx, std::size_t batch, const T* cache, bool param_grads,
                   T* scratch) {
    if constexpr (scratch_layer<L>) l.backward(x, y, dy, dx, batch, cache, param_grads, scratch);
    else l.backward(x, y, dy, dx, batch, cache, param_grads);
}

/// The composite base over the bound layers of a tuple.
template <class Derived, class T, class Tuple>
struct composite_of;
template <class Derived, class T, class... L>
struct composite_of<Derived, T, std::tuple<L...>> {
    using type = composite<Derived, T, L...>;
};

/// A chain of layers bound to input shape In, value type T and policy P; see the file comment.
template <class In, class T, class P, class... Specs>
class chain_core
    : public composite_of<chain_core<In, T, P, Specs...>, T, typename bind_chain<In, T, P, Specs...>::type>::type {
    using base = typename composite_of<chain_core, T, typename bind_chain<In, T, P, Specs...>::type>::type;
    friend base;

public:
    using layers = typename bind_chain<In, T, P, Specs...>::type;
    static constexpr std::size_t depth = sizeof...(Specs);
    template <std::size_t I>
    using layer_type = std::tuple_element_t<I, layers>;
    using value_type = T;
    using policy = P;
    using input_shape = In;
    using output_shape = typename decltype([] {
        if constexpr (depth == 0) return std::type_identity<In>{};
        else return std::type_identity<typename std::tuple_element_t<depth - 1, layers>::output_shape>{};
    }())::type;
    static constexpr std::string_view name = "chain";

    /// True when layer I computes layer I+1 (an activation) in its epilogue: bias and activation are
    /// applied to each output tile in registers, layer I+1 does no pass of its own, and layer I's
    /// pre-activation output is not stored.
    template <std::size_t I>
    static constexpr bool fuses_next() {
        if constexpr (I + 1 >= depth) return false;
        else {
            using L = layer_type<I>;
            using A = layer_type<I + 1>;
            if constexpr (fusing_layer<L> && fusable_activation<A>) return L::fuses_activation && A::fusable;
            else return false;
        }
    }
    template <std::size_t I>
    static constexpr bool fused_into_previous() {
        if constexpr (I == 0) return false;
        else return fuses_next<I - 1>();
    }

private:
    using idx = std::make_index_sequence<depth>;

public:
    using base::parameter_count;
    using base::parameter_offsets;
    using base::state_count;
    using base::state_offsets;
    /// Per sample, inside the cache: the stored output of each layer but the last (none for a layer
    /// fused with the next: the activation's output is stored instead), then each layer's own cache.
    static constexpr auto output_offsets = base::child_sums([](auto t, auto i) {
        return i() + 1 < depth && !fuses_next<i()>() ? decltype(t)::type::output_shape::size : std::size_t(0);
    });
    static constexpr auto cache_offsets = base::child_sums([](auto t, auto) { return decltype(t)::type::cache_size; });
    static constexpr std::size_t cache_size = output_offsets[depth] + cache_offsets[depth];
    /// The widest per-sample tensor at any point of the chain (input included).
    static constexpr std::size_t widest = [] {
        std::size_t m = In::size;
        static_for([&](auto i) { m = std::max<std::size_t>(m, layer_type<i>::output_shape::size); }, idx{});
        return m;
    }();
    /// Scratch for any call with up to @p batch samples: two ping-pong buffers, then the largest need
    /// of a layer (the layers run one after another, so they share that region).
    static constexpr std::size_t scratch_size(std::size_t batch) noexcept {
        std::size_t m = 0;
        static_for([&](auto i) { m = std::max(m, scratch_of<layer_type<i>>(batch)); }, idx{});
        return 2 * widest * batch + m;
    }
    /// The input check of the first layer (an embedding's ids), when it has one: run on host memory by
    /// the model before anything is uploaded or computed.
    static void check_input(const T* x, std::size_t n)
        requires(depth > 0 && requires { layer_type<0>::check_input(x, n); })
    {
        layer_type<0>::check_input(x, n);
    }

    /// Where layer I's output lives: @p y for the last layer, else its slot in @p cache.
    template <std::size_t I>
    static T* output_of(T* cache, T* y, std::size_t batch) noexcept {
        if constexpr (I + 1 == depth) return y;
        else if constexpr (fuses_next<I>()) return output_of<I + 1>(cache, y, batch);  // (never read)
        else return cache + batch * output_offsets[I];
    }
    static T* layer_cache(T* cache, std::size_t batch, std::size_t i) noexcept {
        return cache + batch * (output_offsets[depth] + cache_offsets[i]);
    }

    /// Training forward: y [batch, output...] from x; keeps in @p cache (cache_size · batch values) what
    /// backward needs. Frozen layers in `frozen_mode::eval` run in eval mode.
    void forward(const T* x, T* y, std::size_t batch, T* cache, mode m, T* scratch) {
        if constexpr (depth == 0) ops::copy<P>(y, x, batch * In::size);
        T* const s = scratch + 2 * widest * batch;
        static_for(
            [&](auto i) {
                constexpr std::size_t I = i();
                if constexpr (!fused_into_previous<I>()) {
                    const T* in = I == 0 ? x : static_cast<const T*>(output_of<(I > 0 ? I - 1 : 0)>(cache, y, batch));
                    auto& l = std::get<I>(this->m_children);
                    if constexpr (fuses_next<I>()) {
                        using A = layer_type<I + 1>;
                        call_predict_fused(l, in, output_of<I + 1>(cache, y, batch), batch, A::kind, A::slope, s);
                    } else
                        call_forward(l, in, output_of<I>(cache, y, batch), batch, layer_cache(cache, batch, I), this->child_mode(I, m), s);
                }
            },
            idx{});
    }

    /// Inference: y from x (eval mode), scratch_size(batch) values of @p scratch.
    void predict(const T* x, T* y, std::size_t batch, T* scratch) const {
        if constexpr (depth == 0) ops::copy<P>(y, x, batch * In::size);
        T* const s = scratch + 2 * widest * batch;
        const T* cur = x;
        std::size_t free = 0;  // the ping-pong buffer that does not hold `cur`
        static_for(
            [&](auto i) {
                constexpr std::size_t I = i();
                if constexpr (!fused_into_previous<I>()) {
                    constexpr std::size_t last = fuses_next<I>() ? I + 1 : I;
                    T* dst = last + 1 == depth ? y : scratch + free * widest * batch;
                    const auto& l = std::get<I>(this->m_children);
                    if constexpr (fuses_next<I>()) {
                        using A = layer_type<I + 1>;
                        call_predict_fused(l, cur, dst, batch, A::kind, A::slope, s);
                    } else
                        call_predict(l, cur, dst, batch, s);
                    cur = dst;
                    free ^= 1;
                }
            },
            idx{});
    }

    /// Backward of the last forward on @p cache: accumulates the gradients of every trainable layer
    /// when @p param_grads, writes dL/dx into @p dx unless it is null, and skips every layer before the
    /// last one that needs anything.
    void backward(const T* x, const T* y, const T* dy, T* dx, std::size_t batch, const T* cache, bool param_grads, T* scratch) {
        if constexpr (depth == 0) {
            if (dx) ops::copy<P>(dx, dy, batch * In::size);
        } else {
            T* const c = const_cast<T*>(cache);  // (layers read their outputs from it)
            T* const out = const_cast<T*>(y);
            T* const g[2] = {scratch, scratch + widest * batch};
            T* const s = scratch + 2 * widest * batch;
            const T* cur = dy;
            bool go = true;
            static_for(
                [&](auto r) {
                    constexpr std::size_t J = depth - 1 - r();
                    if (!go) return;
                    const bool grads = param_grads && !this->m_frozen[J];
                    T* d = nullptr;
                    if constexpr (J == 0) d = dx;
                    else if (dx || (param_grads && m_trainable_before[J])) d = g[J % 2];
                    const T* in = J == 0 ? x : static_cast<const T*>(output_of<(J > 0 ? J - 1 : 0)>(c, out, batch));
                    call_backward(std::get<J>(this->m_children), in, static_cast<const T*>(output_of<J>(c, out, batch)), cur, d, batch,
                                  static_cast<const T*>(layer_cache(c, batch, J)), grads, s);
                    cur = d;
                    go = d != nullptr;
                },
                idx{});
        }
    }

    /// Layer i's entries are `<prefix><i>.<name>` (or `<prefix><given name>.<name>` for a `named<>` layer).
    template <std::size_t K>
    static std::string child_prefix(const std::string& prefix, std::integral_constant<std::size_t, K>) {
        return entry_prefix<layer_type<K>>(prefix, K);
    }
    /// Recomputes which layers are trainable and which have a trainable layer before them (there
    /// backward must produce dx).
    void update_trainable() noexcept {
        base::update_trainable();
        bool any = false;
        for (std::size_t i = 0; i < depth; ++i) {
            m_trainable_before[i] = any;
            any = any || this->child_trainable(i);
        }
    }

    /// Layer @p I (bound type).
    template <std::size_t I>
    auto& layer() noexcept {
        return std::get<I>(this->m_children);
    }
    template <std::size_t I>
    const auto& layer() const noexcept {
        return std::get<I>(this->m_children);
    }

    chain_core() { update_trainable(); }

private:
    std::array<bool, depth> m_trainable_before{};
};

}  // namespace detail
}  // namespace ctnn
