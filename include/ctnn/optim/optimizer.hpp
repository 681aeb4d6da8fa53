// SPDX-License-Identifier: MIT
#pragma once
/// @file optimizer.hpp  What all optimizers share: the parameter set, state buffers, the fused loop.
#include <algorithm>
#include <cstddef>
#include <type_traits>
#include <xsimd/xsimd.hpp>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#include "../backend/buffer.hpp"
#include "../core/aligned.hpp"
#include "../core/error.hpp"
#include "../backend/cpu/thread_pool.hpp"
#include "../model/parameters.hpp"

namespace ctnn::optim::detail {

/// Loads a V (an xsimd batch, or T itself for the tail) from @p p.
template <class V, class T>
V load_v(const T* p) noexcept {
    if constexpr (std::is_same_v<V, T>) return *p;
    else return V::load_unaligned(p);
}
/// Stores a V at @p p.
template <class V, class T>
void store_v(T* p, const V& v) noexcept {
    if constexpr (std::is_same_v<V, T>) *p = v;
    else v.store_unaligned(p);
}

/// Sets flush-to-zero and denormals-are-zero for the scope of an update, then restores the caller's
/// mode. Optimizer moments of parameters whose gradient stays zero decay into subnormals, which are
/// ~100x slower on x86; flushing them changes no result above FLT_MIN.
class flush_denormals_scope {
public:
#if defined(__SSE__)
    flush_denormals_scope() noexcept : m_saved(_mm_getcsr()) { _mm_setcsr(m_saved | 0x8040u); }
    ~flush_denormals_scope() { _mm_setcsr(m_saved); }

private:
    unsigned m_saved;
#endif
};

/// Runs the update `body.template operator()<V>(i)` over every trainable range (frozen layers are
/// skipped): with V = xsimd::batch<T> on whole vectors, then V = T on the tail. One body, written
/// with load_v<V>/store_v (named so that ADL cannot pick xsimd::load/store, which are aligned) and
/// ADL `sqrt`, serves both, so the fused update is one vectorised pass. Large parameter sets are
/// split among the pool's threads in vector-aligned chunks; the update is elementwise, so the result
/// does not depend on the thread count. Each thread flushes denormals for its part.
template <class T, class Body>
void for_each_trainable(const parameter_set<T>& ps, Body&& body) {
    using batch = xsimd::batch<T>;
    constexpr std::size_t W = batch::size;
    auto span = [&](std::size_t begin, std::size_t end) {
        std::size_t i = begin;
        for (; i + W <= end; i += W) body.template operator()<batch>(i);
        for (; i < end; ++i) body.template operator()<T>(i);
    };
    std::size_t total = 0;
    for (const auto& r : *ps.trainable) total += r.end - r.begin;
    thread_pool& pool = default_pool();
    const std::size_t parts = total >= (std::size_t(1) << 16) ? pool.size() : 1;
    pool.run(parts, [&](std::size_t p) {
        flush_denormals_scope ftz;
        // part p takes the elements [total·p/parts, total·(p+1)/parts) of the concatenated ranges,
        // with cut points rounded to whole vectors
        const std::size_t lo = total * p / parts / W * W, hi = p + 1 == parts ? total : total * (p + 1) / parts / W * W;
        std::size_t offset = 0;
        for (const auto& r : *ps.trainable) {
            const std::size_t n = r.end - r.begin;
            const std::size_t b = std::max(lo, offset), e = std::min(hi, offset + n);
            if (b < e) span(r.begin + (b - offset), r.begin + (e - offset));
            offset += n;
        }
    });
}

/// Calls f(begin, end) for every trainable range (the CUDA policy launches one fused kernel per range).
template <class T, class P, class F>
void for_each_range(const parameter_set<T, P>& ps, F&& f) {
    for (const auto& r : *ps.trainable) f(r.begin, r.end - r.begin);
}

/// Base holding the parameter set, the learning rate and the step count.
template <class T, class P = cpu>
class base {
public:
    static constexpr bool on_gpu = std::is_same_v<P, cuda>;
    base(parameter_set<T, P> ps, double lr) : m_ps(ps), m_lr(lr) {
        ctnn::detail::check(ps.values && ps.gradients && ps.trainable, "optimizer: empty parameter set; pass model.parameters()");
        ctnn::detail::check(lr >= 0, "optimizer: learning rate must be >= 0");
    }
    /// Current learning rate (schedules set it).
    double lr() const noexcept { return m_lr; }
    void set_lr(double lr) noexcept { m_lr = lr; }
    /// Number of steps taken.
    std::size_t steps() const noexcept { return m_t; }

protected:
    parameter_set<T, P> m_ps;
    double m_lr;
    std::size_t m_t = 0;
};

}  // namespace ctnn::optim::detail
