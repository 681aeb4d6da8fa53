// SPDX-License-Identifier: MIT
#pragma once
// Example 08's topic task, shared with example 12: English fortunes from `computers` (label 0) or
// `people` (1), word ids cut to their first k_steps words with their true lengths kept; 08's LSTM
// classifier; an epoch of training over some of the training rows; test accuracy, precision, recall,
// F1 and loss.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <ctnn/ctnn.hpp>
#include <ctnn/data/text.hpp>
#include <ctnn/metrics/confusion.hpp>
#include <span>
#include <vector>

namespace example::topic_task {

namespace text = ctnn::data::text;

/// Words per sample: 86 of the 2302 entries (3.7 %; about 6 % of `computers`, 2 % of `people`) are
/// longer and keep their first 128 words.
constexpr std::size_t k_steps = 128;
/// Embedding rows of 08's LSTM = its vocabulary's max_size (the training split has 9019 distinct words + 2).
constexpr std::size_t k_vocab = 10000;

/// Example 08's model.
using lstm_classifier = ctnn::sequential<ctnn::input<k_steps>,                                   // token ids as values
                                         ctnn::embedding<k_vocab, 64, {.padding_idx = 0}>,        // [128, 64]
                                         ctnn::lstm<64, {.return_sequences = true}>,              // [128, 64]
                                         ctnn::lstm<64>,                                          // the state at each sample's length
                                         ctnn::dense<64, true, ctnn::initializer::torch>, ctnn::relu,  // nn.Linear's default init
                                         ctnn::dense<1, true, ctnn::initializer::torch>, ctnn::sigmoid>;

/// The task's two splits as read from @p dir: `split_train_test(..., 0.2)` (seed 0, by a hash of each entry).
inline std::pair<text::labelled_texts, text::labelled_texts> read_splits(const std::string& dir) {
    return text::split_train_test(text::read_fortune_topics(dir, {"computers", "people"}), 0.2);
}

/// One split, encoded: ids [count, k_steps] (also as the model's float values), lengths, labels.
struct encoded {
    std::vector<std::int32_t> ids, lengths, labels;
    std::vector<float> x;
    std::size_t count = 0, truncated = 0, positives = 0;
};

/// @p d in the words of @p vocab (an entry without any word becomes one `<unk>`), padded/cut to k_steps.
inline encoded encode(const text::vocabulary& vocab, const text::labelled_texts& d) {
    const text::word_tokenizer words;
    encoded e;
    std::vector<std::vector<std::int32_t>> seqs;
    for (const auto& t : d.texts) {
        seqs.push_back(vocab.encode(words(t)));
        if (seqs.back().empty()) seqs.back().push_back(text::vocabulary::unk_id);
        e.truncated += seqs.back().size() > k_steps;
    }
    auto b = text::pad_batch(seqs, k_steps, text::truncate_side::keep_front);
    e.count = b.count;
    e.ids = std::move(b.ids);
    e.lengths = std::move(b.lengths);
    e.labels = d.labels;
    e.x.assign(e.ids.begin(), e.ids.end());
    for (auto l : e.labels) e.positives += l == 1;
    return e;
}

inline ctnn::io::npy_array int32_array(const std::vector<std::int32_t>& v, std::vector<std::size_t> shape) {
    ctnn::io::npy_array a{"<i4", std::move(shape), {}};
    a.data.assign(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(std::int32_t));
    return a;
}

struct scores {
    double accuracy = 0, precision = 0, recall = 0, f1 = 0, loss = 0;
};

/// Test metrics of a model whose output is P(class 1) on @p d: P >= 0.5 predicts class 1 (as the PyTorch
/// twins); loss = nn.BCELoss (logs clamped at -100).
template <class Model>
scores evaluate(const Model& model, const encoded& d) {
    ctnn::metrics::confusion_matrix cm(2);
    double loss = 0;
    constexpr std::size_t chunk = 64;
    for (std::size_t s = 0; s < d.count; s += chunk) {
        const std::size_t n = std::min(chunk, d.count - s);
        const auto p = model.predict(std::span<const float>(d.x.data() + s * k_steps, n * k_steps),
                                     std::span<const std::int32_t>(d.lengths.data() + s, n));
        for (std::size_t i = 0; i < n; ++i) {
            const double pi = p.data()[i];
            const int y = d.labels[s + i];
            cm.add(std::size_t(y), pi >= 0.5 ? 1 : 0);
            loss -= y == 1 ? std::max(std::log(pi), -100.0) : std::max(std::log1p(-pi), -100.0);
        }
    }
    return {cm.accuracy(), cm.precision(1), cm.recall(1), cm.f1(1), d.count ? loss / double(d.count) : 0.0};
}

/// One epoch of binary cross-entropy training over the rows @p order of @p d (reshuffled first from
/// @p shuffle), batches of @p batch with their lengths set (the last one partial): the mean loss.
template <class Model, class Ctx, class Opt>
double train_epoch(Model& model, Ctx& ctx, Opt& opt, const encoded& d, std::vector<std::size_t>& order, ctnn::rng& shuffle,
                   std::size_t batch) {
    shuffle.shuffle(order.data(), order.size());
    std::vector<float> xb(batch * k_steps), yb(batch);
    std::vector<std::int32_t> lb(batch);
    double total = 0;
    for (std::size_t b0 = 0; b0 < order.size(); b0 += batch) {
        const std::size_t n = std::min(batch, order.size() - b0);
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t r = order[b0 + i];
            std::copy_n(d.x.data() + r * k_steps, k_steps, xb.data() + i * k_steps);
            yb[i] = float(d.labels[r]);
            lb[i] = d.lengths[r];
        }
        ctx.set_lengths(std::span<const std::int32_t>(lb.data(), n));
        const float l = ctnn::train_step(model, ctx, opt, ctnn::loss::bce{}, std::span<const float>(xb.data(), n * k_steps),
                                         std::span<const float>(yb.data(), n));
        total += double(l) * double(n);
    }
    return order.empty() ? 0.0 : total / double(order.size());
}

}  // namespace example::topic_task
