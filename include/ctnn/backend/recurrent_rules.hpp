// SPDX-License-Identifier: MIT
#pragma once
/// @file recurrent_rules.hpp  The pointwise part of one LSTM time step, forward and backward, as
/// per-index rules (C++17, CTNN_HD) shared by the CPU and the CUDA kernels. The GEMMs around them
/// (input and recurrent projections) are ops::gemm calls. Layouts, per sample b and unit j of H, at
/// step t of a [batch, T, ...] sequence: gates [b, t, 4H] in PyTorch's order i, f, g, o (pre-activation
/// on entry to the forward rule, activated on exit), cell c [b, t, H], hidden h [b, t, H].
#include <cmath>
#include <cstddef>

#include "epilogue.hpp"
#include "host_device.hpp"

namespace ctnn::rules {

template <class T>
CTNN_HD T sigmoid(T x) noexcept {
    return T(1) / (T(1) + std::exp(-x));
}

/// Forward of step t for element e = b·H + j: activates the gates in place, then
/// c_t = f ⊙ c_{t-1} + i ⊙ g, h_t = o ⊙ tanh(c_t) (c_{t-1} = 0 at t = 0).
template <class T>
struct lstm_step_forward {
    T* gates;
    T* c;
    T* h;
    std::size_t t, steps, hidden;
    CTNN_HD void operator()(std::size_t e) const {
        const std::size_t b = e / hidden, j = e % hidden;
        T* z = gates + (b * steps + t) * 4 * hidden;
        const T i = sigmoid(z[j]), f = sigmoid(z[hidden + j]), g = std::tanh(z[2 * hidden + j]), o = sigmoid(z[3 * hidden + j]);
        z[j] = i;
        z[hidden + j] = f;
        z[2 * hidden + j] = g;
        z[3 * hidden + j] = o;
        const std::size_t at = (b * steps + t) * hidden + j;
        const T cp = t > 0 ? c[at - hidden] : T(0);
        const T ct = f * cp + i * g;
        c[at] = ct;
        h[at] = o * std::tanh(ct);
    }
};

/// Backward of step t for element e = b·H + j. On entry dh [b, H] holds dL/dh_t from step t + 1 and
/// dc [b, H] dL/dc_t from step t + 1; the output's gradient dy is added here — dy [b, t, H] at every
/// step (`dy_every_step`: a sequence output) or dy [b, H] at the last step only. Writes the gates'
/// pre-activation gradients dz [b, t, 4H] and leaves dL/dc_{t-1} in dc.
template <class T>
struct lstm_step_backward {
    const T* gates;
    const T* c;
    const T* dy;
    bool dy_every_step;
    const T* dh;
    T* dc;
    T* dz;
    std::size_t t, steps, hidden;
    CTNN_HD void operator()(std::size_t e) const {
        const std::size_t b = e / hidden, j = e % hidden;
        const T* a = gates + (b * steps + t) * 4 * hidden;
        T* d = dz + (b * steps + t) * 4 * hidden;
        const std::size_t at = (b * steps + t) * hidden + j;
        const T i = a[j], f = a[hidden + j], g = a[2 * hidden + j], o = a[3 * hidden + j];
        const T tc = std::tanh(c[at]);
        const T cp = t > 0 ? c[at - hidden] : T(0);
        const T from_output = dy_every_step ? dy[at] : (t + 1 == steps ? dy[e] : T(0));
        const T dht = dh[e] + from_output;
        const T dct = dc[e] + dht * o * (T(1) - tc * tc);
        d[j] = dct * g * i * (T(1) - i);
        d[hidden + j] = dct * cp * f * (T(1) - f);
        d[2 * hidden + j] = dct * i * (T(1) - g * g);
        d[3 * hidden + j] = dht * tc * o * (T(1) - o);
        dc[e] = dct * f;
    }
};

}  // namespace ctnn::rules

