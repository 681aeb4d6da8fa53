// SPDX-License-Identifier: MIT
#pragma once
/// @file graph_step.hpp  One training step of a multi-input, multi-output graph: one loss per output,
/// each with its weight (an actor-critic's policy and value heads, an autoencoder's reconstruction and
/// a classifier head).
#include <array>
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

#include "../loss/concepts.hpp"
#include "../model/graph.hpp"
#include "../ops/loss_ops.hpp"
#include "step.hpp"

namespace ctnn {

namespace detail {
template <std::size_t N>
constexpr std::array<double, N> ones() {
    std::array<double, N> a{};
    a.fill(1.0);
    return a;
}
}  // namespace detail

/// zero_grad → forward of the inputs @p xs (a tuple, one tensor per input: `std::tie(images, ids)`) →
/// loss j of output j against target j (`std::tie(labels, values)`), its gradient scaled by
/// @p weights[j] (L = Σ w_j L_j) → backward → optimizer step. Returns the unweighted loss of each
/// output (`std::array<T, outputs>`; for a CUDA graph, device_scalars that wait only when read).
/// Each loss is any `loss::loss_function`; targets are checked on the host first. Allocates nothing
/// after the first call.
template <class P, class T, class... G, class Opt, class... Loss, class... X, class... Tg>
auto train_step(policy_graph<P, T, G...>& model, typename policy_graph<P, T, G...>::context_type& ctx, Opt& opt,
                const std::tuple<Loss...>& losses, const std::tuple<X...>& xs, const std::tuple<Tg...>& targets,
                const std::array<double, sizeof...(Loss)>& weights = detail::ones<sizeof...(Loss)>()) {
    using M = policy_graph<P, T, G...>;
    static_assert(sizeof...(Loss) == M::output_count && sizeof...(Tg) == M::output_count,
                  "ctnn::train_step: a graph needs one loss and one target per output, in outputs<...> order");
    static_assert((loss::loss_function<Loss, T, P> && ...),
                  "ctnn::train_step: every loss must satisfy loss::loss_function (loss/concepts.hpp)");
    constexpr bool gpu = std::is_same_v<P, cuda>;
    model.zero_grad();
    const auto ys = model.forward(xs, ctx);
    const std::size_t batch = ctx.batch();
    std::array<std::conditional_t<gpu, device_scalar<T>, T>, M::output_count> out{};
    detail::static_for(
        [&](auto jc) {
            constexpr std::size_t j = jc();
            const auto& y = std::get<j>(ys);
            const auto& t = std::get<j>(targets);
            const auto& l = std::get<j>(losses);
            auto dy = ctx.template output_gradient<j>();
            loss::check_batch(l, y.size(), t.data(), t.size(), batch);
            if constexpr (gpu) {
                using L = std::tuple_element_t<j, std::tuple<Loss...>>;
                using U = std::remove_cvref_t<decltype(*t.data())>;
                static_assert(!loss::takes_labels_v<L> || std::is_same_v<U, std::int32_t>,
                              "ctnn::train_step: the CUDA policy takes labels as std::int32_t; convert them");
                static_assert(loss::takes_labels_v<L> || std::is_same_v<U, T>,
                              "ctnn::train_step: the CUDA policy takes targets of the model's value type; convert them");
                const U* dt = ctx.template upload_target<j>(t.data(), t.size());
                l.template evaluate<P>(y.data(), dt, dy.data(), batch, y.size() / batch, ctx.device_loss(j));
                out[j] = device_scalar<T>{ctx.device_loss(j)};
            } else
                l.template evaluate<P>(y.data(), t.data(), dy.data(), batch, y.size() / batch, &out[j]);
            if (weights[j] != 1.0) ops::scale<P>(dy.data(), T(weights[j]), dy.data(), dy.size());
        },
        std::make_index_sequence<M::output_count>{});
    [&]<std::size_t... J>(std::index_sequence<J...>) {
        model.backward(std::make_tuple(ctx.template output_gradient<J>()...), ctx);
    }(std::make_index_sequence<M::output_count>{});
    opt.step();
    return out;
}

}  // namespace ctnn
