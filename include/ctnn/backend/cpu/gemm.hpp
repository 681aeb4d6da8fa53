// SPDX-License-Identifier: MIT
#pragma once
/// @file gemm.hpp  Packed, cache-blocked GEMM on xsimd batches (micro-kernel -> packing -> blocking
/// -> threading), for any strides, so A·B, Aᵀ·B and A·Bᵀ need no materialised transpose.
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <type_traits>
#include <utility>
#include <xsimd/xsimd.hpp>
#if XSIMD_WITH_AVX
#include <immintrin.h>
#endif

#include "../../core/aligned.hpp"
#include "../epilogue.hpp"
#include "thread_pool.hpp"

namespace ctnn::backend::cpu {

/// A strided read-only matrix operand: element (r, c) is `data[r * row_stride + c * col_stride]`.
template <class T>
struct strided {
    const T* data;
    std::ptrdiff_t row_stride;
    std::ptrdiff_t col_stride;
    T operator()(std::size_t r, std::size_t c) const noexcept {
        return data[std::ptrdiff_t(r) * row_stride + std::ptrdiff_t(c) * col_stride];
    }
};

namespace detail {

/// Register tile per architecture: MR rows x NV vectors of accumulators. AVX-512 has 32 vector
/// registers (16 accumulators + 2 B vectors + broadcasts; 8 rows measured faster than 12 or 14 at
/// the MLP shapes), AVX2/SSE/NEON have 16 (12 accumulators + 3).
template <class T>
struct gemm_tiles {
    using batch = xsimd::batch<T>;
    static constexpr bool wide_register_file =
#if XSIMD_WITH_AVX512F
        true;
#else
        false;
#endif
    static constexpr std::size_t W = batch::size;
    static constexpr std::size_t NV = 2;                             // vectors per micro-tile row
    static constexpr std::size_t NR = NV * W;                        // micro-tile columns
    static constexpr std::size_t MR = wide_register_file ? 8 : 6;    // micro-tile rows (8 divides typical batches)
    static constexpr std::size_t KC = 256;                           // B sliver KC x NR stays in L1
    static constexpr std::size_t MC = MR * (wide_register_file ? 8 : 16);  // A block MC x KC stays in L2
    static constexpr std::size_t NC = NR * 64;
};

/// alpha·AB (already scaled) + beta·c, the one place that keeps the rule "beta == 0 never reads C"
/// (C may hold NaN or garbage then).
template <class T>
T blend(T scaled_ab, T beta, T c) noexcept {
    return beta == T(0) ? scaled_ab : scaled_ab + beta * c;
}

/// The epilogue on a vector of C that starts at column j of the block `ep` was shifted to.
template <class T>
xsimd::batch<T> apply(const epilogue<T>& ep, xsimd::batch<T> x, std::size_t j) noexcept {
    using batch = xsimd::batch<T>;
    if (ep.bias) x += batch::load_unaligned(ep.bias + j);
    switch (ep.act) {
        case activation_kind::relu: return xsimd::max(x, batch(T(0)));
        case activation_kind::leaky_relu: return xsimd::select(x > batch(T(0)), x, x * batch(ep.slope));
        case activation_kind::sigmoid: return batch(T(1)) / (batch(T(1)) + xsimd::exp(-x));
        case activation_kind::tanh: return xsimd::tanh(x);
        case activation_kind::gelu: return batch(T(0.5)) * x * (batch(T(1)) + xsimd::erf(x * batch(T(0.70710678118654752440))));
        case activation_kind::gelu_tanh:
            return batch(T(0.5)) * x *
                   (batch(T(1)) + xsimd::tanh(batch(T(0.79788456080286535588)) * (x + batch(T(0.044715)) * x * x * x)));
        default: return x;
    }
}

/// The epilogue over n columns of one row of C (for kernels that finish a row at a time).
template <class T>
void apply_row(const epilogue<T>& ep, T* c, std::size_t n) noexcept {
    constexpr std::size_t W = xsimd::batch<T>::size;
    std::size_t j = 0;
    for (; j + W <= n; j += W) apply(ep, xsimd::batch<T>::load_unaligned(c + j), j).store_unaligned(c + j);
    for (; j < n; ++j) c[j] = ep(c[j], j);
}

/// Packing buffers, one set per thread, grown during warm-up and then reused.
template <class T>
struct gemm_scratch {
    aligned_buffer<T> a, b, gathered;
    static gemm_scratch& local() {
        static thread_local gemm_scratch s;
        return s;
    }
    T* get(aligned_buffer<T>& buf, std::size_t n) {
        if (buf.size() < n) buf.resize(n);
        return buf.data();
    }
};

#if XSIMD_WITH_AVX512F
/// In-register transpose of a 16x16 float block (rows r[0..15] become columns).
[[gnu::always_inline]] inline void transpose16x16(__m512 r[16]) noexcept {
    __m512 t[16];
    for (int i = 0; i < 8; ++i) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int g = 0; g < 4; ++g) {
        r[4 * g] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0x44);
        r[4 * g + 1] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0xEE);
        r[4 * g + 2] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0x44);
        r[4 * g + 3] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0xEE);
    }
    for (int i = 0; i < 4; ++i) {
        t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
        t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xDD);
        t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
        t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xDD);
    }
    for (int i = 0; i < 8; ++i) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xDD);
    }
}
#elif XSIMD_WITH_AVX
/// In-register transpose of an 8x8 float block (rows r[0..7] become columns).
[[gnu::always_inline]] inline void transpose8x8(__m256 r[8]) noexcept {
    __m256 t[8];
    for (int i = 0; i < 4; ++i) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    __m256 s[8];
    for (int g = 0; g < 2; ++g) {
        s[4 * g] = _mm256_shuffle_ps(t[4 * g], t[4 * g + 2], 0x44);
        s[4 * g + 1] = _mm256_shuffle_ps(t[4 * g], t[4 * g + 2], 0xEE);
        s[4 * g + 2] = _mm256_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0x44);
        s[4 * g + 3] = _mm256_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0xEE);
    }
    for (int i = 0; i < 4; ++i) {
        r[i] = _mm256_permute2f128_ps(s[i], s[i + 4], 0x20);
        r[i + 4] = _mm256_permute2f128_ps(s[i], s[i + 4], 0x31);
    }
}
#endif

