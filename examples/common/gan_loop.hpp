// SPDX-License-Identifier: MIT
#pragma once
// The GAN examples' training loop (14_gan, 15_dcgan): alternating steps of gan::trainer over shuffled
// Fashion-MNIST batches in [-1, 1], a PNG grid of a fixed noise batch per epoch, the CSV history, the JSON
// summary, --save and --export; and their shared command-line options.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>

#include "../14_gan/gan.hpp"
#include "generative.hpp"

namespace example::gan_loop {
using namespace ctnn;
namespace fs = std::filesystem;

struct settings : gen::options {
    settings() {
        epochs = 20;
        batch = 256;
        lr = 2e-4;
    }
    std::size_t export_count = 10000;
    double beta1 = 0.5, smoothing = 0.0;
    int export_class = -1;  // conditional GAN: the class --export draws (-1: i % 10)
    gan::discriminator_batches d_batches = gan::discriminator_batches::joined;  // DCGAN: separate
    std::string export_path;
};

template <class G>
const float* generate(G& g, const std::vector<float>& z, const std::vector<float>& labels, std::vector<float>& out) {
    const std::size_t n = z.size() / gan::noise_size;
    out.resize(n * 784);
    if constexpr (!requires { G::input_count; }) {
        const auto y = g.predict(z);
        std::copy_n(y.data(), n * 784, out.data());
    } else {
        const auto y = std::get<0>(g.predict(std::tie(z, labels)));
        std::copy_n(y.data(), n * 784, out.data());
    }
    return out.data();
}

template <class G, class D>
int run(const settings& s, const char* what) {
    constexpr bool conditional = requires { G::input_count; };  // the graphs take (z, label)
    if (!conditional && s.export_class >= 0) detail::fail(std::string(what) + ": --class needs a conditional model (--conditional)");
    auto data = data::fashion_mnist::load(s.data_dir);
    gen::to_symmetric(data.train);
    const std::size_t n = s.limit ? std::min(s.limit, data.train.count) : data.train.count;
    const std::size_t steps = n / s.batch;  // the last partial batch is dropped
    if (steps == 0) detail::fail("14_gan: fewer training images (" + std::to_string(n) + ") than one batch");
    G g{seed{s.seed_value}};
    D d{seed{s.seed_value + 1}};
    gan::trainer<G, D> t{g, d, s.batch, s.lr, s.beta1, s.smoothing, s.d_batches};
    std::printf("%s on Fashion-MNIST: %zu images, %zu steps of %zu per epoch; G %zu, D %zu parameters; %zu thread(s)\n",
                what, n, steps, s.batch, G::parameter_count, D::parameter_count,
                num_threads());
    rng noise{seed{s.seed_value + 2}}, order_rng{seed{s.seed_value + 3}}, label_rng{seed{s.seed_value + 4}};
    // a fixed noise batch for the per-epoch grids: 10 × 10 (conditional: row = class)
    rng fixed_rng{seed{s.seed_value + 5}};
    const auto fixed_z = gen::normal_noise(fixed_rng, 100 * gan::noise_size);
    std::vector<float> fixed_labels(100), samples;
    for (std::size_t i = 0; i < 100; ++i) fixed_labels[i] = float(i / 10);
    if (!s.samples_dir.empty()) fs::create_directories(s.samples_dir);
    gen::history hist{s.history_path, {"epoch", "d_loss", "g_loss", "d_real", "d_fake", "seconds"}};
    std::vector<float> real(s.batch * 784), real_labels(s.batch), fake_labels(s.batch);
    double total_seconds = 0;
    gan::step_result last;
    for (std::size_t e = 1; e <= s.epochs; ++e) {
        const auto order = gen::shuffled(n, order_rng);
        gan::step_result mean;
        const auto t0 = std::chrono::steady_clock::now();
        for (std::size_t k = 0; k < steps; ++k) {
            gen::gather(data.train, order, k * s.batch, s.batch, real.data());
            const auto z = gen::normal_noise(noise, s.batch * gan::noise_size);
            for (std::size_t i = 0; i < s.batch; ++i) {
                real_labels[i] = float(data.train.labels[order[k * s.batch + i]]);
                fake_labels[i] = float(label_rng.below(gan::classes));
            }
            const auto r = t.step(real.data(), z.data(), s.batch, real_labels.data(), fake_labels.data());
            mean.d_loss += r.d_loss / steps;
            mean.g_loss += r.g_loss / steps;
            mean.d_real += r.d_real / steps;
            mean.d_fake += r.d_fake / steps;
        }
        const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        total_seconds += sec;
        last = mean;
        std::printf("epoch %2zu/%zu: d_loss %.4f  g_loss %.4f  D(real) %.3f  D(fake) %.3f  %.1f s (%.0f images/s)\n", e, s.epochs, mean.d_loss,
                    mean.g_loss, mean.d_real, mean.d_fake, sec, double(steps * s.batch) / sec);
        std::fflush(stdout);
        hist.add({double(e), mean.d_loss, mean.g_loss, mean.d_real, mean.d_fake, sec});
        hist.save();
        if (!s.samples_dir.empty()) {
            g.eval();
            generate(g, fixed_z, fixed_labels, samples);
            g.train();
            char name[32];
            std::snprintf(name, sizeof name, "epoch_%03zu.png", e);
            gen::write_png_grid(fs::path(s.samples_dir) / name, samples.data(), 100, 28, 28, 1, 10, -1, 1, 2);
        }
    }
    g.eval();
    if (!s.save_path.empty()) {
        save_npz(g, s.save_path);
        fs::path dp = s.save_path;
        dp.replace_extension(".discriminator.npz");
        save_npz(d, dp);
        std::printf("generator saved to %s, discriminator to %s\n", s.save_path.c_str(), dp.c_str());
    }
    if (!s.export_path.empty()) {  // N samples (conditional: label i % 10, or --class) for score_samples
        rng export_rng{seed{s.seed_value + 6}};
        const auto z = gen::normal_noise(export_rng, s.export_count * gan::noise_size);
        std::vector<float> labels(s.export_count);
        std::vector<std::int32_t> ilabels(s.export_count);
        for (std::size_t i = 0; i < s.export_count; ++i)
            labels[i] = float(ilabels[i] = s.export_class >= 0 ? s.export_class : std::int32_t(i % 10));
        generate(g, z, labels, samples);
        std::map<std::string, io::npy_array> arrays{{"images", io::make_array(samples, {s.export_count, 28, 28, 1})}};
        if (conditional) arrays["labels"] = io::make_array(ilabels);
        io::write_npz(s.export_path, arrays);
        std::printf("%zu samples written to %s\n", s.export_count, s.export_path.c_str());
    }
    if (!s.json_path.empty()) {
        std::ostringstream j;
        j << "{\n  \"model\": \"" << what << "\",\n  \"epochs\": " << s.epochs
          << ",\n  \"seed\": " << s.seed_value << ",\n  \"images\": " << n << ",\n  \"batch\": " << s.batch
          << ",\n  \"threads\": " << s.threads << ",\n  \"smoothing\": " << s.smoothing << ",\n  \"final\": {\"d_loss\": " << last.d_loss
          << ", \"g_loss\": " << last.g_loss << ", \"d_real\": " << last.d_real << ", \"d_fake\": " << last.d_fake
          << "},\n  \"seconds_per_epoch\": " << total_seconds / double(s.epochs)
          << ",\n  \"samples_per_second\": " << double(steps * s.batch * s.epochs) / total_seconds << ",\n  \"history\": [";
        for (std::size_t i = 0; i < hist.rows().size(); ++i) {
            const auto& r = hist.rows()[i];
            j << (i ? ", " : "") << "{\"epoch\": " << r[0] << ", \"d_loss\": " << r[1] << ", \"g_loss\": " << r[2] << "}";
        }
        j << "]\n}\n";
        io::write_file_atomic(s.json_path, j.str());
    }
    return 0;
}

/// The common options, --smoothing, --export, --export-count and --class.
inline void add_options(CLI::App& app, settings& s) {
    gen::add_options(app, s, "save the generator to this .npz (the discriminator beside it, .discriminator.npz)",
                     "write a 10×10 PNG grid of a fixed noise batch after every epoch into DIR (conditional: a row per class)");
    app.add_option("--smoothing", s.smoothing, "one-sided label smoothing: real targets 1 - s")->check(CLI::Range(0.0, 0.5));
    app.add_option("--export", s.export_path, "after training, write --export-count samples to this .npz (array images [N, 28, 28, 1])");
    app.add_option("--export-count", s.export_count, "how many samples --export writes")->check(CLI::Range(1, 1000000));
    app.add_option("--class", s.export_class, "conditional GAN: --export draws only this class (0-9; default: i % 10)")->check(CLI::Range(0, 9));
}

/// run<G, D>(s, what) with ctnn::error as a message and exit code 1.
template <class G, class D>
int main_of(const settings& s, const char* what) {
    try {
        set_num_threads(s.threads);
        return run<G, D>(s, what);
    } catch (const ctnn::error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
}

}  // namespace example::gan_loop
