// SPDX-License-Identifier: MIT
// Language identification on fortunes: eight languages (English, German, Spanish, Italian, Russian,
// Polish, Czech, Brazilian Portuguese), read character by character. Each language is capped to the
// same number of entries; a vocabulary of the training split's code points; sequences cut to their
// first k_steps characters with their true lengths kept (masking = PyTorch's pack_padded_sequence);
// Embedding(V, 32) → bidirectional GRU(64) (final states, 128) → Dense(8), cross-entropy, Adam.
// Reports accuracy, per-language F1 and the confusion matrix. `--export-data` writes the exact ids,
// lengths and labels for tools/torch_language_id.py, the same model in PyTorch.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <ctnn/data/text.hpp>
#include <ctnn/io/atomic_file.hpp>
#include <ctnn/io/npz.hpp>
#include <ctnn/metrics/confusion.hpp>
#include <filesystem>
#include <numeric>
#include <span>
#include <sstream>
#include <unordered_map>
#include <vector>

#include "../common/example.hpp"

using namespace ctnn;
namespace text = ctnn::data::text;

/// Characters per sample (code points); longer entries keep their first 128.
constexpr std::size_t k_steps = 128;
/// Embedding rows = the vocabulary's max_size (the training split has 259 distinct code points, + 2).
constexpr std::size_t k_vocab = 384;
constexpr std::size_t k_classes = 8;

using language_id = sequential<input<k_steps>,                               // code-point ids as values
                               embedding<k_vocab, 32, {.padding_idx = 0}>,    // [128, 32]
                               gru<64, {.bidirectional = true}>,              // [forward state at the length, reverse state at 0]
                               dense<k_classes, true, initializer::torch>>;   // logits; nn.Linear's default init
static_assert(std::is_same_v<language_id::output_shape, shape<k_classes>>);

