// SPDX-License-Identifier: MIT
#pragma once
/// @file functors.cuh  The CUDA policy's kernels as per-index functors on raw pointers. C++17, no
/// CUDA-only constructs: nvcc runs them on the GPU through thrust::for_each_n with the CUDA system,
/// and g++ runs the very same functors through Thrust's CPP system in the host tests
/// (tests/unit/cuda/kernels_host_test.cpp), which compare them with ctnn's CPU layers.
#include <cmath>
#include <cstddef>
#include <cstdint>

#include <ctnn/backend/epilogue.hpp>
#include <ctnn/backend/host_device.hpp>
#include <ctnn/backend/rules.hpp>

namespace ctnn::kernels {

/// c[i, j] = ep(c[i, j]) on a [rows, n] block with leading dimension ldc; index = i·n + j.
template <class T>
struct apply_epilogue {
    T* c;
    std::size_t n, ldc;
    epilogue<T> ep;
    CTNN_HD void operator()(std::size_t idx) const {
        const std::size_t i = idx / n, j = idx % n;
        c[i * ldc + j] = ep(c[i * ldc + j], j);
    }
};

/// c[i, j] = beta·c[i, j] on a [rows, n] block (beta == 0 writes 0 without reading c).
template <class T>
struct scale_matrix {
    T* c;
    std::size_t n, ldc;
    T beta;
    CTNN_HD void operator()(std::size_t idx) const {
        T& v = c[idx / n * ldc + idx % n];
        v = beta == T(0) ? T(0) : beta * v;
    }
};

/// y = act(x), elementwise.
template <class T>
struct activation_forward {
    activation_kind kind;
    T slope;
    const T* x;
    T* y;
    CTNN_HD void operator()(std::size_t i) const { y[i] = epilogue<T>{nullptr, kind, slope}.activate(x[i]); }
};

/// dx = dy · act'(x): from the output y for every fusable activation, from x for a leaky_relu with a
/// negative slope (the only one whose output does not tell the sign of its input).
template <class T>
struct activation_backward {
    activation_kind kind;
    T slope;
    const T* x;
    const T* y;
    const T* dy;
    T* dx;
    CTNN_HD void operator()(std::size_t i) const {
        const T d = kind == activation_kind::gelu        ? rules::gelu_derivative(x[i])
                    : kind == activation_kind::gelu_tanh ? rules::gelu_tanh_derivative(x[i])
                    : kind == activation_kind::leaky_relu && slope < T(0) ? (x[i] > T(0) ? T(1) : slope)
                                                                          : epilogue<T>::derivative_from_output(kind, slope, y[i]);
        dx[i] = dy[i] * d;
    }
};

/// acc[j] += Σ_r a[r, j] (bias gradient), one index per column, rows summed in order (deterministic).
template <class T>
struct accumulate_column_sums {
    T* acc;
    const T* a;
    std::size_t rows, n;
    CTNN_HD void operator()(std::size_t j) const {
        T s = 0;
        for (std::size_t r = 0; r < rows; ++r) s += a[r * n + j];
        acc[j] += s;
    }
};

/// d[i] = value.
template <class T>
struct fill {
    T* d;
    T value;
    CTNN_HD void operator()(std::size_t i) const { d[i] = value; }
};

/// y = a + b, elementwise (residual blocks; y may alias a or b).
template <class T>
struct add {
    const T* a;
    const T* b;
    T* y;
    CTNN_HD void operator()(std::size_t i) const { y[i] = a[i] + b[i]; }
};

/// y = alpha · x, elementwise (average merges of graph branches).
template <class T>
struct scale {
    const T* x;
    T alpha;
    T* y;
    CTNN_HD void operator()(std::size_t i) const { y[i] = alpha * x[i]; }
};

/// y = a ⊙ b, elementwise (dropout backward).
template <class T>
struct multiply {
    const T* a;
    const T* b;
    T* y;
    CTNN_HD void operator()(std::size_t i) const { y[i] = a[i] * b[i]; }
};

/// Inverted dropout with the counter-based mask of rules.hpp (the CPU layer draws the same mask).
template <class T>
struct dropout_forward {
    const T* x;
    T* y;
    T* mask;
    double rate;
    std::uint64_t seed, counter;
    CTNN_HD void operator()(std::size_t i) const {
        mask[i] = rules::dropout_mask<T>(seed, counter, i, rate);
        y[i] = x[i] * mask[i];
    }
};

/// Softmax of one row of n values (index = row).
template <class T>
struct softmax_rows {
    const T* x;
    T* y;
    std::size_t n;
    CTNN_HD void operator()(std::size_t r) const {
        T* yr = y + r * n;
        T m;
        const T inv = T(1) / rules::exp_shifted(x + r * n, yr, n, m);
        for (std::size_t j = 0; j < n; ++j) yr[j] *= inv;
    }
};

/// dx = y ⊙ (dy - <y, dy>) per row.
template <class T>
struct softmax_rows_backward {
    const T* y;
    const T* dy;
    T* dx;
    std::size_t n;
    CTNN_HD void operator()(std::size_t r) const {
        const T* yr = y + r * n;
        const T* dyr = dy + r * n;
        T dot = 0;
        for (std::size_t j = 0; j < n; ++j) dot += yr[j] * dyr[j];
        for (std::size_t j = 0; j < n; ++j) dx[r * n + j] = yr[j] * (dyr[j] - dot);
    }
};

/// Cross-entropy on logits for one row: writes (softmax - onehot)/batch into g and the row's loss
/// divided by the batch into term[r] (their sum is the mean loss). Labels were checked on the host.
/// With @p counted (ignore_index): a row labelled @p ignore gets zeros in g, term and counted, the others
/// 1 in counted; called with inv_batch 1, divide_by_count then makes both means over the counted rows.
template <class T>
struct cross_entropy_rows {
    const T* z;
    const std::int32_t* labels;
    T* g;
    T* term;
    std::size_t k;
    T inv_batch;
    T* counted = nullptr;
    std::int32_t ignore = 0;
    CTNN_HD void operator()(std::size_t r) const {
        const T* zr = z + r * k;
        T* gr = g + r * k;
        if (counted) {
            const bool skip = labels[r] == ignore;
            counted[r] = skip ? T(0) : T(1);
            if (skip) {
                for (std::size_t j = 0; j < k; ++j) gr[j] = T(0);
                term[r] = T(0);
                return;
            }
        }
        T m;
        const T s = rules::exp_shifted(zr, gr, k, m);
        const std::size_t c = std::size_t(labels[r]);
        term[r] = (std::log(s) - (zr[c] - m)) * inv_batch;
        const T inv_s = inv_batch / s;
        for (std::size_t j = 0; j < k; ++j) gr[j] *= inv_s;
        gr[c] -= inv_batch;
    }
};

/// x[i] /= *count, a device scalar (0 when the count is 0: the mean of no rows).
template <class T>
struct divide_by_count {
    T* x;
    const T* count;
    CTNN_HD void operator()(std::size_t i) const {
        const T n = *count;
        x[i] = n > T(0) ? x[i] / n : T(0);
    }
};

/// term[i] = f(i) for a loss rule f of backend/loss_rules.hpp (which also writes the gradient of index i).
template <class T, class F>
struct store_terms {
    F f;
    T* term;
    CTNN_HD void operator()(std::size_t i) const { term[i] = f(i); }
};

/// SGD with momentum/dampening/Nesterov/weight decay (torch.optim.SGD) on one element.
template <class T>
struct sgd_update {
    T* p;
    const T* g;
    T* buf;  // null without momentum
    T lr, momentum, dampening_complement, weight_decay;
    bool first, nesterov;
    CTNN_HD void operator()(std::size_t i) const {
        const T pv = p[i];
        const T gv = g[i] + weight_decay * pv;
        if (momentum == T(0)) {
            p[i] = pv - lr * gv;
            return;
        }
        const T b = first ? gv : momentum * buf[i] + dampening_complement * gv;
        buf[i] = b;
        p[i] = pv - lr * (nesterov ? gv + momentum * b : b);
    }
};

/// Adam (L2 decay) / AdamW (decoupled decay) on one element; step = lr/(1-β1ᵗ), c2 = 1/√(1-β2ᵗ).
template <class T>
struct adam_update {
    T* p;
    const T* g;
    T* m;
    T* v;
    T beta1, beta2, eps, weight_decay, step, c2, decay;
    bool decoupled;
    CTNN_HD void operator()(std::size_t i) const {
        T pv = p[i], gv = g[i];
        if (decoupled) pv *= decay;
        else gv += weight_decay * pv;
        const T mv = beta1 * m[i] + (T(1) - beta1) * gv;
        const T vv = beta2 * v[i] + (T(1) - beta2) * gv * gv;
        m[i] = mv;
        v[i] = vv;
        p[i] = pv - step * mv / (std::sqrt(vv) * c2 + eps);
    }
};

/// RMSprop (torch.optim.RMSprop, not centered) on one element.
template <class T>
struct rmsprop_update {
    T* p;
    const T* g;
    T* v;
    T* buf;  // null without momentum
    T lr, alpha, eps, weight_decay, momentum;
    CTNN_HD void operator()(std::size_t i) const {
        const T pv = p[i];
        const T gv = g[i] + weight_decay * pv;
        const T vv = alpha * v[i] + (T(1) - alpha) * gv * gv;
        v[i] = vv;
        const T u = gv / (std::sqrt(vv) + eps);
        if (momentum != T(0)) {
            const T b = momentum * buf[i] + u;
            buf[i] = b;
            p[i] = pv - lr * b;
        } else
            p[i] = pv - lr * u;
    }
};

/// The predicted class of each row, as metrics::predicted_class: the index of the largest value (the
/// first on ties), or `x > threshold` for a single output. With `labels`, writes 1 where the prediction
/// equals the label and 0 elsewhere (training accuracy without copying outputs to the host).
template <class T>
struct predicted_class_rows {
    const T* x;
    std::size_t n;
    T threshold;
    const std::int32_t* labels;  // may be null
    std::int32_t* out;
    CTNN_HD void operator()(std::size_t r) const {
        const T* xr = x + r * n;
        std::size_t best = 0;
        if (n == 1) best = xr[0] > threshold ? 1 : 0;
        else
            for (std::size_t j = 1; j < n; ++j)
                if (xr[j] > xr[best]) best = j;
        out[r] = labels ? std::int32_t(std::int32_t(best) == labels[r]) : std::int32_t(best);
    }
};

/// The row-major GEMM C[M,N] = op(A)·op(B) as cuBLAS's column-major call: C is seen as Cᵀ (N×M,
/// leading dimension ldc) = op(B)ᵀ·op(A)ᵀ, so the operands swap places and keep their transposes.
struct column_major_gemm {
    bool trans_first, trans_second;  // ops of the first (B) and second (A) operand
    std::size_t m, n, k;             // column-major sizes: m = N, n = M
    bool first_is_b;                 // always true; spelled out for the call site
};
inline column_major_gemm to_column_major(bool trans_a, bool trans_b, std::size_t M, std::size_t N, std::size_t K) {
    return {trans_b, trans_a, N, M, K, true};
}

}  // namespace ctnn::kernels
