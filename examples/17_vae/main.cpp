// SPDX-License-Identifier: MIT
// A variational autoencoder on real Fashion-MNIST (vae.hpp): MLP encoder → [μ | log σ²] → gaussian_sample →
// MLP decoder, loss BCE + β·KL. Per epoch: the test ELBO, reconstruction error, a PNG of reconstructions and of
// samples from the prior (a fixed noise batch); at the end the 2-D latent map (decoded grid), the test images'
// means coloured by class, and interpolations between test images.
#include <CLI/CLI.hpp>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "../common/generative.hpp"
#include "vae.hpp"

using namespace ctnn;
namespace gen = example::gen;
namespace fs = std::filesystem;

struct settings : gen::options {
    std::size_t latent = 2;
    double beta = 1.0;
};

/// Test metrics in nats per image: the reconstruction term with one sampled z, KL, their sum (the negative
/// ELBO), and the mean squared pixel error of the reconstruction from z = μ.
struct test_metrics {
    double reconstruction = 0, kl = 0, neg_elbo = 0, mse = 0;
};

template <std::size_t L>
test_metrics evaluate(vae::encoder<L>& e, vae::sampler<L>& s, vae::decoder<L>& d, const data::dataset<float>& test) {
    constexpr std::size_t B = 500;
    auto cs = s.context(B);
    std::vector<float> dummy(B * 2 * L), dx(B * vae::pixels);
    test_metrics m;
    for (std::size_t first = 0; first < test.count; first += B) {
        const std::size_t n = std::min(B, test.count - first);
        const std::span<const float> x{test.x.data() + first * vae::pixels, n * vae::pixels};
        const auto stats = e.predict(x);
        m.kl += loss::gaussian_kl{}.packed(stats, std::span<float>{dummy.data(), n * 2 * L}, n) * double(n);
        const auto z = s.forward(stats, cs);  // one sample of z per image (the sampler's own noise stream)
        const auto xr = d.predict(z);
        m.reconstruction += loss::bce{}(xr, x, std::span<float>{dx.data(), n * vae::pixels}, n) * double(n * vae::pixels);
        std::vector<float> mu(n * L);
        for (std::size_t r = 0; r < n; ++r) std::copy_n(stats.data() + r * 2 * L, L, mu.data() + r * L);
        const auto xm = d.predict(mu);
        for (std::size_t i = 0; i < n * vae::pixels; ++i) m.mse += double(xm.data()[i] - x[i]) * double(xm.data()[i] - x[i]);
    }
    m.reconstruction /= double(test.count);
    m.kl /= double(test.count);
    m.neg_elbo = m.reconstruction + m.kl;
    m.mse /= double(test.count * vae::pixels);
    return m;
}