namespace ctnn::rules {

/// GRU step t forward for e = b·H + j (nn.GRU, gates r, z, n): gx [b, t, 3H] holds W_ih·x_t + b_ih on
/// entry and r, z, n on exit; hp [b, 3H] holds W_hh·h_{t-1} + b_hh (ignored at t = 0, where it is
/// b_hh: h_{-1} = 0); hn [b, t, H] keeps W_hn·h_{t-1} + b_hn for backward;
///   r = σ(gx_r + hp_r), z = σ(gx_z + hp_z), n = tanh(gx_n + r ⊙ hp_n), h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}.
template <class T>
struct gru_step_forward {
    T* gx;
    const T* hp;
    const T* b_hh;
    T* hn;
    T* h;
    std::size_t t, steps, hidden;
    CTNN_HD void operator()(std::size_t e) const {
        const std::size_t b = e / hidden, j = e % hidden, H = hidden;
        T* x = gx + (b * steps + t) * 3 * H;
        const T* p = t > 0 ? hp + b * 3 * H : b_hh;
        const T r = sigmoid(x[j] + p[j]), z = sigmoid(x[H + j] + p[H + j]);
        const T n = std::tanh(x[2 * H + j] + r * p[2 * H + j]);
        x[j] = r;
        x[H + j] = z;
        x[2 * H + j] = n;
        const std::size_t at = (b * steps + t) * H + j;
        hn[at] = p[2 * H + j];
        const T hprev = t > 0 ? h[at - H] : T(0);
        h[at] = (T(1) - z) * n + z * hprev;
    }
};

/// GRU step t backward for e = b·H + j: dh [b, H] holds dL/dh_t from step t + 1 (the output's dy is
/// added as for the LSTM); writes the input-side pre-activation gradients dzx [b, t, 3H], the
/// recurrent-side ones dzh [b, t, 3H] (its n part is dn_pre ⊙ r), and leaves z ⊙ dh_t in dh (the direct
/// part of dL/dh_{t−1}; the caller adds dzh_t · W_hh).
template <class T>
struct gru_step_backward {
    const T* gates;
    const T* hn;
    const T* h;
    const T* dy;
    bool dy_every_step;
    T* dh;
    T* dzx;
    T* dzh;
    std::size_t t, steps, hidden;
    CTNN_HD void operator()(std::size_t e) const {
        const std::size_t b = e / hidden, j = e % hidden, H = hidden;
        const std::size_t row = (b * steps + t) * 3 * H, at = (b * steps + t) * H + j;
        const T r = gates[row + j], z = gates[row + H + j], n = gates[row + 2 * H + j];
        const T hprev = t > 0 ? h[at - H] : T(0);
        const T from_output = dy_every_step ? dy[at] : (t + 1 == steps ? dy[e] : T(0));
        const T d = dh[e] + from_output;
        const T dn_pre = d * (T(1) - z) * (T(1) - n * n);
        const T dz_pre = d * (hprev - n) * z * (T(1) - z);
        const T dr_pre = dn_pre * hn[at] * r * (T(1) - r);
        dzx[row + j] = dr_pre;
        dzx[row + H + j] = dz_pre;
        dzx[row + 2 * H + j] = dn_pre;
        dzh[row + j] = dr_pre;
        dzh[row + H + j] = dz_pre;
        dzh[row + 2 * H + j] = dn_pre * r;
        dh[e] = d * z;
    }
};

}  // namespace ctnn::rules

namespace ctnn::rules {

/// Elman RNN step t forward for e = b·H + j: h [b, t, H] = act(z [b, t, H]) (z: both projections and
/// biases of step t).
template <class T>
struct rnn_step_forward {
    const T* z;
    T* h;
    activation_kind act;
    std::size_t t, steps, hidden;
    CTNN_HD void operator()(std::size_t e) const {
        const std::size_t at = ((e / hidden) * steps + t) * hidden + e % hidden;
        h[at] = epilogue<T>{nullptr, act}.activate(z[at]);
    }
};

/// Elman RNN step t backward for e = b·H + j: dz [b, t, H] = (dh + the output's dy) ⊙ act'(h_t), from
/// the activation's output h [b, t, H] (tanh or relu).
template <class T>
struct rnn_step_backward {
    const T* h;
    const T* dy;
    bool dy_every_step;
    const T* dh;
    T* dz;
    activation_kind act;
    std::size_t t, steps, hidden;
    CTNN_HD void operator()(std::size_t e) const {
        const std::size_t b = e / hidden, j = e % hidden;
        const std::size_t at = (b * steps + t) * hidden + j;
        const T from_output = dy_every_step ? dy[at] : (t + 1 == steps ? dy[e] : T(0));
        dz[at] = (dh[e] + from_output) * epilogue<T>::derivative_from_output(act, T(0), h[at]);
    }
};

}  // namespace ctnn::rules