namespace {

/// A language: its label is its position in k_languages; language_files says where its entries are.
struct language {
    const char* code;
    const char* name;
};
constexpr language k_languages[k_classes] = {{"en", "English"}, {"de", "German"}, {"es", "Spanish"}, {"it", "Italian"},
                                             {"ru", "Russian"}, {"pl", "Polish"}, {"cs", "Czech"},   {"pt", "Portuguese"}};

/// The fortune files of language @p k under @p dir: de/, es/, it/, ru/, pl/, cs/ (fortunes-de, ...),
/// `brasil` (fortunes-br) for Portuguese, and for English the top-level regular files of `fortunes`
/// except the links into it/ (Italian), `brasil` and `ascii-art` (pictures).
std::vector<std::filesystem::path> language_files(const std::filesystem::path& dir, std::size_t k) {
    const std::string code = k_languages[k].code;
    if (code == "pt") return {dir / "brasil"};
    if (code != "en") return text::list_fortune_files(dir / code);
    std::vector<std::filesystem::path> out;
    for (const auto& p : text::list_fortune_files(dir)) {
        const std::string name = p.filename().string();
        if (!std::filesystem::is_symlink(p) && name != "brasil" && name != "ascii-art") out.push_back(p);
    }
    return out;
}

struct corpus {
    text::labelled_texts data;
    std::size_t read[k_classes] = {}, ambiguous = 0;
};

/// Every language's entries, without texts found in two languages (after white-space normalisation),
/// each language capped to its @p cap entries of smallest text::split_position(text, 1) (a hash
/// independent of the train/test split's seed 0, so the cap takes entries from all files).
corpus read_languages(const std::filesystem::path& dir, std::size_t cap) {
    std::vector<std::string> entries[k_classes];
    std::unordered_map<std::string, unsigned> seen_in;  // normalised text → bit mask of languages
    corpus c;
    for (std::size_t k = 0; k < k_classes; ++k) {
        for (const auto& f : language_files(dir, k))
            for (auto& e : text::read_fortunes(f)) entries[k].push_back(std::move(e));
        c.read[k] = entries[k].size();
        for (const auto& e : entries[k]) seen_in[text::normalize_space(e)] |= 1u << k;
    }
    for (std::size_t k = 0; k < k_classes; ++k) {
        std::vector<std::pair<double, std::size_t>> order;
        for (std::size_t i = 0; i < entries[k].size(); ++i) {
            const unsigned m = seen_in[text::normalize_space(entries[k][i])];
            if (m & (m - 1)) {
                ++c.ambiguous;
                continue;
            }
            order.emplace_back(text::split_position(entries[k][i], 1), i);
        }
        std::sort(order.begin(), order.end());
        if (order.size() > cap) order.resize(cap);
        std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
        for (const auto& [pos, i] : order) {
            c.data.texts.push_back(entries[k][i]);
            c.data.labels.push_back(std::int32_t(k));
        }
        c.data.classes.push_back(k_languages[k].code);
    }
    return c;
}

/// One split, encoded: ids [count, k_steps] (also as the model's float values), lengths, labels.
struct encoded {
    std::vector<std::int32_t> ids, lengths, labels;
    std::vector<float> x;
    std::size_t count = 0, truncated = 0;
    std::size_t per_class[k_classes] = {};
};

encoded encode(const text::vocabulary& vocab, const text::labelled_texts& d) {
    const text::char_tokenizer chars;
    encoded e;
    std::vector<std::vector<std::int32_t>> seqs;
    for (const auto& t : d.texts) {
        seqs.push_back(vocab.encode(chars(t)));
        e.truncated += seqs.back().size() > k_steps;
    }
    auto b = text::pad_batch(seqs, k_steps, text::truncate_side::keep_front);
    e.count = b.count;
    e.ids = std::move(b.ids);
    e.lengths = std::move(b.lengths);
    e.labels = d.labels;
    e.x.assign(e.ids.begin(), e.ids.end());
    for (auto l : e.labels) ++e.per_class[l];
    return e;
}

io::npy_array int32_array(const std::vector<std::int32_t>& v, std::vector<std::size_t> shape) {
    io::npy_array a{"<i4", std::move(shape), {}};
    a.data.assign(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(std::int32_t));
    return a;
}

/// The arrays tools/torch_language_id.py reads.
void export_data(const std::string& path, const encoded& train, const encoded& test) {
    std::map<std::string, io::npy_array> a;
    for (const auto& [name, e] : {std::pair{"train", &train}, std::pair{"test", &test}}) {
        a[std::string(name) + "_ids"] = int32_array(e->ids, {e->count, k_steps});
        a[std::string(name) + "_lengths"] = int32_array(e->lengths, {e->count});
        a[std::string(name) + "_labels"] = int32_array(e->labels, {e->count});
    }
    a["vocab_size"] = int32_array({std::int32_t(k_vocab)}, {1});
    a["num_classes"] = int32_array({std::int32_t(k_classes)}, {1});
    io::write_npz(path, a);
}

struct scores {
    double accuracy = 0, macro_f1 = 0, loss = 0;
    std::vector<double> precision, recall, f1;
    std::vector<std::size_t> confusion;  ///< [true, predicted]
};

/// Test metrics of @p model on @p d: the class is the largest logit (the first of equal ones, as
/// torch.argmax); loss = nn.CrossEntropyLoss.
template <class Model>
scores evaluate(const Model& model, const encoded& d) {
    metrics::confusion_matrix cm(k_classes);
    double loss = 0;
    constexpr std::size_t chunk = 64;
    for (std::size_t s = 0; s < d.count; s += chunk) {
        const std::size_t n = std::min(chunk, d.count - s);
        const auto z = model.predict(std::span<const float>(d.x.data() + s * k_steps, n * k_steps),
                                     std::span<const std::int32_t>(d.lengths.data() + s, n));
        for (std::size_t i = 0; i < n; ++i) {
            const float* row = z.data() + i * k_classes;
            const std::size_t y = std::size_t(d.labels[s + i]);
            cm.add(y, std::size_t(std::max_element(row, row + k_classes) - row));
            const double m = *std::max_element(row, row + k_classes);
            double sum = 0;
            for (std::size_t c = 0; c < k_classes; ++c) sum += std::exp(double(row[c]) - m);
            loss += m + std::log(sum) - double(row[y]);
        }
    }
    scores r{cm.accuracy(), cm.macro_f1(), d.count ? loss / double(d.count) : 0.0, {}, {}, {}, {}};
    for (std::size_t c = 0; c < k_classes; ++c) {
        r.precision.push_back(cm.precision(c));
        r.recall.push_back(cm.recall(c));
        r.f1.push_back(cm.f1(c));
        for (std::size_t p = 0; p < k_classes; ++p) r.confusion.push_back(cm(c, p));
    }
    return r;
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
    const scores& final_scores() const { return epochs.back().test; }
};

double mean_of(const std::vector<run_result>& runs, double scores::* f) {
    double s = 0;
    for (const auto& r : runs) s += r.final_scores().*f;
    return runs.empty() ? 0 : s / double(runs.size());
}
/// Element-wise mean over the runs of a per-class (or per-cell) vector.
template <class V>
std::vector<double> mean_vector(const std::vector<run_result>& runs, V scores::* f) {
    std::vector<double> m;
    for (const auto& r : runs) {
        const auto& v = r.final_scores().*f;
        m.resize(v.size());
        for (std::size_t i = 0; i < v.size(); ++i) m[i] += double(v[i]) / double(runs.size());
    }
    return m;
}

template <class V>
void json_array(std::ostream& j, const V& v) {
    j << "[";
    for (std::size_t i = 0; i < v.size(); ++i) j << (i ? ", " : "") << v[i];
    j << "]";
}

std::string to_json(const std::vector<run_result>& runs, const example::options& o, std::size_t limit, std::size_t cap,
                    const corpus& c, const encoded& train, const encoded& test, std::size_t vocab_size, const char* device) {
    std::ostringstream j;
    j.precision(10);
    j << "{\n  \"framework\": \"ctnn\",\n  \"task\": \"language identification, 8 languages of fortunes\",\n  \"device\": \"" << device
      << "\",\n  \"threads\": " << o.threads << ",\n  \"epochs\": " << o.epochs << ",\n  \"batch\": " << o.batch << ",\n  \"lr\": " << o.lr
      << ",\n  \"steps\": " << k_steps << ",\n  \"embedding_rows\": " << k_vocab << ",\n  \"vocabulary\": " << vocab_size
      << ",\n  \"parameters\": " << language_id::parameter_count << ",\n  \"per_language_cap\": " << cap << ",\n  \"limit\": " << limit
      << ",\n  \"languages\": [";
    for (std::size_t k = 0; k < k_classes; ++k) j << (k ? ", " : "") << "\"" << k_languages[k].code << "\"";
    j << "],\n  \"entries_read\": ";
    json_array(j, std::vector<std::size_t>(std::begin(c.read), std::end(c.read)));
    j << ",\n  \"ambiguous_entries_dropped\": " << c.ambiguous << ",\n  \"train_samples\": " << train.count
      << ",\n  \"test_samples\": " << test.count << ",\n  \"test_per_language\": ";
    json_array(j, std::vector<std::size_t>(std::begin(test.per_class), std::end(test.per_class)));
    j << ",\n  \"train_truncated\": " << train.truncated << ",\n  \"test_truncated\": " << test.truncated << ",\n  \"mean\": {\"accuracy\": "
      << mean_of(runs, &scores::accuracy) << ", \"macro_f1\": " << mean_of(runs, &scores::macro_f1) << ", \"loss\": " << mean_of(runs, &scores::loss);
    double secs = 0, cpu = 0;
    for (const auto& r : runs) secs += r.train_seconds(), cpu += r.train_cpu_seconds();
    const double samples = double(train.count) * double(o.epochs) * double(runs.size());
    j << ", \"train_samples_per_second\": " << (secs > 0 ? samples / secs : 0.0)
      << ", \"train_samples_per_cpu_second\": " << (cpu > 0 ? samples / cpu : 0.0)
      << ", \"f1\": ";
    json_array(j, mean_vector(runs, &scores::f1));
    j << ", \"confusion\": ";
    json_array(j, mean_vector(runs, &scores::confusion));
    j << "},\n  \"mean_test_accuracy\": " << mean_of(runs, &scores::accuracy) << ",\n  \"runs\": [";
    for (std::size_t k = 0; k < runs.size(); ++k) {
        const auto& r = runs[k];
        const auto& f = r.final_scores();
        j << (k ? "," : "") << "\n    {\"seed\": " << r.seed << ", \"accuracy\": " << f.accuracy << ", \"macro_f1\": " << f.macro_f1
          << ", \"loss\": " << f.loss << ", \"train_seconds\": " << r.train_seconds() << ", \"train_cpu_seconds\": " << r.train_cpu_seconds()
          << ", \"train_samples_per_second\": " << double(train.count) * double(r.epochs.size()) / r.train_seconds() << ", \"precision\": ";
        json_array(j, f.precision);
        j << ", \"recall\": ";
        json_array(j, f.recall);
        j << ", \"f1\": ";
        json_array(j, f.f1);
        j << ", \"confusion\": ";
        json_array(j, f.confusion);
        j << ", \"epochs\": [";
        for (std::size_t e = 0; e < r.epochs.size(); ++e) {
            const auto& ep = r.epochs[e];
            j << (e ? "," : "") << "\n      {\"epoch\": " << e + 1 << ", \"train_loss\": " << ep.train_loss
              << ", \"test_accuracy\": " << ep.test.accuracy << ", \"test_macro_f1\": " << ep.test.macro_f1
              << ", \"test_loss\": " << ep.test.loss << ", \"train_seconds\": " << ep.train_seconds << ", \"train_cpu_seconds\": " << ep.train_cpu_seconds << ", \"eval_seconds\": " << ep.eval_seconds
              << "}";
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
    CLI::App app{"ctnn example 09: character-level language identification (bidirectional GRU) on fortunes"};
    example::options o;
    o.epochs = 5;
    o.batch = 32;
    o.lr = 2e-3;
    std::vector<std::uint64_t> seeds{1, 2, 3};
    std::size_t limit = 0, cap = 2500;
    std::string export_path;
    example::add_options(app, o);
    app.get_option("--data")->description("directory with the fortune files and language folders (default /usr/share/games/fortunes)");
    app.add_option("--seeds", seeds, "seeds: one training run per seed (init and shuffling); --seed S is --seeds S");
    app.add_option("--per-language", cap, "at most this many entries per language (balances the classes)")->check(CLI::Range(1, 1000000));
    app.add_option("--limit", limit, "use only N training and N test entries, evenly spread over each split (0: all; a smoke run)");
    app.add_option("--export-data", export_path, "write the encoded splits for tools/torch_language_id.py to this .npz and exit");
    CLI11_PARSE(app, argc, argv);
    if (app.count("--seed")) seeds = {o.seed_value};
    const std::string dir = o.data_dir.empty() ? text::fortune_default_dir : o.data_dir;

    return example::on_device(o, [&]<class P>(P) {
        const corpus c = read_languages(dir, cap);
        auto [train_texts, test_texts] = text::split_train_test(c.data, 0.2);  // seed 0
        if (limit) {  // every k-th entry, so every language stays
            auto spread = [&](const text::labelled_texts& d) {
                std::vector<std::size_t> rows;
                const std::size_t n = std::min(limit, d.texts.size());
                for (std::size_t i = 0; i < n; ++i) rows.push_back(i * d.texts.size() / n);
                return text::select_rows(d, rows);
            };
            train_texts = spread(train_texts);
            test_texts = spread(test_texts);
        }
        const auto vocab = text::build_vocabulary(train_texts.texts, text::char_tokenizer{}, {.max_size = k_vocab});
        const encoded train = encode(vocab, train_texts), test = encode(vocab, test_texts);
        std::printf("fortunes in %s, entries read per language:", dir.c_str());
        for (std::size_t k = 0; k < k_classes; ++k) std::printf(" %s %zu", k_languages[k].code, c.read[k]);
        std::printf("; %zu entries found in two languages dropped; at most %zu per language\n", c.ambiguous, cap);
        std::printf("%zu train, %zu test (per language:", train.count, test.count);
        for (std::size_t k = 0; k < k_classes; ++k) std::printf(" %zu", test.per_class[k]);
        std::printf("); vocabulary %zu code points + <pad>, <unk>; %zu characters per sample (%zu train, %zu test entries truncated)\n",
                    vocab.size() - 2, k_steps, train.truncated, test.truncated);
        if (!export_path.empty()) {
            export_data(export_path, train, test);
            std::printf("data written to %s (tools/torch_language_id.py --data %s)\n", export_path.c_str(), export_path.c_str());
            return;
        }
        using M = typename language_id::template on<P>;
        std::printf("model: %zu parameters; %s, %zu thread(s); %zu epochs, batch %zu, Adam %g\n", M::parameter_count, P::name,
                    num_threads(), o.epochs, o.batch, o.lr);

        std::vector<run_result> runs;
        std::vector<float> xb(o.batch * k_steps);
        std::vector<std::int32_t> yb(o.batch), lb(o.batch);
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
                shuffle.shuffle(order.data(), order.size());
                epoch_result er;
                double total = 0;
                const auto t0 = std::chrono::steady_clock::now();
                const std::clock_t c0 = std::clock();
                for (std::size_t b0 = 0; b0 < train.count; b0 += o.batch) {
                    const std::size_t n = std::min(o.batch, train.count - b0);
                    for (std::size_t i = 0; i < n; ++i) {
                        const std::size_t r = order[b0 + i];
                        std::copy_n(train.x.data() + r * k_steps, k_steps, xb.data() + i * k_steps);
                        yb[i] = train.labels[r];
                        lb[i] = train.lengths[r];
                    }
                    ctx.set_lengths(std::span<const std::int32_t>(lb.data(), n));
                    const float l = train_step(model, ctx, opt, loss::cross_entropy{}, std::span<const float>(xb.data(), n * k_steps),
                                               std::span<const std::int32_t>(yb.data(), n));
                    total += double(l) * double(n);
                }
                er.train_seconds = seconds_since(t0);
                er.train_cpu_seconds = cpu_seconds_since(c0);
                er.train_loss = total / double(train.count);
                const auto t1 = std::chrono::steady_clock::now();
                er.test = evaluate(model, test);
                er.eval_seconds = seconds_since(t1);
                std::printf("seed %llu epoch %zu: train loss %.4f  test loss %.4f  acc %.2f %%  macro F1 %.3f  (%.1f s, %.1f s CPU, "
                            "%.0f samples/CPU-s; eval %.1f s)\n",
                            (unsigned long long)s, epoch, er.train_loss, er.test.loss, 100 * er.test.accuracy, er.test.macro_f1,
                            er.train_seconds, er.train_cpu_seconds, double(train.count) / er.train_cpu_seconds, er.eval_seconds);
                std::fflush(stdout);
                rr.epochs.push_back(er);
            }
            runs.push_back(rr);
            if (!o.json_path.empty())  // after every run, so a long session leaves its results behind
                io::write_file_atomic(o.json_path, to_json(runs, o, limit, cap, c, train, test, vocab.size(), P::name));
            if (!o.save_path.empty()) {
                save_npz(model, o.save_path);
                std::printf("model (seed %llu) saved to %s\n", (unsigned long long)s, o.save_path.c_str());
            }
        }

        std::printf("\n| seed | test accuracy | macro F1 | test loss | train s | CPU s | samples/CPU-s |\n|---|---|---|---|---|---|---|\n");
        for (const auto& r : runs) {
            const auto& f = r.final_scores();
            std::printf("| %llu | %.2f %% | %.3f | %.4f | %.1f | %.1f | %.0f |\n", (unsigned long long)r.seed, 100 * f.accuracy, f.macro_f1,
                        f.loss, r.train_seconds(), r.train_cpu_seconds(), double(train.count) * double(o.epochs) / r.train_cpu_seconds());
        }
        std::printf("mean over %zu seed(s), %zu epochs: test accuracy %.2f %%, macro F1 %.3f, loss %.4f\n", runs.size(), o.epochs,
                    100 * mean_of(runs, &scores::accuracy), mean_of(runs, &scores::macro_f1), mean_of(runs, &scores::loss));
        const auto f1 = mean_vector(runs, &scores::f1);
        const auto pr = mean_vector(runs, &scores::precision);
        const auto rc = mean_vector(runs, &scores::recall);
        std::printf("\n| language | precision | recall | F1 |\n|---|---|---|---|\n");
        for (std::size_t k = 0; k < k_classes; ++k)
            std::printf("| %s (%s) | %.3f | %.3f | %.3f |\n", k_languages[k].name, k_languages[k].code, pr[k], rc[k], f1[k]);
        const auto cm = mean_vector(runs, &scores::confusion);
        std::printf("\nconfusion matrix (rows: true language, columns: predicted%s)\n|    |", runs.size() > 1 ? "; mean over seeds" : "");
        for (std::size_t k = 0; k < k_classes; ++k) std::printf(" %s |", k_languages[k].code);
        std::printf("\n|---|");
        for (std::size_t k = 0; k < k_classes; ++k) std::printf("---|");
        for (std::size_t t = 0; t < k_classes; ++t) {
            std::printf("\n| %s |", k_languages[t].code);
            for (std::size_t p = 0; p < k_classes; ++p) std::printf(runs.size() > 1 ? " %.1f |" : " %.0f |", cm[t * k_classes + p]);
        }
        std::printf("\n");
        if (!o.json_path.empty()) std::printf("results written to %s\n", o.json_path.c_str());
    });
}
