// SPDX-License-Identifier: MIT
// CNN + RNN fusion on Fashion-MNIST: a CNN branch and an LSTM branch that reads the image's 28 rows as a
// sequence of 28 steps × 28 features; each branch ends in a softmax, the two class distributions are
// averaged, and the model trains end to end on the categorical cross-entropy of the average. Trains the
// LSTM branch alone, the CNN branch alone and the fusion with the same settings for several seeds and
// reports each seed's and the mean test accuracy (tools/torch_fusion.py is the same in PyTorch).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctnn/io/atomic_file.hpp>
#include <map>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "../common/example.hpp"

using namespace ctnn;

/// Conv16-3×3 → pool → Conv32-3×3 → pool → Dense128 → Dropout → Dense10 → softmax: example 04's CNN at
/// half the filters (a quarter of its convolution work), so that the LSTM and the CNN cost about the same.
using cnn_branch = chain<conv2d<16, 3, {.padding = 1}>, relu, max_pool2d<2>,  // 14×14×16
                         conv2d<32, 3, {.padding = 1}>, relu, max_pool2d<2>,  // 7×7×32
                         flatten, dense<128>, relu, dropout<0.3>, dense<10>, softmax>;
/// The rows as a sequence: [28, 28, 1] → [28 steps, 28 features] → LSTM(128), last state → Dense10 → softmax.
using lstm_branch = chain<reshape<28, 28>, lstm<128>, dense<10>, softmax>;

using cnn_model = sequential<input<28, 28, 1>, cnn_branch>;
using lstm_model = sequential<input<28, 28, 1>, lstm_branch>;
/// Both branches on the same image; y = (p_cnn + p_lstm) / 2.
using fusion_model = sequential<input<28, 28, 1>, parallel<merge::average, cnn_branch, lstm_branch>>;

static_assert(cnn_model::parameter_count == 206'922 && lstm_model::parameter_count == 82'186,
              "the parameter counts of tools/torch_fusion.py's modules");
static_assert(fusion_model::parameter_count == cnn_model::parameter_count + lstm_model::parameter_count,
              "the fusion holds both branches and nothing else");

