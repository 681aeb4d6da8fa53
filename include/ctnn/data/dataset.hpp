// SPDX-License-Identifier: MIT
#pragma once
/// @file dataset.hpp  In-memory labelled datasets and a shuffling, batching loader.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "../core/aligned.hpp"
#include "../core/error.hpp"
#include "../core/random.hpp"

namespace ctnn::data {

/// A contiguous view of some values with `data()`/`size()` (what models and losses accept).
template <class T>
struct span_tensor {
    T* ptr = nullptr;
    std::size_t count = 0;
    T* data() const noexcept { return ptr; }
    std::size_t size() const noexcept { return count; }
};

/// Samples x [count, sample_size] (row-major) with integer labels (classification) or float
/// targets [count, target_size] (regression); `targets` is empty for classification.
template <class T = float>
struct dataset {
    aligned_buffer<T> x;
    std::vector<std::int32_t> labels;
    std::vector<T> targets;
    /// Per-sample sequence lengths (sequence.hpp), or empty: `fit` and `evaluate` pass them to the model
    /// with each batch, so its recurrent layers mask the padded steps.
    std::vector<std::int32_t> lengths;
    std::size_t count = 0;
    std::size_t sample_size = 0;
    std::size_t target_size = 1;
    std::size_t classes = 0;

    /// @p count zeroed samples of @p sample_size values; with @p classes > 0 a zeroed label per sample,
    /// with @p target_size > 0 zeroed float targets [count, target_size] (both for binary tasks).
    static dataset zeros(std::size_t count, std::size_t sample_size, std::size_t classes, std::size_t target_size = 0) {
        dataset d;
        d.count = count;
        d.sample_size = sample_size;
        d.classes = classes;
        d.target_size = target_size ? target_size : 1;
        d.x.resize(count * sample_size);
        if (classes) d.labels.resize(count);
        if (target_size) d.targets.resize(count * target_size);
        return d;
    }

