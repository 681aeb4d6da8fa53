// SPDX-License-Identifier: MIT
#pragma once
// What the generative examples (14-17) share: PNG image grids (stb_image_write from Debian's libstb-dev,
// written atomically), a training history as CSV (tools/plot_history.py draws it), noise batches and the
// Fashion-MNIST images scaled for a tanh or a sigmoid output.
#include <CLI/CLI.hpp>
#include <stb_image_write.h>

#include "history.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctnn/ctnn.hpp>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

namespace example::gen {

/// The options every generative example has; each example sets its defaults before add_options.
struct options {
    std::size_t epochs = 10, batch = 128, limit = 0, threads = 1;
    double lr = 1e-3;
    std::uint64_t seed_value = 1;
    std::string data_dir, json_path, save_path, samples_dir, history_path;
};

/// --epochs --batch --lr --seed --limit --threads --data --json --history --save --samples; @p save and
/// @p samples say what the example writes there.
inline void add_options(CLI::App& app, options& o, const char* save, const char* samples) {
    app.add_option("--epochs", o.epochs, "training epochs")->check(CLI::Range(1, 1000));
    app.add_option("--batch", o.batch, "batch size")->check(CLI::Range(2, 4096));
    app.add_option("--lr", o.lr, "Adam learning rate")->check(CLI::PositiveNumber);
    app.add_option("--seed", o.seed_value, "seed of initialisation, noise, shuffling and dropout");
    app.add_option("--limit", o.limit, "use only the first N training images (smoke runs)");
    app.add_option("--threads", o.threads, "CPU threads")->check(CLI::Range(1, 256));
    app.add_option("--data", o.data_dir, "Fashion-MNIST directory (default $CTNN_DATA_DIR, else the Debian path)");
    app.add_option("--json", o.json_path, "write a JSON summary here");
    app.add_option("--history", o.history_path, "write the training history as CSV here (tools/plot_history.py draws it)");
    app.add_option("--save", o.save_path, save);
    app.add_option("--samples", o.samples_dir, samples);
}

/// Tiles @p n images [n, h, w, c] (c = 1 grey or 3 RGB), values in [lo, hi], into rows of @p cols with a
/// 2-pixel gap (mid grey), each pixel enlarged @p zoom times, and writes an 8-bit PNG to @p path
/// (atomically: a temporary file renamed over it). Values outside [lo, hi] are clamped.
inline void write_png_grid(const std::filesystem::path& path, const float* images, std::size_t n, std::size_t h, std::size_t w,
                           std::size_t c, std::size_t cols, float lo, float hi, std::size_t zoom = 1) {
    if (n == 0 || cols == 0 || h == 0 || w == 0 || (c != 1 && c != 3) || zoom == 0 || !(hi > lo))
        ctnn::detail::fail("write_png_grid: '" + path.string() + "': nothing to draw or a bad geometry");
    cols = std::min(cols, n);
    const std::size_t rows = (n + cols - 1) / cols, gap = 2;
    const std::size_t W = cols * (w * zoom + gap) + gap, H = rows * (h * zoom + gap) + gap;
    std::vector<unsigned char> px(W * H * c, 128);
    for (std::size_t k = 0; k < n; ++k) {
        const std::size_t x0 = gap + (k % cols) * (w * zoom + gap), y0 = gap + (k / cols) * (h * zoom + gap);
        for (std::size_t y = 0; y < h * zoom; ++y)
            for (std::size_t x = 0; x < w * zoom; ++x)
                for (std::size_t ch = 0; ch < c; ++ch) {
                    const float v = images[((k * h + y / zoom) * w + x / zoom) * c + ch];
                    const float t = std::clamp((v - lo) / (hi - lo), 0.0f, 1.0f);
                    px[((y0 + y) * W + x0 + x) * c + ch] = static_cast<unsigned char>(std::lround(t * 255.0f));
                }
    }
    std::string bytes;
    const auto append = [](void* ctx, void* data, int size) { static_cast<std::string*>(ctx)->append(static_cast<const char*>(data), size); };
    if (!stbi_write_png_to_func(append, &bytes, int(W), int(H), int(c), px.data(), int(W * c)))
        ctnn::detail::fail("write_png_grid: stb_image_write could not encode '" + path.string() + "'");
    ctnn::io::write_file_atomic(path, bytes);
}

using example::history;

/// @p n standard normal values from @p g.
inline std::vector<float> normal_noise(ctnn::rng& g, std::size_t n) {
    std::vector<float> z(n);
    for (auto& v : z) v = float(g.normal());
    return z;
}

/// Images in [0, 1] mapped to [-1, 1] in place (a tanh generator's range).
inline void to_symmetric(ctnn::data::dataset<float>& d) {
    for (std::size_t i = 0; i < d.count * d.sample_size; ++i) d.x[i] = 2 * d.x[i] - 1;
}

/// The rows @p order[first, first + n) of @p d's images into @p out (a batch).
inline void gather(const ctnn::data::dataset<float>& d, const std::vector<std::size_t>& order, std::size_t first, std::size_t n, float* out) {
    for (std::size_t k = 0; k < n; ++k)
        std::copy_n(d.x.data() + order[first + k] * d.sample_size, d.sample_size, out + k * d.sample_size);
}

/// A seeded permutation of 0..n-1 (Fisher-Yates).
inline std::vector<std::size_t> shuffled(std::size_t n, ctnn::rng& g) {
    std::vector<std::size_t> p(n);
    for (std::size_t i = 0; i < n; ++i) p[i] = i;
    g.shuffle(p.data(), n);
    return p;
}

}  // namespace example::gen
