// SPDX-License-Identifier: MIT
#pragma once
/// @file fashion_mnist.hpp  Fashion-MNIST (and MNIST) from IDX files.
#include <array>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "dataset.hpp"
#include "idx.hpp"

namespace ctnn::data {

/// Debian's dataset-fashion-mnist location.
inline constexpr const char* fashion_mnist_default_dir = "/usr/share/datasets/fashion-mnist";

/// The data directory to use: @p arg if non-empty, else $CTNN_DATA_DIR, else @p fallback.
inline std::filesystem::path resolve_data_dir(const std::string& arg, const char* fallback) {
    if (!arg.empty()) return arg;
    if (const char* e = std::getenv("CTNN_DATA_DIR"); e && *e) return e;
    return fallback;
}

/// A train/test pair.
template <class T = float>
struct split {
    dataset<T> train, test;
};

namespace detail {
inline std::filesystem::path find_idx(const std::filesystem::path& dir, const std::string& stem) {
    for (const char* ext : {"", ".gz"}) {
        auto p = dir / (stem + ext);
        if (std::filesystem::is_regular_file(p)) return p;
    }
    ctnn::detail::fail("mnist: '" + (dir / stem).string() + "[.gz]' not found; pass --data DIR, set CTNN_DATA_DIR, or "
                       "install Debian's dataset-fashion-mnist");
}

/// Reads an images file [n, rows, cols] of u8 and a labels file [n] of u8 (< classes) into a dataset
/// with pixels scaled to [0, 1].
template <class T>
dataset<T> load_mnist_pair(const std::filesystem::path& images, const std::filesystem::path& labels, std::size_t classes) {
    const idx_array im = read_idx(images);
    const idx_array lb = read_idx(labels);
    if (im.type != idx_type::u8 || im.dims.size() != 3)
        ctnn::detail::fail("mnist: '" + images.string() + "' must hold u8 images [n, rows, cols]");
    if (lb.type != idx_type::u8 || lb.dims.size() != 1)
        ctnn::detail::fail("mnist: '" + labels.string() + "' must hold u8 labels [n]");
    if (im.dims[0] != lb.dims[0])
        ctnn::detail::fail("mnist: '" + images.string() + "' has " + std::to_string(im.dims[0]) + " images but '" +
                           labels.string() + "' has " + std::to_string(lb.dims[0]) + " labels");
    dataset<T> d;
    d.count = im.dims[0];
    d.sample_size = im.dims[1] * im.dims[2];
    d.classes = classes;
    d.x.resize(im.bytes.size());
    for (std::size_t i = 0; i < im.bytes.size(); ++i) d.x[i] = T(im.bytes[i]) / T(255);
    d.labels.resize(d.count);
    for (std::size_t i = 0; i < d.count; ++i) {
        if (lb.bytes[i] >= classes)
            ctnn::detail::fail("mnist: '" + labels.string() + "' has label " + std::to_string(lb.bytes[i]) + " at index " +
                               std::to_string(i) + " (expected < " + std::to_string(classes) + ")");
        d.labels[i] = lb.bytes[i];
    }
    return d;
}
}  // namespace detail

/// Fashion-MNIST: 60 000 train + 10 000 test 28×28 grey images in [0, 1], 10 classes.
struct fashion_mnist {
    static constexpr std::array<const char*, 10> class_names{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                             "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
    /// Loads from @p dir (empty: $CTNN_DATA_DIR, else /usr/share/datasets/fashion-mnist); files may be
    /// raw or `.gz`. Throws ctnn::error naming the file when one is missing or corrupt.
    template <class T = float>
    static split<T> load(const std::string& dir = {}) {
        const auto d = resolve_data_dir(dir, fashion_mnist_default_dir);
        split<T> s;
        for (auto [part, target] : {std::pair{"train", &s.train}, std::pair{"t10k", &s.test}}) {
            const auto images = detail::find_idx(d, std::string(part) + "-images-idx3-ubyte");
            const auto labels = detail::find_idx(d, std::string(part) + "-labels-idx1-ubyte");
            *target = detail::load_mnist_pair<T>(images, labels, 10);
        }
        return s;
    }
};

}  // namespace ctnn::data
