// SPDX-License-Identifier: MIT
#pragma once
/// @file optimizer.hpp  What all optimizers share: the parameter set, state buffers, the fused loop.
#include <cstddef>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#include "../core/aligned.hpp"
#include "../core/error.hpp"
#include "../model/parameters.hpp"

namespace ctnn::optim::detail {

/// Runs `f(i)` for every index of every trainable range (frozen layers are skipped).
template <class T, class F>
void for_each_trainable(const parameter_set<T>& ps, F&& f) {
    for (const auto& r : *ps.trainable)
        for (std::size_t i = r.begin; i < r.end; ++i) f(i);
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

/// Base holding the parameter set, the learning rate and the step count.
template <class T>
class base {
public:
    base(parameter_set<T> ps, double lr) : m_ps(ps), m_lr(lr) {
        ctnn::detail::check(ps.values && ps.gradients && ps.trainable, "optimizer: empty parameter set; pass model.parameters()");
        ctnn::detail::check(lr >= 0, "optimizer: learning rate must be >= 0");
    }
    /// Current learning rate (schedules set it).
    double lr() const noexcept { return m_lr; }
    void set_lr(double lr) noexcept { m_lr = lr; }
    /// Number of steps taken.
    std::size_t steps() const noexcept { return m_t; }

protected:
    parameter_set<T> m_ps;
    double m_lr;
    std::size_t m_t = 0;
};

}  // namespace ctnn::optim::detail
