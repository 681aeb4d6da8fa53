// SPDX-License-Identifier: MIT
#pragma once
/// @file graph.hpp  Multi-input, multi-output models: `graph<inputs<...>, node<source, spec>...,
/// outputs<ids...>>`. Ids number the inputs first (0, 1, ...), then the nodes in order; a node reads
/// one earlier id (`from<i>`) or several merged (`add_of<i, j>`, `average_of<...>`, `concat_of<i, j>`, `multiply_of<i, j>`)
/// and runs a layer spec on it — usually a `chain<...>` (model/chain.hpp), so each node is the same
/// chain implementation as a sequential model. Shapes are checked at compile time.
///
/// ```cpp
/// using ncf = graph<inputs<input<32>, input<48>>,                        // 0: user, 1: item
///                   node<from<0>, named<"user", chain<dense<16>, relu>>>,   // 2
///                   node<from<1>, named<"item", chain<dense<16>, relu>>>,   // 3
///                   node<concat_of<2, 3>, named<"head", chain<dense<1>>>>,  // 4
///                   outputs<4>>;
/// ```
/// State_dict entries are `<node name>.<i>.<param>` (a node's `named<>` name, else its id), as the
/// attributes of a custom nn.Module holding nn.Sequential members.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>
#include <xtensor/xtensor.hpp>

#include "../core/tensor.hpp"
#include "../layers/residual.hpp"
#include "chain.hpp"
#include "composite.hpp"
#include "model_base.hpp"