/// Packs rows [i0, i0+mc) x cols [k0, k0+kc) of A into MR-row slivers, k-major, zero padded.
template <class T>
void pack_a(strided<T> A, std::size_t i0, std::size_t mc, std::size_t k0, std::size_t kc, T* out) noexcept {
    constexpr std::size_t MR = gemm_tiles<T>::MR;
    for (std::size_t ir = 0; ir < mc; ir += MR) {
        const std::size_t mr = std::min(MR, mc - ir);
        const T* base = A.data + std::ptrdiff_t(i0 + ir) * A.row_stride + std::ptrdiff_t(k0) * A.col_stride;
        if (A.col_stride == 1 && mr == MR) {
            // rows of A are contiguous in k: read each row once, write it transposed into the sliver
            std::size_t k_done = 0;
#if XSIMD_WITH_AVX512F
            if constexpr (std::is_same_v<T, float> && MR == 8) {
                // 8 rows x 16 k transposed in registers (as a 16x16 block whose lower half is zero)
                for (; k_done + 16 <= kc; k_done += 16) {
                    __m512 r[16];
                    for (std::size_t q = 0; q < 8; ++q) r[q] = _mm512_loadu_ps(base + std::ptrdiff_t(q) * A.row_stride + std::ptrdiff_t(k_done));
                    for (std::size_t q = 8; q < 16; ++q) r[q] = _mm512_setzero_ps();
                    transpose16x16(r);
                    for (std::size_t q = 0; q < 16; ++q) _mm256_storeu_ps(out + (k_done + q) * MR, _mm512_castps512_ps256(r[q]));
                }
            }
#elif XSIMD_WITH_AVX
            if constexpr (std::is_same_v<T, float> && MR == 6) {
                // 6 rows x 8 k transposed in registers (as an 8x8 block with two zero rows), 6 lanes stored
                const __m256i six = _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, 0, 0);
                for (; k_done + 8 <= kc; k_done += 8) {
                    __m256 r[8];
                    for (std::size_t q = 0; q < 6; ++q) r[q] = _mm256_loadu_ps(base + std::ptrdiff_t(q) * A.row_stride + std::ptrdiff_t(k_done));
                    r[6] = r[7] = _mm256_setzero_ps();
                    transpose8x8(r);
                    for (std::size_t q = 0; q < 8; ++q) _mm256_maskstore_ps(out + (k_done + q) * MR, six, r[q]);
                }
            }
#endif
            for (std::size_t i = 0; i < MR; ++i) {
                const T* src = base + std::ptrdiff_t(i) * A.row_stride;
                for (std::size_t k = k_done; k < kc; ++k) out[k * MR + i] = src[k];
            }
            out += kc * MR;
            continue;
        }
        if (A.row_stride == 1) {
            // Aᵀ of a row-major matrix (a weight gradient dZᵀ·X): the mr values of each k are contiguous
            if (mr == MR)
                for (std::size_t k = 0; k < kc; ++k, out += MR) std::memcpy(out, base + std::ptrdiff_t(k) * A.col_stride, MR * sizeof(T));
            else
                for (std::size_t k = 0; k < kc; ++k, out += MR)
                    for (std::size_t i = 0; i < MR; ++i) out[i] = i < mr ? base[std::ptrdiff_t(k) * A.col_stride + std::ptrdiff_t(i)] : T(0);
            continue;
        }
        if (A.col_stride == 1) {  // the last, partial sliver of contiguous rows: row by row
            for (std::size_t i = 0; i < MR; ++i) {
                const T* src = base + std::ptrdiff_t(i) * A.row_stride;
                if (i < mr)
                    for (std::size_t k = 0; k < kc; ++k) out[k * MR + i] = src[k];
                else
                    for (std::size_t k = 0; k < kc; ++k) out[k * MR + i] = T(0);
            }
            out += kc * MR;
            continue;
        }
        for (std::size_t k = 0; k < kc; ++k) {
            const T* src = base + std::ptrdiff_t(k) * A.col_stride;
            std::size_t i = 0;
            for (; i < mr; ++i) out[i] = src[std::ptrdiff_t(i) * A.row_stride];
            for (; i < MR; ++i) out[i] = T(0);
            out += MR;
        }
    }
}

/// Packs rows [k0, k0+kc) x cols [j0, j0+nc) of B into NR-column slivers, k-major, zero padded.
template <class T>
void pack_b(strided<T> B, std::size_t k0, std::size_t kc, std::size_t j0, std::size_t nc, T* out) noexcept {
    constexpr std::size_t NR = gemm_tiles<T>::NR;
    for (std::size_t jr = 0; jr < nc; jr += NR) {
        const std::size_t nr = std::min(NR, nc - jr);
        const T* base = B.data + std::ptrdiff_t(k0) * B.row_stride + std::ptrdiff_t(j0 + jr) * B.col_stride;
        if (B.row_stride == 1 && nr == NR) {
            // B = Wᵀ of a row-major W: columns of B are contiguous in k; read each once
            std::size_t k_done = 0;
#if XSIMD_WITH_AVX512F
            if constexpr (std::is_same_v<T, float> && NR % 16 == 0) {
                // 16x16 blocks transposed in registers: a quarter of the instructions of the scalar loop
                for (; k_done + 16 <= kc; k_done += 16)
                    for (std::size_t h = 0; h < NR; h += 16) {
                        __m512 r[16];
                        for (std::size_t q = 0; q < 16; ++q)
                            r[q] = _mm512_loadu_ps(base + std::ptrdiff_t(h + q) * B.col_stride + std::ptrdiff_t(k_done));
                        transpose16x16(r);
                        for (std::size_t q = 0; q < 16; ++q) _mm512_storeu_ps(out + (k_done + q) * NR + h, r[q]);
                    }
            }
#elif XSIMD_WITH_AVX
            if constexpr (std::is_same_v<T, float> && NR % 8 == 0) {
                for (; k_done + 8 <= kc; k_done += 8)
                    for (std::size_t h = 0; h < NR; h += 8) {
                        __m256 r[8];
                        for (std::size_t q = 0; q < 8; ++q)
                            r[q] = _mm256_loadu_ps(base + std::ptrdiff_t(h + q) * B.col_stride + std::ptrdiff_t(k_done));
                        transpose8x8(r);
                        for (std::size_t q = 0; q < 8; ++q) _mm256_storeu_ps(out + (k_done + q) * NR + h, r[q]);
                    }
            }
#endif
            for (std::size_t j = 0; j < NR; ++j) {
                const T* src = base + std::ptrdiff_t(j) * B.col_stride;
                for (std::size_t k = k_done; k < kc; ++k) out[k * NR + j] = src[k];
            }
            out += kc * NR;
            continue;
        }
        for (std::size_t k = 0; k < kc; ++k) {
            const T* src = base + std::ptrdiff_t(k) * B.row_stride;
            std::size_t j = 0;
            if (B.col_stride == 1) {
                std::memcpy(out, src, nr * sizeof(T));  // a row of the sliver is contiguous in B
                j = nr;
            } else
                for (; j < nr; ++j) out[j] = src[std::ptrdiff_t(j) * B.col_stride];
            for (; j < NR; ++j) out[j] = T(0);
            out += NR;
        }
    }
}

