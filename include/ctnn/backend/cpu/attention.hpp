// SPDX-License-Identifier: MIT
#pragma once
/// @file attention.hpp  The fused attention of backend/attention_rules.hpp on the CPU, one task per
/// (sample, head), in blocks of `block` keys: a key block and a value block are transposed once
/// ([d, block], into the task's scratch) and every query row computes its scores against the whole
/// block as vector FMAs over the keys (no horizontal sums), softmax numerators with xsimd's exp, and
/// online-softmax rescaling once per block. Backward is FlashAttention-2's: per key block, every query
/// row recomputes its probabilities from its log-sum-exp and adds to dq_i, dk_j, dv_j. Memory per task:
/// two [d, block] blocks, three rows of `block` scores and two rows of T statistics — linear in T.
/// Each task writes only its own head's columns, so splitting tasks among threads changes no result.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <xsimd/xsimd.hpp>

#include "../attention_rules.hpp"

namespace ctnn::backend::cpu::attention {

/// Keys per block.
inline constexpr std::size_t block = 64;

/// Scratch values one task needs for sequences of @p steps positions, head size @p d.
constexpr std::size_t task_scratch(std::size_t steps, std::size_t d) noexcept { return 2 * d * block + 5 * block + 2 * steps; }

namespace detail {
template <class T>
using vec = xsimd::batch<T>;

/// s[0, n) = scale · Σ_c q[c] · kt[c][0, n) (kt: [d, block]), in the order c = 0, 1, ... for every key.
template <class T>
void scores(const T* q, const T* kt, std::size_t d, std::size_t n, T scale, T* s) noexcept {
    constexpr std::size_t W = vec<T>::size;
    std::size_t j = 0;
    for (; j + W <= n; j += W) {
        vec<T> acc(T(0));
        for (std::size_t c = 0; c < d; ++c) acc = xsimd::fma(vec<T>(q[c]), vec<T>::load_unaligned(kt + c * block + j), acc);
        (acc * vec<T>(scale)).store_unaligned(s + j);
    }
    for (; j < n; ++j) {
        T acc = 0;
        for (std::size_t c = 0; c < d; ++c) acc += q[c] * kt[c * block + j];
        s[j] = acc * scale;
    }
}

/// y[0, d) += a · x[0, d).
template <class T>
[[gnu::always_inline]] inline void axpy(T a, const T* x, T* y, std::size_t d) noexcept {
    constexpr std::size_t W = vec<T>::size;
    std::size_t c = 0;
    const vec<T> av(a);
    for (; c + W <= d; c += W) xsimd::fma(av, vec<T>::load_unaligned(x + c), vec<T>::load_unaligned(y + c)).store_unaligned(y + c);
    for (; c < d; ++c) y[c] += a * x[c];
}

/// p[0, n) = exp(s[0, n) - m).
template <class T>
void exp_shifted(const T* s, T m, T* p, std::size_t n) noexcept {
    constexpr std::size_t W = vec<T>::size;
    std::size_t j = 0;
    for (; j + W <= n; j += W) xsimd::exp(vec<T>::load_unaligned(s + j) - vec<T>(m)).store_unaligned(p + j);
    for (; j < n; ++j) p[j] = std::exp(s[j] - m);
}

/// Copies rows [j0, j0 + n) of a head's keys (or values), row stride ld, into kt [d, block].
template <class T>
void transpose_block(const T* rows, std::size_t ld, std::size_t n, std::size_t d, T* kt) noexcept {
    for (std::size_t j = 0; j < n; ++j)
        for (std::size_t c = 0; c < d; ++c) kt[c * block + j] = rows[j * ld + c];
}
}  // namespace detail

/// Forward of head h of sample b (task = b·heads + h): the heads' output rows and, when @p lse is not
/// null, each row's log-sum-exp. The same values as attn::forward_rows up to rounding.
template <std::size_t D = 0, class T>
void forward_task(const attn::shape_info<T>& s, const T* qkv, T* o, T* lse, std::size_t task, T* scratch) noexcept {
    using namespace detail;
    const std::size_t b = task / s.heads, h = task % s.heads, d = D ? D : s.d, T_ = s.steps, ld = 3 * s.E;
    T *kt = scratch, *sc = kt + d * block, *p = sc + block, *m = p + block, *l = m + T_;
    const T* q0 = s.head_columns(qkv, b, h);
    const T* k0 = q0 + s.E;
    const T* v0 = k0 + s.E;
    T* o0 = o + s.row(b, 0) * s.E + h * d;
    for (std::size_t i = 0; i < T_; ++i) {
        m[i] = -INFINITY;
        l[i] = T(0);
        std::fill(o0 + i * s.E, o0 + i * s.E + d, T(0));
    }
    const std::size_t length = s.lengths ? std::size_t(s.lengths[b]) : T_;
    for (std::size_t kb = 0; kb < length; kb += block) {
        const std::size_t nb = std::min(block, length - kb);
        transpose_block(k0 + kb * ld, ld, nb, d, kt);
        for (std::size_t i = s.causal ? kb : 0; i < T_; ++i) {
            const std::size_t end = s.key_end(b, i);
            if (end <= kb) continue;
            const std::size_t jn = std::min(nb, end - kb);
            scores(q0 + i * ld, kt, d, jn, s.scale, sc);
            T mb = sc[0];
            for (std::size_t j = 1; j < jn; ++j) mb = sc[j] > mb ? sc[j] : mb;
            T* oi = o0 + i * s.E;
            if (mb > m[i]) {  // a new maximum: rescale what has been summed so far
                const T corr = std::exp(m[i] - mb);
                l[i] *= corr;
                for (std::size_t c = 0; c < d; ++c) oi[c] *= corr;
                m[i] = mb;
            }
            exp_shifted(sc, m[i], p, jn);
            T sum = 0;
            for (std::size_t j = 0; j < jn; ++j) sum += p[j];
            l[i] += sum;
            if (s.dropout > 0)
                for (std::size_t j = 0; j < jn; ++j) p[j] *= s.keep(b, h, i, kb + j);
            constexpr std::size_t W = vec<T>::size;
            if constexpr (D != 0 && D % W == 0 && D / W <= 8) {  // o_i in registers over the block
                vec<T> acc[D / W];
                for (std::size_t v = 0; v < D / W; ++v) acc[v] = vec<T>::load_unaligned(oi + v * W);
                for (std::size_t j = 0; j < jn; ++j) {
                    const vec<T> pj(p[j]);
                    const T* vj = v0 + (kb + j) * ld;
                    for (std::size_t v = 0; v < D / W; ++v) acc[v] = xsimd::fma(pj, vec<T>::load_unaligned(vj + v * W), acc[v]);
                }
                for (std::size_t v = 0; v < D / W; ++v) acc[v].store_unaligned(oi + v * W);
            } else
                for (std::size_t j = 0; j < jn; ++j)
                    if (p[j] != T(0)) axpy(p[j], v0 + (kb + j) * ld, oi, d);
        }
    }
    for (std::size_t i = 0; i < T_; ++i) {
        const T inv = T(1) / l[i];
        for (std::size_t c = 0; c < d; ++c) o0[i * s.E + c] *= inv;
        if (lse) lse[task * T_ + i] = m[i] + std::log(l[i]);
    }
}

/// Backward of head h of sample b: dq, dk, dv of that head into dqkv (every row of its columns written),
/// from the forward's qkv, o, lse and the output gradient d_o. The same values as attn::backward_rows
/// followed by attn::backward_keys, up to rounding.
template <std::size_t D = 0, class T>
void backward_task(const attn::shape_info<T>& s, const T* qkv, const T* o, const T* lse, const T* d_o, T* dqkv, std::size_t task,
                   T* scratch) noexcept {
    using namespace detail;
    const std::size_t b = task / s.heads, h = task % s.heads, d = D ? D : s.d, T_ = s.steps, ld = 3 * s.E;
    T *kt = scratch, *vt = kt + d * block, *sc = vt + d * block, *p = sc + block, *dp = p + 2 * block, *ds = dp + block,
      *delta = ds + block;
    const T* q0 = s.head_columns(qkv, b, h);
    const T* k0 = q0 + s.E;
    const T* v0 = k0 + s.E;
    const T* do0 = d_o + s.row(b, 0) * s.E + h * d;
    T* dq0 = s.head_columns(dqkv, b, h);
    T* dk0 = dq0 + s.E;
    T* dv0 = dk0 + s.E;
    for (std::size_t i = 0; i < T_; ++i) {
        T acc = 0;
        const T* oi = o + s.row(b, i) * s.E + h * d;
        for (std::size_t c = 0; c < d; ++c) acc += do0[i * s.E + c] * oi[c];
        delta[i] = acc;
        std::fill(dq0 + i * ld, dq0 + i * ld + d, T(0));
        std::fill(dk0 + i * ld, dk0 + i * ld + d, T(0));
        std::fill(dv0 + i * ld, dv0 + i * ld + d, T(0));
    }
    const T* L = lse + task * T_;
    const std::size_t length = s.lengths ? std::size_t(s.lengths[b]) : T_;
    for (std::size_t kb = 0; kb < length; kb += block) {
        const std::size_t nb = std::min(block, length - kb);
        transpose_block(k0 + kb * ld, ld, nb, d, kt);
        transpose_block(v0 + kb * ld, ld, nb, d, vt);
        for (std::size_t i = s.causal ? kb : 0; i < T_; ++i) {
            const std::size_t end = s.key_end(b, i);
            if (end <= kb) continue;
            const std::size_t jn = std::min(nb, end - kb);
            const T* qi = q0 + i * ld;
            const T* doi = do0 + i * s.E;
            scores(qi, kt, d, jn, s.scale, sc);
            exp_shifted(sc, L[i], p, jn);
            scores(doi, vt, d, jn, T(1), dp);
            T* dqi = dq0 + i * ld;
            if (s.dropout > 0)
                for (std::size_t j = 0; j < jn; ++j) {
                    const T keep = s.keep(b, h, i, kb + j);
                    p[block + j] = p[j] * keep;  // (p's second half: the kept probabilities)
                    ds[j] = p[j] * (keep * dp[j] - delta[i]) * s.scale;
                }
            else
                for (std::size_t j = 0; j < jn; ++j) {
                    p[block + j] = p[j];
                    ds[j] = p[j] * (dp[j] - delta[i]) * s.scale;
                }
            constexpr std::size_t W = vec<T>::size;
            if constexpr (D != 0 && D % W == 0 && D / W <= 8) {
                // compile-time head size: dq_i stays in registers over the block, dk_j and dv_j are D/W FMAs each
                vec<T> acc[D / W];
                for (std::size_t v = 0; v < D / W; ++v) acc[v] = vec<T>::load_unaligned(dqi + v * W);
                vec<T> qv[D / W], dov[D / W];
                for (std::size_t v = 0; v < D / W; ++v) {
                    qv[v] = vec<T>::load_unaligned(qi + v * W);
                    dov[v] = vec<T>::load_unaligned(doi + v * W);
                }
                for (std::size_t j = 0; j < jn; ++j) {
                    const vec<T> dsj(ds[j]), pkj(p[block + j]);
                    const T* kj = k0 + (kb + j) * ld;
                    T* dkj = dk0 + (kb + j) * ld;
                    T* dvj = dv0 + (kb + j) * ld;
                    for (std::size_t v = 0; v < D / W; ++v) {
                        acc[v] = xsimd::fma(dsj, vec<T>::load_unaligned(kj + v * W), acc[v]);
                        xsimd::fma(dsj, qv[v], vec<T>::load_unaligned(dkj + v * W)).store_unaligned(dkj + v * W);
                        xsimd::fma(pkj, dov[v], vec<T>::load_unaligned(dvj + v * W)).store_unaligned(dvj + v * W);
                    }
                }
                for (std::size_t v = 0; v < D / W; ++v) acc[v].store_unaligned(dqi + v * W);
            } else
                for (std::size_t j = 0; j < jn; ++j) {
                    if (p[block + j] != T(0)) axpy(p[block + j], doi, dv0 + (kb + j) * ld, d);
                    axpy(ds[j], qi, dk0 + (kb + j) * ld, d);
                    axpy(ds[j], k0 + (kb + j) * ld, dqi, d);
                }
        }
    }
}

}  // namespace ctnn::backend::cpu::attention
