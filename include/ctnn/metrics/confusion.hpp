// SPDX-License-Identifier: MIT
#pragma once
/// @file confusion.hpp  Confusion matrix and the metrics derived from it: accuracy, per-class and
/// macro precision / recall / F1.
#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include "../core/error.hpp"

namespace ctnn::metrics {

/// counts[label][predicted] over K classes.
class confusion_matrix {
public:
    explicit confusion_matrix(std::size_t classes) : m_k(classes), m_c(classes * classes, 0) {
        ctnn::detail::check(classes >= 2, "confusion_matrix: needs at least 2 classes");
    }
    std::size_t classes() const noexcept { return m_k; }
    /// Records one prediction.
    void add(std::size_t label, std::size_t predicted) {
        if (label >= m_k || predicted >= m_k) [[unlikely]]
            ctnn::detail::fail("confusion_matrix: class index " + std::to_string(std::max(label, predicted)) + " outside [0, " +
                               std::to_string(m_k) + ")");
        ++m_c[label * m_k + predicted];
    }
    void reset() noexcept { std::fill(m_c.begin(), m_c.end(), 0); }
    std::size_t operator()(std::size_t label, std::size_t predicted) const { return m_c[label * m_k + predicted]; }
    std::size_t total() const noexcept {
        std::size_t s = 0;
        for (auto v : m_c) s += v;
        return s;
    }
    /// Fraction of correct predictions (0 when empty).
    double accuracy() const noexcept {
        std::size_t ok = 0;
        for (std::size_t i = 0; i < m_k; ++i) ok += m_c[i * m_k + i];
        const std::size_t t = total();
        return t ? double(ok) / double(t) : 0.0;
    }
    /// TP / (TP + FP) for class c (0 when nothing was predicted as c).
    double precision(std::size_t c) const noexcept {
        std::size_t col = 0;
        for (std::size_t i = 0; i < m_k; ++i) col += m_c[i * m_k + c];
        return col ? double(m_c[c * m_k + c]) / double(col) : 0.0;
    }
    /// TP / (TP + FN) for class c (0 when class c never occurs).
    double recall(std::size_t c) const noexcept {
        std::size_t row = 0;
        for (std::size_t j = 0; j < m_k; ++j) row += m_c[c * m_k + j];
        return row ? double(m_c[c * m_k + c]) / double(row) : 0.0;
    }
    /// Harmonic mean of precision and recall for class c (0 when both are 0).
    double f1(std::size_t c) const noexcept {
        const double p = precision(c), r = recall(c);
        return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
    }
    /// Unweighted means over classes (scikit-learn's average='macro').
    double macro_precision() const noexcept { return mean([&](std::size_t c) { return precision(c); }); }
    double macro_recall() const noexcept { return mean([&](std::size_t c) { return recall(c); }); }
    double macro_f1() const noexcept { return mean([&](std::size_t c) { return f1(c); }); }

private:
    template <class F>
    double mean(F f) const {
        double s = 0;
        for (std::size_t c = 0; c < m_k; ++c) s += f(c);
        return s / double(m_k);
    }
    std::size_t m_k;
    std::vector<std::size_t> m_c;
};

/// Predicted class of each row of model outputs [rows, k]: argmax for k > 1; for k == 1 the output
/// is a logit (or probability) and the class is `out > threshold` (0 for logits, 0.5 for probabilities).
template <class T>
std::size_t predicted_class(const T* row, std::size_t k, T threshold = T(0)) noexcept {
    if (k == 1) return row[0] > threshold ? 1 : 0;
    return std::size_t(std::max_element(row, row + k) - row);
}

/// Adds a batch of outputs [batch, k] and labels [batch] to @p cm.
template <class T, class L>
void accumulate(confusion_matrix& cm, const T* outputs, const L* labels, std::size_t batch, std::size_t k,
                T threshold = T(0)) {
    for (std::size_t b = 0; b < batch; ++b) cm.add(std::size_t(labels[b]), predicted_class(outputs + b * k, k, threshold));
}

}  // namespace ctnn::metrics
