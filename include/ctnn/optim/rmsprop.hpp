// SPDX-License-Identifier: MIT
#pragma once
/// @file rmsprop.hpp  RMSprop (torch.optim.RMSprop rules, non-centered).
#include <cmath>

#include "optimizer.hpp"

namespace ctnn::optim {

/// Options of `rmsprop`.
struct rmsprop_options {
    double lr = 0.01;
    double alpha = 0.99;
    double eps = 1e-8;
    double weight_decay = 0.0;
    double momentum = 0.0;
};

/// g ← g + wd·p; v ← α·v + (1-α)·g²; with momentum b ← μ·b + g/(√v + ε), p ← p - lr·b;
/// without, p ← p - lr·g/(√v + ε).
template <class T, class P = cpu>
class rmsprop : public detail::base<T, P> {
public:
    rmsprop(parameter_set<T, P> ps, rmsprop_options o = {}) : detail::base<T, P>(ps, o.lr), m_o(o), m_v(ps.size) {
        if (o.momentum != 0) m_b.resize(ps.size);
    }
    void step() {
        const T a = T(m_o.alpha), eps = T(m_o.eps), wd = T(m_o.weight_decay), mu = T(m_o.momentum), lr = T(this->m_lr);
        T* p = this->m_ps.values;
        const T* gr = this->m_ps.gradients;
        T* v = m_v.data();
        T* b = m_b.data();
        detail::for_each_range(this->m_ps, [&](std::size_t o, std::size_t n) {
            ops::rmsprop_update<P>(p + o, gr + o, v + o, mu == T(0) ? nullptr : b + o, n, lr, a, eps, wd, mu);
        });
        ++this->m_t;
    }

private:
    rmsprop_options m_o;
    buffer_t<P, T> m_v, m_b;
};
template <class T, class P>
rmsprop(parameter_set<T, P>, rmsprop_options) -> rmsprop<T, P>;
template <class T, class P>
rmsprop(parameter_set<T, P>) -> rmsprop<T, P>;

}  // namespace ctnn::optim
