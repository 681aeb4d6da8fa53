// SPDX-License-Identifier: MIT
#pragma once
/// @file graph_fit.hpp  `fit` for multi-input, multi-output graphs: a multi_dataset (one column per
/// input, one target per output), one loss per output with its weight (fit_options::loss_weights).
#include <array>
#include <chrono>
#include <cstddef>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "../data/multi_dataset.hpp"
#include "../metrics/confusion.hpp"
#include "../model/graph.hpp"
#include "fit.hpp"
#include "graph_step.hpp"

namespace ctnn {

/// Trains graph @p model on @p train for `options.epochs` epochs with loss j (any loss_function) on
/// output j against target j of the dataset (labels for label losses, values otherwise), weighted by
/// `options.loss_weights` (empty: all 1). epoch_stats::loss is the weighted total; `metrics` holds
/// "loss_<j>" per output and "train_accuracy_<j>" per label output (train_accuracy: the first one).
/// Callbacks as for `fit`. The CUDA policy reads losses and accuracies back every `sync_every` steps.
template <class P, class T, class... G, class Opt, class... Loss, class... Callbacks>
fit_result fit(policy_graph<P, T, G...>& model, Opt& opt, const std::tuple<Loss...>& losses, const data::multi_dataset<T>& train,
               const fit_options& options, Callbacks&&... callbacks) {
    using M = policy_graph<P, T, G...>;
    constexpr std::size_t NI = M::input_count, NO = M::output_count;
    constexpr bool gpu = std::is_same_v<P, cuda>;
    static_assert(sizeof...(Loss) == NO, "ctnn::fit: a graph needs one loss per output, in outputs<...> order");
    using losses_t = std::tuple<Loss...>;
    // ---- checks, once, with messages naming the column
    ctnn::detail::check(train.inputs.size() == NI, "fit: the dataset has " + std::to_string(train.inputs.size()) +
                                                       " inputs, the graph " + std::to_string(NI));
    ctnn::detail::check(train.targets.size() == NO, "fit: the dataset has " + std::to_string(train.targets.size()) +
                                                        " targets, the graph " + std::to_string(NO) + " outputs");
    detail::static_for(
        [&](auto i) {
            ctnn::detail::check(train.input_sizes[i()] == M::template input_shape<i()>::size,
                                "fit: dataset input " + std::to_string(i()) + " has " + std::to_string(train.input_sizes[i()]) +
                                    " values per sample, the graph's input " + std::to_string(i()) + " has " +
                                    std::to_string(M::template input_shape<i()>::size));
        },
        std::make_index_sequence<NI>{});
    detail::static_for(
        [&](auto j) {
            using L = std::tuple_element_t<j(), losses_t>;
            const auto& t = train.targets[j()];
            if constexpr (loss::takes_labels_v<L>)
                ctnn::detail::check(t.is_labels(), std::string("fit: ") + L::name + " (output " + std::to_string(j()) +
                                                       ") needs labels as target " + std::to_string(j()));
            else
                ctnn::detail::check(!t.is_labels() && t.size == std::get<j()>(losses).target_elements(1, M::template output_shape<j()>::size),
                                    std::string("fit: ") + L::name + " (output " + std::to_string(j()) + ") needs " +
                                        std::to_string(std::get<j()>(losses).target_elements(1, M::template output_shape<j()>::size)) +
                                        " target values per sample as target " + std::to_string(j()));
        },
        std::make_index_sequence<NO>{});
    std::array<double, NO> weights = detail::ones<NO>();
    if (!options.loss_weights.empty()) {
        ctnn::detail::check(options.loss_weights.size() == NO, "fit: loss_weights has " + std::to_string(options.loss_weights.size()) +
                                                                   " values for " + std::to_string(NO) + " outputs");
        std::copy(options.loss_weights.begin(), options.loss_weights.end(), weights.begin());
    }

    data::multi_loader<T> ld(train, options.batch, options.shuffle, options.shuffle_seed);
    auto ctx = model.context(options.batch);
    fit_state st;
    st.epochs = options.epochs;
    st.batches = ld.batches();
    fit_result res;
    using clock = std::chrono::steady_clock;
    // CUDA: per-step losses [step, j] and per-sample correct flags [j, sample] of the epoch, read back at sync points
    buffer_t<P, T> d_losses;
    buffer_t<P, std::int32_t> d_correct;
    std::vector<T> h_losses;
    std::vector<std::int32_t> h_correct;
    if constexpr (gpu) {
        d_losses.resize(ld.batches() * NO);
        d_correct.resize(NO * ld.batches() * options.batch);
        h_losses.resize(ld.batches() * NO);
        h_correct.resize(NO * ld.batches() * options.batch);
    }
    data::multi_batch<T> b;
    for (std::size_t e = 0; e < options.epochs && !st.stop; ++e) {
        detail::begin_epoch(model, opt, st, e, options, callbacks...);
        ld.start_epoch();
        const auto t0 = clock::now();
        std::array<double, NO> sums{};
        std::array<std::size_t, NO> correct{};
        std::size_t n_seen = 0, step = 0, synced = 0;
        std::vector<std::size_t> sizes;
        if constexpr (gpu) sizes.reserve(ld.batches());
        auto fold = [&](std::size_t j, double l, std::size_t n) {
            sums[j] += l * double(n);
        };
        while (ld.next(b)) {
            const auto xs = [&]<std::size_t... I>(std::index_sequence<I...>) { return std::make_tuple(b.inputs[I]...); }(
                std::make_index_sequence<NI>{});
            const auto ts = [&]<std::size_t... J>(std::index_sequence<J...>) {
                return std::make_tuple([&] {
                    if constexpr (loss::takes_labels_v<std::tuple_element_t<J, losses_t>>) return b.labels[J];
                    else return b.values[J];
                }()...);
            }(std::make_index_sequence<NO>{});
            const auto ls = train_step(model, ctx, opt, losses, xs, ts, weights);
            detail::static_for(
                [&](auto jc) {
                    constexpr std::size_t j = jc();
                    using L = std::tuple_element_t<j, losses_t>;
                    if constexpr (gpu) {
                        ops::copy_scalar<P>(d_losses.data() + step * NO + j, ctx.device_loss(j));
                        if constexpr (loss::takes_labels_v<L>)
                            ops::predicted_class_rows<P>(ctx.template output<j>().data(), b.size, M::template output_shape<j>::size,
                                                         T(loss::decision_threshold_v<L>()), ctx.device_labels(j),
                                                         d_correct.data() + j * ld.batches() * options.batch + n_seen);
                    } else {
                        fold(j, double(ls[j]), b.size);
                        if constexpr (loss::takes_labels_v<L>) {
                            const auto y = ctx.template output<j>();
                            constexpr std::size_t k = M::template output_shape<j>::size;
                            for (std::size_t i = 0; i < b.size; ++i)
                                correct[j] += metrics::predicted_class(y.data() + i * k, k, T(loss::decision_threshold_v<L>())) ==
                                              std::size_t(b.labels[j].data()[i]);
                        }
                    }
                },
                std::make_index_sequence<NO>{});
            if constexpr (gpu) sizes.push_back(b.size);
            n_seen += b.size;
            ++step;
            if constexpr (gpu) {
                if (step - synced >= options.sync_every || step == ld.batches()) {
                    copy_to_host<P>(h_losses.data() + synced * NO, d_losses.data() + synced * NO, (step - synced) * NO);
                    for (std::size_t s = synced; s < step; ++s)
                        for (std::size_t j = 0; j < NO; ++j) fold(j, double(h_losses[s * NO + j]), sizes[s]);
                    synced = step;
                }
            }
            double total = 0;
            for (std::size_t j = 0; j < NO; ++j) total += weights[j] * sums[j];
            st.running_loss = n_seen ? total / double(n_seen) : 0;
            st.samples_seen += b.size;
            ++st.batch_index;
            st.epoch_seconds = std::chrono::duration<double>(clock::now() - t0).count();
            (detail::call_batch(callbacks, model, st), ...);
        }
        if constexpr (gpu) {
            copy_to_host<P>(h_correct.data(), d_correct.data(), h_correct.size());
            for (std::size_t j = 0; j < NO; ++j)
                if (train.targets[j].is_labels())
                    for (std::size_t i = 0; i < n_seen; ++i) correct[j] += std::size_t(h_correct[j * ld.batches() * options.batch + i]);
        }
        double total = 0;
        bool first_acc = true;
        for (std::size_t j = 0; j < NO; ++j) {
            total += weights[j] * sums[j];
            st.current.metrics["loss_" + std::to_string(j)] = n_seen ? sums[j] / double(n_seen) : 0;
            if (train.targets[j].is_labels()) {
                const double acc = n_seen ? double(correct[j]) / double(n_seen) : 0;
                st.current.metrics["train_accuracy_" + std::to_string(j)] = acc;
                if (first_acc) st.current.train_accuracy = acc, st.correct = correct[j], st.counted = n_seen;
                first_acc = false;
            }
        }
        st.current.loss = st.running_loss = n_seen ? total / double(n_seen) : 0;
        detail::end_epoch(model, st, res, std::chrono::duration<double>(clock::now() - t0).count(), n_seen, callbacks...);
    }
    return detail::end_training(model, st, res, options, callbacks...);
}

}  // namespace ctnn