namespace {

/// One training run's outcome.
struct run_result {
    std::uint64_t seed = 0;
    double test_accuracy = 0, final_loss = 0, train_seconds = 0, seconds_per_epoch = 0, samples_per_second = 0;
    double wall_seconds = 0;  ///< the whole run: training, the evaluation after every epoch, set-up
    /// fusion only: the test accuracy of each trained branch on its own (CNN, LSTM)
    double branch_cnn_accuracy = -1, branch_lstm_accuracy = -1;
    std::vector<double> test_accuracy_per_epoch;
};

struct model_results {
    std::size_t parameters = 0;
    std::vector<run_result> runs;
    double mean(double run_result::* field) const {
        double s = 0;
        for (const auto& r : runs) s += r.*field;
        return runs.empty() ? 0 : s / double(runs.size());
    }
    /// Sample standard deviation of the test accuracy (0 for one run).
    double std_accuracy() const {
        if (runs.size() < 2) return 0;
        const double m = mean(&run_result::test_accuracy);
        double s = 0;
        for (const auto& r : runs) s += (r.test_accuracy - m) * (r.test_accuracy - m);
        return std::sqrt(s / double(runs.size() - 1));
    }
};

/// "apart": the LSTM and the CNN trained alone (same seed), their probabilities averaged at test time —
/// the fusion's architecture with the separately trained weights, no joint training.
const char* const k_order[] = {"lstm", "cnn", "fusion", "apart"};

/// Throws unless the fusion's flat parameters are the CNN branch's followed by the LSTM branch's, laid
/// out as in cnn_model and lstm_model (so weights move between them with set_parameters).
template <class Fusion, class Cnn, class Lstm>
void check_fusion_layout(const Fusion& fusion, const Cnn& c, const Lstm& l) {
    const auto fused = fusion.parameter_layout();
    std::size_t n = 0;
    auto check = [&](const auto& branch, std::size_t k, std::size_t base) {
        for (const auto& e : branch.parameter_layout()) {  // "0.<i>.weight" alone is "0.<k>.<i>.weight" in the fusion
            const std::string want = "0." + std::to_string(k) + e.name.substr(1);
            if (n >= fused.size() || fused[n].name != want || fused[n].offset != base + e.offset)
                throw ctnn::error("example 11: the fusion's parameter " + std::to_string(n) + " is not " + want);
            ++n;
        }
    };
    check(c, 0, 0);
    check(l, 1, cnn_model::parameter_count);
}

/// The test accuracy of each branch of a trained fusion on its own.
template <class P, class Fusion>
std::pair<double, double> branch_accuracies(const Fusion& fusion, const data::dataset<float>& test) {
    typename cnn_model::template on<P> c{seed{0}};
    typename lstm_model::template on<P> l{seed{0}};
    check_fusion_layout(fusion, c, l);
    const auto w = fusion.host_parameters();
    c.set_parameters(std::span<const float>(w).first(cnn_model::parameter_count));
    l.set_parameters(std::span<const float>(w).subspan(cnn_model::parameter_count));
    return {evaluate(c, test).accuracy(), evaluate(l, test).accuracy()};
}

std::string to_json(const std::map<std::string, model_results>& all, const example::options& o, std::size_t limit,
                    std::size_t n_train, std::size_t n_test, const char* device) {
    std::ostringstream j;
    j.precision(10);
    j << "{\n  \"framework\": \"ctnn\",\n  \"device\": \"" << device << "\",\n  \"threads\": " << o.threads
      << ",\n  \"epochs\": " << o.epochs << ",\n  \"batch\": " << o.batch << ",\n  \"lr\": " << o.lr
      << ",\n  \"schedule\": \"cosine to lr/100 per epoch\",\n  \"loss\": \"categorical_cross_entropy (eps 1e-7)\""
      << ",\n  \"limit\": " << limit << ",\n  \"train_samples\": " << n_train << ",\n  \"test_samples\": " << n_test
      << ",\n  \"models\": {";
    bool first = true;
    for (const char* name : k_order) {
        const auto it = all.find(name);
        if (it == all.end()) continue;
        const auto& m = it->second;
        if (std::string_view(name) == "apart") {
            j << (first ? "" : ",") << "\n    \"apart\": {\"description\": \"lstm and cnn of the same seed trained apart, "
              << "probabilities averaged at test time\", \"mean_test_accuracy\": " << m.mean(&run_result::test_accuracy)
              << ", \"std_test_accuracy\": " << m.std_accuracy() << ", \"runs\": [";
            for (std::size_t i = 0; i < m.runs.size(); ++i)
                j << (i ? ", " : "") << "{\"seed\": " << m.runs[i].seed << ", \"test_accuracy\": " << m.runs[i].test_accuracy << "}";
            j << "]}";
            first = false;
            continue;
        }
        j << (first ? "" : ",") << "\n    \"" << name << "\": {\"parameters\": " << m.parameters
          << ", \"mean_test_accuracy\": " << m.mean(&run_result::test_accuracy) << ", \"std_test_accuracy\": " << m.std_accuracy()
          << ", \"mean_seconds_per_epoch\": " << m.mean(&run_result::seconds_per_epoch)
          << ", \"mean_train_seconds\": " << m.mean(&run_result::train_seconds)
          << ", \"mean_wall_seconds\": " << m.mean(&run_result::wall_seconds) << ", \"runs\": [";
        for (std::size_t i = 0; i < m.runs.size(); ++i) {
            const auto& r = m.runs[i];
            j << (i ? "," : "") << "\n      {\"seed\": " << r.seed << ", \"test_accuracy\": " << r.test_accuracy
              << ", \"final_loss\": " << r.final_loss << ", \"train_seconds\": " << r.train_seconds
              << ", \"wall_seconds\": " << r.wall_seconds
              << ", \"seconds_per_epoch\": " << r.seconds_per_epoch << ", \"samples_per_second\": " << r.samples_per_second;
            if (r.branch_cnn_accuracy >= 0)
                j << ", \"branch_test_accuracy\": {\"cnn\": " << r.branch_cnn_accuracy << ", \"lstm\": " << r.branch_lstm_accuracy << "}";
            j
              << ", \"test_accuracy_per_epoch\": [";
            for (std::size_t e = 0; e < r.test_accuracy_per_epoch.size(); ++e) j << (e ? ", " : "") << r.test_accuracy_per_epoch[e];
            j << "]}";
        }
        j << "\n    ]}";
        first = false;
    }
    j << "\n  }\n}\n";
    return j.str();
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"ctnn example 11: CNN + LSTM fusion (averaged probabilities) on Fashion-MNIST"};
    example::options o;
    o.epochs = 10;
    std::vector<std::string> models{"lstm", "cnn", "fusion"};
    std::vector<std::uint64_t> seeds{1, 2, 3};
    std::size_t limit = 0;
    example::add_options(app, o);
    app.add_option("--model", models, "which models to train, in this order: lstm, cnn, fusion (default: all three)")
        ->check(CLI::IsMember({"lstm", "cnn", "fusion"}));
    app.add_option("--seeds", seeds, "seeds: one training run of each model per seed (init, shuffling, dropout)");
    app.add_option("--limit", limit, "use only the first N training and N test images (0: all; a smoke run)");
    CLI11_PARSE(app, argc, argv);

