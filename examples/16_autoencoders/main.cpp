// SPDX-License-Identifier: MIT
// Autoencoders on real Fashion-MNIST with the same 32-value code: a dense one (784 → 256 → 32 → 256 → 784) and a
// convolutional one (two stride-2 convolutions to 7×7×32 → dense 32 → dense 7×7×32 → two stride-2 transposed
// convolutions back), each plain or denoising (Gaussian noise σ on the input, the clean image as the target);
// BCE on sigmoid pixels, Adam. Reports the test MSE (denoising: of the noisy test images, against the clean
// ones, beside the noisy input's own MSE) and writes PNG rows of test images / (noisy inputs /) reconstructions.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "../common/generative.hpp"

using namespace ctnn;
namespace gen = example::gen;
namespace fs = std::filesystem;

using dense_autoencoder = sequential<input<28, 28, 1>, flatten, dense<256>, relu, dense<32>, relu,  // code: 32 values
                                     dense<256>, relu, dense<784, true, initializer::xavier>, sigmoid, reshape<28, 28, 1>>;
using conv_autoencoder =
    sequential<input<28, 28, 1>, conv2d<16, 3, {.stride = 2, .padding = 1}>, relu,                   // 14×14×16
               conv2d<32, 3, {.stride = 2, .padding = 1}>, relu, flatten, dense<32>, relu,            // 7×7×32 → code: 32 values
               dense<7 * 7 * 32>, relu, reshape<7, 7, 32>,                                            // back to 7×7×32
               conv_transpose2d<16, 3, {.stride = 2, .padding = 1, .output_padding = 1}>, relu,      // 14×14×16
               conv_transpose2d<1, 3, {.stride = 2, .padding = 1, .output_padding = 1}>, sigmoid>;   // 28×28×1
static_assert(std::is_same_v<conv_autoencoder::output_shape, shape<28, 28, 1>>);

struct settings : gen::options {
    double noise = 0.0;
    std::string model = "all";
};

struct result {
    std::string name;
    double test_mse = 0, input_mse = 0, seconds_per_epoch = 0;
    std::size_t parameters = 0;
};

/// x + N(0, σ²) clamped to [0, 1], from @p g.
void add_noise(const float* x, float* y, std::size_t n, double sigma, rng& g) {
    for (std::size_t i = 0; i < n; ++i) y[i] = std::clamp(float(x[i] + sigma * g.normal()), 0.0f, 1.0f);
}

