// SPDX-License-Identifier: MIT
// Text classification on English fortunes: `computers` (0) vs `people` (1). Word tokens, a vocabulary
// of the training split's words (at most 10 000 ids), sequences cut to their first k_steps words with
// their true lengths kept (the recurrent layers mask the padding, as PyTorch's pack_padded_sequence);
// Embedding(10000, 64) → LSTM(64, every step) → LSTM(64, final state) → Dense(64, relu) →
// Dense(1, sigmoid), binary cross-entropy, Adam. Trains once per seed and reports test accuracy,
// precision, recall and F1 (class 1 positive). `--export-data` writes the exact ids, lengths and
// labels for tools/torch_text_classifier.py, the same model in PyTorch.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <ctnn/data/text.hpp>
#include <ctnn/io/atomic_file.hpp>
#include <ctnn/io/npz.hpp>
#include <ctnn/metrics/confusion.hpp>
#include <numeric>
#include <span>
#include <sstream>
#include <vector>

#include "../common/example.hpp"
#include "../common/topic_task.hpp"

using namespace ctnn;
namespace text = ctnn::data::text;

using example::topic_task::encode;
using example::topic_task::encoded;
using example::topic_task::evaluate;
using example::topic_task::int32_array;
using example::topic_task::k_steps;
using example::topic_task::k_vocab;
using example::topic_task::scores;
using classifier = example::topic_task::lstm_classifier;  // Embedding(10000, 64) → LSTM → LSTM → Dense(64, relu) → Dense(1, sigmoid)
static_assert(std::is_same_v<classifier::output_shape, shape<1>>);