namespace ctnn {

/// The inputs of a graph, in id order: `inputs<input<28, 28, 1>, input<16>>`.
template <class... Inputs>
struct inputs {};
/// The node ids a graph returns, in order: `outputs<5, 7>`.
template <std::size_t... Ids>
struct outputs {};
/// A node's source: the value of one earlier id.
template <std::size_t Id>
struct from {};
/// A node's source: several earlier ids merged by M (add, average: same shapes; concat: two ids whose
/// shapes differ only in the last dimension).
template <merge M, std::size_t... Ids>
struct merged {};
template <std::size_t... Ids>
using add_of = merged<merge::add, Ids...>;
template <std::size_t... Ids>
using average_of = merged<merge::average, Ids...>;
template <std::size_t... Ids>
using concat_of = merged<merge::concat, Ids...>;
/// The element-wise product of two ids of the same shape (a GMF tower: user ⊙ item embeddings); the gradient
/// of each is the incoming gradient times the other.
template <std::size_t... Ids>
using multiply_of = merged<merge::multiply, Ids...>;
/// A node: a layer spec (a chain, a block, a model type, any layer) applied to its source.
template <class Source, class Spec>
struct node {};

namespace detail {
template <class S>
struct source_traits {
    static constexpr bool valid = false;
};
template <std::size_t I>
struct source_traits<from<I>> {
    static constexpr bool valid = true, single = true;
    static constexpr merge kind = merge::add;
    static constexpr std::array<std::size_t, 1> ids{I};
};
template <merge M, std::size_t... I>
struct source_traits<merged<M, I...>> {
    static_assert(sizeof...(I) >= 2, "ctnn::graph: merged<...> (add_of, average_of, concat_of) needs at least two ids; "
                                     "use from<i> for one");
    static_assert(M != merge::concat || sizeof...(I) == 2, "ctnn::graph: concat_of joins exactly two ids; chain nodes for more");
    static_assert(M != merge::multiply || sizeof...(I) == 2, "ctnn::graph: multiply_of multiplies exactly two ids; chain nodes for more");
    static constexpr bool valid = true, single = false;
    static constexpr merge kind = M;
    static constexpr std::array<std::size_t, sizeof...(I)> ids{I...};
};

template <class Shapes, class Source>
struct merged_shape;
template <class... S, std::size_t I>
struct merged_shape<std::tuple<S...>, from<I>> {
    static_assert(I < sizeof...(S), "ctnn::graph: a node reads an id that is not an input or an earlier node; a node may only "
                                    "read inputs and the nodes before it");
    using type = std::tuple_element_t<(I < sizeof...(S) ? I : 0), std::tuple<S...>>;
};
template <class... S, merge M, std::size_t... I>
struct merged_shape<std::tuple<S...>, merged<M, I...>> {
    static_assert(((I < sizeof...(S)) && ...), "ctnn::graph: a node reads an id that is not an input or an earlier node; a "
                                                "node may only read inputs and the nodes before it");
    template <std::size_t J>
    using at = std::tuple_element_t<(J < sizeof...(S) ? J : 0), std::tuple<S...>>;
    using first = at<source_traits<merged<M, I...>>::ids[0]>;
    static_assert(M == merge::concat || (std::is_same_v<at<I>, first> && ...),
                  "ctnn::graph: add_of, average_of and multiply_of merge ids of the same shape; give the branches matching output shapes");
    static_assert(M != merge::concat || ((at<I>::rank == first::rank && at<I>::size / last_dim_v<at<I>> == first::size / last_dim_v<first>) && ...),
                  "ctnn::graph: concat_of joins ids whose shapes agree in every dimension but the last");
    using type = std::conditional_t<M == merge::concat, with_last_t<first, (last_dim_v<at<I>> + ...)>, first>;
};

template <class N>
inline constexpr bool is_node_v = false;
template <class S, class Spec>
inline constexpr bool is_node_v<node<S, Spec>> = true;

/// Binds each node's spec to the shape of its (merged) source; `type`: the bound layers, `shapes`:
/// the shapes of every id (inputs, then nodes), `sources`: the source types.
template <class T, class P, class Shapes, class... Nodes>
struct bind_nodes {
    using type = std::tuple<>;
    using shapes = Shapes;
    using sources = std::tuple<>;
};
template <class T, class P, class Shapes, class N, class... Rest>
struct bind_nodes<T, P, Shapes, N, Rest...> {
    static_assert(is_node_v<N>, "ctnn::graph: after inputs<...> come node<source, spec> entries, then outputs<ids...>");
};
template <class T, class P, class... S, class Src, class Spec, class... Rest>
struct bind_nodes<T, P, std::tuple<S...>, node<Src, Spec>, Rest...> {
    static_assert(source_traits<Src>::valid, "ctnn::graph: a node's source must be from<id>, add_of<ids...>, average_of<ids...>, "
                                            "concat_of<id, id> or multiply_of<id, id>");
    static_assert(layer_spec<Spec>, "ctnn::graph: a node's second argument must be a layer spec such as chain<dense<16>, relu>");
    using in_shape = typename merged_shape<std::tuple<S...>, Src>::type;
    using bound = typename Spec::template bind<in_shape, T, P>;
    static_assert(check_layer_contract<bound>());
    using next = bind_nodes<T, P, std::tuple<S..., typename bound::output_shape>, Rest...>;
    using type = decltype(std::tuple_cat(std::declval<std::tuple<bound>>(), std::declval<typename next::type>()));
    using shapes = typename next::shapes;
    using sources = decltype(std::tuple_cat(std::declval<std::tuple<Src>>(), std::declval<typename next::sources>()));
};

/// The node types of a graph's arguments (all but the last, which is outputs<...>).
template <class Tuple, class Seq>
struct drop_last_impl;
template <class Tuple, std::size_t... I>
struct drop_last_impl<Tuple, std::index_sequence<I...>> {
    using type = std::tuple<std::tuple_element_t<I, Tuple>...>;
};
template <class... X>
using all_but_last = typename drop_last_impl<std::tuple<X...>, std::make_index_sequence<sizeof...(X) - 1>>::type;
template <class O>
struct output_ids {
    static constexpr bool valid = false;
};
template <std::size_t... Ids>
struct output_ids<outputs<Ids...>> {
    static constexpr bool valid = true;
    static constexpr std::array<std::size_t, sizeof...(Ids)> ids{Ids...};
};
template <class I>
struct input_shapes;
template <class... In>
struct input_shapes<inputs<In...>> {
    static_assert((is_input_v<In> && ...), "ctnn::graph: inputs<...> lists input<dims...> types, e.g. inputs<input<28, 28, 1>, input<16>>");
    using type = std::tuple<typename In::shape_type...>;
};

/// The layers of a graph bound into its flat buffers, and forward/backward/predict over per-id value
/// buffers (see policy_graph for the memory a context holds).
template <class T, class P, class InputShapes, class Nodes>
class graph_core;
template <class T, class P, class... InShapes, class... Nodes>
class graph_core<T, P, std::tuple<InShapes...>, std::tuple<Nodes...>>
    : public composite_of<graph_core<T, P, std::tuple<InShapes...>, std::tuple<Nodes...>>, T,
                          typename bind_nodes<T, P, std::tuple<InShapes...>, Nodes...>::type>::type {
    using bound = bind_nodes<T, P, std::tuple<InShapes...>, Nodes...>;
    using base = typename composite_of<graph_core, T, typename bound::type>::type;
    friend base;

public:
    using value_type = T;
    using policy = P;
    using layers = typename bound::type;
    using shapes = typename bound::shapes;
    using sources = typename bound::sources;
    static constexpr std::size_t input_count = sizeof...(InShapes), node_count = sizeof...(Nodes);
    static constexpr std::size_t id_count = input_count + node_count;
    template <std::size_t K>
    using layer_type = std::tuple_element_t<K, layers>;
    template <std::size_t Id>
    using shape_of = std::tuple_element_t<Id, shapes>;
    static constexpr std::string_view name = "graph";

private:
    using nidx = std::make_index_sequence<node_count>;
    template <std::size_t K>
    using source_of = source_traits<std::tuple_element_t<K, sources>>;

public:
    /// How node K reads: `single`, `kind` and `ids` of its source.
    template <std::size_t K>
    using source_traits_of = source_of<K>;

    using base::parameter_count;
    using base::parameter_offsets;
    using base::state_count;
    using base::state_offsets;
    /// Per sample: each node's cache, and each merged node's merged input.
    static constexpr auto cache_offsets = base::child_sums([](auto t, auto) { return decltype(t)::type::cache_size; });
    static constexpr auto merged_offsets = base::child_sums([](auto t, auto k) {
        return source_of<k()>::single ? std::size_t(0) : decltype(t)::type::input_shape::size;
    });
    /// Per sample: where each id's value (and gradient) lives.
    static constexpr auto value_offsets = [] {
        std::array<std::size_t, id_count + 1> o{};
        std::size_t acc = 0;
        static_for([&](auto i) { o[i] = acc, acc += shape_of<i()>::size; }, std::make_index_sequence<id_count>{});
        o[id_count] = acc;
        return o;
    }();
    static constexpr std::size_t value_size = value_offsets[id_count];
    static constexpr std::size_t cache_size = cache_offsets[node_count] + merged_offsets[node_count];
    static constexpr std::size_t widest_input = [] {
        std::size_t m = 0;
        static_for([&](auto k) { m = std::max<std::size_t>(m, layer_type<k>::input_shape::size); }, nidx{});
        return m;
    }();
    /// Backward scratch: a node's input gradient and its split or scaled copy, then the layers' own.
    static constexpr std::size_t scratch_size(std::size_t batch) noexcept {
        std::size_t m = 0;
        static_for([&](auto k) { m = std::max(m, scratch_of<layer_type<k>>(batch)); }, nidx{});
        return 2 * widest_input * batch + m;
    }
    /// Predict scratch: every id's value and one merged input, then the layers' own.
    static constexpr std::size_t predict_scratch_size(std::size_t batch) noexcept {
        return (value_size + widest_input) * batch + scratch_size(batch);
    }

    /// Training forward over @p values (value_size · batch: inputs already written) keeping what backward
    /// needs in @p cache.
    void forward(T* values, std::size_t batch, T* cache, mode m, T* scratch) {
        T* const s = scratch + 2 * widest_input * batch;
        this->each([&](auto& l, auto k) {
            constexpr std::size_t K = k(), id = input_count + K;
            const T* in = gather<K>(values, cache + batch * (cache_offsets[node_count] + merged_offsets[K]), batch);
            call_forward(l, in, values + batch * value_offsets[id], batch, cache + batch * cache_offsets[K], this->child_mode(K, m), s);
        });
    }
    /// Inference: @p values as in forward, then eval-mode nodes; @p merged: widest_input · batch.
    void predict(T* values, std::size_t batch, T* merged_in, T* scratch) const {
        T* const s = scratch + 2 * widest_input * batch;
        this->each([&](const auto& l, auto k) {
            constexpr std::size_t K = k(), id = input_count + K;
            const T* in = gather<K>(values, merged_in, batch);
            call_predict(l, in, values + batch * value_offsets[id], batch, s);
        });
    }
    /// Backward: @p grads (value_size · batch) holds dL/d(value) of the outputs on entry (zero
    /// elsewhere); accumulates parameter gradients and, where @p input_gradient, leaves dL/d(input i)
    /// in the inputs' slots of @p grads.
    void backward(const T* values, T* grads, std::size_t batch, const T* cache, bool input_gradient, T* scratch,
                  bool param_grads = true) {
        std::array<bool, id_count> needs{};
        for (std::size_t i = 0; i < input_count; ++i) needs[i] = input_gradient;
        this->each([&](auto&, auto k) {
            constexpr std::size_t K = k();
            bool any = param_grads && this->child_trainable(K);
            for (std::size_t src : source_of<K>::ids) any = any || needs[src];
            needs[input_count + K] = any;
        });
        T* const c = const_cast<T*>(cache);
        T* const d_in = scratch;
        T* const d_part = scratch + widest_input * batch;
        T* const s = scratch + 2 * widest_input * batch;
        static_for(
            [&](auto r) {
                constexpr std::size_t K = node_count - 1 - r(), id = input_count + K;
                if (!needs[id]) return;
                using L = layer_type<K>;
                using src = source_of<K>;
                bool want_dx = false;
                for (std::size_t i : src::ids) want_dx = want_dx || needs[i];
                const T* in = src::single ? values + batch * value_offsets[src::ids[0]]
                                          : c + batch * (cache_offsets[node_count] + merged_offsets[K]);
                call_backward(std::get<K>(this->m_children), in, values + batch * value_offsets[id],
                              static_cast<const T*>(grads + batch * value_offsets[id]), want_dx ? d_in : nullptr, batch,
                              static_cast<const T*>(c + batch * cache_offsets[K]), param_grads && !this->m_frozen[K], s);
                if (want_dx) scatter<K>(d_in, d_part, grads, values, batch, needs);
                (void)sizeof(L);
            },
            nidx{});
    }

    /// Node k's entries: its `named<>` name or its id.
    template <std::size_t K>
    static std::string child_prefix(const std::string& prefix, std::integral_constant<std::size_t, K>) {
        return entry_prefix<layer_type<K>>(prefix, input_count + K);
    }
    template <std::size_t K>
    auto& layer() noexcept {
        return this->template child<K>();
    }
    template <std::size_t K>
    const auto& layer() const noexcept {
        return this->template child<K>();
    }
    graph_core() { this->update_trainable(); }

private:
    /// The input of node K: a source's value, or the sources merged into @p merged_in.
    template <std::size_t K>
    static const T* gather(T* values, T* merged_in, std::size_t batch) {
        using src = source_of<K>;
        using In = typename layer_type<K>::input_shape;
        const std::size_t n = batch * In::size;
        auto val = [&](std::size_t id) { return values + batch * value_offsets[id]; };
        if constexpr (src::single) return val(src::ids[0]);
        else if constexpr (src::kind == merge::concat) {
            constexpr std::size_t ca = last_dim_v<shape_of<src::ids[0]>>, cb = last_dim_v<shape_of<src::ids[1]>>;
            ops::resample<P>(conv::concat_channels<T>{val(src::ids[0]), val(src::ids[1]), merged_in, ca, cb, false}, n);
            return merged_in;
        } else if constexpr (src::kind == merge::multiply) {
            ops::multiply<P>(val(src::ids[0]), val(src::ids[1]), merged_in, n);
            return merged_in;
        } else {
            ops::add<P>(val(src::ids[0]), val(src::ids[1]), merged_in, n);
            for (std::size_t j = 2; j < src::ids.size(); ++j) ops::add<P>(merged_in, val(src::ids[j]), merged_in, n);
            if constexpr (src::kind == merge::average) ops::scale<P>(merged_in, T(1) / T(src::ids.size()), merged_in, n);
            return merged_in;
        }
    }
    /// Adds node K's input gradient @p d_in into its sources' gradients (those that need one).
    template <std::size_t K>
    static void scatter(T* d_in, T* d_part, T* grads, const T* values, std::size_t batch, const std::array<bool, id_count>& needs) {
        using src = source_of<K>;
        auto grad = [&](std::size_t id) { return grads + batch * value_offsets[id]; };
        if constexpr (src::kind == merge::multiply && !src::single) {  // d(a ⊙ b) = d ⊙ b into a, d ⊙ a into b
            constexpr std::size_t a = src::ids[0], b = src::ids[1];
            const std::size_t n = batch * layer_type<K>::input_shape::size;
            const T* va = values + batch * value_offsets[a];
            const T* vb = values + batch * value_offsets[b];
            if (needs[a]) {
                ops::multiply<P>(d_in, vb, d_part, n);
                ops::add<P>(grad(a), d_part, grad(a), n);
            }
            if (needs[b]) {
                ops::multiply<P>(d_in, va, d_part, n);
                ops::add<P>(grad(b), d_part, grad(b), n);
            }
        } else if constexpr (src::kind == merge::concat && !src::single) {
            constexpr std::size_t a = src::ids[0], b = src::ids[1];
            constexpr std::size_t ca = last_dim_v<shape_of<a>>, cb = last_dim_v<shape_of<b>>;
            T* da = d_part;
            T* db = d_part + batch * shape_of<a>::size;
            ops::resample<P>(conv::concat_channels<T>{da, db, d_in, ca, cb, true}, batch * (shape_of<a>::size + shape_of<b>::size));
            if (needs[a]) ops::add<P>(grad(a), da, grad(a), batch * shape_of<a>::size);
            if (needs[b]) ops::add<P>(grad(b), db, grad(b), batch * shape_of<b>::size);
        } else {
            const std::size_t n = batch * layer_type<K>::input_shape::size;
            const T* d = d_in;
            if constexpr (!src::single && src::kind == merge::average) {
                ops::scale<P>(d_in, T(1) / T(src::ids.size()), d_part, n);
                d = d_part;
            }
            for (std::size_t id : src::ids)
                if (needs[id]) ops::add<P>(grad(id), d, grad(id), n);
        }
    }
};

/// A graph with one input and one output as a layer of another model (a block with any inner
/// wiring): its cache holds every id's value and the nodes' caches; its scratch, the gradients of
/// every id (backward) or the values (predict), then the graph's own plan.
template <class Core, std::size_t OutId>
class graph_layer : public Core {
    using T = typename Core::value_type;
    using P = typename Core::policy;
    static_assert(Core::input_count == 1,
                  "ctnn::graph: only a graph with one input and one output is a layer of another model; this one has several inputs");

public:
    using input_shape = typename Core::template shape_of<0>;
    using output_shape = typename Core::template shape_of<OutId>;
    static constexpr std::string_view name = "graph";
    static constexpr std::size_t cache_size = Core::value_size + Core::cache_size;
    static constexpr std::size_t scratch_size(std::size_t batch) noexcept {
        return std::max(Core::predict_scratch_size(batch), Core::value_size * batch + Core::scratch_size(batch));
    }
    void forward(const T* x, T* y, std::size_t batch, T* cache, mode m, T* scratch) {
        ops::copy<P>(cache, x, batch * input_shape::size);  // input slot (id 0 is at offset 0)
        Core::forward(cache, batch, cache + Core::value_size * batch, m, scratch);
        ops::copy<P>(y, cache + batch * Core::value_offsets[OutId], batch * output_shape::size);
    }
    void predict(const T* x, T* y, std::size_t batch, T* scratch) const {
        ops::copy<P>(scratch, x, batch * input_shape::size);
        Core::predict(scratch, batch, scratch + Core::value_size * batch, scratch + (Core::value_size + Core::widest_input) * batch);
        ops::copy<P>(y, scratch + batch * Core::value_offsets[OutId], batch * output_shape::size);
    }
    void backward(const T*, const T*, const T* dy, T* dx, std::size_t batch, const T* cache, bool param_grads, T* scratch) {
        T* g = scratch;
        ops::fill<P>(g, T(0), batch * Core::value_size);
        ops::copy<P>(g + batch * Core::value_offsets[OutId], dy, batch * output_shape::size);
        Core::backward(cache, g, batch, cache + Core::value_size * batch, dx != nullptr, scratch + Core::value_size * batch, param_grads);
        if (dx) ops::copy<P>(dx, g, batch * input_shape::size);
    }
};

}  // namespace detail

/// A graph model over value type T on policy P: `policy_graph<cpu, float, inputs<...>, node<...>...,
/// outputs<...>>`, usually spelled `graph<...>` (float, CPU) and `graph<...>::on<cuda>`. Inputs and
/// outputs are tuples (`std::tie(image, tokens)`); see the file comment for ids and names.
template <class P, class T, class Inputs, class... NodesAndOutputs>
class policy_graph
    : public detail::model_base<P, T,
                                detail::graph_core<T, P, typename detail::input_shapes<Inputs>::type,
                                                   detail::all_but_last<NodesAndOutputs...>>> {
    static_assert(sizeof...(NodesAndOutputs) >= 2, "ctnn::graph: write graph<inputs<...>, node<...>..., outputs<ids...>>");
    using last = std::tuple_element_t<sizeof...(NodesAndOutputs) - 1, std::tuple<NodesAndOutputs...>>;
    static_assert(detail::output_ids<last>::valid, "ctnn::graph: the last argument must be outputs<ids...>");
    using base = detail::model_base<P, T,
                                    detail::graph_core<T, P, typename detail::input_shapes<Inputs>::type,
                                                       detail::all_but_last<NodesAndOutputs...>>>;
    using core = typename base::body_type;
    static constexpr bool on_gpu = std::same_as<P, cuda>;
    using buffer = buffer_t<P, T>;

public:
    using value_type = T;
    using policy = P;
    template <class Q>
    using on = policy_graph<Q, T, Inputs, NodesAndOutputs...>;
    static constexpr std::size_t input_count = core::input_count, node_count = core::node_count;
    static constexpr auto output_ids = detail::output_ids<last>::ids;
    static constexpr std::size_t output_count = output_ids.size();
    template <std::size_t I>
    using input_shape = typename core::template shape_of<I>;
    template <std::size_t J>
    using output_shape = typename core::template shape_of<output_ids[J]>;
    template <std::size_t K>
    using layer_type = typename core::template layer_type<K>;
    static_assert([] {
        for (auto id : output_ids)
            if (id < core::input_count || id >= core::id_count) return false;
        return true;
    }(), "ctnn::graph: outputs<ids...> must name nodes (ids from the number of inputs up to the last node)");
    static_assert([] {
        for (std::size_t a = 0; a < output_ids.size(); ++a)
            for (std::size_t b = a + 1; b < output_ids.size(); ++b)
                if (output_ids[a] == output_ids[b]) return false;
        return true;
    }(), "ctnn::graph: outputs<ids...> lists an id twice; each output is one node");

    /// The graph as a layer of another model (one input, one output): `sequential<input<8>, my_graph,
    /// dense<2>>`; its nodes are named below the layer's index (`1.user.0.weight`).
    template <shape_type In, class U, class Q = cpu>
    struct bind : detail::graph_layer<detail::graph_core<U, Q, typename detail::input_shapes<Inputs>::type,
                                                         detail::all_but_last<NodesAndOutputs...>>,
                                      output_ids[0]> {
        static_assert(output_count == 1, "ctnn::graph: only a graph with one output is a layer of another model");
        static_assert(std::is_same_v<In, input_shape<0>>,
                      "ctnn::graph: a graph used as a layer must receive its own input shape; check the layer before it");
    };

    using base::base;
    /// The same graph (parameters, frozen nodes, mode, dropout streams) on another policy.
    template <class Q>
    explicit policy_graph(const on<Q>& o) : policy_graph(seed{0}) {
        this->copy_from_other_policy(o);
    }

    /// Every id's value and gradient, the nodes' caches and the scratch plan, for up to max_batch.
    class context_type : public detail::lengths_holder<P> {
    public:
        explicit context_type(std::size_t max_batch)
            : m_max_batch(max_batch), m_values(core::value_size * detail::checked_max_batch(max_batch, "graph::context")), m_grads(core::value_size * max_batch),
              m_cache(core::cache_size * max_batch), m_scratch(core::scratch_size(max_batch)) {
            if constexpr (on_gpu) {
                detail::static_for(
                    [&](auto j) {
                        m_d_targets[j].resize(output_shape<j()>::size * max_batch);
                        m_d_labels[j].resize(output_shape<j()>::size * max_batch);  // up to one label per output value (per-step labels)
                    },
                    std::make_index_sequence<output_count>{});
                m_d_losses.resize(output_count);
            }
        }
        std::size_t max_batch() const noexcept { return m_max_batch; }
        std::size_t batch() const noexcept { return m_batch; }
        /// Output J of the last forward, [batch, output...].
        template <std::size_t J>
        auto output() const {
            return view<output_shape<J>>(m_values.data() + m_batch * core::value_offsets[output_ids[J]]);
        }
        /// Where a loss writes dL/d(output J) (sized by the last forward); backward reads it.
        template <std::size_t J>
        auto output_gradient() {
            return view<output_shape<J>>(m_grads.data() + m_batch * core::value_offsets[output_ids[J]]);
        }
        /// dL/d(input I) of the last backward that asked for it.
        template <std::size_t I>
        auto input_gradient() const {
            return view<input_shape<I>>(m_grads.data() + m_batch * core::value_offsets[I]);
        }
        /// The value of any id (input or node) from the last forward.
        template <std::size_t Id>
        auto value() const {
            return view<typename core::template shape_of<Id>>(m_values.data() + m_batch * core::value_offsets[Id]);
        }
        /// CUDA policy: copies output J's target (host memory, checked) to the device; returns where.
        template <std::size_t J, class U>
        const U* upload_target(const U* t, std::size_t n) requires on_gpu {
            if constexpr (std::is_same_v<U, std::int32_t>) {
                copy_from_host<P>(m_d_labels[J].data(), t, n);
                return m_d_labels[J].data();
            } else {
                copy_from_host<P>(m_d_targets[J].data(), t, n);
                return m_d_targets[J].data();
            }
        }
        /// CUDA policy: output J's labels as last uploaded by upload_target.
        const std::int32_t* device_labels(std::size_t j) const noexcept requires on_gpu { return m_d_labels[j].data(); }
        /// CUDA policy: the device scalar output J's loss is written to.
        T* device_loss(std::size_t j) noexcept requires on_gpu { return m_d_losses.data() + j; }

    private:
        friend class policy_graph;
        template <shape_type S, class U>
        auto view(U* p) const {
            return detail::batch_view<P, S>(p, m_batch);
        }
        std::size_t m_max_batch, m_batch = 0;
        buffer m_values, m_grads, m_cache, m_scratch;
        std::array<buffer, on_gpu ? output_count : 0> m_d_targets;
        std::array<buffer_t<P, std::int32_t>, on_gpu ? output_count : 0> m_d_labels;
        buffer m_d_losses;
    };
    context_type context(std::size_t max_batch) const { return context_type(max_batch); }

    /// Training forward from a tuple of inputs (host memory, [batch, input_i...] each; `std::tie(a,
    /// b)`). Returns a tuple of views of the outputs (device views for the CUDA policy).
    template <class... X>
    auto forward(const std::tuple<X...>& xs, context_type& ctx) {
        static_assert(sizeof...(X) == input_count, "ctnn::graph::forward: pass one tensor per input, in id order");
        const std::size_t batch = load_inputs(xs, ctx.m_values.data(), ctx.m_max_batch, "graph::forward: input", &ctx.m_batch);
        const lengths_scope lengths(ctx.lengths_view());
        m_body.forward(ctx.m_values.data(), batch, ctx.m_cache.data(), m_mode, ctx.m_scratch.data());
        return outputs_of(ctx, std::make_index_sequence<output_count>{});
    }
    /// Backward of the last forward: @p dys holds dL/d(output j) for every output (GPU memory for the
    /// CUDA policy; `ctx.output_gradient<j>()` itself is fine). Accumulates parameter gradients; with
    /// @p input_gradient also dL/d(input i) into ctx.input_gradient<i>().
    template <class... DY>
    void backward(const std::tuple<DY...>& dys, context_type& ctx, bool input_gradient = false) {
        static_assert(sizeof...(DY) == output_count, "ctnn::graph::backward: pass one gradient per output, in outputs<...> order");
        const std::size_t batch = ctx.m_batch;
        T* g = ctx.m_grads.data();
        // the outputs' incoming gradients first (they may be ctx.output_gradient<j>() itself), then zeros
        std::array<bool, core::id_count> is_output{};
        detail::static_for(
            [&](auto j) {
                constexpr std::size_t id = output_ids[j()];
                const auto& dy = std::get<j()>(dys);
                const std::size_t n = batch_of<output_shape<j()>>(dy, "graph::backward: output gradient");
                if (n != batch) [[unlikely]]
                    detail::fail("graph::backward: gradient " + std::to_string(j()) + " has batch " + std::to_string(n) +
                                 ", the last forward had " + std::to_string(batch));
                T* slot = g + batch * core::value_offsets[id];
                if (is_output[id]) ops::add<P>(slot, dy.data(), slot, batch * output_shape<j()>::size);
                else if (dy.data() != slot) ops::copy<P>(slot, dy.data(), batch * output_shape<j()>::size);
                is_output[id] = true;
            },
            std::make_index_sequence<output_count>{});
        for (std::size_t id = 0; id < core::id_count; ++id)
            if (!is_output[id])
                ops::fill<P>(g + batch * core::value_offsets[id], T(0), batch * (core::value_offsets[id + 1] - core::value_offsets[id]));
        const lengths_scope lengths(ctx.lengths_view());
        m_body.backward(ctx.m_values.data(), g, batch, ctx.m_cache.data(), input_gradient, ctx.m_scratch.data());
    }

    /// Inference from a tuple of inputs (host memory): a tuple of [batch, output...] tensors. CPU
    /// policy: safe from several threads at once on one model. With @p lengths (one per sample,
    /// sequence.hpp), the recurrent layers mask each sample's padded steps.
    template <class... X>
    auto predict(const std::tuple<X...>& xs, std::span<const std::int32_t> lengths = {}) const {
        static_assert(sizeof...(X) == input_count, "ctnn::graph::predict: pass one tensor per input, in id order");
        const std::size_t batch = batch_of<input_shape<0>>(std::get<0>(xs), "graph::predict: input");
        T* a = arena(batch);
        load_inputs(xs, a, batch, "graph::predict: input", nullptr);
        const lengths_scope scope(detail::predict_lengths<P>(lengths));
        m_body.predict(a, batch, a + core::value_size * batch, a + (core::value_size + core::widest_input) * batch);
        return host_outputs(a, batch, std::make_index_sequence<output_count>{});
    }

private:
    /// Checks the inputs' batches (equal, within @p limit) and copies them into their value slots.
    template <class... X>
    static std::size_t load_inputs(const std::tuple<X...>& xs, T* values, std::size_t limit, const char* what, std::size_t* set) {
        std::size_t batch = 0;
        detail::static_for(
            [&](auto i) {
                const std::size_t b = batch_of<input_shape<i()>>(std::get<i()>(xs), what);
                if (i() == 0) batch = b;
                else if (b != batch) [[unlikely]]
                    detail::fail(std::string(what) + " " + std::to_string(i()) + " has batch " + std::to_string(b) +
                                 ", input 0 has " + std::to_string(batch) + "; every input needs the same batch");
            },
            std::make_index_sequence<input_count>{});
        if (batch > limit) [[unlikely]]
            detail::fail(std::string(what) + "s: batch of " + std::to_string(batch) + " is larger than the " + std::to_string(limit) +
                         " reserved by model.context(); reserve a larger context");
        if (set) *set = batch;
        // nodes that read an input directly and check it (an embedding's ids): on host memory, first
        detail::static_for(
            [&](auto k) {
                using src = typename core::template source_traits_of<k()>;
                using L = typename core::template layer_type<k()>;
                if constexpr (src::single && src::ids[0] < input_count && requires { L::check_input(values, batch); }) {
                    constexpr std::size_t i = src::ids[0];
                    L::check_input(std::get<i>(xs).data(), batch * input_shape<i>::size);
                }
            },
            std::make_index_sequence<node_count>{});
        detail::static_for(
            [&](auto i) {
                copy_from_host<P>(values + batch * core::value_offsets[i()], std::get<i()>(xs).data(),
                                  batch * input_shape<i()>::size);
            },
            std::make_index_sequence<input_count>{});
        return batch;
    }
    template <std::size_t... J>
    auto outputs_of(const context_type& ctx, std::index_sequence<J...>) const {
        return std::make_tuple(ctx.template output<J>()...);
    }
    template <std::size_t J>
    static auto host_output(const T* a, std::size_t batch) {
        using S = output_shape<J>;
        std::array<std::size_t, S::rank + 1> sh;
        sh[0] = batch;
        for (std::size_t i = 0; i < S::rank; ++i) sh[i + 1] = S::dims[i];
        xt::xtensor<T, S::rank + 1> out(sh);
        copy_to_host<P>(out.data(), a + batch * core::value_offsets[output_ids[J]], batch * S::size);
        return out;
    }
    template <std::size_t... J>
    static auto host_outputs(const T* a, std::size_t batch, std::index_sequence<J...>) {
        return std::make_tuple(host_output<J>(a, batch)...);
    }
    /// This thread's predict scratch for this graph type (values, a merged input, the layers' plan).
    static T* arena(std::size_t batch) { return base::thread_arena(core::predict_scratch_size(batch)); }
    using base::m_body;
    using base::m_mode;
};

/// A float CPU graph: `graph<inputs<...>, node<...>..., outputs<...>>`; on the GPU `graph<...>::on<cuda>`.
template <class Inputs, class... NodesAndOutputs>
using graph = policy_graph<cpu, float, Inputs, NodesAndOutputs...>;
/// A CPU graph over value type T (double for gradient checks).
template <class T, class Inputs, class... NodesAndOutputs>
using basic_graph = policy_graph<cpu, T, Inputs, NodesAndOutputs...>;

}  // namespace ctnn
