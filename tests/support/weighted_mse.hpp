// SPDX-License-Identifier: MIT
#pragma once
// A user-defined loss, written the way a user would: only the loss concept's members and ops:: calls,
// no ctnn internals and no CUDA API. The loss tests train with it through train_step and fit on the CPU
// (tests/unit/nn/loss_test.cpp) and on the CUDA policy (tests/unit/cuda/cuda_test.cpp).
#include <cstddef>
#include <type_traits>
#include <vector>

#include <ctnn/ctnn.hpp>

namespace ctnn::test {

/// Weighted MSE: mean over all elements of w[j]·(y - t)², one weight per output j (broadcast over the
/// batch). The weights live in P's memory, in both value types.
template <class P = cpu>
struct weighted_mse : loss::base<weighted_mse<P>> {
    static constexpr const char* name = "weighted_mse";
    using target_kind = loss::value_target;

    explicit weighted_mse(const std::vector<double>& w) : m_n(w.size()), m_wd(w.size()), m_wf(w.size()) {
        const std::vector<float> wf(w.begin(), w.end());
        copy_from_host<P>(m_wd.data(), w.data(), w.size());
        copy_from_host<P>(m_wf.data(), wf.data(), wf.size());
    }
    template <class P2, class T, class Tg>
    void evaluate(const T* y, const Tg* t, T* dy, std::size_t batch, std::size_t per_sample, T* loss_out) const {
        static_assert(std::is_same_v<P2, P>, "weighted_mse<P> keeps its weights in P's memory");
        const T* w;
        if constexpr (std::is_same_v<T, double>) w = m_wd.data();
        else w = m_wf.data();
        ops::pointwise_loss<P>(rules::pointwise_loss<T>{rules::pointwise_kind::mse}, y, t, w, m_n, batch * per_sample, dy,
                               loss_out);
    }

private:
    std::size_t m_n;
    buffer_t<P, double> m_wd;
    buffer_t<P, float> m_wf;
};

}  // namespace ctnn::test
