// SPDX-License-Identifier: MIT
#pragma once
/// @file optimizer.hpp  What all optimizers share: the parameter set, state buffers, the fused loop.
#include <algorithm>
#include <cstddef>
#include <type_traits>

#include "../backend/buffer.hpp"
#include "../core/aligned.hpp"
#include "../core/error.hpp"
#include "../backend/cpu/thread_pool.hpp"
#include "../model/parameters.hpp"
#include "../ops/optim_ops.hpp"

namespace ctnn::optim::detail {

using ops::optim_detail::flush_denormals_scope;
using ops::optim_detail::load_v;
using ops::optim_detail::store_v;

/// Calls f(begin, n) for every trainable range; the optimizers call their `ops::*_update<P>` on each
/// (one fused pass on the CPU, one kernel on the GPU).
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