/// C[0:mr, 0:nr] = ep(alpha * Apanel·Bpanel + beta * C) (beta == 0 never reads C; a null `ep` is
/// none: it is given on the last K block only, with its bias shifted to the tile). Row k of the B
/// sliver is at b + k·b_stride: NR in a packed sliver, or B's own row stride when B is read in place. The MR x NV
/// accumulators are indexed only by compile-time constants (folds over index sequences), so they
/// live in registers. `Swapped`: the A operand is read in place (row r at a + r·a_ld, contiguous in k)
/// and the tile is stored transposed (tile element (r, q) goes to c[q·ldc + r], epilogue column r):
/// the form that computes X·Wᵀ without packing the weights (see gemm_block_swapped).
template <class T, bool Swapped = false>
void micro_kernel(std::size_t kc, const T* a, std::size_t a_ld, const T* b, std::size_t b_stride, T alpha, T beta, T* c,
                  std::size_t ldc, std::size_t mr, std::size_t nr, const epilogue<T>* ep) noexcept {
    using tiles = gemm_tiles<T>;
    using batch = typename tiles::batch;
    constexpr std::size_t MR = tiles::MR, W = tiles::W, NR = tiles::NR;
    static_assert(tiles::NV == 2, "ctnn::gemm: the micro-kernel is written for two vectors per row");
    using rows = std::make_index_sequence<MR>;
    batch acc0[MR], acc1[MR];
    [&]<std::size_t... I>(std::index_sequence<I...>) { ((acc0[I] = acc1[I] = batch(T(0))), ...); }(rows{});
    for (std::size_t k = 0; k < kc; ++k) {
        const batch b0 = batch::load_unaligned(b);
        const batch b1 = batch::load_unaligned(b + W);
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            auto ai = [&](std::size_t i) { return batch(Swapped ? a[i * a_ld] : a[i]); };
            ((acc0[I] = xsimd::fma(ai(I), b0, acc0[I]), acc1[I] = xsimd::fma(ai(I), b1, acc1[I])), ...);
        }(rows{});
        a += Swapped ? 1 : MR;
        b += b_stride;
    }
    const batch va(alpha);
    if (!Swapped && mr == MR && nr == NR) {
        auto store = [&]<std::size_t... I>(std::index_sequence<I...>, auto with_beta) {
            const batch vb(beta);
            auto row = [&](std::size_t i, batch x0, batch x1) {
                T* ci = c + i * ldc;
                x0 *= va;
                x1 *= va;
                if constexpr (decltype(with_beta)::value) {
                    x0 = xsimd::fma(vb, batch::load_unaligned(ci), x0);
                    x1 = xsimd::fma(vb, batch::load_unaligned(ci + W), x1);
                }
                if (ep) {  // bias + activation while the tile is still in registers
                    x0 = apply(*ep, x0, 0);
                    x1 = apply(*ep, x1, W);
                }
                x0.store_unaligned(ci);
                x1.store_unaligned(ci + W);
            };
            (row(I, acc0[I], acc1[I]), ...);
        };
        if (beta == T(0)) store(rows{}, std::false_type{});
        else store(rows{}, std::true_type{});
        return;
    }
    alignas(buffer_alignment) T tile[MR * NR];
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (((acc0[I] * va).store_aligned(tile + I * NR), (acc1[I] * va).store_aligned(tile + I * NR + W)), ...);
    }(rows{});
    for (std::size_t i = 0; i < mr; ++i)
        for (std::size_t j = 0; j < nr; ++j) {
            T& dst = Swapped ? c[j * ldc + i] : c[i * ldc + j];
            dst = blend(tile[i * NR + j], beta, dst);
            if (ep) dst = (*ep)(dst, Swapped ? i : j);
        }
}

/// Single-threaded blocked GEMM on columns [j_begin, j_end) of C. When B's rows are contiguous
/// (A·B, Aᵀ·B) and M is small, a packed B sliver would serve only a few micro-tiles, so full slivers
/// are read in place and only a partial last sliver is packed.
template <class T>
void gemm_block(std::size_t M, std::size_t j_begin, std::size_t j_end, std::size_t K, T alpha, strided<T> A, strided<T> B,
                T beta, T* C, std::size_t ldc, const epilogue<T>* ep) {
    using tiles = gemm_tiles<T>;
    constexpr std::size_t MR = tiles::MR, NR = tiles::NR, KC = tiles::KC, MC = tiles::MC, NC = tiles::NC;
    auto& s = gemm_scratch<T>::local();
    T* bp = s.get(s.b, KC * NC);
    T* ap = s.get(s.a, KC * MC);
    const bool b_in_place = B.col_stride == 1 && B.row_stride > 0 && M <= 2 * MC;
    for (std::size_t jc = j_begin; jc < j_end; jc += NC) {
        const std::size_t nc = std::min(NC, j_end - jc);
        const std::size_t full = b_in_place ? nc / NR * NR : 0;  // columns read in place
        for (std::size_t pc = 0; pc < K; pc += KC) {
            const std::size_t kc = std::min(KC, K - pc);
            const T b_eff = pc == 0 ? beta : T(1);
            const bool last = pc + kc == K;
            if (full < nc) pack_b(B, pc, kc, jc + full, nc - full, bp);
            for (std::size_t ic = 0; ic < M; ic += MC) {
                const std::size_t mc = std::min(MC, M - ic);
                pack_a(A, ic, mc, pc, kc, ap);
                for (std::size_t jr = 0; jr < nc; jr += NR) {
                    const bool direct = jr < full;
                    const T* b = direct ? B.data + std::ptrdiff_t(pc) * B.row_stride + std::ptrdiff_t(jc + jr)
                                        : bp + (jr - full) * kc;
                    const std::size_t b_stride = direct ? std::size_t(B.row_stride) : NR;
                    epilogue<T> tile_ep;
                    if (last && ep) tile_ep = ep->shifted(jc + jr);
                    for (std::size_t ir = 0; ir < mc; ir += MR)
                        micro_kernel<T>(kc, ap + ir * kc, 0, b, b_stride, alpha, b_eff, C + (ic + ir) * ldc + jc + jr, ldc,
                                        std::min(MR, mc - ir), std::min(NR, nc - jr), last && ep ? &tile_ep : nullptr);
                }
            }
        }
    }
}