    return example::on_device(o, [&]<class P>(P) {
        auto data = data::fashion_mnist::load(o.data_dir);
        if (limit) {
            data.train = data.train.slice(0, std::min(limit, data.train.count));
            data.test = data.test.slice(0, std::min(limit, data.test.count));
        }
        std::printf("Fashion-MNIST: %zu train, %zu test; %s, %zu thread(s); %zu epochs, batch %zu, Adam %g cosine to %g\n",
                    data.train.count, data.test.count, P::name, num_threads(), o.epochs, o.batch, o.lr, o.lr / 100);
        std::map<std::string, model_results> all;
        std::map<std::string, std::vector<std::vector<float>>> trained;  // lstm/cnn weights per seed, for "apart"

        auto train = [&]<class Spec>(std::type_identity<Spec>, const std::string& name) {
            using M = typename Spec::template on<P>;
            auto& res = all[name];
            res.parameters = M::parameter_count;
            for (const std::uint64_t s : seeds) {
                std::printf("-- %s (%zu parameters), seed %llu\n", name.c_str(), M::parameter_count, (unsigned long long)s);
                const auto t0 = std::chrono::steady_clock::now();
                M model{seed{s}};
                optim::adam opt{model.parameters(), {.lr = o.lr}};
                const fit_options fo{.epochs = o.epochs,
                                     .batch = o.batch,
                                     .shuffle = true,
                                     .shuffle_seed = seed{s + 1},
                                     .lr_schedule = optim::cosine_lr{o.lr, o.epochs, o.lr / 100}};
                const auto r = fit(model, opt, loss::categorical_cross_entropy{}, data.train, fo,
                                   callbacks::evaluate<float>{data.test}, callbacks::progress{});
                run_result rr;
                rr.seed = s;
                rr.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                rr.test_accuracy = r.history.back().metrics.at("test_accuracy");
                rr.final_loss = r.history.back().loss;
                rr.train_seconds = r.train_seconds;
                rr.seconds_per_epoch = r.train_seconds / double(r.history.size());
                rr.samples_per_second = r.samples_per_second();
                for (const auto& h : r.history) rr.test_accuracy_per_epoch.push_back(h.metrics.at("test_accuracy"));
                if constexpr (std::is_same_v<Spec, fusion_model>) {
                    std::tie(rr.branch_cnn_accuracy, rr.branch_lstm_accuracy) = branch_accuracies<P>(model, data.test);
                    std::printf("%s seed %llu: its CNN branch alone %.4f, its LSTM branch alone %.4f\n", name.c_str(),
                                (unsigned long long)s, rr.branch_cnn_accuracy, rr.branch_lstm_accuracy);
                }
                if constexpr (!std::is_same_v<Spec, fusion_model>) trained[name].push_back(model.host_parameters());
                res.runs.push_back(rr);
                std::printf("%s seed %llu: test accuracy %.4f, %.1f s/epoch\n", name.c_str(), (unsigned long long)s,
                            rr.test_accuracy, rr.seconds_per_epoch);
                if (!o.json_path.empty())  // after every run, so a long session leaves its results behind
                    io::write_file_atomic(o.json_path, to_json(all, o, limit, data.train.count, data.test.count, P::name));
            }
        };
        for (const auto& name : models) {
            if (name == "lstm") train(std::type_identity<lstm_model>{}, name);
            else if (name == "cnn") train(std::type_identity<cnn_model>{}, name);
            else train(std::type_identity<fusion_model>{}, name);
        }
        if (trained["lstm"].size() == seeds.size() && trained["cnn"].size() == seeds.size()) {
            // the same two branches trained apart, averaged only at test time: the fusion with their weights
            auto& res = all["apart"];
            res.parameters = fusion_model::parameter_count;
            typename fusion_model::template on<P> f{seed{0}};
            check_fusion_layout(f, typename cnn_model::template on<P>{seed{0}}, typename lstm_model::template on<P>{seed{0}});
            for (std::size_t i = 0; i < seeds.size(); ++i) {
                auto w = trained["cnn"][i];
                w.insert(w.end(), trained["lstm"][i].begin(), trained["lstm"][i].end());
                f.set_parameters(w);
                run_result rr;
                rr.seed = seeds[i];
                rr.test_accuracy = evaluate(f, data.test).accuracy();
                res.runs.push_back(rr);
                std::printf("lstm and cnn of seed %llu trained apart, averaged: test accuracy %.4f\n", (unsigned long long)seeds[i],
                            rr.test_accuracy);
            }
            if (!o.json_path.empty())
                io::write_file_atomic(o.json_path, to_json(all, o, limit, data.train.count, data.test.count, P::name));
        }

        std::printf("\n| model | parameters | test accuracy (mean ± std over %zu seeds) | per seed | s/epoch |\n|---|---|---|---|---|\n",
                    seeds.size());
        for (const char* name : k_order) {
            const auto it = all.find(name);
            if (it == all.end()) continue;
            const auto& m = it->second;
            std::string per;
            for (const auto& r : m.runs) {
                char b[16];
                std::snprintf(b, sizeof b, "%s%.2f", per.empty() ? "" : ", ", 100 * r.test_accuracy);
                per += b;
            }
            const bool apart = std::string_view(name) == "apart";
            char secs[32] = "-";
            if (!apart) std::snprintf(secs, sizeof secs, "%.1f", m.mean(&run_result::seconds_per_epoch));
            std::printf("| %s | %zu | %.2f %% ± %.2f | %s | %s |\n", apart ? "lstm, cnn trained apart, averaged" : name, m.parameters,
                        100 * m.mean(&run_result::test_accuracy), 100 * m.std_accuracy(), per.c_str(), secs);
        }
        if (!o.json_path.empty()) std::printf("results written to %s\n", o.json_path.c_str());
    });
}
