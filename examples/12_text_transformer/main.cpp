// SPDX-License-Identifier: MIT
// BERT-style transfer learning at a scale that trains on 2 cores. A small transformer encoder (word
// embedding + learned positions → 2 pre-norm blocks of 4 heads, feed-forward 256, GELU → layer norm) is
// pretrained by masked-language modelling on the English fortunes (no labels; the training split of
// all topics, packed into 128-word windows), and saved. Then example 08's topic task (computers vs
// people) is learnt with a new head — mean over each entry's words, Dense(1), sigmoid — from 5 %, 20 %
// and 100 % of its training labels: the pretrained encoder (loaded non-strictly: the MLM head is left
// out, the new head is not in the file) against the same encoder trained from scratch and against
// example 08's LSTM, on the same rows, one run per seed. `--export-data` writes everything
// tools/torch_text_transformer.py (the same programme in PyTorch) needs.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctnn/ctnn.hpp>
#include <ctnn/io/atomic_file.hpp>
#include <ctnn/io/npz.hpp>
#include <map>
#include <numeric>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "../common/char_corpus.hpp"
#include "../common/topic_task.hpp"

using namespace ctnn;
namespace text = ctnn::data::text;
namespace topic = example::topic_task;

constexpr std::size_t steps = topic::k_steps;  // 128 words per sequence, as example 08
constexpr std::size_t vocab_rows = 8192;       // <pad>, <unk>, the 8189 most frequent training words, <mask>
constexpr std::int32_t mask_id = std::int32_t(vocab_rows) - 1;
constexpr std::int32_t ignored = -100;  // the label of the positions the MLM loss skips
constexpr std::size_t embed = 64;

using block = transformer_encoder_layer<{.nhead = 4, .dim_feedforward = 256, .dropout = 0.1,
                                         .activation = transformer_activation::gelu, .norm_first = true}>;
/// The pretraining model: encoder + a vocabulary-sized dense head per position.
using mlm_model = sequential<input<steps>,                                        // word ids
                             embedding<vocab_rows, embed, {.padding_idx = 0}>,    // [128, 64]
                             positional_embedding<>,                              // + a learned [128, 64] table
                             named<"layers.0", block>, named<"layers.1", block>,  // padded keys masked by the lengths
                             layer_norm<>,                                        // the final norm of a pre-norm stack
                             named<"mlm", dense<vocab_rows, true, initializer::torch>>>;  // [128, 8192] logits
/// The classifier: the same encoder (the same names: layers 0-4), then a new head.
using topic_model = sequential<input<steps>, embedding<vocab_rows, embed, {.padding_idx = 0}>, positional_embedding<>,
                               named<"layers.0", block>, named<"layers.1", block>, layer_norm<>,
                               sequence_pool<pooling::mean>,                          // the mean over each entry's words
                               named<"head", dense<1, true, initializer::torch>>, sigmoid>;  // P(people)
static_assert(std::is_same_v<mlm_model::output_shape, shape<steps, vocab_rows>>);
static_assert(std::is_same_v<topic_model::output_shape, shape<1>>);

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// The entries' word ids, concatenated in @p order, cut into windows of `steps` (the tail that does not
/// fill one is dropped): [windows, steps].
std::vector<std::int32_t> pack_windows(const text::vocabulary& vocab, const std::vector<std::string>& entries,
                                       const std::vector<std::size_t>& order) {
    const text::word_tokenizer words;
    std::vector<std::int32_t> stream;
    for (const std::size_t i : order) {
        const auto ids = vocab.encode(words(entries[i]));
        stream.insert(stream.end(), ids.begin(), ids.end());
    }
    stream.resize(stream.size() / steps * steps);
    return stream;
}