/// C = ep(alpha·A·B + beta·C) for columns [j_begin, j_end) when both operands are contiguous in k and
/// A is the smaller (the dense forward X·Wᵀ, X = A [M×K], W = Bᵀ [N×K]): computed as Cᵀ = W·Xᵀ, so only
/// X is packed (transposed into NR-wide slivers) while the rows of W are broadcast in place, and each
/// register tile is stored transposed. Packing the weights instead cost a fifth of the call at the MLP
/// shapes (measured).
template <class T>
void gemm_block_swapped(std::size_t M, std::size_t j_begin, std::size_t j_end, std::size_t K, T alpha, strided<T> A,
                        strided<T> B, T beta, T* C, std::size_t ldc, const epilogue<T>* ep) {
    using tiles = gemm_tiles<T>;
    constexpr std::size_t MR = tiles::MR, NR = tiles::NR, NC = tiles::NC;
    // The tile is stored transposed (scalar), so it is stored once: K is blocked only when long. The
    // Xᵀ slivers then live in L2, not L1; their loads are 2 per 16 FMAs.
    const std::size_t KC = K <= 1024 ? K : 512;
    auto& s = gemm_scratch<T>::local();
    T* xp = s.get(s.b, KC * std::min(NC, (M + NR - 1) / NR * NR));
    const strided<T> Xt{A.data, A.col_stride, A.row_stride};  // Xᵀ (K×M): element (k, i) = X[i, k]
    const std::size_t ldw = std::size_t(B.col_stride);
    for (std::size_t ic = 0; ic < M; ic += NC) {  // columns of Cᵀ = rows of C
        const std::size_t mc = std::min(NC, M - ic);
        for (std::size_t pc = 0; pc < K; pc += KC) {
            const std::size_t kc = std::min(KC, K - pc);
            const T b_eff = pc == 0 ? beta : T(1);
            const bool last = pc + kc == K;
            pack_b(Xt, pc, kc, ic, mc, xp);
            for (std::size_t jr = j_begin; jr < j_end; jr += MR) {  // MR rows of W at a time
                epilogue<T> tile_ep;
                if (last && ep) tile_ep = ep->shifted(jr);
                const T* w = B.data + std::ptrdiff_t(jr) * B.col_stride + std::ptrdiff_t(pc);
                for (std::size_t ir = 0; ir < mc; ir += NR)
                    micro_kernel<T, true>(kc, w, ldw, xp + ir * kc, NR, alpha, b_eff, C + (ic + ir) * ldc + jr, ldc,
                                          std::min(MR, j_end - jr), std::min(NR, mc - ir), last && ep ? &tile_ep : nullptr);
            }
        }
    }
}

/// C = alpha·A·B + beta·C for columns [j0, j1) when both operands are contiguous in k (A row-major
/// M×K, B = Wᵀ of a row-major W, the dense forward X·Wᵀ): RI×RJ blocks of vectorised dot products,
/// no packing and no zero-padded tile, for narrow N (epilogue applied at the end). K is blocked by KB so the
/// operand rows stay in L1/L2; partial sums accumulate in C in a fixed order (deterministic).
template <class T, std::size_t RI = (gemm_tiles<T>::wide_register_file ? 4 : 2), std::size_t RJ = 4>
void gemm_dot_block(std::size_t M, std::size_t j0, std::size_t j1, std::size_t K, T alpha, strided<T> A, strided<T> B,
                    T beta, T* C, std::size_t ldc, const epilogue<T>* ep) noexcept {
    using batch = xsimd::batch<T>;
    constexpr std::size_t W = batch::size;
    constexpr std::size_t KB = 512;
    for (std::size_t k0 = 0; k0 < K; k0 += KB) {
        const std::size_t kc = std::min(KB, K - k0), kv = kc / W * W;
        const bool first = k0 == 0;
        auto finish = [&](T& c, T sum) { c = first ? blend(alpha * sum, beta, c) : c + alpha * sum; };
        for (std::size_t j = j0; j < j1; j += RJ) {
            const std::size_t nj = std::min(RJ, j1 - j);
            for (std::size_t i = 0; i < M; i += RI) {
                const std::size_t ni = std::min(RI, M - i);
                const T* a = A.data + std::ptrdiff_t(i) * A.row_stride + std::ptrdiff_t(k0);
                const T* b = B.data + std::ptrdiff_t(j) * B.col_stride + std::ptrdiff_t(k0);
                if (ni == RI && nj == RJ) {
                    batch acc[RI * RJ];
                    [&]<std::size_t... Q>(std::index_sequence<Q...>) { ((acc[Q] = batch(T(0))), ...); }(std::make_index_sequence<RI * RJ>{});
                    for (std::size_t k = 0; k < kv; k += W) {
                        batch av[RI], bv[RJ];
                        [&]<std::size_t... R>(std::index_sequence<R...>) {
                            ((av[R] = batch::load_unaligned(a + std::ptrdiff_t(R) * A.row_stride + std::ptrdiff_t(k))), ...);
                        }(std::make_index_sequence<RI>{});
                        [&]<std::size_t... R>(std::index_sequence<R...>) {
                            ((bv[R] = batch::load_unaligned(b + std::ptrdiff_t(R) * B.col_stride + std::ptrdiff_t(k))), ...);
                        }(std::make_index_sequence<RJ>{});
                        [&]<std::size_t... Q>(std::index_sequence<Q...>) {
                            ((acc[Q] = xsimd::fma(av[Q / RJ], bv[Q % RJ], acc[Q])), ...);
                        }(std::make_index_sequence<RI * RJ>{});
                    }
                    for (std::size_t r = 0; r < RI; ++r)
                        for (std::size_t q = 0; q < RJ; ++q) {
                            const T* ar = a + std::ptrdiff_t(r) * A.row_stride;
                            const T* bq = b + std::ptrdiff_t(q) * B.col_stride;
                            T sum = xsimd::hadd(acc[r * RJ + q]);
                            for (std::size_t k = kv; k < kc; ++k) sum += ar[k] * bq[k];
                            finish(C[(i + r) * ldc + j + q], sum);
                        }
                    continue;
                }
                for (std::size_t r = 0; r < ni; ++r)  // edge blocks: one dot product at a time
                    for (std::size_t q = 0; q < nj; ++q) {
                        const T* ar = a + std::ptrdiff_t(r) * A.row_stride;
                        const T* bq = b + std::ptrdiff_t(q) * B.col_stride;
                        batch acc(T(0));
                        for (std::size_t k = 0; k < kv; k += W)
                            acc = xsimd::fma(batch::load_unaligned(ar + k), batch::load_unaligned(bq + k), acc);
                        T sum = xsimd::hadd(acc);
                        for (std::size_t k = kv; k < kc; ++k) sum += ar[k] * bq[k];
                        finish(C[(i + r) * ldc + j + q], sum);
                    }
            }
        }
    }
    if (ep)  // C here is a narrow or short block, still in L1: one vectorised pass (keeps calls out of the loops)
        for (std::size_t i = 0; i < M; ++i) apply_row(ep->shifted(j0), C + i * ldc + j0, j1 - j0);
}