namespace {

/// The arrays tools/torch_text_classifier.py reads.
void export_data(const std::string& path, const encoded& train, const encoded& test) {
    std::map<std::string, io::npy_array> a;
    for (const auto& [name, e] : {std::pair{"train", &train}, std::pair{"test", &test}}) {
        a[std::string(name) + "_ids"] = int32_array(e->ids, {e->count, k_steps});
        a[std::string(name) + "_lengths"] = int32_array(e->lengths, {e->count});
        a[std::string(name) + "_labels"] = int32_array(e->labels, {e->count});
    }
    a["vocab_size"] = int32_array({std::int32_t(k_vocab)}, {1});
    io::write_npz(path, a);
}

struct epoch_result {
    double train_loss = 0, train_seconds = 0, eval_seconds = 0;
    double train_cpu_seconds = 0;  ///< process CPU time of the training steps (robust to a busy machine)
    scores test;
};
struct run_result {
    std::uint64_t seed = 0;
    std::vector<epoch_result> epochs;
    double train_seconds() const {
        double s = 0;
        for (const auto& e : epochs) s += e.train_seconds;
        return s;
    }
    double train_cpu_seconds() const {
        double s = 0;
        for (const auto& e : epochs) s += e.train_cpu_seconds;
        return s;
    }
};

double mean_of(const std::vector<run_result>& runs, double scores::* f) {
    double s = 0;
    for (const auto& r : runs) s += r.epochs.back().test.*f;
    return runs.empty() ? 0 : s / double(runs.size());
}

std::string to_json(const std::vector<run_result>& runs, const example::options& o, std::size_t limit, const encoded& train,
                    const encoded& test, std::size_t vocab_size, const char* device) {
    std::ostringstream j;
    j.precision(10);
    j << "{\n  \"framework\": \"ctnn\",\n  \"task\": \"computers (0) vs people (1)\",\n  \"device\": \"" << device
      << "\",\n  \"threads\": " << o.threads << ",\n  \"epochs\": " << o.epochs << ",\n  \"batch\": " << o.batch
      << ",\n  \"lr\": " << o.lr << ",\n  \"steps\": " << k_steps << ",\n  \"embedding_rows\": " << k_vocab
      << ",\n  \"vocabulary\": " << vocab_size << ",\n  \"parameters\": " << classifier::parameter_count << ",\n  \"limit\": " << limit
      << ",\n  \"train_samples\": " << train.count << ",\n  \"test_samples\": " << test.count
      << ",\n  \"train_truncated\": " << train.truncated << ",\n  \"test_truncated\": " << test.truncated << ",\n  \"mean\": {";
    const std::pair<const char*, double scores::*> fields[] = {{"accuracy", &scores::accuracy},
                                                               {"precision", &scores::precision},
                                                               {"recall", &scores::recall},
                                                               {"f1", &scores::f1},
                                                               {"loss", &scores::loss}};
    for (std::size_t i = 0; i < std::size(fields); ++i) j << (i ? ", " : "") << "\"" << fields[i].first << "\": " << mean_of(runs, fields[i].second);
    double secs = 0, cpu = 0;
    for (const auto& r : runs) secs += r.train_seconds(), cpu += r.train_cpu_seconds();
    const double samples = double(train.count) * double(o.epochs) * double(runs.size());
    j << ", \"train_samples_per_second\": " << (secs > 0 ? samples / secs : 0.0)
      << ", \"train_samples_per_cpu_second\": " << (cpu > 0 ? samples / cpu : 0.0) << "},\n  \"mean_test_accuracy\": "
      << mean_of(runs, &scores::accuracy) << ",\n  \"runs\": [";
    for (std::size_t k = 0; k < runs.size(); ++k) {
        const auto& r = runs[k];
        const auto& f = r.epochs.back().test;
        j << (k ? "," : "") << "\n    {\"seed\": " << r.seed << ", \"accuracy\": " << f.accuracy << ", \"precision\": " << f.precision
          << ", \"recall\": " << f.recall << ", \"f1\": " << f.f1 << ", \"loss\": " << f.loss << ", \"train_seconds\": " << r.train_seconds() << ", \"train_cpu_seconds\": " << r.train_cpu_seconds()
          << ", \"train_samples_per_second\": " << double(train.count) * double(r.epochs.size()) / r.train_seconds() << ", \"epochs\": [";
        for (std::size_t e = 0; e < r.epochs.size(); ++e) {
            const auto& ep = r.epochs[e];
            j << (e ? "," : "") << "\n      {\"epoch\": " << e + 1 << ", \"train_loss\": " << ep.train_loss
              << ", \"test_accuracy\": " << ep.test.accuracy << ", \"test_f1\": " << ep.test.f1 << ", \"test_loss\": " << ep.test.loss
              << ", \"train_seconds\": " << ep.train_seconds << ", \"train_cpu_seconds\": " << ep.train_cpu_seconds << ", \"eval_seconds\": " << ep.eval_seconds << "}";
        }
        j << "]}";
    }
    j << "\n  ]\n}\n";
    return j.str();
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
double cpu_seconds_since(std::clock_t c0) { return double(std::clock() - c0) / CLOCKS_PER_SEC; }

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"ctnn example 08: LSTM text classifier, computers vs people fortunes"};
    example::options o;
    o.epochs = 5;
    o.batch = 32;
    std::vector<std::uint64_t> seeds{1, 2, 3};
    std::size_t limit = 0;
    std::string export_path;
    example::add_options(app, o);
    app.get_option("--data")->description("directory with the fortune files computers and people (default /usr/share/games/fortunes)");
    app.add_option("--seeds", seeds, "seeds: one training run per seed (init and shuffling); --seed S is --seeds S");
    app.add_option("--limit", limit, "use only N training and N test entries, evenly spread over each split (0: all; a smoke run)");
    app.add_option("--export-data", export_path, "write the encoded splits for tools/torch_text_classifier.py to this .npz and exit");
    CLI11_PARSE(app, argc, argv);
    if (app.count("--seed")) seeds = {o.seed_value};
    const std::string dir = o.data_dir.empty() ? text::fortune_default_dir : o.data_dir;

