// SPDX-License-Identifier: MIT
#pragma once
/// @file attention_rules.hpp  Scaled dot-product attention of every head, fused as FlashAttention does:
/// each query row streams over the keys with an online softmax (running maximum and sum), so no T × T
/// score matrix exists at any sequence length; backward recomputes the probabilities from each row's
/// log-sum-exp. CTNN_HD functors (C++17) shared by the CPU and CUDA policies.
///
/// Layout, per sample: `qkv` [T, 3E] holds head h's query at columns h·d ... h·d + d - 1, its key at
/// E + h·d ..., its value at 2E + h·d ... (nn.MultiheadAttention's in-projection order); the output `o`
/// [T, E] holds head h at columns h·d ... (heads concatenated). Masks: key j of sample b is used by
/// query i when j < lengths[b] (key padding; null lengths: every key) and, when causal, j ≤ i.
/// Attention dropout multiplies probability (i, j) by `rules::dropout_mask(seed, counter, index)`,
/// index = ((b·heads + h)·T + i)·T + j, drawn again in backward instead of being stored.
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "host_device.hpp"
#include "rules.hpp"

namespace ctnn::attn {

/// What every attention rule needs to know about the call.
template <class T>
struct shape_info {
    std::size_t steps = 0, E = 0, heads = 0, d = 0;
    T scale = T(1);                         ///< 1/√d
    const std::int32_t* lengths = nullptr;  ///< per sample, in the policy's memory; null: full length
    bool causal = false;
    double dropout = 0;  ///< attention dropout rate (0: none)
    std::uint64_t seed = 0, counter = 0;