/// Few rows of C (batch-1 inference, GEMV): no packing. With k-contiguous B (B = Wᵀ of a row-major W)
/// every C element is a vectorised dot product; with j-contiguous B, rows of C are vectorised axpys.
/// Returns false when the operand strides do not fit either form.
template <class T>
bool gemm_small_m(std::size_t M, std::size_t N, std::size_t K, T alpha, strided<T> A, strided<T> B, T beta, T* C,
                  std::size_t ldc, const epilogue<T>* ep) noexcept {
    using batch = xsimd::batch<T>;
    constexpr std::size_t W = batch::size;
    if (A.col_stride != 1) return false;
    if (B.row_stride == 1) {
        // one row of x against 8 rows of W at a time: x is loaded once per 8 FMAs
        gemm_dot_block<T, 1, 8>(M, 0, N, K, alpha, A, B, beta, C, ldc, ep);
        return true;
    }
    if (B.col_stride == 1) {
        for (std::size_t i = 0; i < M; ++i) {
            const T* a = A.data + std::ptrdiff_t(i) * A.row_stride;
            T* c = C + i * ldc;
            for (std::size_t j = 0; j < N; ++j) c[j] = blend(T(0), beta, c[j]);
            for (std::size_t k = 0; k < K; ++k) {
                const batch ak(alpha * a[k]);
                const T* b = B.data + std::ptrdiff_t(k) * B.row_stride;
                std::size_t j = 0;
                for (; j + W <= N; j += W) xsimd::fma(ak, batch::load_unaligned(b + j), batch::load_unaligned(c + j)).store_unaligned(c + j);
                for (; j < N; ++j) c[j] += alpha * a[k] * b[j];
            }
            if (ep) apply_row(*ep, c, N);
        }
        return true;
    }
    return false;
}

/// Small problems with j-contiguous B (A·B, Aᵀ·B) and N up to four vectors: each row of C is held in
/// up to four vector accumulators over the whole K loop; no packing, no tile buffer, no threads.
/// Returns false when the shape does not fit.
template <class T>
bool gemm_small(std::size_t M, std::size_t N, std::size_t K, T alpha, strided<T> A, strided<T> B, T beta, T* C,
                std::size_t ldc, const epilogue<T>* ep) noexcept {
    using batch = xsimd::batch<T>;
    constexpr std::size_t W = batch::size;
    if (B.col_stride != 1 || N > 4 * W || N < W || M * N * K > (std::size_t(1) << 18)) return false;
    const std::size_t nv = N / W;  // whole vectors; the rest of each row is done in scalar
    // R rows x V vectors of accumulators (up to 16): enough independent FMA chains to hide latency
    auto rows = [&]<std::size_t R, std::size_t V>(std::size_t i0) {
        batch acc[R * V];
        for (auto& x : acc) x = batch(T(0));
        for (std::size_t k = 0; k < K; ++k) {
            const T* b = B.data + std::ptrdiff_t(k) * B.row_stride;
            batch bv[V];
            [&]<std::size_t... Q>(std::index_sequence<Q...>) { ((bv[Q] = batch::load_unaligned(b + Q * W)), ...); }(
                std::make_index_sequence<V>{});
            [&]<std::size_t... P>(std::index_sequence<P...>) {
                ((acc[P] = xsimd::fma(batch(A.data[std::ptrdiff_t(i0 + P / V) * A.row_stride + std::ptrdiff_t(k) * A.col_stride]),
                                      bv[P % V], acc[P])),
                 ...);
            }(std::make_index_sequence<R * V>{});
        }
        for (std::size_t r = 0; r < R; ++r) {
            T* c = C + (i0 + r) * ldc;
            for (std::size_t q = 0; q < V; ++q) {
                batch x = acc[r * V + q] * batch(alpha);
                if (beta != T(0)) x = xsimd::fma(batch(beta), batch::load_unaligned(c + q * W), x);
                if (ep) x = apply(*ep, x, q * W);
                x.store_unaligned(c + q * W);
            }
            const T* a_row = A.data + std::ptrdiff_t(i0 + r) * A.row_stride;
            for (std::size_t j = V * W; j < N; ++j) {
                T sum = 0;
                for (std::size_t k = 0; k < K; ++k)
                    sum += a_row[std::ptrdiff_t(k) * A.col_stride] * B.data[std::ptrdiff_t(k) * B.row_stride + std::ptrdiff_t(j)];
                c[j] = blend(alpha * sum, beta, c[j]);
                if (ep) c[j] = (*ep)(c[j], j);
            }
        }
    };
    auto block = [&]<std::size_t R>(std::size_t i0) {
        switch (nv) {
            case 1: rows.template operator()<R, 1>(i0); break;
            case 2: rows.template operator()<R, 2>(i0); break;
            case 3: rows.template operator()<R, 3>(i0); break;
            default: rows.template operator()<R, 4>(i0); break;
        }
    };
    std::size_t i = 0;
    for (; i + 4 <= M; i += 4) block.template operator()<4>(i);
    for (; i < M; ++i) block.template operator()<1>(i);
    return true;
}

