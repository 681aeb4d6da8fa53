// SPDX-License-Identifier: MIT
#pragma once
/// @file recurrent_rules.hpp  The pointwise part of one recurrent time step (LSTM, GRU, Elman RNN),
/// forward and backward, as per-element rules (C++17, CTNN_HD) shared by the CPU loops and the CUDA
/// kernels; the GEMMs around them (input and recurrent projections) are ops::gemm calls. Element
/// e = b·H + j is unit j of sample b. Layouts of one direction of one layer over a [batch, T, ...]
/// sequence: gates [b, t, Gates·H] in PyTorch's order (pre-activation on entry to the forward rule,
/// activated on exit), cells / hidden states [b, t, H].
///
/// Direction and masking (`step_info`): a step t reads the state of its predecessor tp (t − 1 going
/// forward, t + 1 for the reverse direction of a bidirectional layer); the first step of a direction
/// reads the initial state (h0/c0 [b, H], or zeros). A sample whose valid length is ≤ t is *masked* at
/// t: its state is carried over unchanged (so the state at the last step of the forward direction is
/// the state at the sample's own length, as PyTorch's packed sequences give), it receives no
/// gradient there, and the gradient arriving at the carried state passes through to tp.
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "epilogue.hpp"
#include "host_device.hpp"

namespace ctnn::rules {

template <class T>
CTNN_HD T sigmoid(T x) noexcept {
    return T(1) / (T(1) + std::exp(-x));
}

/// Where step t of one direction sits: its predecessor, whether it is the direction's first step,
/// and which samples are masked at it.
struct step_info {
    std::size_t t = 0, tp = 0;   ///< this step, and the step whose state it continues (unused when first)
    bool first = true;           ///< the direction's first step: the predecessor is the initial state
    std::size_t steps = 1, hidden = 1;
    const std::int32_t* lengths = nullptr;  ///< per-sample valid lengths; nullptr: every step is valid
    CTNN_HD bool masked(std::size_t b) const noexcept { return lengths && std::size_t(lengths[b]) <= t; }
    CTNN_HD std::size_t at(std::size_t b, std::size_t j) const noexcept { return (b * steps + t) * hidden + j; }
    CTNN_HD std::size_t prev(std::size_t b, std::size_t j) const noexcept { return (b * steps + tp) * hidden + j; }
};

/// The output's gradient as a step rule sees it: dy [b, t, ld] at every step (`every_step`: a
/// sequence output, or the gradient a layer above sent back), or dy [b, ld] at step `last` only (the
/// final-state output); `ld` is the row stride (2H for a bidirectional output, the pointer offset to
/// this direction's half).
template <class T>
struct output_gradient {
    const T* dy = nullptr;
    std::size_t ld = 0;
    bool every_step = true;
    std::size_t last = 0;
    CTNN_HD T at(const step_info& s, std::size_t b, std::size_t j) const noexcept {
        if (!dy) return T(0);
        if (every_step) return s.masked(b) ? T(0) : dy[(b * s.steps + s.t) * ld + j];
        return s.t == last ? dy[b * ld + j] : T(0);
    }
};

/// LSTM forward of one step: activates the gates in place, then c_t = f ⊙ c_{t-1} + i ⊙ g,
/// h_t = o ⊙ tanh(c_t); a masked sample carries (c, h) of its predecessor.
template <class T>
struct lstm_step_forward {
    step_info s;
    T* gates;
    T* c;
    T* h;
    const T* h0;  ///< initial states [b, H] (nullptr: zeros)
    const T* c0;
    CTNN_HD void operator()(std::size_t e) const {
        const std::size_t H = s.hidden, b = e / H, j = e % H, at = s.at(b, j);
        const T cp = s.first ? (c0 ? c0[e] : T(0)) : c[s.prev(b, j)];
        if (s.masked(b)) {
            c[at] = cp;
            h[at] = s.first ? (h0 ? h0[e] : T(0)) : h[s.prev(b, j)];
            return;
        }
        T* z = gates + (b * s.steps + s.t) * 4 * H;
        const T i = sigmoid(z[j]), f = sigmoid(z[H + j]), g = std::tanh(z[2 * H + j]), o = sigmoid(z[3 * H + j]);
        z[j] = i;
        z[H + j] = f;
        z[2 * H + j] = g;
        z[3 * H + j] = o;
        const T ct = f * cp + i * g;
        c[at] = ct;
        h[at] = o * std::tanh(ct);
    }
};

/// LSTM backward of one step. On entry dh [b, H] and dc [b, H] hold dL/dh_t and dL/dc_t from the
/// steps after it (the output's gradient is added here). Writes the gates' pre-activation gradients
/// dz [b, t, 4H]; leaves dL/dc_tp in dc and, in dh, the direct part of dL/dh_tp (zero for a valid
/// step — the caller adds dz_t · W_hh —, everything for a masked one, whose dz is zero). `dc0`
/// (optional) receives dL/dc_{-1} at the first step.
template <class T>
struct lstm_step_backward {
    step_info s;
    const T* gates;
    const T* c;
    output_gradient<T> out;
    T* dh;
    T* dc;
    T* dz;
    const T* c0;
    CTNN_HD void operator()(std::size_t e) const {
        const std::size_t H = s.hidden, b = e / H, j = e % H, at = s.at(b, j);
        T* d = dz + (b * s.steps + s.t) * 4 * H;
        const T dht = dh[e] + out.at(s, b, j);
        if (s.masked(b)) {
            d[j] = d[H + j] = d[2 * H + j] = d[3 * H + j] = T(0);
            dh[e] = dht;
            return;
        }
        const T* a = gates + (b * s.steps + s.t) * 4 * H;
        const T i = a[j], f = a[H + j], g = a[2 * H + j], o = a[3 * H + j];
        const T tc = std::tanh(c[at]);
        const T cp = s.first ? (c0 ? c0[e] : T(0)) : c[s.prev(b, j)];
        const T dct = dc[e] + dht * o * (T(1) - tc * tc);
        d[j] = dct * g * i * (T(1) - i);
        d[H + j] = dct * cp * f * (T(1) - f);
        d[2 * H + j] = dct * i * (T(1) - g * g);
        d[3 * H + j] = dht * tc * o * (T(1) - o);
        dc[e] = dct * f;
        dh[e] = T(0);
    }
};

/// GRU forward of one step (nn.GRU, gates r, z, n): gx [b, t, 3H] holds W_ih·x_t + b_ih on entry
/// and r, z, n on exit; hp [b, 3H] holds W_hh·h_tp + b_hh (at the first step without h0 it is not
/// read: b_hh is); hn [b, t, H] keeps W_hn·h_tp + b_hn for backward;
///   r = σ(gx_r + hp_r), z = σ(gx_z + hp_z), n = tanh(gx_n + r ⊙ hp_n), h_t = (1 − z) ⊙ n + z ⊙ h_tp.
template <class T>
struct gru_step_forward {
    step_info s;
    T* gx;
    const T* hp;
    const T* b_hh;
    T* hn;
    T* h;
    const T* h0;
    CTNN_HD void operator()(std::size_t e) const {
        const std::size_t H = s.hidden, b = e / H, j = e % H, at = s.at(b, j);
        const T hprev = s.first ? (h0 ? h0[e] : T(0)) : h[s.prev(b, j)];
        if (s.masked(b)) {
            h[at] = hprev;
            return;
        }
        T* x = gx + (b * s.steps + s.t) * 3 * H;
        const T* p = (s.first && !h0) ? b_hh : hp + b * 3 * H;
        const T r = sigmoid(x[j] + p[j]), z = sigmoid(x[H + j] + p[H + j]);
        const T n = std::tanh(x[2 * H + j] + r * p[2 * H + j]);
        x[j] = r;
        x[H + j] = z;
        x[2 * H + j] = n;
        hn[at] = p[2 * H + j];
        h[at] = (T(1) - z) * n + z * hprev;
    }
};

/// GRU backward of one step: dh [b, H] holds dL/dh_t from the steps after it (the output's gradient
/// is added here); writes the input-side pre-activation gradients dzx [b, t, 3H] and the
/// recurrent-side ones dzh [b, t, 3H] (its n part is dn_pre ⊙ r), and leaves the direct part of
/// dL/dh_tp in dh (z ⊙ dh_t; all of it for a masked sample). The caller adds dzh_t · W_hh.
template <class T>
struct gru_step_backward {
    step_info s;
    const T* gates;
    const T* hn;
    const T* h;
    output_gradient<T> out;
    T* dh;
    T* dzx;
    T* dzh;
    const T* h0;
    CTNN_HD void operator()(std::size_t e) const {
        const std::size_t H = s.hidden, b = e / H, j = e % H, at = s.at(b, j);
        const std::size_t row = (b * s.steps + s.t) * 3 * H;
        const T d = dh[e] + out.at(s, b, j);
        if (s.masked(b)) {
            dzx[row + j] = dzx[row + H + j] = dzx[row + 2 * H + j] = T(0);
            dzh[row + j] = dzh[row + H + j] = dzh[row + 2 * H + j] = T(0);
            dh[e] = d;
            return;
        }
        const T r = gates[row + j], z = gates[row + H + j], n = gates[row + 2 * H + j];
        const T hprev = s.first ? (h0 ? h0[e] : T(0)) : h[s.prev(b, j)];
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

/// Elman RNN forward of one step: h [b, t, H] = act(z [b, t, H]) (z: both projections and biases of
/// the step); a masked sample carries h_tp.
template <class T>
struct rnn_step_forward {
    step_info s;
    const T* z;
    T* h;
    activation_kind act;
    const T* h0;
    CTNN_HD void operator()(std::size_t e) const {
        const std::size_t b = e / s.hidden, j = e % s.hidden, at = s.at(b, j);
        if (s.masked(b)) h[at] = s.first ? (h0 ? h0[e] : T(0)) : h[s.prev(b, j)];
        else h[at] = epilogue<T>{nullptr, act}.activate(z[at]);
    }
};

/// Elman RNN backward of one step: dz [b, t, H] = (dh + the output's gradient) ⊙ act'(h_t), from the
/// activation's output (tanh or relu); dh keeps the direct part of dL/dh_tp (see lstm_step_backward).
template <class T>
struct rnn_step_backward {
    step_info s;
    const T* h;
    output_gradient<T> out;
    T* dh;
    T* dz;
    activation_kind act;
    CTNN_HD void operator()(std::size_t e) const {
        const std::size_t b = e / s.hidden, j = e % s.hidden, at = s.at(b, j);
        const T d = dh[e] + out.at(s, b, j);
        if (s.masked(b)) {
            dz[at] = T(0);
            dh[e] = d;
            return;
        }
        dz[at] = d * epilogue<T>::derivative_from_output(act, T(0), h[at]);
        dh[e] = T(0);
    }
};

/// One direction's states into the layer's output, for element e of [batch, steps, H]
/// (`every_step`): y [b, t, ld] (offset to the direction's half) = h_t, or 0 where the sample is
/// masked; for e of [batch, H] (final state): y [b, ld] = h [b, last, :].
template <class T>
struct sequence_emit {
    const T* h;
    T* y;
    std::size_t steps, hidden, ld, last;
    bool every_step;
    const std::int32_t* lengths;
    CTNN_HD void operator()(std::size_t e) const {
        if (every_step) {
            const std::size_t j = e % hidden, bt = e / hidden, b = bt / steps, t = bt % steps;
            y[bt * ld + j] = (lengths && std::size_t(lengths[b]) <= t) ? T(0) : h[e];
        } else {
            const std::size_t b = e / hidden, j = e % hidden;
            y[b * ld + j] = h[(b * steps + last) * hidden + j];
        }
    }
};

/// Pooling of a sequence x [b, T, F] over each sample's valid steps (all T without lengths), for
/// element e = b·F + f: the mean (`max` false) or the maximum; y [b, F].
template <class T>
struct sequence_pool_forward {
    const T* x;
    T* y;
    std::size_t steps, features;
    bool max;
    const std::int32_t* lengths;
    CTNN_HD void operator()(std::size_t e) const {
        const std::size_t b = e / features, f = e % features;
        const std::size_t n = lengths ? std::size_t(lengths[b]) : steps;
        const T* p = x + b * steps * features + f;
        T acc = p[0];
        for (std::size_t t = 1; t < n; ++t) acc = max ? (p[t * features] > acc ? p[t * features] : acc) : acc + p[t * features];
        y[e] = max ? acc : acc / T(n);
    }
};

/// Its backward for element e of [b, T, F]: the mean's gradient dy/n on every valid step; the max's
/// to the first step holding the maximum; zero on masked steps.
template <class T>
struct sequence_pool_backward {
    const T* x;
    const T* y;
    const T* dy;
    T* dx;
    std::size_t steps, features;
    bool max;
    const std::int32_t* lengths;
    CTNN_HD void operator()(std::size_t e) const {
        const std::size_t f = e % features, bt = e / features, b = bt / steps, t = bt % steps;
        const std::size_t n = lengths ? std::size_t(lengths[b]) : steps;
        const std::size_t o = b * features + f;
        if (t >= n) {
            dx[e] = T(0);
        } else if (!max) {
            dx[e] = dy[o] / T(n);
        } else {
            const T* p = x + b * steps * features + f;
            std::size_t first = 0;
            while (first < n && p[first * features] != y[o]) ++first;
            dx[e] = first == t ? dy[o] : T(0);
        }
    }
};

}  // namespace ctnn::rules
