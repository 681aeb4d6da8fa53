// SPDX-License-Identifier: MIT
#pragma once
/// @file augment.hpp  Seeded augmentation transforms on batches of NHWC images (in place): random crop
/// with zero padding, horizontal flip, per-channel normalisation; `compose` chains them. A transform is
/// any callable `void(T* x, std::size_t samples)`; `loader::set_transform` and `fit_options::augment`
/// apply one to every training batch. Each owns its generator, so a run is reproducible from its seed.
#include <array>
#include <cstddef>
#include <cstring>
#include <tuple>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/random.hpp"

namespace ctnn::data {

/// The geometry of one NHWC image.
struct image_shape {
    std::size_t height, width, channels;
    constexpr std::size_t size() const { return height * width * channels; }
};

/// Pads each image with `pad` zeros on every side and crops a random height×width window (torchvision
/// RandomCrop(size, padding)): offsets uniform in [0, 2·pad] per image.
template <class T = float>
class random_crop {
public:
    random_crop(image_shape s, std::size_t pad, seed sd) : m_s(s), m_pad(pad), m_rng(sd), m_tmp(s.size()) {}
    void operator()(T* x, std::size_t samples) {
        const std::size_t H = m_s.height, W = m_s.width, C = m_s.channels;
        for (std::size_t n = 0; n < samples; ++n) {
            T* img = x + n * m_s.size();
            const long dy = long(m_rng.below(2 * m_pad + 1)) - long(m_pad), dx = long(m_rng.below(2 * m_pad + 1)) - long(m_pad);
            for (std::size_t y = 0; y < H; ++y)
                for (std::size_t xx = 0; xx < W; ++xx) {
                    const long sy = long(y) + dy, sx = long(xx) + dx;
                    T* out = m_tmp.data() + (y * W + xx) * C;
                    if (sy < 0 || sy >= long(H) || sx < 0 || sx >= long(W))
                        for (std::size_t c = 0; c < C; ++c) out[c] = T(0);
                    else
                        std::memcpy(out, img + (std::size_t(sy) * W + std::size_t(sx)) * C, C * sizeof(T));
                }
            std::memcpy(img, m_tmp.data(), m_s.size() * sizeof(T));
        }
    }

private:
    image_shape m_s;
    std::size_t m_pad;
    rng m_rng;
    std::vector<T> m_tmp;
};

/// Mirrors each image left-right with probability p (torchvision RandomHorizontalFlip).
template <class T = float>
class horizontal_flip {
public:
    horizontal_flip(image_shape s, double p, seed sd) : m_s(s), m_p(p), m_rng(sd) {
        ctnn::detail::check(p >= 0 && p <= 1, "horizontal_flip: probability must be in [0, 1]");
    }
    void operator()(T* x, std::size_t samples) {
        const std::size_t W = m_s.width, C = m_s.channels;
        for (std::size_t n = 0; n < samples; ++n) {
            if (!(m_rng.uniform() < m_p)) continue;
            T* img = x + n * m_s.size();
            for (std::size_t y = 0; y < m_s.height; ++y)
                for (std::size_t a = 0, b = W - 1; a < b; ++a, --b)
                    for (std::size_t c = 0; c < C; ++c) std::swap(img[(y * W + a) * C + c], img[(y * W + b) * C + c]);
        }
    }

private:
    image_shape m_s;
    double m_p;
    rng m_rng;
};

/// x ← (x - mean[c]) / std[c] per channel (torchvision Normalize), on NHWC data.
template <class T = float>
class normalize_channels {
public:
    normalize_channels(std::vector<double> mean, std::vector<double> stddev) : m_mean(std::move(mean)), m_std(std::move(stddev)) {
        ctnn::detail::check(!m_mean.empty() && m_mean.size() == m_std.size(), "normalize_channels: one mean and one std per channel");
        for (double s : m_std) ctnn::detail::check(s > 0, "normalize_channels: standard deviations must be positive");
    }
    /// Normalises @p values values (a whole dataset or a batch).
    void apply(T* x, std::size_t values) const {
        const std::size_t C = m_mean.size();
        for (std::size_t i = 0; i < values; ++i) x[i] = T((double(x[i]) - m_mean[i % C]) / m_std[i % C]);
    }

private:
    std::vector<double> m_mean, m_std;
};

/// Applies transforms in order: `compose(random_crop{...}, horizontal_flip{...})`.
template <class... F>
auto compose(F... f) {
    return [fs = std::tuple<F...>(std::move(f)...)](auto* x, std::size_t samples) mutable {
        std::apply([&](auto&... g) { (g(x, samples), ...); }, fs);
    };
}

}  // namespace ctnn::data