/// Bytes [first, last] that a strided rows x cols operand touches.
template <class T>
std::pair<const char*, const char*> extent(const T* data, std::size_t rows, std::size_t cols, std::ptrdiff_t rs,
                                           std::ptrdiff_t cs) noexcept {
    std::ptrdiff_t lo = 0, hi = 0;
    for (std::ptrdiff_t d : {std::ptrdiff_t(rows - 1) * rs, std::ptrdiff_t(cols - 1) * cs}) (d < 0 ? lo : hi) += d;
    return {reinterpret_cast<const char*>(data + lo), reinterpret_cast<const char*>(data + hi + 1) - 1};
}

/// Throws ctnn::error when C overlaps A or B (the kernels read A and B after writing parts of C).
template <class T>
void check_no_alias(std::size_t M, std::size_t N, std::size_t K, strided<T> A, strided<T> B, const T* C, std::size_t ldc) {
    const auto c = extent(C, M, N, std::ptrdiff_t(ldc), 1);
    auto overlaps = [&](std::pair<const char*, const char*> x) { return !(x.second < c.first || c.second < x.first); };
    if (overlaps(extent(A.data, M, K, A.row_stride, A.col_stride)))
        ctnn::detail::fail("gemm: the output C overlaps operand A; C must be a separate buffer (no in-place GEMM)");
    if (overlaps(extent(B.data, K, N, B.row_stride, B.col_stride)))
        ctnn::detail::fail("gemm: the output C overlaps operand B; C must be a separate buffer (no in-place GEMM)");
}

}  // namespace detail

/// C[M, N] (row-major, leading dimension ldc) = ep(alpha * A·B + beta * C), with A an M×K and B a K×N
/// strided operand and `ep` an optional epilogue (bias per column + activation, applied to each output
/// tile in registers before it is stored). `beta == 0` never reads C (it may hold NaN). C must not overlap A or B (checked:
/// ctnn::error); A and B may overlap each other.
/// Columns of C are split among the pool's threads in fixed NR-multiples; every element is computed by
/// one thread in the same k order, so the result does not depend on the thread count.
template <class T>
void gemm(std::size_t M, std::size_t N, std::size_t K, T alpha, strided<T> A, strided<T> B, T beta, T* C,
          std::size_t ldc, thread_pool& pool = default_pool(), const epilogue<T>& epi = {}) {
    if (M == 0 || N == 0) return;
    const epilogue<T>* ep = epi.empty() ? nullptr : &epi;
    if (K > 0) detail::check_no_alias(M, N, K, A, B, C, ldc);
    if (K == 0) {
        for (std::size_t i = 0; i < M; ++i)
            for (std::size_t j = 0; j < N; ++j) {
                T& c = C[i * ldc + j];
                c = detail::blend(T(0), beta, c);
                if (ep) c = epi(c, j);
            }
        return;
    }
    if (M <= 2 && detail::gemm_small_m(M, N, K, alpha, A, B, beta, C, ldc, ep)) return;
    if (detail::gemm_small(M, N, K, alpha, A, B, beta, C, ldc, ep)) return;
    constexpr std::size_t NR = detail::gemm_tiles<T>::NR;
    const std::size_t work = M * N * K;
    std::size_t parts = std::min(pool.size(), (N + NR - 1) / NR);
    if (work < (std::size_t(1) << 19)) parts = 1;  // below ~0.5 MFLOP a region costs more than it saves
    // Both operands contiguous in k (X·Wᵀ) and fewer columns than one packed sliver (a classifier
    // head, N = 10): dot-product blocks (3x faster there). At wider N the packed kernel wins (measured).
    const bool dot_form = A.col_stride == 1 && B.row_stride == 1 && N < NR;
    // Both contiguous in k, a large weight matrix and 1-4 slivers of rows (a training batch): packing Wᵀ
    // would cost more than the GEMM saves by it, so compute Cᵀ = W·Xᵀ (measured: 64×256×784 1.17×;
    // fewer rows waste lanes of the Xᵀ sliver, more rows amortise the packing: both slower swapped).
    const bool swapped_form = A.col_stride == 1 && B.row_stride == 1 && !dot_form && M >= NR && M <= 4 * NR &&
                              N * K >= (std::size_t(1) << 17);
    auto block = [&](std::size_t j0, std::size_t j1) {
        if (dot_form) detail::gemm_dot_block(M, j0, j1, K, alpha, A, B, beta, C, ldc, ep);
        else if (swapped_form) detail::gemm_block_swapped(M, j0, j1, K, alpha, A, B, beta, C, ldc, ep);
        else detail::gemm_block(M, j0, j1, K, alpha, A, B, beta, C, ldc, ep);
    };
    if (work < (std::size_t(1) << 19) || pool.size() == 1) {
        block(0, N);
        return;
    }
    // Few column slivers for many rows (a convolution's [pixels, filters] output, im2col·Wᵀ): splitting
    // columns would make every thread pack all of A, so split rows in whole micro-tile multiples instead.
    // Each element is still computed by one thread in the same k order: results do not change.
    constexpr std::size_t MR = detail::gemm_tiles<T>::MR;
    const std::size_t slivers = (N + NR - 1) / NR;
    if (!dot_form && !swapped_form && slivers < 2 * pool.size() && M >= 8 * MR * pool.size()) {
        const std::size_t tiles = (M + MR - 1) / MR, rparts = pool.size();
        pool.run(rparts, [&](std::size_t p) {
            const std::size_t i0 = tiles * p / rparts * MR, i1 = std::min(M, tiles * (p + 1) / rparts * MR);
            if (i0 >= i1) return;
            const strided<T> Ap{A.data + std::ptrdiff_t(i0) * A.row_stride, A.row_stride, A.col_stride};
            detail::gemm_block(i1 - i0, 0, N, K, alpha, Ap, B, beta, C + i0 * ldc, ldc, ep);
        });
        return;
    }
    if (parts <= 1) {
        block(0, N);
        return;
    }
    pool.run(parts, [&](std::size_t p) {
        const std::size_t s0 = slivers * p / parts, s1 = slivers * (p + 1) / parts;
        const std::size_t j0 = s0 * NR, j1 = std::min(N, s1 * NR);
        if (j0 < j1) block(j0, j1);
    });
}

