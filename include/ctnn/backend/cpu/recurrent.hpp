// SPDX-License-Identifier: MIT
#pragma once
/// @file recurrent.hpp  CPU kernels of one recurrent time step on xsimd batches: the pointwise rules of
/// backend/recurrent_rules.hpp (same formulas, same masking, same initial states) for one sample's row
/// at a time, W = batch::size units per vector, optionally fused with the step's matrix-vector products
/// for small batches. With the products fused, a gate's pre-activation for W units is W dot products
/// (rows of a row-major weight matrix [G, K] against the sample's h or x, K a compile-time size) folded
/// into one vector (`fold_rows`), so the four LSTM gates of W units never leave registers before the
/// pointwise part: no GEMM dispatch, no packing, nothing written but the step's results (batch-1
/// inference and the streaming step). Every size is a compile-time constant (H, K, and the N ≤ W units
/// of a block), so the loops unroll into straight FMA chains. Samples are independent: splitting a
/// batch among threads (for_samples) changes no result.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <xsimd/xsimd.hpp>
#if XSIMD_WITH_AVX512F
#include <immintrin.h>
#endif

#include "../epilogue.hpp"
#include "../recurrent_rules.hpp"
#include "gemm.hpp"
#include "thread_pool.hpp"

namespace ctnn::backend::cpu {

namespace detail {

template <class T>
using rvec = xsimd::batch<T>;

/// N ≤ W values from p as a vector (lanes from N on are zero; nothing past p + N is read).
template <std::size_t N, class T>
[[gnu::always_inline]] inline rvec<T> load_n(const T* p) noexcept {
    if constexpr (N == rvec<T>::size) {
        return rvec<T>::load_unaligned(p);
    } else {
        alignas(64) T tmp[rvec<T>::size] = {};
        for (std::size_t i = 0; i < N; ++i) tmp[i] = p[i];
        return rvec<T>::load_aligned(tmp);
    }
}
/// The first N ≤ W lanes of v to p.
template <std::size_t N, class T>
[[gnu::always_inline]] inline void store_n(rvec<T> v, T* p) noexcept {
    if constexpr (N == rvec<T>::size) {
        v.store_unaligned(p);
    } else {
        alignas(64) T tmp[rvec<T>::size];
        v.store_aligned(tmp);
        for (std::size_t i = 0; i < N; ++i) p[i] = tmp[i];
    }
}
/// N values at p, or zeros when p is null.
template <std::size_t N, class T>
[[gnu::always_inline]] inline rvec<T> load_or_zero(const T* p) noexcept {
    return p ? load_n<N>(p) : rvec<T>(T(0));
}
template <class T>
[[gnu::always_inline]] inline rvec<T> sigmoid(rvec<T> x) noexcept {
    return rvec<T>(T(1)) / (rvec<T>(T(1)) + xsimd::exp(-x));
}

/// Lane r = the sum of the lanes of acc[r], r < W (the fold of W dot products). xsimd 8.1's AVX-512
/// float haddp puts lanes 2-5 and 10-13 in the wrong order, so that case has its own fold.
template <class T>
[[gnu::always_inline]] inline rvec<T> fold_rows(const rvec<T>* acc) noexcept {
#if XSIMD_WITH_AVX512F
    if constexpr (std::is_same_v<T, float> && rvec<T>::size == 16) {
        __m512 x[8], y[4];
        for (int i = 0; i < 8; ++i) {  // rows 2i, 2i+1: per 128-bit lane [a0+a2, b0+b2, a1+a3, b1+b3]
            const __m512 a = acc[2 * i], b = acc[2 * i + 1];
            x[i] = _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));
        }
        for (int i = 0; i < 4; ++i)  // rows 4i..4i+3: per 128-bit lane, that lane's sum of each row
            y[i] = _mm512_add_ps(_mm512_shuffle_ps(x[2 * i], x[2 * i + 1], 0x44), _mm512_shuffle_ps(x[2 * i], x[2 * i + 1], 0xEE));
        const __m512 s01 = _mm512_add_ps(_mm512_shuffle_f32x4(y[0], y[1], 0x88), _mm512_shuffle_f32x4(y[0], y[1], 0xDD));
        const __m512 s23 = _mm512_add_ps(_mm512_shuffle_f32x4(y[2], y[3], 0x88), _mm512_shuffle_f32x4(y[2], y[3], 0xDD));
        return _mm512_add_ps(_mm512_shuffle_f32x4(s01, s23, 0x88), _mm512_shuffle_f32x4(s01, s23, 0xDD));
    }
#endif
    return xsimd::haddp(acc);
}

