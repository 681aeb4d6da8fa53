// SPDX-License-Identifier: MIT
#pragma once
/// @file adam.hpp  Adam (L2 weight decay) and AdamW (decoupled weight decay), PyTorch rules.
#include <cmath>

#include "optimizer.hpp"

namespace ctnn::optim {

/// Options of `adam`/`adamw`.
struct adam_options {
    double lr = 1e-3;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    double weight_decay = 0.0;
};

namespace detail {
/// Adam family: m ← β1·m + (1-β1)·g; v ← β2·v + (1-β2)·g²; p ← p - lr·m̂/(√v̂ + ε), with bias
/// corrections m̂ = m/(1-β1ᵗ), v̂ = v/(1-β2ᵗ). `Decoupled` (AdamW) first does p ← p·(1 - lr·wd);
/// otherwise (Adam) g ← g + wd·p.
template <class T, bool Decoupled, class P>
class adam_family : public base<T, P> {
public:
    adam_family(parameter_set<T, P> ps, adam_options o = {}) : base<T, P>(ps, o.lr), m_o(o), m_m(ps.size), m_v(ps.size) {
        ctnn::detail::check(o.beta1 >= 0 && o.beta1 < 1 && o.beta2 >= 0 && o.beta2 < 1,
                            "adam: betas must be in [0, 1)");
    }
    void step() {
        const std::size_t t = ++this->m_t;
        const T b1 = T(m_o.beta1), b2 = T(m_o.beta2), eps = T(m_o.eps), wd = T(m_o.weight_decay), lr = T(this->m_lr);
        const T c1 = T(1) / T(1 - std::pow(m_o.beta1, double(t)));
        const T c2 = T(1) / T(std::sqrt(1 - std::pow(m_o.beta2, double(t))));
        const T step = lr * c1;
        const T decay = T(1) - lr * wd;
        T* p = this->m_ps.values;
        const T* gr = this->m_ps.gradients;
        T* m = m_m.data();
        T* v = m_v.data();
        for_each_range(this->m_ps, [&](std::size_t o, std::size_t n) {
            ops::adam_update<P>(p + o, gr + o, m + o, v + o, n, b1, b2, eps, wd, step, c2, decay, Decoupled);
        });
    }

private:
    adam_options m_o;
    buffer_t<P, T> m_m, m_v;
};
}  // namespace detail

/// Adam with L2 weight decay added to the gradient (torch.optim.Adam).
template <class T, class P = cpu>
class adam : public detail::adam_family<T, false, P> {
    using detail::adam_family<T, false, P>::adam_family;
};
template <class T, class P>
adam(parameter_set<T, P>, adam_options) -> adam<T, P>;
template <class T, class P>
adam(parameter_set<T, P>) -> adam<T, P>;

/// AdamW: decoupled weight decay (torch.optim.AdamW; its default weight_decay is 0.01).
template <class T, class P = cpu>
class adamw : public detail::adam_family<T, true, P> {
    using detail::adam_family<T, true, P>::adam_family;
};
template <class T, class P>
adamw(parameter_set<T, P>, adam_options) -> adamw<T, P>;
template <class T, class P>
adamw(parameter_set<T, P>) -> adamw<T, P>;

}  // namespace ctnn::optim