/// BERT's masking of one window: each position is a target with probability 0.15 (label = its word,
/// else `ignored`); a target's input becomes <mask> with probability 0.8, a random word with 0.1, and
/// stays with 0.1.
void mask_window(const std::int32_t* ids, float* x, std::int32_t* labels, rng& g) {
    for (std::size_t t = 0; t < steps; ++t) {
        x[t] = float(ids[t]);
        labels[t] = ignored;
        if (g.uniform() >= 0.15) continue;
        labels[t] = ids[t];
        const double u = g.uniform();
        if (u < 0.8) x[t] = float(mask_id);
        else if (u < 0.9) x[t] = float(2 + g.below(vocab_rows - 3));  // a word id in [2, <mask>)
    }
}

struct mlm_scores {
    double loss = 0, accuracy = 0;
    std::size_t targets = 0;
};

/// Held-out masked-LM loss (nats) and accuracy (argmax = the word) over @p windows, masked with a fixed
/// seed (0) so every evaluation sees the same targets.
mlm_scores evaluate_mlm(const mlm_model& m, const std::vector<std::int32_t>& windows) {
    constexpr std::size_t chunk = 8;
    const std::size_t n = windows.size() / steps;
    std::vector<float> x(chunk * steps), y(chunk * steps * vocab_rows), dy(y.size());
    std::vector<std::int32_t> labels(chunk * steps);
    rng g{seed{0}};
    const loss::cross_entropy ce{vocab_rows, {.ignore_index = ignored}};
    mlm_scores r;
    double nats = 0;
    std::size_t correct = 0;
    for (std::size_t s = 0; s < n; s += chunk) {
        const std::size_t b = std::min(chunk, n - s);
        for (std::size_t i = 0; i < b; ++i) mask_window(windows.data() + (s + i) * steps, x.data() + i * steps, labels.data() + i * steps, g);
        m.predict_into(x.data(), y.data(), b);
        std::size_t targets = 0;
        for (std::size_t p = 0; p < b * steps; ++p) {
            if (labels[p] == ignored) continue;
            ++targets;
            const float* row = y.data() + p * vocab_rows;
            correct += std::size_t(std::max_element(row, row + vocab_rows) - row) == std::size_t(labels[p]);
        }
        const std::span<const float> yb(y.data(), b * steps * vocab_rows);
        nats += double(ce(yb, std::span<const std::int32_t>(labels.data(), b * steps), std::span<float>(dy.data(), yb.size()), b)) *
                double(targets);
        r.targets += targets;
    }
    r.loss = r.targets ? nats / double(r.targets) : 0.0;
    r.accuracy = r.targets ? double(correct) / double(r.targets) : 0.0;
    return r;
}

struct pretrain_epoch {
    double train_loss = 0, seconds = 0;
    mlm_scores test;
};

/// Masked-LM pretraining: Adam, batches of @p batch windows reshuffled every epoch, masks drawn afresh;
/// the learning rate rises linearly to @p lr over the first epoch and follows a cosine to 0 after it.
std::vector<pretrain_epoch> pretrain(mlm_model& m, const std::vector<std::int32_t>& train, const std::vector<std::int32_t>& test,
                                     std::size_t epochs, std::size_t batch, double lr, std::uint64_t s) {
    const std::size_t n = train.size() / steps;
    optim::adam opt{m.parameters(), {.lr = lr}};
    auto ctx = m.context(batch);
    const loss::cross_entropy ce{vocab_rows, {.ignore_index = ignored}};
    rng shuffle{seed{s + 1}}, masks{seed{s + 2}};
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t(0));
    std::vector<float> x(batch * steps);
    std::vector<std::int32_t> labels(batch * steps);
    std::vector<pretrain_epoch> curve;
    const std::size_t per_epoch = (n + batch - 1) / batch, total_steps = epochs * per_epoch;
    const optim::warmup_lr schedule{per_epoch, optim::cosine_lr{lr, total_steps - per_epoch}};
    std::size_t step = 0;
    for (std::size_t e = 1; e <= epochs; ++e) {
        shuffle.shuffle(order.data(), n);
        m.train();
        const auto t0 = std::chrono::steady_clock::now();
        double total = 0;
        std::size_t batches = 0;
        for (std::size_t b0 = 0; b0 < n; b0 += batch) {
            const std::size_t b = std::min(batch, n - b0);
            for (std::size_t i = 0; i < b; ++i)
                mask_window(train.data() + order[b0 + i] * steps, x.data() + i * steps, labels.data() + i * steps, masks);
            opt.set_lr(schedule(step++));
            total += train_step(m, ctx, opt, ce, std::span<const float>(x.data(), b * steps), std::span<const std::int32_t>(labels.data(), b * steps));
            ++batches;
        }
        pretrain_epoch pe;
        pe.seconds = seconds_since(t0);
        pe.train_loss = batches ? total / double(batches) : 0.0;
        m.eval();
        pe.test = evaluate_mlm(m, test);
        std::printf("pretraining epoch %zu: train MLM loss %.4f  held-out loss %.4f (perplexity %.1f), accuracy %.2f %% of %zu masked "
                    "words  (%.1f s, %.0f words/s)\n",
                    e, pe.train_loss, pe.test.loss, std::exp(pe.test.loss), 100 * pe.test.accuracy, pe.test.targets, pe.seconds,
                    double(n * steps) / pe.seconds);
        std::fflush(stdout);
        curve.push_back(pe);
    }
    return curve;
}