    /// Mean and standard deviation over every value of x.
    std::pair<double, double> mean_std() const noexcept {
        double s = 0, s2 = 0;
        for (std::size_t i = 0; i < x.size(); ++i) s += x[i];
        const double m = x.size() ? s / double(x.size()) : 0.0;
        for (std::size_t i = 0; i < x.size(); ++i) s2 += (x[i] - m) * (x[i] - m);
        return {m, x.size() ? std::sqrt(s2 / double(x.size())) : 1.0};
    }
    /// x ← (x - mean) / stddev.
    void normalize(double mean, double stddev) {
        ctnn::detail::check(stddev > 0, "dataset::normalize: standard deviation must be positive");
        const T m = T(mean), inv = T(1.0 / stddev);
        for (auto& v : x) v = (v - m) * inv;
    }
    /// The samples whose label is in @p keep, relabelled by position in @p keep (keep = {1, 2, 3, 4, 5, 7,
    /// 8, 9}: class 7 becomes 5), in their original order; at most @p per_class of each class (0: all).
    dataset select_classes(const std::vector<std::int32_t>& keep, std::size_t per_class = 0) const {
        ctnn::detail::check(!labels.empty(), "dataset::select_classes: the dataset has no labels");
        std::vector<std::size_t> rows, taken(keep.size());
        std::vector<std::int32_t> new_labels;
        for (std::size_t i = 0; i < count; ++i)
            for (std::size_t k = 0; k < keep.size(); ++k)
                if (labels[i] == keep[k] && (per_class == 0 || taken[k] < per_class)) {
                    ++taken[k];
                    rows.push_back(i);
                    new_labels.push_back(std::int32_t(k));
                }
        auto d = zeros(rows.size(), sample_size, keep.size());
        for (std::size_t r = 0; r < rows.size(); ++r) {
            std::memcpy(d.x.data() + r * sample_size, x.data() + rows[r] * sample_size, sample_size * sizeof(T));
            d.labels[r] = new_labels[r];
            if (!lengths.empty()) d.lengths.push_back(lengths[rows[r]]);
        }
        return d;
    }
    /// Rows [begin, end) as a new dataset (e.g. a validation split).
    dataset slice(std::size_t begin, std::size_t end) const {
        ctnn::detail::check(begin <= end && end <= count, "dataset::slice: range out of bounds");
        dataset d;
        d.count = end - begin;
        d.sample_size = sample_size;
        d.target_size = target_size;
        d.classes = classes;
        d.x.resize(d.count * sample_size);
        if (d.count) std::memcpy(d.x.data(), x.data() + begin * sample_size, d.count * sample_size * sizeof(T));
        if (!labels.empty()) d.labels.assign(labels.begin() + begin, labels.begin() + end);
        if (!lengths.empty()) d.lengths.assign(lengths.begin() + begin, lengths.begin() + end);
        if (!targets.empty())
            d.targets.assign(targets.begin() + begin * target_size, targets.begin() + end * target_size);
        return d;
    }
};

/// One batch from a loader: views into the loader's own buffers, valid until the next `next()`.
template <class T>
struct batch {
    span_tensor<const T> x;
    span_tensor<const std::int32_t> labels;
    span_tensor<const T> targets;
    span_tensor<const std::int32_t> lengths;  ///< empty when the dataset has none
    std::size_t size = 0;
};

/// Iterates a dataset in batches, reshuffling each epoch from its seed (Fisher-Yates with ctnn::rng).
/// The last partial batch is kept unless `drop_last`. Allocates only at construction.
template <class T>
class loader {
public:
    loader(const dataset<T>& d, std::size_t batch_size, bool shuffle = true, seed s = seed{0}, bool drop_last = false)
        : m_d(&d), m_batch(batch_size), m_shuffle(shuffle), m_drop_last(drop_last), m_rng(s), m_order(d.count),
          m_x(batch_size * d.sample_size), m_y(batch_size), m_t(batch_size * d.target_size), m_len(batch_size) {
        ctnn::detail::check(batch_size > 0, "loader: batch size must be positive");
        ctnn::detail::check(d.count > 0, "loader: the dataset is empty");
        ctnn::detail::check(d.lengths.empty() || d.lengths.size() == d.count,
                            "loader: the dataset has " + std::to_string(d.lengths.size()) + " sequence lengths for " +
                                std::to_string(d.count) + " samples");
        std::iota(m_order.begin(), m_order.end(), std::size_t(0));
        start_epoch();
    }
    /// Number of batches per epoch.
    std::size_t batches() const noexcept {
        return m_drop_last ? m_d->count / m_batch : (m_d->count + m_batch - 1) / m_batch;
    }
    std::size_t batch_size() const noexcept { return m_batch; }
    /// Rewinds (and reshuffles when shuffling).
    void start_epoch() {
        m_pos = 0;
        if (m_shuffle)
            m_rng.shuffle(m_order.data(), m_order.size());
    }
    /// A transform applied to the samples of every batch (augmentation: data/augment.hpp), or none.
    void set_transform(std::function<void(T*, std::size_t)> f) { m_transform = std::move(f); }
    /// Fills @p b with the next batch; false at the end of the epoch.
    bool next(batch<T>& b) {
        const std::size_t left = m_d->count - m_pos;
        const std::size_t n = std::min(left, m_batch);
        if (n == 0 || (m_drop_last && n < m_batch)) return false;
        const std::size_t ss = m_d->sample_size, ts = m_d->target_size;
        const bool has_labels = !m_d->labels.empty(), has_targets = !m_d->targets.empty(), has_lengths = !m_d->lengths.empty();
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t s = m_order[m_pos + i];
            std::memcpy(m_x.data() + i * ss, m_d->x.data() + s * ss, ss * sizeof(T));
            if (has_labels) m_y[i] = m_d->labels[s];
            if (has_lengths) m_len[i] = m_d->lengths[s];
            if (has_targets) std::memcpy(m_t.data() + i * ts, m_d->targets.data() + s * ts, ts * sizeof(T));
        }
        m_pos += n;
        if (m_transform) m_transform(m_x.data(), n);
        b.x = {m_x.data(), n * ss};
        b.labels = {m_y.data(), has_labels ? n : 0};
        b.targets = {m_t.data(), has_targets ? n * ts : 0};
        b.lengths = {m_len.data(), has_lengths ? n : 0};
        b.size = n;
        return true;
    }

private:
    const dataset<T>* m_d;
    std::size_t m_batch;
    bool m_shuffle, m_drop_last;
    rng m_rng;
    std::vector<std::size_t> m_order;
    aligned_buffer<T> m_x;
    std::vector<std::int32_t> m_y;
    aligned_buffer<T> m_t;
    std::vector<std::int32_t> m_len;
    std::size_t m_pos = 0;
    std::function<void(T*, std::size_t)> m_transform;
};

}  // namespace ctnn::data
