// SPDX-License-Identifier: MIT
// Scores generated Fashion-MNIST images — from ctnn's examples (14_gan --export, 15_dcgan --export) or from any
// other program, e.g. tools/torch_gan.py --out — in the feature space of example 04's CNN (trained once and saved
// with `04_fashion_mnist_cnn --save cnn.npz`):
//   - the Fréchet distance between the Gaussians fitted to the penultimate layer's 128 features of the samples
//     and of the 10 000 test images (FID's formula, with this CNN in place of Inception);
//   - the CNN's predicted-class histogram of the samples: class coverage (classes that receive at least half
//     their fair share, N/20) and the largest class's share;
//   - the mean confidence (max softmax) and exp(E KL(p(y|x) ‖ p(y))) (the Inception score's formula);
//   - with an int32 array 'labels' beside the images (a conditional GAN's export), the share the CNN classifies
//     as their label.
// The same real-vs-real numbers (10 000 training images against the test images) are printed as the floor.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctnn/ctnn.hpp>
#include <sstream>

#include "../common/frechet.hpp"
#include <string>
#include <vector>

using namespace ctnn;
using cnn_features = sequential<input<28, 28, 1>, conv2d<32, 3, {.padding = 1}>, relu, max_pool2d<2>, conv2d<64, 3, {.padding = 1}>, relu,
                                max_pool2d<2>, flatten, dense<128>, relu>;  // example 04's CNN up to its penultimate layer
using cnn = sequential<input<28, 28, 1>, conv2d<32, 3, {.padding = 1}>, relu, max_pool2d<2>, conv2d<64, 3, {.padding = 1}>, relu,
                       max_pool2d<2>, flatten, dense<128>, relu, dropout<0.3>, dense<10>>;  // example 04's CNN
constexpr std::size_t F = 128;

/// The Gaussian of the CNN's features of @p n images [n, 28, 28, 1] in [0, 1].
example::gaussian fit(cnn_features& m, const float* x, std::size_t n) {
    std::vector<double> feats(n * F);
    for (std::size_t first = 0; first < n; first += 500) {
        const std::size_t b = std::min<std::size_t>(500, n - first);
        const auto f = m.predict(std::span<const float>{x + first * 784, b * 784});
        for (std::size_t i = 0; i < b * F; ++i) feats[first * F + i] = f.data()[i];
    }
    return example::fit_gaussian(feats, F);
}

struct class_scores {
    std::vector<std::size_t> histogram = std::vector<std::size_t>(10);
    std::vector<std::int32_t> predicted;
    std::size_t coverage = 0;
    double largest_share = 0, confidence = 0, inception = 0;
};

class_scores classify(const cnn& m, const float* x, std::size_t n) {
    class_scores s;
    std::vector<double> p(n * 10), marginal(10);
    for (std::size_t first = 0; first < n; first += 500) {
        const std::size_t b = std::min<std::size_t>(500, n - first);
        const auto z = m.predict(std::span<const float>{x + first * 784, b * 784});
        for (std::size_t r = 0; r < b; ++r) {
            const float* zr = z.data() + r * 10;
            const double mx = *std::max_element(zr, zr + 10);
            double sum = 0;
            for (int k = 0; k < 10; ++k) sum += std::exp(zr[k] - mx);
            for (int k = 0; k < 10; ++k) p[(first + r) * 10 + k] = std::exp(zr[k] - mx) / sum;
        }
    }
    for (std::size_t r = 0; r < n; ++r) {
        const double* pr = p.data() + r * 10;
        const auto best = std::max_element(pr, pr + 10);
        ++s.histogram[std::size_t(best - pr)];
        s.predicted.push_back(std::int32_t(best - pr));
        s.confidence += *best / double(n);
        for (int k = 0; k < 10; ++k) marginal[k] += pr[k] / double(n);
    }
    double kl = 0;
    for (std::size_t r = 0; r < n; ++r)
        for (int k = 0; k < 10; ++k)
            if (p[r * 10 + k] > 0) kl += p[r * 10 + k] * std::log(p[r * 10 + k] / marginal[k]) / double(n);
    s.inception = std::exp(kl);
    for (auto h : s.histogram) {
        if (h * 20 >= n) ++s.coverage;
        s.largest_share = std::max(s.largest_share, double(h) / double(n));
    }
    return s;
}