/// C[M, N] = ep(A·B) with A [M×K] never materialised: `fill(i0, mc, k0, kc, out)` writes the block
/// A[i0:i0+mc, k0:k0+kc] row-major (leading dimension kc) into `out` — an implicit GEMM: a
/// convolution's im2col rows are made block by block while they fit in L2, instead of streaming a
/// matrix 9× the input through memory (2× faster at ResNet-18's 56×56×64 layers, measured). B is a
/// strided K×N operand. Rows are split among the threads in micro-tile multiples; every element is
/// computed in the same k order whatever the split, so results do not depend on the thread count.
template <class T, class Fill>
void gemm_gathered(std::size_t M, std::size_t N, std::size_t K, const Fill& fill, strided<T> B, T* C, std::size_t ldc,
                   const epilogue<T>& epi = {}, thread_pool& pool = default_pool()) {
    if (M == 0 || N == 0) return;
    using tiles = detail::gemm_tiles<T>;
    constexpr std::size_t MR = tiles::MR, NR = tiles::NR, KC = tiles::KC, MC = tiles::MC, NC = tiles::NC;
    const epilogue<T>* ep = epi.empty() ? nullptr : &epi;
    auto rows = [&](std::size_t i0, std::size_t i1) {
        auto& s = detail::gemm_scratch<T>::local();
        T* bp = s.get(s.b, KC * NC);
        T* ap = s.get(s.a, KC * MC);
        T* block = s.get(s.gathered, KC * MC);
        for (std::size_t jc = 0; jc < N; jc += NC) {
            const std::size_t nc = std::min(NC, N - jc);
            for (std::size_t pc = 0; pc < std::max<std::size_t>(K, 1); pc += KC) {
                const std::size_t kc = std::min(KC, K - pc);
                const bool last = pc + kc >= K;
                detail::pack_b(B, pc, kc, jc, nc, bp);
                for (std::size_t ic = i0; ic < i1; ic += MC) {
                    const std::size_t mc = std::min(MC, i1 - ic);
                    fill(ic, mc, pc, kc, block);
                    detail::pack_a(strided<T>{block, std::ptrdiff_t(kc), 1}, 0, mc, 0, kc, ap);
                    for (std::size_t jr = 0; jr < nc; jr += NR) {
                        epilogue<T> tile_ep;
                        if (last && ep) tile_ep = ep->shifted(jc + jr);
                        for (std::size_t ir = 0; ir < mc; ir += MR)
                            detail::micro_kernel<T>(kc, ap + ir * kc, 0, bp + jr * kc, NR, T(1), pc == 0 ? T(0) : T(1),
                                                    C + (ic + ir) * ldc + jc + jr, ldc, std::min(MR, mc - ir), std::min(NR, nc - jr),
                                                    last && ep ? &tile_ep : nullptr);
                    }
                }
            }
        }
    };
    const std::size_t tiles_m = (M + MR - 1) / MR;
    const std::size_t parts = M * N * K < (std::size_t(1) << 19) ? 1 : std::min(pool.size(), tiles_m);
    if (parts <= 1) {
        rows(0, M);
        return;
    }
    pool.run(parts, [&](std::size_t p) {
        const std::size_t i0 = tiles_m * p / parts * MR, i1 = std::min(M, tiles_m * (p + 1) / parts * MR);
        if (i0 < i1) rows(i0, i1);
    });
}

/// C[M, N] = A·B + beta·C with B [K×N] never materialised: `fill(k0, kc, j0, nc, out)` writes the block
/// B[k0:k0+kc, j0:j0+nc] row-major (leading dimension nc) into `out`. The form of a convolution's
/// weight gradient dW = dYᵀ·cols, whose column matrix (K = pixels, the long side) is gathered a block
/// of pixels at a time. Columns are split among the threads; every element sums over k in the same
/// order whatever the split (deterministic).
template <class T, class Fill>
void gemm_gathered_b(std::size_t M, std::size_t N, std::size_t K, strided<T> A, const Fill& fill, T beta, T* C, std::size_t ldc,
                     thread_pool& pool = default_pool()) {
    if (M == 0 || N == 0) return;
    using tiles = detail::gemm_tiles<T>;
    constexpr std::size_t MR = tiles::MR, NR = tiles::NR, KC = tiles::KC, MC = tiles::MC;
    constexpr std::size_t NB = 8 * NR;  // B block KC × NB: gathered and packed, both in L2
    auto cols = [&](std::size_t j0, std::size_t j1) {
        auto& s = detail::gemm_scratch<T>::local();
        T* bp = s.get(s.b, KC * NB);
        T* ap = s.get(s.a, KC * MC);
        T* block = s.get(s.gathered, KC * NB);
        for (std::size_t jc = j0; jc < j1; jc += NB) {
            const std::size_t nc = std::min(NB, j1 - jc);
            for (std::size_t pc = 0; pc < std::max<std::size_t>(K, 1); pc += KC) {
                const std::size_t kc = std::min(KC, K - pc);
                fill(pc, kc, jc, nc, block);
                detail::pack_b(strided<T>{block, std::ptrdiff_t(nc), 1}, 0, kc, 0, nc, bp);
                for (std::size_t ic = 0; ic < M; ic += MC) {
                    const std::size_t mc = std::min(MC, M - ic);
                    detail::pack_a(A, ic, mc, pc, kc, ap);
                    for (std::size_t jr = 0; jr < nc; jr += NR)
                        for (std::size_t ir = 0; ir < mc; ir += MR)
                            detail::micro_kernel<T>(kc, ap + ir * kc, 0, bp + jr * kc, NR, T(1), pc == 0 ? beta : T(1),
                                                    C + (ic + ir) * ldc + jc + jr, ldc, std::min(MR, mc - ir), std::min(NR, nc - jr),
                                                    nullptr);
                }
            }
        }
    };
    const std::size_t slivers = (N + NR - 1) / NR;
    const std::size_t parts = M * N * K < (std::size_t(1) << 19) ? 1 : std::min(pool.size(), slivers);
    if (parts <= 1) {
        cols(0, N);
        return;
    }
    pool.run(parts, [&](std::size_t p) {
        const std::size_t j0 = slivers * p / parts * NR, j1 = std::min(N, slivers * (p + 1) / parts * NR);
        if (j0 < j1) cols(j0, j1);
    });
}