template <class T, std::size_t K, std::size_t N, std::size_t... R>
[[gnu::always_inline]] inline rvec<T> dot_rows(const T* w, const T* x, std::index_sequence<R...>) noexcept {
    using V = rvec<T>;
    constexpr std::size_t W = V::size, KV = K / W * W;
    V acc[W] = {((void)R, V(T(0)))...};
    for (std::size_t k = 0; k < KV; k += W) {
        const V xv = V::load_unaligned(x + k);
        ((R < N ? (void)(acc[R] = xsimd::fma(V::load_unaligned(w + R * K + k), xv, acc[R])) : (void)0), ...);
    }
    if constexpr (KV < K) {
        const V xv = load_n<K - KV>(x + KV);
        ((R < N ? (void)(acc[R] = xsimd::fma(load_n<K - KV>(w + R * K + KV), xv, acc[R])) : (void)0), ...);
    }
    return fold_rows<T>(acc);
}
/// Lane r (r < N ≤ W) = Σ_k w[r·K + k]·x[k]: N rows of a row-major [·, K] matrix against x [K], one
/// vector accumulator per row over the whole K, folded (lanes from N on are zero).
template <class T, std::size_t K, std::size_t N>
[[gnu::always_inline]] inline rvec<T> dot_rows(const T* w, const T* x) noexcept {
    return dot_rows<T, K, N>(w, x, std::make_index_sequence<rvec<T>::size>{});
}

/// base (+ base2) (+ W_x·x) (+ W_h·h) for rows [row0, row0 + N) of the gate matrices; each term is
/// optional (null pointer; a zero K leaves its product out at compile time).
template <class T, std::size_t Kx, std::size_t Kh, std::size_t N>
[[gnu::always_inline]] inline rvec<T> preactivation(const T* base, const T* base2, const T* w_x, const T* x, const T* w_h, const T* h,
                                                    std::size_t row0) noexcept {
    rvec<T> v = load_n<N>(base + row0);
    if (base2) v += load_n<N>(base2 + row0);
    if constexpr (Kx > 0)
        if (x) v += dot_rows<T, Kx, N>(w_x + row0 * Kx, x);
    if constexpr (Kh > 0)
        if (h) v += dot_rows<T, Kh, N>(w_h + row0 * Kh, h);
    return v;
}

/// f.template operator()<N>(j0) for the blocks of W units of [0, H), the last one N = H mod W wide.
template <class T, std::size_t H, class F>
[[gnu::always_inline]] inline void for_blocks(F&& f) {
    constexpr std::size_t W = rvec<T>::size, full = H / W * W;
    for (std::size_t j0 = 0; j0 < full; j0 += W) f.template operator()<W>(j0);
    if constexpr (full < H) f.template operator()<H - full>(full);
}

/// Where the gradient of the output arrives at step s for sample b (rules::output_gradient::at for a
/// whole row): the row of dy, or null for none.
template <class T>
inline const T* output_row(const rules::output_gradient<T>& out, const rules::step_info& s, std::size_t b) noexcept {
    if (!out.dy) return nullptr;
    if (out.every_step) return s.masked(b) ? nullptr : out.dy + (b * s.steps + s.t) * out.ld;
    return s.t == out.last ? out.dy + b * out.ld : nullptr;
}

/// The state a sample carries into step s: its row at tp, or the initial state, or null (zeros).
template <class T>
inline const T* previous_row(const T* states, const T* initial, const rules::step_info& s, std::size_t b) noexcept {
    if (s.first) return initial ? initial + b * s.hidden : nullptr;
    return states + s.prev(b, 0);
}

/// dst = src (or zeros when src is null), n values.
template <class T>
inline void copy_or_zero(const T* src, T* dst, std::size_t n) noexcept {
    if (src) std::copy(src, src + n, dst);
    else std::fill(dst, dst + n, T(0));
}

/// A masked sample's backward: no gradient at its gates, the output's gradient (if any) passes on.
template <class T>
inline void masked_backward(T* dh, const T* dy, std::size_t H) noexcept {
    if (dy)
        for (std::size_t j = 0; j < H; ++j) dh[j] += dy[j];
}

}  // namespace detail