/// The 2-D pictures: the decoded grid over [-3, 3]² (20 × 20), the test means as coloured points (one colour per
/// class, 512 × 512 over [-4, 4]²), and 8 interpolations of 10 steps between pairs of test images.
template <std::size_t L>
void final_pictures(vae::encoder<L>& e, vae::decoder<L>& d, const data::dataset<float>& test, const fs::path& dir) {
    std::vector<float> images;
    if constexpr (L == 2) {
        std::vector<float> z;
        for (int r = 0; r < 20; ++r)
            for (int c = 0; c < 20; ++c) {
                z.push_back(float(-3.0 + 6.0 * c / 19));
                z.push_back(float(3.0 - 6.0 * r / 19));
            }
        const auto grid = d.predict(z);
        gen::write_png_grid(dir / "latent_grid.png", grid.data(), 400, 28, 28, 1, 20, 0, 1);
        static constexpr std::array<std::array<float, 3>, 10> colour{{{0.12f, 0.47f, 0.71f}, {1.0f, 0.5f, 0.05f}, {0.17f, 0.63f, 0.17f},
                                                                      {0.84f, 0.15f, 0.16f}, {0.58f, 0.4f, 0.74f}, {0.55f, 0.34f, 0.29f},
                                                                      {0.89f, 0.47f, 0.76f}, {0.5f, 0.5f, 0.5f}, {0.74f, 0.74f, 0.13f},
                                                                      {0.09f, 0.75f, 0.81f}}};
        constexpr std::size_t S = 512;
        std::vector<float> map(S * S * 3, 1.0f);
        const auto stats = e.predict(std::span<const float>{test.x.data(), test.count * vae::pixels});
        for (std::size_t i = 0; i < test.count; ++i) {
            const double px = (stats.data()[i * 4] + 4) / 8 * S, py = (4 - stats.data()[i * 4 + 1]) / 8 * S;
            if (px < 0 || py < 0 || px >= S || py >= S) continue;
            for (std::size_t k = 0; k < 3; ++k) map[(std::size_t(py) * S + std::size_t(px)) * 3 + k] = colour[test.labels[i]][k];
        }
        gen::write_png_grid(dir / "latent_map.png", map.data(), 1, S, S, 3, 1, 0, 1);
    }
    std::vector<float> z;
    for (std::size_t p = 0; p < 8; ++p) {
        const std::size_t a = 2 * p, b = 2 * p + 1;  // the first 16 test images, in pairs
        const auto s = e.predict(std::span<const float>{test.x.data() + a * vae::pixels, vae::pixels});
        const auto t = e.predict(std::span<const float>{test.x.data() + b * vae::pixels, vae::pixels});
        for (int k = 0; k < 10; ++k)
            for (std::size_t j = 0; j < L; ++j) z.push_back(float(s.data()[j] + (t.data()[j] - s.data()[j]) * k / 9.0));
    }
    const auto strip = d.predict(z);
    gen::write_png_grid(dir / "interpolation.png", strip.data(), 80, 28, 28, 1, 10, 0, 1, 2);
}