template <class M>
result train(const std::string& name, const settings& s, const data::split<float>& data) {
    M model{seed{s.seed_value}};
    auto ctx = model.context(s.batch);
    optim::adam opt{model.parameters(), {.lr = s.lr}};
    const std::size_t n = s.limit ? std::min(s.limit, data.train.count) : data.train.count, px = 784;
    std::printf("%s autoencoder%s: %zu parameters, %zu training images\n", name.c_str(),
                s.noise > 0 ? " (denoising)" : "", M::parameter_count, n);
    rng order_rng{seed{s.seed_value + 1}}, noise_rng{seed{s.seed_value + 2}};
    std::vector<float> clean(s.batch * px), noisy(s.batch * px);
    // the test inputs: noisy copies drawn once (the same for every epoch)
    std::vector<float> test_in(data.test.x.data(), data.test.x.data() + data.test.count * px);
    rng test_rng{seed{s.seed_value + 3}};
    if (s.noise > 0) add_noise(data.test.x.data(), test_in.data(), test_in.size(), s.noise, test_rng);
    result r{name + (s.noise > 0 ? "_denoising" : ""), 0, 0, 0, M::parameter_count};
    for (std::size_t i = 0; i < test_in.size(); ++i) r.input_mse += double(test_in[i] - data.test.x[i]) * double(test_in[i] - data.test.x[i]);
    r.input_mse /= double(test_in.size());
    // --history is a prefix here: one CSV per model
    gen::history hist{s.history_path.empty() ? "" : s.history_path + "." + r.name + ".csv", {"epoch", "train_bce", "test_mse", "seconds"}};
    double total = 0;
    for (std::size_t ep = 1; ep <= s.epochs; ++ep) {
        const auto order = gen::shuffled(n, order_rng);
        double sum = 0;
        const auto t0 = std::chrono::steady_clock::now();
        for (std::size_t first = 0; first < n; first += s.batch) {
            const std::size_t b = std::min(s.batch, n - first);
            gen::gather(data.train, order, first, b, clean.data());
            const float* in = clean.data();
            if (s.noise > 0) {
                add_noise(clean.data(), noisy.data(), b * px, s.noise, noise_rng);
                in = noisy.data();
            }
            sum += double(train_step(model, ctx, opt, loss::bce{}, std::span<const float>{in, b * px},
                                     std::span<const float>{clean.data(), b * px})) *
                   double(b);
        }
        const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        total += sec;
        model.eval();
        const auto y = model.predict(test_in);
        model.train();
        double mse = 0;
        for (std::size_t i = 0; i < test_in.size(); ++i) mse += double(y.data()[i] - data.test.x[i]) * double(y.data()[i] - data.test.x[i]);
        r.test_mse = mse / double(test_in.size());
        std::printf("  epoch %2zu/%zu: train BCE %.5f  test MSE %.5f%s  %.1f s (%.0f images/s)\n", ep, s.epochs, sum / double(n), r.test_mse,
                    s.noise > 0 ? " (from noisy inputs)" : "", sec, double(n) / sec);
        std::fflush(stdout);
        hist.add({double(ep), sum / double(n), r.test_mse, sec});
        hist.save();
        if (!s.samples_dir.empty()) {  // rows: test images, (noisy inputs,) reconstructions — the first 10
            std::vector<float> rows(data.test.x.data(), data.test.x.data() + 10 * px);
            if (s.noise > 0) rows.insert(rows.end(), test_in.begin(), test_in.begin() + 10 * px);
            rows.insert(rows.end(), y.data(), y.data() + 10 * px);
            char file[96];
            std::snprintf(file, sizeof file, "%s_%03zu.png", r.name.c_str(), ep);
            gen::write_png_grid(fs::path(s.samples_dir) / file, rows.data(), rows.size() / px, 28, 28, 1, 10, 0, 1, 2);
        }
    }
    r.seconds_per_epoch = total / double(s.epochs);
    if (!s.save_path.empty()) save_npz(model, s.save_path + "." + r.name + ".npz");
    return r;
}

int main(int argc, char** argv) {
    CLI::App app{"ctnn example 16: dense, convolutional and denoising autoencoders on Fashion-MNIST"};
    settings s;
    app.add_option("--model", s.model, "dense, conv or all")->check(CLI::IsMember({"dense", "conv", "all"}));
    app.add_option("--noise", s.noise, "denoising: Gaussian noise σ added to the inputs (0: a plain autoencoder)")->check(CLI::Range(0.0, 2.0));
    gen::add_options(app, s, "save each model as PREFIX.<model>.npz",
                     "write a PNG of test images and reconstructions per model and epoch into DIR");
    CLI11_PARSE(app, argc, argv);
    try {
        set_num_threads(s.threads);
        const auto data = data::fashion_mnist::load(s.data_dir);
        if (!s.samples_dir.empty()) fs::create_directories(s.samples_dir);
        std::vector<result> results;
        if (s.model != "conv") results.push_back(train<dense_autoencoder>("dense", s, data));
        if (s.model != "dense") results.push_back(train<conv_autoencoder>("conv", s, data));
        std::printf("\n| model | parameters | test MSE | input MSE | s/epoch |\n|---|---|---|---|---|\n");
        for (const auto& r : results)
            std::printf("| %s | %zu | %.5f | %.5f | %.1f |\n", r.name.c_str(), r.parameters, r.test_mse, r.input_mse, r.seconds_per_epoch);
        if (!s.json_path.empty()) {
            std::ostringstream j;
            j << "{\n  \"epochs\": " << s.epochs << ",\n  \"seed\": " << s.seed_value << ",\n  \"noise\": " << s.noise << ",\n  \"models\": [";
            for (std::size_t i = 0; i < results.size(); ++i)
                j << (i ? ", " : "") << "{\"model\": \"" << results[i].name << "\", \"parameters\": " << results[i].parameters
                  << ", \"test_mse\": " << results[i].test_mse << ", \"input_mse\": " << results[i].input_mse
                  << ", \"seconds_per_epoch\": " << results[i].seconds_per_epoch << "}";
            j << "]\n}\n";
            io::write_file_atomic(s.json_path, j.str());
        }
    } catch (const ctnn::error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}