/// f(b0, b1) over the samples [0, batch) of a whole sequence, split among the pool's threads (at least
/// 8 samples each): a sample's steps depend only on its own earlier steps, so each thread runs its
/// samples through every step with no synchronisation in between.
template <class F>
void for_samples(std::size_t batch, const F& f) {
    thread_pool& pool = default_pool();
    const std::size_t parts = std::min(pool.size(), std::max<std::size_t>(batch / 8, 1));
    if (parts <= 1) return f(std::size_t(0), batch);
    pool.run(parts, [&](std::size_t p) { f(batch * p / parts, batch * (p + 1) / parts); });
}

/// What one sample's LSTM cell reads and writes (see lstm_cell_row).
template <class T>
struct lstm_row {
    const T* base;          ///< [4H] pre-activation so far (the input projection with its bias, or b_ih)
    const T* base2;         ///< [4H] added to it (b_hh), or null
    const T* w_x;           ///< W_ih [4H, Kx] with x [Kx] (or null): adds W_ih·x
    const T* x;
    const T* w_h;           ///< W_hh [4H, Kh] with h [Kh] (or null: h = 0): adds W_hh·h
    const T* h;
    const T* c_prev;        ///< [H] or null (zeros)
    T* gates;               ///< [4H] the activated gates i, f, g, o (null: not kept)
    T* c;                   ///< [H] the new cell state (may be c_prev)
    T* h_out;               ///< [H] the new hidden state (must not be h)
};

/// One LSTM cell of one sample (rules::lstm_step_forward's formulas), W units at a time, with the
/// step's matrix-vector products fused (Kx, Kh compile-time; 0 leaves the product out).
template <class T, std::size_t H, std::size_t Kx = 0, std::size_t Kh = 0>
void lstm_cell_row(const lstm_row<T>& r) noexcept {
    using V = detail::rvec<T>;
    detail::for_blocks<T, H>([&]<std::size_t N>(std::size_t j0) [[gnu::always_inline]] {
        auto pre = [&](std::size_t q) [[gnu::always_inline]] {
            return detail::preactivation<T, Kx, Kh, N>(r.base, r.base2, r.w_x, r.x, r.w_h, r.h, q * H + j0);
        };
        const V i = detail::sigmoid(pre(0)), f = detail::sigmoid(pre(1)), g = xsimd::tanh(pre(2)), o = detail::sigmoid(pre(3));
        if (r.gates) {
            detail::store_n<N>(i, r.gates + j0);
            detail::store_n<N>(f, r.gates + H + j0);
            detail::store_n<N>(g, r.gates + 2 * H + j0);
            detail::store_n<N>(o, r.gates + 3 * H + j0);
        }
        const V ct = f * detail::load_or_zero<N>(r.c_prev ? r.c_prev + j0 : nullptr) + i * g;
        detail::store_n<N>(ct, r.c + j0);
        detail::store_n<N>(o * xsimd::tanh(ct), r.h_out + j0);
    });
}

/// rules::lstm_step_forward for the samples [b0, b1), vectorised. With `w_hh` (W_hh [4H, H]) the
/// recurrent product W_hh·h_prev is fused in (the gates then hold only the input projection and bias on
/// entry); with `w_ih` and `x` (W_ih [4H, In], x [b, T, In]) the input projection too (the gates' entry
/// is not read; b_ih + b_hh come from `b_ih`, `b_hh`).
template <class T, std::size_t H, std::size_t In = 0>
void lstm_forward_rows(const rules::lstm_step_forward<T>& r, const T* w_hh, std::size_t b0, std::size_t b1, const T* w_ih = nullptr,
                       const T* x = nullptr, const T* b_ih = nullptr, const T* b_hh = nullptr) noexcept {
    const rules::step_info& s = r.s;
    for (std::size_t b = b0; b < b1; ++b) {
        const std::size_t at = s.at(b, 0);
        const T* hp = detail::previous_row(r.h, r.h0, s, b);
        const T* cp = detail::previous_row(r.c, r.c0, s, b);
        if (s.masked(b)) {
            detail::copy_or_zero(cp, r.c + at, H);
            detail::copy_or_zero(hp, r.h + at, H);
            continue;
        }
        T* z = r.gates + (b * s.steps + s.t) * 4 * H;
        if constexpr (In > 0)
            lstm_cell_row<T, H, In, H>({b_ih, b_hh, w_ih, x + (b * s.steps + s.t) * In, w_hh, hp, cp, z, r.c + at, r.h + at});
        else if (w_hh) lstm_cell_row<T, H, 0, H>({z, nullptr, nullptr, nullptr, w_hh, hp, cp, z, r.c + at, r.h + at});
        else lstm_cell_row<T, H>({z, nullptr, nullptr, nullptr, nullptr, nullptr, cp, z, r.c + at, r.h + at});
    }
}