    return example::on_device(o, [&]<class P>(P) {
        const auto all = text::read_fortune_topics(dir, {"computers", "people"});
        auto [train_texts, test_texts] = text::split_train_test(all, 0.2);  // seed 0
        if (limit) {  // every k-th entry, so both classes stay
            auto spread = [&](const text::labelled_texts& d) {
                std::vector<std::size_t> rows;
                const std::size_t n = std::min(limit, d.texts.size());
                for (std::size_t i = 0; i < n; ++i) rows.push_back(i * d.texts.size() / n);
                return text::select_rows(d, rows);
            };
            train_texts = spread(train_texts);
            test_texts = spread(test_texts);
        }
        const auto vocab = text::build_vocabulary(train_texts.texts, text::word_tokenizer{}, {.max_size = k_vocab});
        const encoded train = encode(vocab, train_texts), test = encode(vocab, test_texts);
        std::printf("fortunes computers (0) vs people (1) in %s: %zu train (%zu positive), %zu test (%zu positive); vocabulary %zu "
                    "ids; %zu words per sample (%zu train, %zu test entries truncated)\n",
                    dir.c_str(), train.count, train.positives, test.count, test.positives, vocab.size(), k_steps, train.truncated,
                    test.truncated);
        if (!export_path.empty()) {
            export_data(export_path, train, test);
            std::printf("data written to %s (tools/torch_text_classifier.py --data %s)\n", export_path.c_str(), export_path.c_str());
            return;
        }
        using M = typename classifier::template on<P>;
        std::printf("model: %zu parameters; %s, %zu thread(s); %zu epochs, batch %zu, Adam %g\n", M::parameter_count, P::name,
                    num_threads(), o.epochs, o.batch, o.lr);

        std::vector<run_result> runs;
        for (const std::uint64_t s : seeds) {
            M model{seed{s}};
            optim::adam opt{model.parameters(), {.lr = o.lr}};
            auto ctx = model.context(o.batch);
            rng shuffle{seed{s + 1}};
            std::vector<std::size_t> order(train.count);
            std::iota(order.begin(), order.end(), std::size_t(0));
            run_result rr;
            rr.seed = s;
            for (std::size_t epoch = 1; epoch <= o.epochs; ++epoch) {
                epoch_result er;
                const auto t0 = std::chrono::steady_clock::now();
                const std::clock_t c0 = std::clock();
                er.train_loss = example::topic_task::train_epoch(model, ctx, opt, train, order, shuffle, o.batch);
                er.train_seconds = seconds_since(t0);
                er.train_cpu_seconds = cpu_seconds_since(c0);
                const auto t1 = std::chrono::steady_clock::now();
                er.test = evaluate(model, test);
                er.eval_seconds = seconds_since(t1);
                std::printf("seed %llu epoch %zu: train loss %.4f  test loss %.4f  acc %.2f %%  P %.3f  R %.3f  F1 %.3f  (%.1f s, "
                            "%.1f s CPU, %.0f samples/CPU-s; eval %.1f s)\n",
                            (unsigned long long)s, epoch, er.train_loss, er.test.loss, 100 * er.test.accuracy, er.test.precision,
                            er.test.recall, er.test.f1, er.train_seconds, er.train_cpu_seconds, double(train.count) / er.train_cpu_seconds, er.eval_seconds);
                std::fflush(stdout);
                rr.epochs.push_back(er);
            }
            runs.push_back(rr);
            if (!o.json_path.empty())  // after every run, so a long session leaves its results behind
                io::write_file_atomic(o.json_path, to_json(runs, o, limit, train, test, vocab.size(), P::name));
            if (!o.save_path.empty()) {
                save_npz(model, o.save_path);
                std::printf("model (seed %llu) saved to %s\n", (unsigned long long)s, o.save_path.c_str());
            }
        }

        std::printf("\n| seed | test accuracy | precision | recall | F1 | test loss | train s | CPU s | samples/CPU-s |\n|---|---|---|---|---|---|---|---|---|\n");
        for (const auto& r : runs) {
            const auto& f = r.epochs.back().test;
            std::printf("| %llu | %.2f %% | %.3f | %.3f | %.3f | %.4f | %.1f | %.1f | %.0f |\n", (unsigned long long)r.seed, 100 * f.accuracy,
                        f.precision, f.recall, f.f1, f.loss, r.train_seconds(), r.train_cpu_seconds(),
                        double(train.count) * double(o.epochs) / r.train_cpu_seconds());
        }
        std::printf("mean over %zu seed(s), %zu epochs: test accuracy %.2f %%, precision %.3f, recall %.3f, F1 %.3f, loss %.4f\n",
                    runs.size(), o.epochs, 100 * mean_of(runs, &scores::accuracy), mean_of(runs, &scores::precision),
                    mean_of(runs, &scores::recall), mean_of(runs, &scores::f1), mean_of(runs, &scores::loss));
        if (!o.json_path.empty()) std::printf("results written to %s\n", o.json_path.c_str());
    });
}
