// SPDX-License-Identifier: MIT
#pragma once
/// @file fit.hpp  The training loop: epochs of forward/loss/backward/step with callbacks.
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "../backend/buffer.hpp"
#include "../data/dataset.hpp"
#include "../loss/concepts.hpp"
#include "../ops/loss_ops.hpp"
#include "../metrics/confusion.hpp"
#include "step.hpp"

namespace ctnn {

/// Options of `fit`.
struct fit_options {
    std::size_t epochs = 1;
    std::size_t batch = 32;
    bool shuffle = true;
    seed shuffle_seed{0};
    /// Learning rate per epoch (0-based); empty keeps the optimizer's rate.
    std::function<double(std::size_t)> lr_schedule{};
    /// CUDA policy: the losses and training accuracy stay on the GPU and are read back every
    /// `sync_every` steps and at the end of each epoch (the only waits of the training loop).
    std::size_t sync_every = 50;
    /// Augmentation applied to every training batch (float data; data/augment.hpp), e.g.
    /// `data::compose(data::random_crop<>{{32, 32, 3}, 4, seed{1}}, data::horizontal_flip<>{{32, 32, 3}, 0.5, seed{2}})`.
    std::function<void(float*, std::size_t)> augment{};
    /// Graphs: the weight of each output's loss (L = Σ w_j L_j); empty: all 1.
    std::vector<double> loss_weights{};
};

/// What one epoch produced. `metrics` holds what evaluation callbacks add (e.g. "test_accuracy").
struct epoch_stats {
    std::size_t epoch = 0;
    double loss = 0;
    double train_accuracy = 0;  ///< on the training batches as seen during the epoch (classification)
    double seconds = 0;
    double samples_per_second = 0;
    double lr = 0;
    std::map<std::string, double> metrics;
};

/// Live state passed to callbacks.
struct fit_state {
    std::size_t epoch = 0, epochs = 0, batch_index = 0, batches = 0, samples_seen = 0;
    double running_loss = 0;
    std::size_t correct = 0, counted = 0;
    double epoch_seconds = 0;
    bool stop = false;  ///< set by a callback to end training after this epoch
    std::vector<epoch_stats> history;
    epoch_stats current;
};

/// The result of `fit`.
struct fit_result {
    std::vector<epoch_stats> history;
    double train_seconds = 0;
    std::size_t train_samples = 0;
    bool stopped_early = false;
    double samples_per_second() const noexcept { return train_seconds > 0 ? double(train_samples) / train_seconds : 0; }
};

namespace detail {
template <class CB, class M>
void call_begin(CB& cb, M& m, fit_state& s) {
    if constexpr (requires { cb.on_epoch_begin(m, s); }) cb.on_epoch_begin(m, s);
}
template <class CB, class M>
void call_batch(CB& cb, M& m, fit_state& s) {
    if constexpr (requires { cb.on_batch_end(m, s); }) cb.on_batch_end(m, s);
}
template <class CB, class M>
void call_eval(CB& cb, M& m, fit_state& s) {
    if constexpr (requires { cb.on_evaluate(m, s); }) cb.on_evaluate(m, s);
}
template <class CB, class M>
void call_end(CB& cb, M& m, fit_state& s) {
    if constexpr (requires { cb.on_epoch_end(m, s); }) cb.on_epoch_end(m, s);
}
template <class CB, class M>
void call_train_end(CB& cb, M& m, fit_state& s, const fit_result& r) {
    if constexpr (requires { cb.on_train_end(m, s, r); }) cb.on_train_end(m, s, r);
}

/// Starts epoch @p e: the scheduled learning rate, a fresh live state, the callbacks, training mode.
template <class M, class Opt, class... CB>
void begin_epoch(M& model, Opt& opt, fit_state& st, std::size_t e, const fit_options& options, CB&... callbacks) {
    if (options.lr_schedule) opt.set_lr(options.lr_schedule(e));
    st.epoch = e;
    st.batch_index = 0;
    st.running_loss = 0;
    st.correct = st.counted = 0;
    st.current = epoch_stats{};
    st.current.epoch = e + 1;
    st.current.lr = opt.lr();
    (call_begin(callbacks, model, st), ...);
    model.train();
}
/// Ends an epoch whose loss and accuracy are in st.current: timing, evaluation callbacks (in eval
/// mode), end callbacks, history.
template <class M, class... CB>
void end_epoch(M& model, fit_state& st, fit_result& res, double secs, std::size_t n_seen, CB&... callbacks) {
    res.train_seconds += secs;
    res.train_samples += n_seen;
    st.current.seconds = secs;
    st.current.samples_per_second = secs > 0 ? double(n_seen) / secs : 0;
    model.eval();
    (call_eval(callbacks, model, st), ...);
    model.train();
    (call_end(callbacks, model, st), ...);
    st.history.push_back(st.current);
}
template <class M, class... CB>
fit_result end_training(M& model, fit_state& st, fit_result& res, const fit_options& options, CB&... callbacks) {
    res.history = st.history;
    res.stopped_early = st.stop && st.history.size() < options.epochs;
    (call_train_end(callbacks, model, st, res), ...);
    return res;
}
}  // namespace detail

/// Trains @p model with @p opt on @p loss over @p train for `options.epochs` epochs. @p loss is any
/// `loss::loss_function` (loss/concepts.hpp): label losses (`target_kind = loss::label_target`, e.g.
/// cross_entropy, nll) read the dataset's labels, value losses its targets; training accuracy is
/// counted when the dataset has labels, with the loss's `decision_threshold` for one output. Callbacks are
/// any objects with some of `on_epoch_begin(model, state)`, `on_batch_end(model, state)`,
/// `on_evaluate(model, state)` (adds metrics), `on_epoch_end(model, state)` (reads them) and
/// `on_train_end(model, state, result)`. Training steps perform no heap allocation after the first
/// (the per-epoch bookkeeping and evaluation callbacks may allocate).
template <class Model, class Opt, class Loss, class... Callbacks>
fit_result fit(Model& model, Opt& opt, const Loss& loss_fn, const data::dataset<typename Model::value_type>& train,
               const fit_options& options, Callbacks&&... callbacks) {
    using T = typename Model::value_type;
    static_assert(loss::loss_function<Loss, T, typename Model::policy>,
                  "ctnn::fit: the loss does not satisfy loss::loss_function (name, target_kind, target_elements, "
                  "check_target, evaluate<P>); see loss/concepts.hpp");
    constexpr bool labels = loss::takes_labels_v<Loss>;
    const T threshold = T(loss::decision_threshold_v<Loss>());
    ctnn::detail::check(train.sample_size == Model::input_shape::size,
                        "fit: dataset samples have " + std::to_string(train.sample_size) + " values, the model's input has " +
                            std::to_string(Model::input_shape::size));
    if constexpr (labels)
        ctnn::detail::check(!train.labels.empty(), std::string("fit: ") + Loss::name + " needs a dataset with integer labels");
    else
        ctnn::detail::check(!train.targets.empty() && loss_fn.target_elements(1, Model::output_shape::size) == train.target_size,
                            std::string("fit: ") + Loss::name + " needs targets of " +
                                std::to_string(loss_fn.target_elements(1, Model::output_shape::size)) +
                                " values per sample in the dataset (it has " + std::to_string(train.target_size) + ")");
    constexpr std::size_t k = Model::output_shape::size;
    data::loader<T> ld(train, options.batch, options.shuffle, options.shuffle_seed);
    if (options.augment) {
        if constexpr (std::is_same_v<T, float>) ld.set_transform(options.augment);
        else ctnn::detail::fail("fit: augment applies to float datasets");
    }
    auto ctx = model.context(options.batch);
    fit_state st;
    st.epochs = options.epochs;
    st.batches = ld.batches();
    fit_result res;
    using clock = std::chrono::steady_clock;
    constexpr bool on_gpu = std::is_same_v<typename Model::policy, cuda>;
    // CUDA: per-step losses and per-sample correct flags of the epoch, read back at sync points
    buffer_t<typename Model::policy, T> d_losses;
    buffer_t<typename Model::policy, std::int32_t> d_correct;
    std::vector<T> h_losses;
    std::vector<std::int32_t> h_correct;
    if constexpr (on_gpu) {
        d_losses.resize(ld.batches());
        d_correct.resize(ld.batches() * options.batch);
        h_losses.resize(ld.batches());
        h_correct.resize(ld.batches() * options.batch);
    }
    for (std::size_t e = 0; e < options.epochs && !st.stop; ++e) {
        detail::begin_epoch(model, opt, st, e, options, callbacks...);
        ld.start_epoch();
        data::batch<T> b;
        const auto t0 = clock::now();
        double loss_sum = 0;
        std::size_t n_seen = 0;
        std::size_t synced_steps = 0, synced_samples = 0, step = 0;
        std::vector<std::size_t> batch_sizes;  // CUDA: sizes of the steps not yet read back
        if constexpr (on_gpu) batch_sizes.reserve(options.sync_every + 1);
        while (ld.next(b)) {
            if (b.lengths.size()) ctx.set_lengths({b.lengths.data(), b.size});  // the dataset's sequence lengths
            if constexpr (on_gpu) {
                if constexpr (labels) train_step(model, ctx, opt, loss_fn, b.x, b.labels);
                else {
                    train_step(model, ctx, opt, loss_fn, b.x, b.targets);
                    if (!train.labels.empty()) ctx.upload_labels(b.labels.data(), b.size);
                }
                ops::copy_scalar<typename Model::policy>(d_losses.data() + step, ctx.device_loss());
                if (!train.labels.empty())
                    ops::predicted_class_rows<typename Model::policy>(ctx.template activation<Model::depth - 1>().data(), b.size,
                                                                     k, threshold, ctx.device_labels(), d_correct.data() + n_seen);
                batch_sizes.push_back(b.size);
                n_seen += b.size;
                ++step;
                if (step - synced_steps >= options.sync_every || step == ld.batches()) {
                    copy_to_host<typename Model::policy>(h_losses.data() + synced_steps, d_losses.data() + synced_steps,
                                                         step - synced_steps);
                    if (!train.labels.empty())
                        copy_to_host<typename Model::policy>(h_correct.data() + synced_samples, d_correct.data() + synced_samples,
                                                             n_seen - synced_samples);
                    for (std::size_t s = synced_steps; s < step; ++s)
                        loss_sum += double(h_losses[s]) * double(batch_sizes[s - synced_steps]);
                    if (!train.labels.empty())
                        for (std::size_t i = synced_samples; i < n_seen; ++i) st.correct += std::size_t(h_correct[i]);
                    st.counted += n_seen - synced_samples;
                    synced_steps = step;
                    synced_samples = n_seen;
                    batch_sizes.clear();
                    st.running_loss = loss_sum / double(n_seen);
                }
            } else {
                T l;
                if constexpr (labels) l = train_step(model, ctx, opt, loss_fn, b.x, b.labels);
                else l = train_step(model, ctx, opt, loss_fn, b.x, b.targets);
                const auto y = ctx.template activation<Model::depth - 1>();
                loss_sum += double(l) * double(b.size);
                n_seen += b.size;
                if (!train.labels.empty())
                    for (std::size_t i = 0; i < b.size; ++i)
                        st.correct += metrics::predicted_class(y.data() + i * k, k, threshold) ==
                                      std::size_t(b.labels.data()[i]);
                st.counted += b.size;
                st.running_loss = loss_sum / double(n_seen);
            }
            st.samples_seen += b.size;
            ++st.batch_index;
            st.epoch_seconds = std::chrono::duration<double>(clock::now() - t0).count();
            (detail::call_batch(callbacks, model, st), ...);
        }
        st.current.loss = st.running_loss;
        st.current.train_accuracy = st.counted ? double(st.correct) / double(st.counted) : 0;
        detail::end_epoch(model, st, res, std::chrono::duration<double>(clock::now() - t0).count(), n_seen, callbacks...);
    }
    return detail::end_training(model, st, res, options, callbacks...);
}

/// Confusion matrix of @p model's predictions on a labelled dataset (batched inference, eval mode).
/// For a single-output model the class is `output > threshold` (0 for logits).
template <class Model>
metrics::confusion_matrix evaluate(const Model& model, const data::dataset<typename Model::value_type>& d,
                                   std::size_t batch = 256, typename Model::value_type threshold = 0) {
    using T = typename Model::value_type;
    constexpr std::size_t k = Model::output_shape::size;
    ctnn::detail::check(!d.labels.empty(), "evaluate: the dataset has no labels");
    ctnn::detail::check(d.sample_size == Model::input_shape::size, "evaluate: dataset sample size does not match the model input");
    metrics::confusion_matrix cm(k == 1 ? 2 : k);
    std::vector<T> out(batch * k);
    for (std::size_t i = 0; i < d.count; i += batch) {
        const std::size_t n = std::min(batch, d.count - i);
        model.predict_into(d.x.data() + i * d.sample_size, out.data(), n,
                           d.lengths.empty() ? std::span<const std::int32_t>{} : std::span<const std::int32_t>(d.lengths.data() + i, n));
        metrics::accumulate(cm, out.data(), d.labels.data() + i, n, k, threshold);
    }
    return cm;
}

}  // namespace ctnn