/// The labelled rows of seed @p s at @p percent % of the @p n training rows: the first ceil(n·percent/100)
/// of a permutation drawn from seed 1000 + s (the same rows for every model of that seed).
std::vector<std::size_t> label_subset(std::size_t n, int percent, std::uint64_t s) {
    std::vector<std::size_t> rows(n);
    std::iota(rows.begin(), rows.end(), std::size_t(0));
    rng g{seed{1000 + s}};
    g.shuffle(rows.data(), n);
    rows.resize(std::max<std::size_t>(1, (n * std::size_t(percent) + 99) / 100));
    return rows;
}

/// Epochs for @p rows labelled rows: about @p budget optimiser steps whatever the fraction.
std::size_t epochs_for(std::size_t rows, std::size_t batch, std::size_t budget) {
    const std::size_t per_epoch = (rows + batch - 1) / batch;
    return std::max<std::size_t>(1, (budget + per_epoch - 1) / per_epoch);
}

struct run {
    std::string model;
    int percent = 0;
    std::uint64_t seed = 0;
    std::size_t rows = 0, epochs = 0;
    double final_train_loss = 0, seconds = 0;
    topic::scores test;
};

/// Fine-tunes (or trains) @p m on @p rows of @p train and scores it on @p test.
template <class Model>
run train_classifier(Model& m, const topic::encoded& train, const topic::encoded& test, std::vector<std::size_t> rows, std::size_t batch,
                     std::size_t budget, double lr, std::uint64_t s) {
    run r;
    r.seed = s;
    r.rows = rows.size();
    r.epochs = epochs_for(rows.size(), batch, budget);
    optim::adam opt{m.parameters(), {.lr = lr}};
    auto ctx = m.context(batch);
    rng shuffle{seed{s + 1}};
    const auto t0 = std::chrono::steady_clock::now();
    m.train();
    for (std::size_t e = 0; e < r.epochs; ++e) r.final_train_loss = topic::train_epoch(m, ctx, opt, train, rows, shuffle, batch);
    r.seconds = seconds_since(t0);
    m.eval();
    r.test = topic::evaluate(m, test);
    return r;
}

