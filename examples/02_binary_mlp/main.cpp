// SPDX-License-Identifier: MIT
// Binary classifier on 1 000 x 10 synthetic features: Dense 64 ReLU -> Dense 1 sigmoid, BCE, Adam, 100 epochs.
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <ctnn/ctnn.hpp>

using namespace ctnn;
using classifier = sequential<input<10>, dense<64>, relu, dense<1, true, initializer::xavier>, sigmoid>;

/// 1 000 samples, 10 standard-normal features; the label is 1 when a fixed nonlinear score
/// (linear part + an interaction + a square) is positive, and 5 % of labels are flipped.
data::dataset<float> make_data(std::uint64_t s) {
    rng g{seed{s}};
    auto d = data::dataset<float>::zeros(1000, 10, 2, 1);  // labels for metrics, float targets for BCE
    const double w[10] = {1.0, -0.8, 0.6, 0.0, 0.5, -0.4, 0.0, 0.3, 0.0, -0.2};
    for (std::size_t i = 0; i < d.count; ++i) {
        float* x = d.x.data() + i * 10;
        double score = 0;
        for (int j = 0; j < 10; ++j) {
            x[j] = float(g.normal());
            score += w[j] * x[j];
        }
        score += 0.8 * x[3] * x[6] + 0.5 * (x[8] * x[8] - 1.0);
        int label = score > 0;
        if (g.uniform() < 0.05) label = 1 - label;
        d.labels[i] = label;
        d.targets[i] = float(label);
    }
    return d;
}

int main(int argc, char** argv) {
    CLI::App app{"ctnn example 02: binary MLP classifier"};
    std::size_t epochs = 100, batch = 32;
    double lr = 1e-3;
    std::uint64_t seed_value = 7;
    std::string json_path;
    app.add_option("--epochs", epochs, "training epochs")->check(CLI::Range(1, 100000));
    app.add_option("--batch", batch, "batch size")->check(CLI::Range(1, 1000));
    app.add_option("--lr", lr, "Adam learning rate")->check(CLI::PositiveNumber);
    app.add_option("--seed", seed_value, "seed for data, init and shuffling");
    app.add_option("--json", json_path, "write a JSON summary here");
    CLI11_PARSE(app, argc, argv);
    try {
        const auto all = make_data(seed_value);
        const auto train = all.slice(0, 800), test = all.slice(800, 1000);
        classifier model{seed{seed_value}};
        optim::adam opt{model.parameters(), {.lr = lr}};
        // sigmoid outputs are probabilities: class 1 when p > 0.5
        callbacks::evaluate<float> held_out{test, "test", 256, 0.5f};
        const fit_options options{.epochs = epochs, .batch = batch, .shuffle_seed = seed{seed_value}};
        const auto r = json_path.empty() ? fit(model, opt, loss::bce{}, train, options, held_out)
                                         : fit(model, opt, loss::bce{}, train, options, held_out, callbacks::json_summary{json_path});
        const auto& m = r.history.back().metrics;
        std::printf("held-out (200 samples) after %zu epochs: accuracy %.4f precision %.4f recall %.4f F1 %.4f "
                    "(final train loss %.4f, %.2f s)\n",
                    r.history.size(), m.at("test_accuracy"), m.at("test_precision"), m.at("test_recall"), m.at("test_f1"),
                    r.history.back().loss, r.train_seconds);
    } catch (const ctnn::error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}
