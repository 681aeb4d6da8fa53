// SPDX-License-Identifier: MIT
#pragma once
/// @file cifar10.hpp  CIFAR-10 in its binary format (data_batch_1..5.bin, test_batch.bin): records of
/// 1 label byte + 3072 pixel bytes (the 1024 red, then green, then blue values of a 32×32 image, rows
/// top to bottom), read into NHWC float samples shape<32, 32, 3> in [0, 1].
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "dataset.hpp"
#include "fashion_mnist.hpp"

namespace ctnn::data {

struct cifar10 {
    static constexpr std::size_t height = 32, width = 32, channels = 3, classes = 10;
    static constexpr std::size_t record_bytes = 1 + height * width * channels;
    static constexpr std::array<const char*, 10> class_names{"airplane", "automobile", "bird",  "cat",  "deer",
                                                             "dog",      "frog",       "horse", "ship", "truck"};

    /// Reads one binary batch file. Throws ctnn::error naming the file when it is missing, empty, not a
    /// whole number of records, or holds a label above 9; memory grows only with the data read.
    template <class T = float>
    static dataset<T> read_batch(const std::filesystem::path& path) {
        const std::string f = path.string();
        std::ifstream in(path, std::ios::binary);
        if (!in) ctnn::detail::fail("cifar10: cannot open '" + f + "'");
        std::error_code ec;
        const auto size = std::filesystem::file_size(path, ec);
        if (ec || size == 0 || size % record_bytes != 0)
            ctnn::detail::fail("cifar10: '" + f + "' has " + std::to_string(ec ? 0 : size) +
                               " bytes, not a positive multiple of the 3073-byte record (truncated or not CIFAR-10 binary)");
        const std::size_t n = std::size_t(size) / record_bytes;
        auto d = dataset<T>::zeros(n, height * width * channels, classes);
        std::vector<unsigned char> rec(record_bytes);
        for (std::size_t i = 0; i < n; ++i) {
            if (!in.read(reinterpret_cast<char*>(rec.data()), std::streamsize(record_bytes)))
                ctnn::detail::fail("cifar10: '" + f + "' ended inside record " + std::to_string(i));
            if (rec[0] >= classes)
                ctnn::detail::fail("cifar10: '" + f + "' has label " + std::to_string(rec[0]) + " in record " + std::to_string(i) +
                                   " (expected < 10)");
            d.labels[i] = rec[0];
            T* x = d.x.data() + i * height * width * channels;
            for (std::size_t c = 0; c < channels; ++c)  // planar RGB -> NHWC
                for (std::size_t p = 0; p < height * width; ++p) x[p * channels + c] = T(rec[1 + c * height * width + p]) / T(255);
        }
        return d;
    }

    /// The five training batches and the test batch from @p dir (empty: $CTNN_DATA_DIR).
    template <class T = float>
    static split<T> load(const std::string& dir = {}) {
        const auto d = resolve_data_dir(dir, ".");
        split<T> s;
        std::vector<dataset<T>> parts;
        for (int b = 1; b <= 5; ++b) parts.push_back(read_batch<T>(d / ("data_batch_" + std::to_string(b) + ".bin")));
        std::size_t total = 0;
        for (const auto& p : parts) total += p.count;
        s.train = dataset<T>::zeros(total, height * width * channels, classes);
        std::size_t at = 0;
        for (const auto& p : parts) {
            std::copy(p.x.begin(), p.x.end(), s.train.x.begin() + long(at * p.sample_size));
            std::copy(p.labels.begin(), p.labels.end(), s.train.labels.begin() + long(at));
            at += p.count;
        }
        s.test = read_batch<T>(d / "test_batch.bin");
        return s;
    }
};

}  // namespace ctnn::data