    /// Keys query i of sample b attends to: [0, key_end).
    CTNN_HD std::size_t key_end(std::size_t b, std::size_t i) const noexcept {
        std::size_t e = lengths ? std::size_t(lengths[b]) : steps;
        if (causal && i + 1 < e) e = i + 1;
        return e;
    }
    /// The dropout factor of probability (i, j) of head h of sample b (1 without dropout).
    CTNN_HD T keep(std::size_t b, std::size_t h, std::size_t i, std::size_t j) const noexcept {
        if (dropout <= 0) return T(1);
        return rules::dropout_mask<T>(seed, counter, ((b * heads + h) * steps + i) * steps + j, dropout);
    }
    CTNN_HD std::size_t row(std::size_t b, std::size_t i) const noexcept { return b * steps + i; }
    /// Sample b, head h and position i of a row index (b·heads + h)·T + i.
    CTNN_HD void split(std::size_t idx, std::size_t& b, std::size_t& h, std::size_t& i) const noexcept {
        i = idx % steps;
        h = (idx / steps) % heads;
        b = idx / steps / heads;
    }
    /// Head h's query columns at position 0 of sample b in a [T, 3E] buffer laid out as qkv (its keys
    /// are E further, its values 2E; positions 3E apart).
    template <class U>
    CTNN_HD U* head_columns(U* qkv, std::size_t b, std::size_t h) const noexcept {
        return qkv + row(b, 0) * 3 * E + h * d;
    }
};

template <class T>
CTNN_HD T dot(const T* a, const T* b, std::size_t n) noexcept {
    T s = 0;
    for (std::size_t k = 0; k < n; ++k) s += a[k] * b[k];
    return s;
}

/// Forward of query row i of head h of sample b, index (b·heads + h)·T + i: o = Σ_j softmax_j(s)·keep·v_j
/// with s_j = scale·q·k_j over the unmasked keys; `lse` (null in inference) gets max + log Σ exp.
template <class T>
struct forward_rows {
    shape_info<T> s;
    const T* qkv;
    T* o;
    T* lse;
    CTNN_HD void operator()(std::size_t idx) const {
        std::size_t b, h, i;
        s.split(idx, b, h, i);
        const std::size_t ld = 3 * s.E;
        const T* q0 = s.head_columns(qkv, b, h);
        const T* q = q0 + i * ld;
        const T* k0 = q0 + s.E;
        const T* v0 = k0 + s.E;
        T* out = o + s.row(b, i) * s.E + h * s.d;
        for (std::size_t c = 0; c < s.d; ++c) out[c] = T(0);
        T m = -INFINITY, l = T(0);
        const std::size_t end = s.key_end(b, i);
        for (std::size_t j = 0; j < end; ++j) {
            const T sj = s.scale * dot(q, k0 + j * ld, s.d);
            if (sj > m) {  // a new maximum: rescale what has been summed so far
                const T corr = std::exp(m - sj);
                l *= corr;
                for (std::size_t c = 0; c < s.d; ++c) out[c] *= corr;
                m = sj;
            }
            const T p = std::exp(sj - m);
            l += p;
            const T pk = p * s.keep(b, h, i, j);
            if (pk != T(0)) {
                const T* v = v0 + j * ld;
                for (std::size_t c = 0; c < s.d; ++c) out[c] += pk * v[c];
            }
        }
        const T inv = T(1) / l;
        for (std::size_t c = 0; c < s.d; ++c) out[c] *= inv;
        if (lse) lse[idx] = m + std::log(l);
    }
};

/// Backward of query row i (index as forward_rows): delta_i = dO_i·O_i (written to `delta`, which the
/// key rule reads) and dq_i = scale·Σ_j dS_ij·k_j with dS_ij = P_ij·(keep_ij·dO_i·v_j - delta_i),
/// P_ij = exp(s_ij - lse_i). Writes dq into dqkv's query columns.
template <class T>
struct backward_rows {
    shape_info<T> s;
    const T* qkv;
    const T* o;
    const T* lse;
    const T* d_o;
    T* delta;
    T* dqkv;
    CTNN_HD void operator()(std::size_t idx) const {
        std::size_t b, h, i;
        s.split(idx, b, h, i);
        const std::size_t ld = 3 * s.E;
        const T* q0 = s.head_columns(qkv, b, h);
        const T* q = q0 + i * ld;
        const T* k0 = q0 + s.E;
        const T* v0 = k0 + s.E;
        const T* dor = d_o + s.row(b, i) * s.E + h * s.d;
        const T di = dot(dor, o + s.row(b, i) * s.E + h * s.d, s.d);
        delta[idx] = di;
        T* dq = s.head_columns(dqkv, b, h) + i * ld;
        for (std::size_t c = 0; c < s.d; ++c) dq[c] = T(0);
        const T L = lse[idx];
        const std::size_t end = s.key_end(b, i);
        for (std::size_t j = 0; j < end; ++j) {
            const T* k = k0 + j * ld;
            const T p = std::exp(s.scale * dot(q, k, s.d) - L);
            const T keep = s.keep(b, h, i, j);
            const T dp = keep != T(0) ? keep * dot(dor, v0 + j * ld, s.d) : T(0);
            const T ds = p * (dp - di) * s.scale;
            for (std::size_t c = 0; c < s.d; ++c) dq[c] += ds * k[c];
        }
    }
};

/// Backward of key row j of head h of sample b, index (b·heads + h)·T + j (after backward_rows):
/// dk_j = scale·Σ_i dS_ij·q_i and dv_j = Σ_i P_ij·keep_ij·dO_i over the queries that use key j; zero
/// for a padded key. Writes dk, dv into dqkv's key and value columns.
template <class T>
struct backward_keys {
    shape_info<T> s;
    const T* qkv;
    const T* lse;
    const T* d_o;
    const T* delta;
    T* dqkv;
    CTNN_HD void operator()(std::size_t idx) const {
        std::size_t b, h, j;
        s.split(idx, b, h, j);
        const std::size_t ld = 3 * s.E;
        const T* q0 = s.head_columns(qkv, b, h);
        const T* k = q0 + j * ld + s.E;
        const T* v = k + s.E;
        T* dk = s.head_columns(dqkv, b, h) + j * ld + s.E;
        T* dv = dk + s.E;
        for (std::size_t c = 0; c < s.d; ++c) dk[c] = dv[c] = T(0);
        const std::size_t length = s.lengths ? std::size_t(s.lengths[b]) : s.steps;
        if (j >= length) return;
        for (std::size_t i = s.causal ? j : 0; i < s.steps; ++i) {
            const std::size_t qi = idx - j + i;  // row i of the same sample and head
            const T* q = q0 + i * ld;
            const T* dor = d_o + s.row(b, i) * s.E + h * s.d;
            const T p = std::exp(s.scale * dot(q, k, s.d) - lse[qi]);
            const T keep = s.keep(b, h, i, j);
            T dp = T(0);
            if (keep != T(0)) {
                const T pk = p * keep;
                for (std::size_t c = 0; c < s.d; ++c) dv[c] += pk * dor[c];
                dp = keep * dot(dor, v, s.d);
            }
            const T ds = p * (dp - delta[qi]) * s.scale;
            for (std::size_t c = 0; c < s.d; ++c) dk[c] += ds * q[c];
        }
    }
};

}  // namespace ctnn::attn