/// rules::lstm_step_backward for the samples [b0, b1), vectorised.
template <class T, std::size_t H>
void lstm_backward_rows(const rules::lstm_step_backward<T>& r, std::size_t b0, std::size_t b1) noexcept {
    using V = detail::rvec<T>;
    const rules::step_info& s = r.s;
    const V one(T(1));
    for (std::size_t b = b0; b < b1; ++b) {
        T* d = r.dz + (b * s.steps + s.t) * 4 * H;
        T* dh = r.dh + b * H;
        T* dc = r.dc + b * H;
        const T* dy = detail::output_row(r.out, s, b);
        if (s.masked(b)) {
            std::fill(d, d + 4 * H, T(0));
            detail::masked_backward(dh, dy, H);
            continue;
        }
        const T* a = r.gates + (b * s.steps + s.t) * 4 * H;
        const T* c = r.c + s.at(b, 0);
        const T* cp = detail::previous_row(r.c, r.c0, s, b);
        detail::for_blocks<T, H>([&]<std::size_t N>(std::size_t j0) [[gnu::always_inline]] {
            using detail::load_n;
            using detail::store_n;
            const V dht = load_n<N>(dh + j0) + detail::load_or_zero<N>(dy ? dy + j0 : nullptr);
            const V i = load_n<N>(a + j0), f = load_n<N>(a + H + j0), g = load_n<N>(a + 2 * H + j0), o = load_n<N>(a + 3 * H + j0);
            const V tc = xsimd::tanh(load_n<N>(c + j0));
            const V cpv = detail::load_or_zero<N>(cp ? cp + j0 : nullptr);
            const V dct = load_n<N>(dc + j0) + dht * o * (one - tc * tc);
            store_n<N>(dct * g * i * (one - i), d + j0);
            store_n<N>(dct * cpv * f * (one - f), d + H + j0);
            store_n<N>(dct * i * (one - g * g), d + 2 * H + j0);
            store_n<N>(dht * tc * o * (one - o), d + 3 * H + j0);
            store_n<N>(dct * f, dc + j0);
            store_n<N>(V(T(0)), dh + j0);
        });
    }
}

/// What one sample's GRU cell reads and writes (see gru_cell_row).
template <class T>
struct gru_row {
    const T* gx;            ///< [3H] W_ih·x + b_ih so far (or b_ih when w_x is given)
    const T* w_x;           ///< W_ih [3H, Kx] with x [Kx] (or null): adds W_ih·x to gx
    const T* x;
    const T* hp;            ///< [3H] W_hh·h + b_hh when given; else b_hh (+ W_hh·h when h is given)
    const T* b_hh;
    const T* w_h;           ///< W_hh [3H, Kh] with h [Kh] (null h: the first step without h0)
    const T* h;
    T* gates;               ///< [3H] r, z, n (null: not kept)
    T* hn;                  ///< [H] W_hn·h + b_hn, kept for backward (null: not kept)
    T* h_out;               ///< [H] the new hidden state (must not be h)
};

