// SPDX-License-Identifier: MIT
#pragma once
/// @file residual.hpp  Blocks of branches on one input, merged: residual<main, shortcut> (add),
/// concat<a, b> (channels), parallel<merge, branches...> (add, average or concat). Each branch is any
/// layer spec — usually a `chain<specs...>` (the one chain implementation, model/chain.hpp), where
/// `chain<>` is the identity — so blocks nest in chains and chains in blocks to any depth.
#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "../model/chain.hpp"
#include "../model/composite.hpp"
#include "../ops/conv.hpp"
#include "concepts.hpp"
#include "named.hpp"

namespace ctnn {

/// How the branches of a block are merged.
enum class merge { add, average, concat, multiply };  // multiply: a graph merge only (multiply_of)

/// How a block names its branches' entries.
/// `positional`: `<block>.<branch name>.<i>.` (residual: main/shortcut, concat: a/b, parallel: 0, 1, ...);
/// `flat`: only by the layers' own `named<>` names (torchvision's BasicBlock: `layer1.0.conv1.weight`,
/// `layer1.0.downsample.0.weight`).
enum class branch_names { positional, flat };

namespace detail {
/// Branch names of a block: `names[k]` (a type, so that it can be a template argument); `numbered`
/// names branches by index.
struct residual_branch_names {
    static constexpr const char* names[] = {"main", "shortcut"};
};
struct concat_branch_names {
    static constexpr const char* names[] = {"a", "b"};
};
struct numbered {};

/// Whether a bound branch is the identity (`chain<>`): its output is its input, nothing is stored.
template <class B>
constexpr bool is_identity_branch() {
    if constexpr (requires { B::depth; }) return B::depth == 0;
    else return false;
}

/// N branches (bound layers) on the same input In, merged by M. Parameters, states and caches of the
/// branches lie side by side; see chain.hpp for the scratch plan.
template <class In, class T, class P, merge M, class Names, branch_names Naming, class... Branches>
class fork : public composite<fork<In, T, P, M, Names, Naming, Branches...>, T, Branches...> {
    using base = composite<fork, T, Branches...>;
    friend base;

public:
    using branches = std::tuple<Branches...>;
    static constexpr std::size_t N = sizeof...(Branches);
    template <std::size_t K>
    using branch_type = std::tuple_element_t<K, branches>;
    using value_type = T;
    using policy = P;
    using input_shape = In;

private:
    using idx = std::make_index_sequence<N>;
    using first_shape = typename branch_type<0>::output_shape;
    static constexpr std::size_t first_last = last_dim_v<first_shape>;
    static constexpr bool same_shapes = (std::is_same_v<typename Branches::output_shape, first_shape> && ...);
    static constexpr bool concatenable =
        ((Branches::output_shape::rank == first_shape::rank &&
          Branches::output_shape::size / last_dim_v<typename Branches::output_shape> == first_shape::size / first_last) &&
         ...);
    static_assert(N >= 1, "ctnn::parallel: a block needs at least one branch");
    static_assert(M == merge::concat || same_shapes,
                  "ctnn::residual: the main branch and the shortcut produce different shapes; give the shortcut a "
                  "projection (e.g. chain<conv2d<F, 1, {.stride = S, .bias = false}>, batch_norm2d<>>) — for add and "
                  "average merges every branch must produce the same shape");
    static_assert(M != merge::concat || concatenable,
                  "ctnn::concat: the branches' outputs must agree in every dimension but the last (channels)");
    static_assert(M != merge::concat || N == 2, "ctnn::concat: concatenation joins exactly two branches; nest blocks for more");
    static_assert(M != merge::multiply, "ctnn::parallel: a block's branches merge by add, average or concat; an element-wise product "
                                        "of two values is a graph node's source, multiply_of<a, b>");
    static constexpr std::size_t last_sum = (last_dim_v<typename Branches::output_shape> + ...);

public:
    using output_shape = std::conditional_t<M == merge::concat, with_last_t<first_shape, last_sum>, first_shape>;
    static constexpr std::string_view name = M == merge::add ? "residual" : M == merge::concat ? "concat" : "parallel";
    using base::parameter_count;
    using base::parameter_offsets;
    using base::state_count;
    using base::state_offsets;
    /// Per sample, for each branch: its cache, then its output (none for the identity).
    static constexpr auto cache_offsets = base::child_sums([](auto t, auto) {
        using B = typename decltype(t)::type;
        return B::cache_size + (is_identity_branch<B>() ? 0 : B::output_shape::size);
    });
    static constexpr std::size_t cache_size = cache_offsets[N];
    /// Per sample: the branch outputs (predict) or their gradients (backward), then one input gradient.
    static constexpr auto output_offsets = base::child_sums([](auto t, auto) { return decltype(t)::type::output_shape::size; });
    static constexpr std::size_t own_scratch = output_offsets[N] + In::size;
    static constexpr std::size_t scratch_size(std::size_t batch) noexcept {
        std::size_t m = 0;
        static_for([&](auto k) { m = std::max(m, scratch_of<branch_type<k>>(batch)); }, idx{});
        return own_scratch * batch + m;
    }
    void forward(const T* x, T* y, std::size_t batch, T* cache, mode m, T* scratch) {
        std::array<const T*, N> outs{};
        T* const s = scratch + own_scratch * batch;
        this->each([&](auto& b, auto k) {
            using B = branch_type<k>;
            T* c = cache + batch * cache_offsets[k];
            if constexpr (is_identity_branch<B>()) outs[k] = x;
            else {
                T* o = c + batch * B::cache_size;
                call_forward(b, x, o, batch, c, this->child_mode(k, m), s);
                outs[k] = o;
            }
        });
        join(outs, y, batch);
    }
    void predict(const T* x, T* y, std::size_t batch, T* scratch) const {
        std::array<const T*, N> outs{};
        T* const s = scratch + own_scratch * batch;
        this->each([&](const auto& b, auto k) {
            using B = branch_type<k>;
            if constexpr (is_identity_branch<B>()) outs[k] = x;
            else {
                T* o = scratch + batch * output_offsets[k];
                call_predict(b, x, o, batch, s);
                outs[k] = o;
            }
        });
        join(outs, y, batch);
    }
    /// Backward: each branch from its part of dy; dx = Σ of the branches' input gradients (when dx is
    /// not null).
    void backward(const T* x, const T*, const T* dy, T* dx, std::size_t batch, const T* cache, bool param_grads, T* scratch) {
        T* const c = const_cast<T*>(cache);
        T* const s = scratch + own_scratch * batch;
        T* const dx_tmp = scratch + batch * output_offsets[N];
        std::array<const T*, N> d{};
        if constexpr (M == merge::add) d.fill(dy);
        else if constexpr (M == merge::average) {
            T* a = scratch;
            ops::scale<P>(dy, T(1) / T(N), a, batch * output_shape::size);
            d.fill(a);
        } else {
            T* da = scratch;
            T* db = scratch + batch * output_offsets[1];
            ops::resample<P>(conv::concat_channels<T>{da, db, const_cast<T*>(dy), last_dim_v<typename branch_type<0>::output_shape>,
                                                      last_dim_v<typename branch_type<1>::output_shape>, true},
                             batch * output_shape::size);
            d = {da, db};
        }
        bool first = true;
        this->each([&](auto& b, auto k) {
            using B = branch_type<k>;
            T* target = dx ? (first ? dx : dx_tmp) : nullptr;
            if constexpr (is_identity_branch<B>()) {
                if (target) ops::copy<P>(target, d[k], batch * In::size);
            } else {
                T* cb = c + batch * cache_offsets[k];
                call_backward(b, x, static_cast<const T*>(cb + batch * B::cache_size), d[k], target, batch,
                              static_cast<const T*>(cb), param_grads && !this->m_frozen[k], s);
            }
            if (dx && !first) ops::add<P>(dx, dx_tmp, dx, batch * In::size);
            first = false;
        });
    }