/// A K×N operand packed once (the NR-column slivers of the blocked kernel, K in blocks of KC) for many
/// products with it: a recurrent layer's W_hhᵀ, used at every step of a sequence.
template <class T>
struct packed_operand {
    const T* data = nullptr;
    std::size_t K = 0, N = 0;
};
/// The number of values pack_operand writes for a K×N operand.
template <class T>
constexpr std::size_t packed_size(std::size_t K, std::size_t N) noexcept {
    constexpr std::size_t NR = detail::gemm_tiles<T>::NR;
    return (N + NR - 1) / NR * NR * K;
}
/// Packs B [K×N] into @p out [packed_size(K, N)].
template <class T>
packed_operand<T> pack_operand(strided<T> B, std::size_t K, std::size_t N, T* out) noexcept {
    constexpr std::size_t NR = detail::gemm_tiles<T>::NR, KC = detail::gemm_tiles<T>::KC;
    const std::size_t np = (N + NR - 1) / NR * NR;
    for (std::size_t pc = 0; pc < K; pc += KC) detail::pack_b(B, pc, std::min(KC, K - pc), 0, N, out + pc * np);
    return {out, K, N};
}

/// C[M, N] = ep(alpha·A·B + beta·C) on the calling thread with B packed by pack_operand. Every element
/// is the same k-ordered sum whatever M and whichever rows of C a call covers, so a caller may split
/// the rows of its products among threads (a recurrent layer's samples, for a whole sequence) and get
/// the numbers of one thread.
template <class T>
void gemm_packed(std::size_t M, T alpha, strided<T> A, const packed_operand<T>& B, T beta, T* C, std::size_t ldc,
                 const epilogue<T>& epi = {}) {
    using tiles = detail::gemm_tiles<T>;
    constexpr std::size_t MR = tiles::MR, NR = tiles::NR, KC = tiles::KC, MC = tiles::MC;
    const std::size_t K = B.K, N = B.N, np = (N + NR - 1) / NR * NR;
    const epilogue<T>* ep = epi.empty() ? nullptr : &epi;
    if (M == 0 || N == 0) return;
    if (K == 0) {
        for (std::size_t i = 0; i < M; ++i)
            for (std::size_t j = 0; j < N; ++j) {
                T& c = C[i * ldc + j];
                c = detail::blend(T(0), beta, c);
                if (ep) c = epi(c, j);
            }
        return;
    }
    auto& s = detail::gemm_scratch<T>::local();
    T* ap = s.get(s.a, KC * MC);
    for (std::size_t pc = 0; pc < K; pc += KC) {
        const std::size_t kc = std::min(KC, K - pc);
        const T b_eff = pc == 0 ? beta : T(1);
        const bool last = pc + kc == K;
        const T* bp = B.data + pc * np;
        for (std::size_t ic = 0; ic < M; ic += MC) {
            const std::size_t mc = std::min(MC, M - ic);
            detail::pack_a(A, ic, mc, pc, kc, ap);
            for (std::size_t jr = 0; jr < N; jr += NR) {
                epilogue<T> tile_ep;
                if (last && ep) tile_ep = ep->shifted(jr);
                for (std::size_t ir = 0; ir < mc; ir += MR)
                    detail::micro_kernel<T>(kc, ap + ir * kc, 0, bp + jr * kc, NR, alpha, b_eff, C + (ic + ir) * ldc + jr, ldc,
                                            std::min(MR, mc - ir), std::min(NR, N - jr), last && ep ? &tile_ep : nullptr);
            }
        }
    }
}

/// C[M, N] = alpha·A·B + beta·C on the calling thread through the blocked kernel only (no
/// shape-dependent choice of kernel), with the row-split guarantee of gemm_packed.
template <class T>
void gemm_rows(std::size_t M, std::size_t N, std::size_t K, T alpha, strided<T> A, strided<T> B, T beta, T* C, std::size_t ldc) {
    if (M == 0 || N == 0) return;
    if (K == 0) {
        for (std::size_t i = 0; i < M; ++i)
            for (std::size_t j = 0; j < N; ++j) C[i * ldc + j] = detail::blend(T(0), beta, C[i * ldc + j]);
        return;
    }
    detail::gemm_block<T>(M, 0, N, K, alpha, A, B, beta, C, ldc, nullptr);
}

/// Row-major convenience forms. `a` is M×K (or K×M when trans_a), `b` is K×N (or N×K when trans_b).
template <class T>
void gemm(bool trans_a, bool trans_b, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* a, std::size_t lda,
          const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc, const epilogue<T>& ep = {}) {
    const strided<T> A = trans_a ? strided<T>{a, 1, std::ptrdiff_t(lda)} : strided<T>{a, std::ptrdiff_t(lda), 1};
    const strided<T> B = trans_b ? strided<T>{b, 1, std::ptrdiff_t(ldb)} : strided<T>{b, std::ptrdiff_t(ldb), 1};
    gemm(M, N, K, alpha, A, B, beta, c, ldc, default_pool(), ep);
}

}  // namespace ctnn::backend::cpu