/// One GRU cell of one sample (rules::gru_step_forward's formulas), W units at a time, with the step's
/// matrix-vector products fused (Kx, Kh compile-time; 0 leaves them out: gx and hp are complete).
template <class T, std::size_t H, std::size_t Kx = 0, std::size_t Kh = 0>
void gru_cell_row(const gru_row<T>& r) noexcept {
    using V = detail::rvec<T>;
    const V one(T(1));
    detail::for_blocks<T, H>([&]<std::size_t N>(std::size_t j0) [[gnu::always_inline]] {
        auto x_part = [&](std::size_t q) [[gnu::always_inline]] {
            return detail::preactivation<T, Kx, 0, N>(r.gx, nullptr, r.w_x, r.x, nullptr, nullptr, q * H + j0);
        };
        auto h_part = [&](std::size_t q) [[gnu::always_inline]] {
            if (r.hp) return detail::load_n<N>(r.hp + q * H + j0);
            return detail::preactivation<T, 0, Kh, N>(r.b_hh, nullptr, nullptr, nullptr, r.w_h, r.h, q * H + j0);
        };
        const V hn = h_part(2);
        const V rg = detail::sigmoid(x_part(0) + h_part(0)), zg = detail::sigmoid(x_part(1) + h_part(1));
        const V ng = xsimd::tanh(x_part(2) + rg * hn);
        if (r.gates) {
            detail::store_n<N>(rg, r.gates + j0);
            detail::store_n<N>(zg, r.gates + H + j0);
            detail::store_n<N>(ng, r.gates + 2 * H + j0);
        }
        if (r.hn) detail::store_n<N>(hn, r.hn + j0);
        detail::store_n<N>((one - zg) * ng + zg * detail::load_or_zero<N>(r.h ? r.h + j0 : nullptr), r.h_out + j0);
    });
}

/// rules::gru_step_forward for the samples [b0, b1), vectorised; with `w_hh` (W_hh [3H, H]) the
/// recurrent product is fused in (then `r.hp` is not read: W_hh·h_prev + b_hh is formed here).
template <class T, std::size_t H>
void gru_forward_rows(const rules::gru_step_forward<T>& r, const T* w_hh, std::size_t b0, std::size_t b1) noexcept {
    const rules::step_info& s = r.s;
    for (std::size_t b = b0; b < b1; ++b) {
        const std::size_t at = s.at(b, 0);
        const T* hprev = detail::previous_row(r.h, r.h0, s, b);
        if (s.masked(b)) {
            detail::copy_or_zero(hprev, r.h + at, H);
            continue;
        }
        T* x = r.gx + (b * s.steps + s.t) * 3 * H;
        if (w_hh) {
            gru_cell_row<T, H, 0, H>({x, nullptr, nullptr, nullptr, r.b_hh, w_hh, hprev, x, r.hn + at, r.h + at});
        } else {
            // without h0, the first step's W_hh·h is zero: rules::gru_step_forward reads b_hh alone
            const T* hp = s.first && !r.h0 ? nullptr : r.hp + b * 3 * H;
            gru_cell_row<T, H>({x, nullptr, nullptr, hp, r.b_hh, nullptr, hprev, x, r.hn + at, r.h + at});
        }
    }
}

/// rules::gru_step_backward for the samples [b0, b1), vectorised.
template <class T, std::size_t H>
void gru_backward_rows(const rules::gru_step_backward<T>& r, std::size_t b0, std::size_t b1) noexcept {
    using V = detail::rvec<T>;
    const rules::step_info& s = r.s;
    const V one(T(1));
    for (std::size_t b = b0; b < b1; ++b) {
        const std::size_t row = (b * s.steps + s.t) * 3 * H;
        T* dh = r.dh + b * H;
        const T* dy = detail::output_row(r.out, s, b);
        if (s.masked(b)) {
            std::fill(r.dzx + row, r.dzx + row + 3 * H, T(0));
            std::fill(r.dzh + row, r.dzh + row + 3 * H, T(0));
            detail::masked_backward(dh, dy, H);
            continue;
        }
        const T* hprev = detail::previous_row(r.h, r.h0, s, b);
        const T* hn = r.hn + s.at(b, 0);
        detail::for_blocks<T, H>([&]<std::size_t N>(std::size_t j0) [[gnu::always_inline]] {
            using detail::load_n;
            using detail::store_n;
            const V d = load_n<N>(dh + j0) + detail::load_or_zero<N>(dy ? dy + j0 : nullptr);
            const V rg = load_n<N>(r.gates + row + j0), zg = load_n<N>(r.gates + row + H + j0), ng = load_n<N>(r.gates + row + 2 * H + j0);
            const V hpv = detail::load_or_zero<N>(hprev ? hprev + j0 : nullptr);
            const V dn_pre = d * (one - zg) * (one - ng * ng);
            const V dz_pre = d * (hpv - ng) * zg * (one - zg);
            const V dr_pre = dn_pre * load_n<N>(hn + j0) * rg * (one - rg);
            store_n<N>(dr_pre, r.dzx + row + j0);
            store_n<N>(dz_pre, r.dzx + row + H + j0);
            store_n<N>(dn_pre, r.dzx + row + 2 * H + j0);
            store_n<N>(dr_pre, r.dzh + row + j0);
            store_n<N>(dz_pre, r.dzh + row + H + j0);
            store_n<N>(dn_pre * rg, r.dzh + row + 2 * H + j0);
            store_n<N>(d * zg, dh + j0);
        });
    }
}