    /// Branch @p K (bound type).
    template <std::size_t K>
    auto& branch() noexcept {
        return this->template child<K>();
    }
    template <std::size_t K>
    const auto& branch() const noexcept {
        return this->template child<K>();
    }
    /// Branch k's entries: `<prefix><branch name>.` (positional) or `<prefix>` (flat).
    template <std::size_t K>
    static std::string child_prefix(const std::string& prefix, std::integral_constant<std::size_t, K>) {
        if constexpr (Naming == branch_names::flat) return prefix;
        else if constexpr (!std::is_same_v<Names, numbered>) return prefix + Names::names[K] + ".";
        else return prefix + std::to_string(K) + ".";
    }

    fork() { this->update_trainable(); }

private:
    static void join(const std::array<const T*, N>& outs, T* y, std::size_t batch) {
        const std::size_t n = batch * output_shape::size;
        if constexpr (M == merge::concat)
            ops::resample<P>(conv::concat_channels<T>{const_cast<T*>(outs[0]), const_cast<T*>(outs[1]), y,
                                                      last_dim_v<typename branch_type<0>::output_shape>,
                                                      last_dim_v<typename branch_type<1>::output_shape>, false},
                             n);
        else {
            if constexpr (N == 1) ops::copy<P>(y, outs[0], n);
            else {
                ops::add<P>(outs[0], outs[1], y, n);
                for (std::size_t k = 2; k < N; ++k) ops::add<P>(y, outs[k], y, n);
            }
            if constexpr (M == merge::average) ops::scale<P>(y, T(1) / T(N), y, n);
        }
    }
};
}  // namespace detail

/// y = main(x) + shortcut(x). Shapes are checked at compile time: both branches must produce the
/// same shape (a projection shortcut — conv2d 1×1 with stride, batch_norm2d — makes them agree).
/// Entries: `<block>.main.<i>.` and `<block>.shortcut.<i>.`, or with `branch_names::flat` only the
/// layers' `named<>` names.
template <class Main, class Shortcut = chain<>, branch_names Names = branch_names::positional>
struct residual {
    template <shape_type In, class T, class P = cpu>
    using bind = detail::fork<In, T, P, merge::add, detail::residual_branch_names, Names, typename Main::template bind<In, T, P>,
                              typename Shortcut::template bind<In, T, P>>;
};

/// y = [a(x), b(x)] along the last (channel) dimension: two branches on the same input whose outputs
/// agree in every dimension but the last (Inception/DenseNet-style merges; `chain<>` is the input
/// itself). Entries are named `<block>.a.<i>.` and `<block>.b.<i>.`.
template <class A, class B>
struct concat {
    template <shape_type In, class T, class P = cpu>
    using bind = detail::fork<In, T, P, merge::concat, detail::concat_branch_names, branch_names::positional,
                              typename A::template bind<In, T, P>, typename B::template bind<In, T, P>>;
};

/// Branches on the same input merged by `M` (add, average or concat): `parallel<merge::average,
/// chain<...>, chain<...>>` (e.g. a CNN and an RNN branch reading one image, averaged). Entries are
/// named `<block>.<k>.<i>.` (k: branch index, as an nn.ModuleList).
template <merge M, class... Branches>
struct parallel {
    template <shape_type In, class T, class P = cpu>
    using bind = detail::fork<In, T, P, M, detail::numbered, branch_names::positional, typename Branches::template bind<In, T, P>...>;
};

}  // namespace ctnn
