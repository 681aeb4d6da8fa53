// SPDX-License-Identifier: MIT
#pragma once
/// @file multi_dataset.hpp  Datasets with several inputs and several targets (for `graph` models: an
/// image and a token sequence; a user id and an item id; a policy and a value target), and a loader
/// that batches every column with one shuffled order.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "../core/aligned.hpp"
#include "../core/error.hpp"
#include "../core/random.hpp"
#include "dataset.hpp"

namespace ctnn::data {

/// One target column: integer labels (one per sample) or values [count, size].
template <class T>
struct target_column {
    std::vector<std::int32_t> labels;
    std::vector<T> values;
    std::size_t size = 1;  ///< values per sample (1 for labels)
    bool is_labels() const noexcept { return !labels.empty(); }
};

/// `count` samples, each with inputs.size() input arrays (input i: [count, input_sizes[i]], row-major)
/// and targets.size() targets. Build with add_input / add_labels / add_values, which check the counts.
template <class T = float>
struct multi_dataset {
    std::size_t count = 0;
    std::vector<aligned_buffer<T>> inputs;
    std::vector<std::size_t> input_sizes;
    std::vector<target_column<T>> targets;

    explicit multi_dataset(std::size_t n = 0) : count(n) {}
    /// Adds an input column of @p size values per sample (zeroed); returns its data [count, size].
    T* add_input(std::size_t size) {
        ctnn::detail::check(size > 0, "multi_dataset::add_input: the sample size must be positive");
        inputs.emplace_back(count * size);
        std::fill(inputs.back().begin(), inputs.back().end(), T(0));
        input_sizes.push_back(size);
        return inputs.back().data();
    }
    /// Adds a label target (one integer per sample, zeroed); returns its data.
    std::int32_t* add_labels() {
        target_column<T> c;
        c.labels.assign(count, 0);
        targets.push_back(std::move(c));
        return targets.back().labels.data();
    }
    /// Adds a value target of @p size values per sample (zeroed); returns its data [count, size].
    T* add_values(std::size_t size) {
        ctnn::detail::check(size > 0, "multi_dataset::add_values: the target size must be positive");
        target_column<T> c;
        c.values.assign(count * size, T(0));
        c.size = size;
        targets.push_back(std::move(c));
        return targets.back().values.data();
    }
};

/// One batch of a multi_loader: views into the loader's buffers (valid until the next `next()`); for
/// target j, `labels[j]` or `values[j]` is empty according to its kind.
template <class T>
struct multi_batch {
    std::vector<span_tensor<const T>> inputs;
    std::vector<span_tensor<const std::int32_t>> labels;
    std::vector<span_tensor<const T>> values;
    std::size_t size = 0;
};

/// Batches every column of a multi_dataset in one order, reshuffled each epoch from its seed (the
/// same Fisher-Yates as `loader`). Allocates only at construction.
template <class T>
class multi_loader {
public:
    multi_loader(const multi_dataset<T>& d, std::size_t batch_size, bool shuffle = true, seed s = seed{0}, bool drop_last = false)
        : m_d(&d), m_batch(batch_size), m_shuffle(shuffle), m_drop_last(drop_last), m_rng(s), m_order(d.count) {
        ctnn::detail::check(batch_size > 0, "multi_loader: batch size must be positive");
        ctnn::detail::check(d.count > 0, "multi_loader: the dataset is empty");
        ctnn::detail::check(!d.inputs.empty(), "multi_loader: the dataset has no inputs");
        for (std::size_t i = 0; i < d.inputs.size(); ++i) {
            ctnn::detail::check(d.inputs[i].size() == d.count * d.input_sizes[i],
                                "multi_loader: input " + std::to_string(i) + " holds " + std::to_string(d.inputs[i].size()) +
                                    " values, expected " + std::to_string(d.count) + " × " + std::to_string(d.input_sizes[i]));
            m_x.emplace_back(batch_size * d.input_sizes[i]);
        }
        for (std::size_t j = 0; j < d.targets.size(); ++j) {
            const auto& t = d.targets[j];
            const std::size_t have = t.is_labels() ? t.labels.size() : t.values.size();
            ctnn::detail::check(have == d.count * t.size, "multi_loader: target " + std::to_string(j) + " holds " +
                                                              std::to_string(have) + " values, expected " +
                                                              std::to_string(d.count) + " × " + std::to_string(t.size));
            m_l.emplace_back(t.is_labels() ? batch_size : 0);
            m_v.emplace_back(t.is_labels() ? 0 : batch_size * t.size);
        }
        std::iota(m_order.begin(), m_order.end(), std::size_t(0));
        start_epoch();
    }
    std::size_t batches() const noexcept { return m_drop_last ? m_d->count / m_batch : (m_d->count + m_batch - 1) / m_batch; }
    std::size_t batch_size() const noexcept { return m_batch; }
    void start_epoch() {
        m_pos = 0;
        if (m_shuffle)
            m_rng.shuffle(m_order.data(), m_order.size());
    }
    /// Fills @p b with the next batch; false at the end of the epoch.
    bool next(multi_batch<T>& b) {
        const std::size_t n = std::min(m_d->count - m_pos, m_batch);
        if (n == 0 || (m_drop_last && n < m_batch)) return false;
        b.inputs.resize(m_x.size());
        b.labels.resize(m_l.size());
        b.values.resize(m_v.size());
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t s = m_order[m_pos + i];
            for (std::size_t c = 0; c < m_x.size(); ++c) {
                const std::size_t w = m_d->input_sizes[c];
                std::memcpy(m_x[c].data() + i * w, m_d->inputs[c].data() + s * w, w * sizeof(T));
            }
            for (std::size_t j = 0; j < m_l.size(); ++j) {
                const auto& t = m_d->targets[j];
                if (t.is_labels()) m_l[j][i] = t.labels[s];
                else std::memcpy(m_v[j].data() + i * t.size, t.values.data() + s * t.size, t.size * sizeof(T));
            }
        }
        m_pos += n;
        for (std::size_t c = 0; c < m_x.size(); ++c) b.inputs[c] = {m_x[c].data(), n * m_d->input_sizes[c]};
        for (std::size_t j = 0; j < m_l.size(); ++j) {
            const bool lab = m_d->targets[j].is_labels();
            b.labels[j] = {m_l[j].data(), lab ? n : 0};
            b.values[j] = {m_v[j].data(), lab ? 0 : n * m_d->targets[j].size};
        }
        b.size = n;
        return true;
    }

private:
    const multi_dataset<T>* m_d;
    std::size_t m_batch;
    bool m_shuffle, m_drop_last;
    rng m_rng;
    std::vector<std::size_t> m_order;
    std::vector<aligned_buffer<T>> m_x;
    std::vector<std::vector<std::int32_t>> m_l;
    std::vector<std::vector<T>> m_v;
    std::size_t m_pos = 0;
};

}  // namespace ctnn::data
