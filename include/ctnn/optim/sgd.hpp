// SPDX-License-Identifier: MIT
#pragma once
/// @file sgd.hpp  SGD with momentum, dampening, Nesterov and L2 weight decay (PyTorch torch.optim.SGD rules).
#include "optimizer.hpp"

namespace ctnn::optim {

/// Options of `sgd`.
struct sgd_options {
    double lr = 0.01;
    double momentum = 0.0;
    double dampening = 0.0;
    double weight_decay = 0.0;
    bool nesterov = false;
};

/// g ← g + wd·p; b ← μ·b + (1-τ)·g (b = g on the first step); g ← g + μ·b (Nesterov) or b; p ← p - lr·g.
template <class T, class P = cpu>
class sgd : public detail::base<T, P> {
public:
    sgd(parameter_set<T, P> ps, sgd_options o = {}) : detail::base<T, P>(ps, o.lr), m_o(o) {
        ctnn::detail::check(!o.nesterov || (o.momentum > 0 && o.dampening == 0),
                            "sgd: Nesterov momentum requires momentum > 0 and zero dampening");
        if (o.momentum != 0) m_buf.resize(ps.size);
    }
    /// One update from the accumulated gradients.
    void step() {
        const T lr = T(this->m_lr), mu = T(m_o.momentum), damp = T(1 - m_o.dampening), wd = T(m_o.weight_decay);
        const bool first = this->m_t == 0;
        T* p = this->m_ps.values;
        const T* gr = this->m_ps.gradients;
        T* b = m_buf.data();
        const bool nest = m_o.nesterov;
        detail::for_each_range(this->m_ps, [&](std::size_t o, std::size_t n) {
            ops::sgd_update<P>(p + o, gr + o, mu == T(0) ? nullptr : b + o, n, lr, mu, damp, wd, first, nest);
        });
        ++this->m_t;
    }

private:
    sgd_options m_o;
    buffer_t<P, T> m_buf;
};
template <class T, class P>
sgd(parameter_set<T, P>, sgd_options) -> sgd<T, P>;
template <class T, class P>
sgd(parameter_set<T, P>) -> sgd<T, P>;

}  // namespace ctnn::optim