int main(int argc, char** argv) {
    CLI::App app{"Scores generated Fashion-MNIST images with example 04's CNN: Fréchet distance, class coverage, confidence"};
    std::string cnn_path, data_dir, json_path;
    std::vector<std::string> samples;
    bool unit_range = false;
    app.add_option("--cnn", cnn_path, "example 04's CNN, saved with --save")->required();
    app.add_option("samples", samples, "npz files with an array 'images' [N, 28, 28, 1] (or [N, 1, 28, 28]) in [-1, 1]")->required();
    app.add_flag("--unit-range", unit_range, "the images are in [0, 1] (a sigmoid decoder), not [-1, 1]");
    app.add_option("--data", data_dir, "Fashion-MNIST directory (default $CTNN_DATA_DIR, else the Debian path)");
    app.add_option("--json", json_path, "write the scores here");
    CLI11_PARSE(app, argc, argv);
    try {
        const auto data = data::fashion_mnist::load(data_dir);
        cnn_features features{seed{1}};
        load_npz(features, cnn_path, {.strict = false});  // the CNN's layers up to the penultimate one
        cnn classifier{seed{1}};
        load_npz(classifier, cnn_path);
        classifier.eval();
        const auto test = fit(features, data.test.x.data(), data.test.count);
        const std::size_t nr = std::min<std::size_t>(10000, data.train.count);
        const auto floor = example::frechet_distance(fit(features, data.train.x.data(), nr), test);
        const auto real = classify(classifier, data.train.x.data(), nr);
        // the share of images the CNN assigns to their label (a conditional GAN's samples carry labels)
        const auto agreement = [](const class_scores& c, const std::int32_t* labels) {
            std::size_t same = 0;
            for (std::size_t i = 0; i < c.predicted.size(); ++i) same += c.predicted[i] == labels[i];
            return double(same) / double(c.predicted.size());
        };
        const double real_agreement = agreement(real, data.train.labels.data());
        std::printf("| images | N | Fréchet distance to the test set | classes covered | largest class | mean confidence | IS-like | "
                    "classified as labelled |\n");
        std::printf("|---|---|---|---|---|---|---|---|\n");
        std::printf("| %zu training images (the floor) | %zu | %.3f | %zu | %.3f | %.3f | %.3f | %.3f |\n", nr, nr, floor, real.coverage,
                    real.largest_share, real.confidence, real.inception, real_agreement);
        std::ostringstream j;
        j << "{\n  \"floor\": {\"frechet\": " << floor << ", \"confidence\": " << real.confidence << ", \"inception\": " << real.inception
          << "},\n  \"samples\": [";
        for (std::size_t f = 0; f < samples.size(); ++f) {
            const auto arrays = io::read_npz(samples[f]);
            const auto it = arrays.find("images");
            if (it == arrays.end()) detail::fail("score_samples: '" + samples[f] + "' has no array 'images'");
            const auto& a = it->second;
            if (a.dtype != "<f4" || a.shape.size() != 4 || a.count() != a.shape[0] * 784 || a.shape[0] < 2)
                detail::fail("score_samples: '" + samples[f] + "': 'images' must be float32 [N, 28, 28, 1] with N >= 2");
            const std::size_t n = a.shape[0];
            std::vector<float> x(n * 784);
            std::memcpy(x.data(), a.data.data(), x.size() * sizeof(float));
            if (!unit_range)
                for (auto& v : x) v = (v + 1) / 2;
            const double fd = example::frechet_distance(fit(features, x.data(), n), test);
            const auto c = classify(classifier, x.data(), n);
            double agrees = -1;  // no labels
            if (const auto lt = arrays.find("labels"); lt != arrays.end()) {
                if (lt->second.dtype != "<i4" || lt->second.count() != n)
                    detail::fail("score_samples: '" + samples[f] + "': 'labels' must be int32 [N] beside 'images'");
                std::vector<std::int32_t> labels(n);
                std::memcpy(labels.data(), lt->second.data.data(), n * sizeof(std::int32_t));
                agrees = agreement(c, labels.data());
            }
            std::printf("| %s | %zu | %.3f | %zu | %.3f | %.3f | %.3f | %s |\n", samples[f].c_str(), n, fd, c.coverage, c.largest_share,
                        c.confidence, c.inception, agrees < 0 ? "–" : std::to_string(agrees).substr(0, 5).c_str());
            j << (f ? ", " : "") << "{\"file\": \"" << samples[f] << "\", \"n\": " << n << ", \"frechet\": " << fd << ", \"coverage\": " << c.coverage
              << ", \"largest_share\": " << c.largest_share << ", \"confidence\": " << c.confidence << ", \"inception\": " << c.inception;
            if (agrees >= 0) j << ", \"classified_as_labelled\": " << agrees;
            j << ", \"histogram\": [";
            for (int k = 0; k < 10; ++k) j << (k ? ", " : "") << c.histogram[k];
            j << "]}";
        }
        j << "]\n}\n";
        if (!json_path.empty()) io::write_file_atomic(json_path, j.str());
    } catch (const ctnn::error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}