template <std::size_t L>
int run(const settings& s) {
    const auto data = data::fashion_mnist::load(s.data_dir);  // pixels in [0, 1]
    const std::size_t n = s.limit ? std::min(s.limit, data.train.count) : data.train.count;
    vae::encoder<L> e{seed{s.seed_value}};
    vae::sampler<L> smp{seed{s.seed_value + 1}};
    vae::decoder<L> d{seed{s.seed_value + 2}};
    vae::trainer<L> t{e, smp, d, s.batch, s.lr, s.beta};
    vae::sampler<L> test_sampler{seed{s.seed_value + 3}};
    std::printf("VAE on Fashion-MNIST: latent %zu, beta %g, %zu training images (batch %zu), %zu test; %zu + %zu parameters; %zu thread(s)\n",
                L, s.beta, n, s.batch, data.test.count, vae::encoder<L>::parameter_count, vae::decoder<L>::parameter_count, num_threads());
    rng order_rng{seed{s.seed_value + 4}}, prior_rng{seed{s.seed_value + 5}};
    const auto prior_z = gen::normal_noise(prior_rng, 100 * L);
    if (!s.samples_dir.empty()) fs::create_directories(s.samples_dir);
    gen::history hist{s.history_path, {"epoch", "train_loss", "test_rec", "test_kl", "test_neg_elbo", "test_mse", "seconds"}};
    std::vector<float> batch(s.batch * vae::pixels);
    double total_seconds = 0;
    test_metrics m;
    for (std::size_t ep = 1; ep <= s.epochs; ++ep) {
        const auto order = gen::shuffled(n, order_rng);
        double loss_sum = 0;
        const auto t0 = std::chrono::steady_clock::now();
        for (std::size_t first = 0; first < n; first += s.batch) {  // the last partial batch is kept
            const std::size_t b = std::min(s.batch, n - first);
            gen::gather(data.train, order, first, b, batch.data());
            loss_sum += t.step(batch.data(), b).loss * double(b);
        }
        const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        total_seconds += sec;
        m = evaluate<L>(e, test_sampler, d, data.test);
        std::printf("epoch %2zu/%zu: train loss %.5f  test: rec %.2f  KL %.2f  -ELBO %.2f nats  MSE(z=mu) %.5f  %.1f s (%.0f images/s)\n", ep,
                    s.epochs, loss_sum / double(n), m.reconstruction, m.kl, m.neg_elbo, m.mse, sec, double(n) / sec);
        std::fflush(stdout);
        hist.add({double(ep), loss_sum / double(n), m.reconstruction, m.kl, m.neg_elbo, m.mse, sec});
        hist.save();
        if (!s.samples_dir.empty()) {
            char name[48];
            const auto prior = d.predict(prior_z);
            std::snprintf(name, sizeof name, "samples_%03zu.png", ep);
            gen::write_png_grid(fs::path(s.samples_dir) / name, prior.data(), 100, 28, 28, 1, 10, 0, 1, 2);
            // the first 10 test images (top row) and their reconstructions from z = μ (bottom row)
            const std::span<const float> x{data.test.x.data(), 10 * vae::pixels};
            const auto stats = e.predict(x);
            std::vector<float> mu(10 * L), pair(20 * vae::pixels);
            for (std::size_t r = 0; r < 10; ++r) std::copy_n(stats.data() + r * 2 * L, L, mu.data() + r * L);
            const auto xr = d.predict(mu);
            std::copy_n(x.data(), 10 * vae::pixels, pair.data());
            std::copy_n(xr.data(), 10 * vae::pixels, pair.data() + 10 * vae::pixels);
            std::snprintf(name, sizeof name, "reconstructions_%03zu.png", ep);
            gen::write_png_grid(fs::path(s.samples_dir) / name, pair.data(), 20, 28, 28, 1, 10, 0, 1, 2);
        }
    }
    if (!s.samples_dir.empty()) final_pictures<L>(e, d, data.test, s.samples_dir);
    if (!s.save_path.empty()) {
        save_npz(e, s.save_path);
        fs::path dp = s.save_path;
        dp.replace_extension(".decoder.npz");
        save_npz(d, dp);
        std::printf("encoder saved to %s, decoder to %s\n", s.save_path.c_str(), dp.c_str());
    }
    if (!s.json_path.empty()) {
        std::ostringstream j;
        j << "{\n  \"model\": \"vae\",\n  \"latent\": " << L << ",\n  \"beta\": " << s.beta << ",\n  \"epochs\": " << s.epochs
          << ",\n  \"seed\": " << s.seed_value << ",\n  \"images\": " << n << ",\n  \"batch\": " << s.batch << ",\n  \"threads\": " << s.threads
          << ",\n  \"final\": {\"test_rec\": " << m.reconstruction << ", \"test_kl\": " << m.kl << ", \"test_neg_elbo\": " << m.neg_elbo
          << ", \"test_mse\": " << m.mse << "},\n  \"seconds_per_epoch\": " << total_seconds / double(s.epochs)
          << ",\n  \"samples_per_second\": " << double(n * s.epochs) / total_seconds << "\n}\n";
        io::write_file_atomic(s.json_path, j.str());
    }
    return 0;
}

int main(int argc, char** argv) {
    CLI::App app{"ctnn example 17: a variational autoencoder on Fashion-MNIST"};
    settings s;
    s.epochs = 20;
    gen::add_options(app, s, "save the encoder to this .npz (the decoder beside it, .decoder.npz)",
                     "write PNGs into DIR: per epoch samples and reconstructions; latent map and interpolations at the end");
    app.add_option("--beta", s.beta, "weight of the KL term (β-VAE; 1 = the ELBO)")->check(CLI::NonNegativeNumber);
    app.add_option("--latent", s.latent, "latent dimensions: 2 (with the latent map) or 16")->check(CLI::IsMember({2, 16}));
    CLI11_PARSE(app, argc, argv);
    try {
        set_num_threads(s.threads);
        return s.latent == 2 ? run<2>(s) : run<16>(s);
    } catch (const ctnn::error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
}
