// SPDX-License-Identifier: MIT
// Regression with MSE and SGD + momentum on a well-defined synthetic target:
// y = sin(2·x0) + 0.5·x1² - 0.3·x0·x1 + ε, x ~ U(-2, 2)², ε ~ N(0, 0.1²).
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <ctnn/ctnn.hpp>

using namespace ctnn;
using regressor = sequential<input<2>, dense<64, true, initializer::xavier>, ctnn::tanh, dense<64, true, initializer::xavier>,
                             ctnn::tanh, dense<1, true, initializer::xavier>>;
constexpr double noise_sd = 0.1;

data::dataset<float> make_data(std::size_t n, std::uint64_t s) {
    rng g{seed{s}};
    auto d = data::dataset<float>::zeros(n, 2, 0, 1);
    for (std::size_t i = 0; i < n; ++i) {
        const double x0 = g.uniform(-2, 2), x1 = g.uniform(-2, 2);
        d.x[2 * i] = float(x0);
        d.x[2 * i + 1] = float(x1);
        d.targets[i] = float(std::sin(2 * x0) + 0.5 * x1 * x1 - 0.3 * x0 * x1 + noise_sd * g.normal());
    }
    return d;
}

int main(int argc, char** argv) {
    CLI::App app{"ctnn example 03: MLP regression (MSE, SGD with momentum)"};
    std::size_t epochs = 200, batch = 32;
    double lr = 0.01, momentum = 0.9;
    std::uint64_t seed_value = 3;
    app.add_option("--epochs", epochs, "training epochs")->check(CLI::Range(1, 100000));
    app.add_option("--batch", batch, "batch size")->check(CLI::Range(1, 4096));
    app.add_option("--lr", lr, "SGD learning rate")->check(CLI::PositiveNumber);
    app.add_option("--momentum", momentum, "SGD momentum")->check(CLI::Range(0.0, 0.999));
    app.add_option("--seed", seed_value, "seed for data, init and shuffling");
    CLI11_PARSE(app, argc, argv);
    try {
        const auto train = make_data(4000, seed_value), test = make_data(1000, seed_value + 100);
        regressor model{seed{seed_value}};
        optim::sgd opt{model.parameters(), {.lr = lr, .momentum = momentum}};
        const auto r = fit(model, opt, loss::mse{}, train,
                           {.epochs = epochs, .batch = batch, .shuffle_seed = seed{seed_value},
                            .lr_schedule = optim::cosine_lr{lr, epochs, lr * 0.01}});
        const auto pred = model.predict(data::span_tensor<const float>{test.x.data(), test.x.size()});
        double se = 0, mean = 0, var = 0;
        for (std::size_t i = 0; i < test.count; ++i) mean += test.targets[i];
        mean /= double(test.count);
        for (std::size_t i = 0; i < test.count; ++i) {
            se += (pred(i, 0) - test.targets[i]) * (pred(i, 0) - test.targets[i]);
            var += (test.targets[i] - mean) * (test.targets[i] - mean);
        }
        std::printf("test MSE %.4f (noise floor %.4f, predicting the mean %.4f), R^2 %.4f after %zu epochs, %.2f s\n",
                    se / double(test.count), noise_sd * noise_sd, var / double(test.count), 1 - se / var, r.history.size(),
                    r.train_seconds);
    } catch (const ctnn::error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}