/// Mean and sample standard deviation of a field over runs.
std::pair<double, double> mean_sd(const std::vector<const run*>& rs, double topic::scores::* f) {
    double s = 0, s2 = 0;
    for (const auto* r : rs) s += r->test.*f;
    const double mean = rs.empty() ? 0 : s / double(rs.size());
    for (const auto* r : rs) s2 += (r->test.*f - mean) * (r->test.*f - mean);
    return {mean, rs.size() > 1 ? std::sqrt(s2 / double(rs.size() - 1)) : 0.0};
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"ctnn example 12: masked-LM pretraining of a transformer encoder on the English fortunes, then fine-tuning on "
                 "computers vs people with 5/20/100 % of the labels, against training from scratch and example 08's LSTM"};
    std::size_t threads = 1, batch = 32, pretrain_epochs = 40, budget = 300, max_windows = 0;
    double lr = 5e-4, probe_lr = 1e-2, pretrain_lr = 2e-3, lstm_lr = 1e-3;
    std::uint64_t pretrain_seed = 1;
    std::vector<std::uint64_t> seeds{1, 2, 3};
    std::vector<int> percents{5, 20, 100};
    std::vector<std::string> models{"pretrained", "scratch", "lstm"};
    std::string dir = text::fortune_default_dir, save_pretrained = "text_transformer_pretrained.npz", load_pretrained, json_path,
                export_path;
    app.add_option("--data", dir, "fortune directory (default /usr/share/games/fortunes)");
    app.add_option("--threads", threads, "CPU threads")->check(CLI::Range(1, 256));
    app.add_option("--batch", batch, "batch size (pretraining windows and fine-tuning entries)")->check(CLI::Range(1, 4096));
    app.add_option("--pretrain-epochs", pretrain_epochs, "masked-LM epochs (0: none; then --load-pretrained)")->check(CLI::Range(0, 1000));
    app.add_option("--pretrain-lr", pretrain_lr, "peak Adam learning rate of the pretraining (linear warm-up over the first epoch, then a cosine to 0)")->check(CLI::PositiveNumber);
    app.add_option("--pretrain-seed", pretrain_seed, "seed of the pretraining (init, shuffling, masks)");
    app.add_option("--max-windows", max_windows, "pretrain on the first N windows only (0: all; a smoke run)");
    app.add_option("--save-pretrained", save_pretrained, "where the pretrained encoder (+ MLM head) is saved");
    app.add_option("--load-pretrained", load_pretrained, "skip pretraining: fine-tune the encoder saved in this file");
    app.add_option("--lr", lr, "Adam learning rate of the transformer classifiers")->check(CLI::PositiveNumber);
    app.add_option("--probe-lr", probe_lr, "Adam learning rate of the head on the frozen pretrained encoder (probe)")->check(CLI::PositiveNumber);
    app.add_option("--lstm-lr", lstm_lr, "Adam learning rate of the LSTM (example 08's)")->check(CLI::PositiveNumber);
    app.add_option("--steps", budget, "optimiser steps per classifier run (epochs = ceil(steps / batches per epoch))")->check(CLI::Range(1, 1000000));
    app.add_option("--seeds", seeds, "one classifier run per seed and model and fraction (init, shuffling, the labelled rows)");
    app.add_option("--percents", percents, "labelled training rows, in % of the 1859")->check(CLI::Range(1, 100));
    app.add_option("--models", models, "which classifiers: pretrained, scratch, lstm; also frozen_emb (pretrained, its embedding frozen) and probe (only the head trains)")->check(CLI::IsMember({"pretrained", "frozen_emb", "probe", "scratch", "lstm"}));
    app.add_option("--json", json_path, "write every run's metrics and the pretraining curve here");
    app.add_option("--export-data", export_path, "write the encoded data for tools/torch_text_transformer.py to this .npz and exit");
    CLI11_PARSE(app, argc, argv);
    try {
        set_num_threads(threads);
        // unlabelled text: every English topic's training split (the same hash split as the topic task,
        // so none of the topic task's test entries is pretrained on: checked below)
        const auto all = text::read_fortune_topics(dir, example::char_corpus::english_topics(dir));
        const auto [pre_train, pre_test] = text::split_train_test(all, 0.2);
        const auto vocab = text::build_vocabulary(pre_train.texts, text::word_tokenizer{}, {.max_size = vocab_rows - 1});
        std::vector<std::size_t> train_order(pre_train.texts.size()), test_order(pre_test.texts.size());
        std::iota(train_order.begin(), train_order.end(), std::size_t(0));
        std::iota(test_order.begin(), test_order.end(), std::size_t(0));
        rng data_rng{seed{12345}};
        data_rng.shuffle(train_order.data(), train_order.size());
        auto windows = pack_windows(vocab, pre_train.texts, train_order);
        const auto test_windows = pack_windows(vocab, pre_test.texts, test_order);
        const std::size_t all_windows = windows.size() / steps;
        if (max_windows && all_windows > max_windows) windows.resize(max_windows * steps);

        // the labelled task: example 08's splits, in this vocabulary and in 08's own (for the LSTM)
        const auto [topic_train, topic_test] = topic::read_splits(dir);
        const std::set<std::string> pretrained_on(pre_train.texts.begin(), pre_train.texts.end());
        std::size_t leaked = 0;
        for (const auto& t : topic_test.texts) leaked += pretrained_on.count(t);
        if (leaked) ctnn::detail::fail(std::to_string(leaked) + " test entries of the topic task are in the pretraining text");
        const topic::encoded train = topic::encode(vocab, topic_train), test = topic::encode(vocab, topic_test);
        const auto vocab08 = text::build_vocabulary(topic_train.texts, text::word_tokenizer{}, {.max_size = topic::k_vocab});
        const topic::encoded train08 = topic::encode(vocab08, topic_train), test08 = topic::encode(vocab08, topic_test);
        std::size_t unknown = 0, words = 0;
        for (std::size_t i = 0; i < train.count; ++i)
            for (std::size_t t = 0; t < std::size_t(train.lengths[i]); ++t, ++words) unknown += train.ids[i * steps + t] == text::vocabulary::unk_id;
        std::printf("pretraining text: %zu English topics, %zu entries (%zu train, %zu held out); vocabulary %zu ids (<pad>, <unk>, words) + "
                    "<mask>; %zu windows of %zu words (%zu used), %zu held-out windows\n",
                    all.classes.size(), all.texts.size(), pre_train.texts.size(), pre_test.texts.size(), vocab.size(), all_windows, steps,
                    windows.size() / steps, test_windows.size() / steps);
        std::printf("topic task: %zu train (%zu people), %zu test (%zu people); none of the test entries is in the pretraining "
                    "text; %.1f %% of the training words are <unk> in this vocabulary\n",
                    train.count, train.positives, test.count, test.positives, 100.0 * double(unknown) / double(words));

        if (!export_path.empty()) {
            std::map<std::string, io::npy_array> a;
            a["pretrain_ids"] = topic::int32_array(windows, {windows.size() / steps, steps});
            a["pretrain_test_ids"] = topic::int32_array(test_windows, {test_windows.size() / steps, steps});
            {  // the held-out windows exactly as evaluate_mlm masks them (seed 0), so both sides score the same targets
                const std::size_t m = test_windows.size() / steps;
                std::vector<float> xm(test_windows.size());
                std::vector<std::int32_t> inputs(test_windows.size()), labels(test_windows.size());
                rng g{seed{0}};
                for (std::size_t i = 0; i < m; ++i)
                    mask_window(test_windows.data() + i * steps, xm.data() + i * steps, labels.data() + i * steps, g);
                std::transform(xm.begin(), xm.end(), inputs.begin(), [](float v) { return std::int32_t(v); });
                a["pretrain_test_inputs"] = topic::int32_array(inputs, {m, steps});
                a["pretrain_test_labels"] = topic::int32_array(labels, {m, steps});
            }
            a["vocab_size"] = topic::int32_array({std::int32_t(vocab_rows)}, {1});
            a["mask_id"] = topic::int32_array({mask_id}, {1});
            a["lstm_vocab_size"] = topic::int32_array({std::int32_t(topic::k_vocab)}, {1});
            for (const auto& [name, e, e08] : {std::tuple{"train", &train, &train08}, std::tuple{"test", &test, &test08}}) {
                const std::string n = name;
                a[n + "_ids"] = topic::int32_array(e->ids, {e->count, steps});
                a[n + "_lengths"] = topic::int32_array(e->lengths, {e->count});
                a[n + "_labels"] = topic::int32_array(e->labels, {e->count});
                a["lstm_" + n + "_ids"] = topic::int32_array(e08->ids, {e08->count, steps});
                a["lstm_" + n + "_lengths"] = topic::int32_array(e08->lengths, {e08->count});
            }
            std::vector<std::int32_t> seed_list;
            for (const auto s : seeds) {
                seed_list.push_back(std::int32_t(s));
                for (const int p : percents) {
                    if (p == 100) continue;
                    const auto rows = label_subset(train.count, p, s);
                    a["subset_" + std::to_string(p) + "_seed" + std::to_string(s)] =
                        topic::int32_array(std::vector<std::int32_t>(rows.begin(), rows.end()), {rows.size()});
                }
            }
            a["seeds"] = topic::int32_array(seed_list, {seed_list.size()});
            io::write_npz(export_path, a);
            std::printf("data written to %s (tools/torch_text_transformer.py --data %s)\n", export_path.c_str(), export_path.c_str());
            return 0;
        }

        const bool want_pretrained =
            std::any_of(models.begin(), models.end(), [](const std::string& n) { return n != "scratch" && n != "lstm"; });
        std::vector<pretrain_epoch> curve;
        double pretrain_seconds = 0;
        std::string pretrained_path = load_pretrained;
        if (want_pretrained && load_pretrained.empty()) {
            if (pretrain_epochs == 0) ctnn::detail::fail("--pretrain-epochs 0 needs --load-pretrained FILE");
            mlm_model mlm{seed{pretrain_seed}};
            std::printf("masked-LM model: %zu parameters (encoder %zu, MLM head %zu); %zu epochs, batch %zu, Adam %g, %zu thread(s)\n",
                        mlm_model::parameter_count, mlm_model::parameter_count - (embed + 1) * vocab_rows, (embed + 1) * vocab_rows,
                        pretrain_epochs, batch, pretrain_lr, num_threads());
            const auto t0 = std::chrono::steady_clock::now();
            curve = pretrain(mlm, windows, test_windows, pretrain_epochs, batch, pretrain_lr, pretrain_seed);
            pretrain_seconds = seconds_since(t0);
            save_npz(mlm, save_pretrained);
            pretrained_path = save_pretrained;
            std::printf("pretrained model saved to %s (%.0f s)\n", save_pretrained.c_str(), pretrain_seconds);
        }

        std::vector<run> runs;
        auto write_json = [&] {
            if (json_path.empty()) return;
            std::ostringstream j;
            j.precision(8);
            j << "{\n  \"example\": \"12_text_transformer\",\n  \"threads\": " << threads << ",\n  \"batch\": " << batch
              << ",\n  \"steps\": " << budget << ",\n  \"lr\": " << lr << ",\n  \"lstm_lr\": " << lstm_lr << ",\n  \"pretrain_epochs\": "
              << curve.size() << ",\n  \"pretrain_lr\": " << pretrain_lr << ",\n  \"pretrain_windows\": " << windows.size() / steps
              << ",\n  \"pretrain_seconds\": " << pretrain_seconds << ",\n  \"parameters\": {\"mlm\": " << mlm_model::parameter_count
              << ", \"classifier\": " << topic_model::parameter_count << ", \"lstm\": " << topic::lstm_classifier::parameter_count
              << "},\n  \"pretraining\": [";
            for (std::size_t e = 0; e < curve.size(); ++e)
                j << (e ? ", " : "") << "{\"epoch\": " << e + 1 << ", \"train_loss\": " << curve[e].train_loss << ", \"test_loss\": "
                  << curve[e].test.loss << ", \"test_accuracy\": " << curve[e].test.accuracy << ", \"seconds\": " << curve[e].seconds << "}";
            j << "],\n  \"runs\": [";
            for (std::size_t k = 0; k < runs.size(); ++k) {
                const auto& r = runs[k];
                j << (k ? "," : "") << "\n    {\"model\": \"" << r.model << "\", \"percent\": " << r.percent << ", \"seed\": " << r.seed
                  << ", \"rows\": " << r.rows << ", \"epochs\": " << r.epochs << ", \"accuracy\": " << r.test.accuracy
                  << ", \"precision\": " << r.test.precision << ", \"recall\": " << r.test.recall << ", \"f1\": " << r.test.f1
                  << ", \"loss\": " << r.test.loss << ", \"final_train_loss\": " << r.final_train_loss << ", \"seconds\": " << r.seconds << "}";
            }
            j << "\n  ]\n}\n";
            io::write_file_atomic(json_path, j.str());
        };

        bool reported = false;
        for (const int p : percents)
            for (const auto s : seeds) {
                const auto rows = label_subset(train.count, p, s);
                for (const auto& name : models) {
                    run r;
                    if (name == "lstm") {
                        topic::lstm_classifier m{seed{s}};
                        r = train_classifier(m, train08, test08, rows, batch, budget, lstm_lr, s);
                    } else {
                        topic_model m{seed{s}};
                        if (name != "scratch") {
                            const auto rep = load_npz(m, pretrained_path, {.strict = false});
                            if (rep.missing != std::vector<std::string>{"head.weight", "head.bias"})
                                ctnn::detail::fail("'" + pretrained_path + "' does not hold the whole encoder (" +
                                                   std::to_string(rep.missing.size()) + " classifier entries missing, expected the head's 2)");
                            if (!reported) {
                                std::printf("non-strict load of %s: %zu encoder entries loaded; skipped %zu (", pretrained_path.c_str(),
                                            rep.loaded.size(), rep.skipped.size());
                                for (std::size_t i = 0; i < rep.skipped.size(); ++i) std::printf("%s%s", i ? ", " : "", rep.skipped[i].c_str());
                                std::printf("); kept the new head's initial head.weight, head.bias\n");
                                reported = true;
                            }
                        }
                        if (name == "probe")  // the pretrained encoder as a fixed feature extractor: only the head learns
                            for (std::size_t i = 0; i < 6; ++i) m.freeze(i);
                        if (name == "frozen_emb") m.freeze(0);  // the pretrained word vectors stay; the rest is fine-tuned
                        r = train_classifier(m, train, test, rows, batch, budget, name == "probe" ? probe_lr : lr, s);
                    }
                    r.model = name;
                    r.percent = p;
                    std::printf("%3d %% labels (%4zu rows, %3zu epochs) seed %llu %-10s test accuracy %.2f %%  F1 %.3f  loss %.4f  "
                                "(train loss %.4f, %.1f s)\n",
                                p, r.rows, r.epochs, static_cast<unsigned long long>(s), name.c_str(), 100 * r.test.accuracy, r.test.f1,
                                r.test.loss, r.final_train_loss, r.seconds);
                    std::fflush(stdout);
                    runs.push_back(r);
                    write_json();
                }
            }

        std::printf("\n| labels | rows |");
        for (const auto& name : models) std::printf(" %s: accuracy (mean ± sd over seeds) | F1 |", name.c_str());
        std::printf("\n|---|---|");
        for (std::size_t i = 0; i < models.size(); ++i) std::printf("---|---|");
        std::printf("\n");
        for (const int p : percents) {
            std::printf("| %d %% | %zu |", p, label_subset(train.count, p, seeds.front()).size());
            for (const auto& name : models) {
                std::vector<const run*> rs;
                for (const auto& r : runs)
                    if (r.model == name && r.percent == p) rs.push_back(&r);
                const auto [acc, sd] = mean_sd(rs, &topic::scores::accuracy);
                std::printf(" %.2f %% ± %.2f | %.3f |", 100 * acc, 100 * sd, mean_sd(rs, &topic::scores::f1).first);
            }
            std::printf("\n");
        }
        if (!json_path.empty()) std::printf("results written to %s\n", json_path.c_str());
    } catch (const ctnn::error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}