/// One Elman cell of one sample: h_out = act(base (+ base2) (+ W_x·x) (+ W_h·h)), W units at a time.
template <class T, std::size_t H, std::size_t Kx = 0, std::size_t Kh = 0>
void rnn_cell_row(activation_kind act, const T* base, const T* base2, const T* w_x, const T* x, const T* w_h, const T* h,
                  T* h_out) noexcept {
    const epilogue<T> ep{nullptr, act};
    detail::for_blocks<T, H>([&]<std::size_t N>(std::size_t j0) [[gnu::always_inline]] {
        detail::store_n<N>(detail::apply(ep, detail::preactivation<T, Kx, Kh, N>(base, base2, w_x, x, w_h, h, j0), 0), h_out + j0);
    });
}

/// rules::rnn_step_forward for the samples [b0, b1), vectorised; with `w_hh` the recurrent product
/// W_hh·h_prev is fused in (z then holds the input projection and both biases on entry).
template <class T, std::size_t H>
void rnn_forward_rows(const rules::rnn_step_forward<T>& r, const T* w_hh, std::size_t b0, std::size_t b1) noexcept {
    const rules::step_info& s = r.s;
    for (std::size_t b = b0; b < b1; ++b) {
        const std::size_t at = s.at(b, 0);
        const T* hprev = detail::previous_row(r.h, r.h0, s, b);
        if (s.masked(b)) detail::copy_or_zero(hprev, r.h + at, H);
        else if (w_hh) rnn_cell_row<T, H, 0, H>(r.act, r.z + at, nullptr, nullptr, nullptr, w_hh, hprev, r.h + at);
        else rnn_cell_row<T, H>(r.act, r.z + at, nullptr, nullptr, nullptr, nullptr, nullptr, r.h + at);
    }
}

/// rules::rnn_step_backward for the samples [b0, b1), vectorised.
template <class T, std::size_t H>
void rnn_backward_rows(const rules::rnn_step_backward<T>& r, std::size_t b0, std::size_t b1) noexcept {
    using V = detail::rvec<T>;
    const rules::step_info& s = r.s;
    for (std::size_t b = b0; b < b1; ++b) {
        const std::size_t at = s.at(b, 0);
        T* dh = r.dh + b * H;
        const T* dy = detail::output_row(r.out, s, b);
        if (s.masked(b)) {
            std::fill(r.dz + at, r.dz + at + H, T(0));
            detail::masked_backward(dh, dy, H);
            continue;
        }
        detail::for_blocks<T, H>([&]<std::size_t N>(std::size_t j0) [[gnu::always_inline]] {
            const V d = detail::load_n<N>(dh + j0) + detail::load_or_zero<N>(dy ? dy + j0 : nullptr);
            const V y = detail::load_n<N>(r.h + at + j0);
            // epilogue::derivative_from_output of tanh (1 − y²) and relu (y > 0)
            const V deriv = r.act == activation_kind::tanh ? V(T(1)) - y * y : xsimd::select(y > V(T(0)), V(T(1)), V(T(0)));
            detail::store_n<N>(d * deriv, r.dz + at + j0);
            detail::store_n<N>(V(T(0)), dh + j0);
        });
    }
}

/// rules::sequence_emit for a whole batch, a row of H values at a time.
template <class T>
void sequence_emit_rows(const rules::sequence_emit<T>& r, std::size_t batch) noexcept {
    const std::size_t H = r.hidden;
    for (std::size_t b = 0; b < batch; ++b) {
        if (!r.every_step) {
            const T* src = r.h + (b * r.steps + r.last) * H;
            std::copy(src, src + H, r.y + b * r.ld);
            continue;
        }
        for (std::size_t t = 0; t < r.steps; ++t) {
            T* dst = r.y + (b * r.steps + t) * r.ld;
            if (r.lengths && std::size_t(r.lengths[b]) <= t) std::fill(dst, dst + H, T(0));
            else std::copy(r.h + (b * r.steps + t) * H, r.h + (b * r.steps + t + 1) * H, dst);
        }
    }
}

}  // namespace ctnn::backend::cpu
