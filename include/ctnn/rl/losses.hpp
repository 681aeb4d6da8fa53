// SPDX-License-Identifier: MIT
#pragma once
/// @file losses.hpp  The losses and targets of policy-gradient and value-based reinforcement learning, on the
/// host (the CPU policy's memory): a model's outputs go in, the loss comes out and dL/d(outputs) is written for
/// `model.backward`. Each is the mean over the batch, as PyTorch's usual formulation, and checked by finite
/// differences in the tests.
///  - `policy_gradient`: −mean(A_i · log π(a_i | s_i)) − β · mean(H(π(· | s_i))) on logits — REINFORCE (A = return
///    or return − baseline) and the actor of an actor-critic (A = advantage);
///  - `q_loss`: the Huber (or squared) error of the chosen actions' Q values against TD targets — DQN;
///  - `discounted_returns`, `td_targets`: the targets both need.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "../core/error.hpp"

namespace ctnn::rl {

namespace detail_rl {
inline void check_batch(const char* who, std::size_t values, std::size_t batch, std::size_t& actions) {
    if (batch == 0 || values == 0 || values % batch != 0)
        detail::fail(std::string("rl::") + who + ": " + std::to_string(values) + " outputs do not split into a batch of " +
                     std::to_string(batch) + " rows");
    actions = values / batch;
}
inline void check_action(const char* who, std::int32_t a, std::size_t i, std::size_t actions) {
    if (a < 0 || std::size_t(a) >= actions)
        detail::fail(std::string("rl::") + who + ": action " + std::to_string(a) + " at index " + std::to_string(i) + " is outside [0, " +
                     std::to_string(actions) + ")");
}
template <class S>
void check_size(const char* who, const char* what, const S& s, std::size_t expected) {
    if (s.size() < expected)
        detail::fail(std::string("rl::") + who + ": " + what + " has " + std::to_string(s.size()) + " values, expected " +
                     std::to_string(expected));
}
}  // namespace detail_rl

/// The policy-gradient loss on logits [batch, A] of a softmax policy:
/// L = −(1/B) Σ_i w_i log π(a_i | s_i) − β (1/B) Σ_i H(π(· | s_i)), with π = softmax(logits) and w_i the weight of
/// sample i (the return, or an advantage — treated as a constant). dL/dz_ij = (w_i (π_ij − [j = a_i]) +
/// β π_ij (log π_ij + H_i)) / B.
struct policy_gradient {
    double entropy = 0.0;  ///< β, the entropy bonus (exploration); 0 for plain REINFORCE

    struct result {
        double loss = 0;     ///< the whole loss L
        double entropy = 0;  ///< the mean entropy of the policies (nats)
    };

    /// Writes dL/d(logits) into @p dlogits; returns the loss and the mean entropy.
    template <class T>
    result operator()(std::span<const T> logits, std::span<const std::int32_t> actions, std::span<const T> weights,
                      std::span<T> dlogits, std::size_t batch) const {
        std::size_t A = 0;
        detail_rl::check_batch("policy_gradient", logits.size(), batch, A);
        detail_rl::check_size("policy_gradient", "actions", actions, batch);
        detail_rl::check_size("policy_gradient", "weights", weights, batch);
        detail_rl::check_size("policy_gradient", "the logits' gradient", dlogits, logits.size());
        result r;
        const double inv = 1.0 / double(batch);
        for (std::size_t i = 0; i < batch; ++i) {
            detail_rl::check_action("policy_gradient", actions[i], i, A);
            const T* z = logits.data() + i * A;
            T* dz = dlogits.data() + i * A;
            double m = z[0];
            for (std::size_t j = 1; j < A; ++j) m = std::max(m, double(z[j]));
            double sum = 0;
            for (std::size_t j = 0; j < A; ++j) sum += std::exp(double(z[j]) - m);
            const double lse = m + std::log(sum);
            double h = 0;  // H = −Σ p log p
            for (std::size_t j = 0; j < A; ++j) {
                const double lp = double(z[j]) - lse;
                h -= std::exp(lp) * lp;
            }
            const double w = weights[i];
            r.loss -= inv * (w * (double(z[actions[i]]) - lse) + entropy * h);
            r.entropy += inv * h;
            for (std::size_t j = 0; j < A; ++j) {
                const double lp = double(z[j]) - lse, p = std::exp(lp);
                const double g = w * (p - (std::size_t(actions[i]) == j ? 1.0 : 0.0)) + entropy * p * (lp + h);
                dz[j] = T(inv * g);
            }
        }
        return r;
    }
};

/// How a TD error is penalised.
enum class td_error { huber, squared };

/// DQN's loss on Q values [batch, A]: L = (1/B) Σ_i ℓ(Q(s_i, a_i) − y_i), ℓ = Huber with threshold δ (PyTorch's
/// `smooth_l1_loss` / `HuberLoss(delta)`: ½d² below δ, δ(|d| − ½δ) above) or the squared error d² (`mse_loss`);
/// only the chosen actions' Q values get a gradient.
struct q_loss {
    td_error kind = td_error::huber;
    double delta = 1.0;

    template <class T>
    double operator()(std::span<const T> q, std::span<const std::int32_t> actions, std::span<const T> targets, std::span<T> dq,
                      std::size_t batch) const {
        std::size_t A = 0;
        detail_rl::check_batch("q_loss", q.size(), batch, A);
        detail_rl::check_size("q_loss", "actions", actions, batch);
        detail_rl::check_size("q_loss", "targets", targets, batch);
        detail_rl::check_size("q_loss", "the Q values' gradient", dq, q.size());
        detail::check(kind == td_error::squared || delta > 0, "rl::q_loss: the Huber threshold delta must be positive");
        std::fill(dq.begin(), dq.begin() + std::ptrdiff_t(q.size()), T(0));
        const double inv = 1.0 / double(batch);
        double loss = 0;
        for (std::size_t i = 0; i < batch; ++i) {
            detail_rl::check_action("q_loss", actions[i], i, A);
            const std::size_t k = i * A + std::size_t(actions[i]);
            const double d = double(q[k]) - double(targets[i]);
            double l, g;
            if (kind == td_error::squared) {
                l = d * d;
                g = 2 * d;
            } else if (std::abs(d) < delta) {
                l = 0.5 * d * d;
                g = d;
            } else {
                l = delta * (std::abs(d) - 0.5 * delta);
                g = d > 0 ? delta : -delta;
            }
            loss += inv * l;
            dq[k] = T(inv * g);
        }
        return loss;
    }
};

/// Discounted returns G_t = r_t + γ G_{t+1} of one stretch of an episode, written over @p out (may alias
/// @p rewards); @p bootstrap is the value of the state after the last reward (0 when the episode terminated, V(s)
/// or max Q(s, ·) when it was truncated or cut for an n-step update).
template <class T>
void discounted_returns(std::span<const T> rewards, double gamma, double bootstrap, std::span<T> out) {
    detail_rl::check_size("discounted_returns", "out", out, rewards.size());
    double g = bootstrap;
    for (std::size_t t = rewards.size(); t-- > 0;) {
        g = double(rewards[t]) + gamma * g;
        out[t] = T(g);
    }
}

/// DQN's targets y_i = r_i + γ (1 − terminated_i) Q_target(s'_i, a*_i) with a*_i = argmax Q_target(s'_i, ·) (DQN),
/// or argmax Q_online(s'_i, ·) (Double DQN: pass the online network's Q values of the next states as
/// @p next_q_online; empty for plain DQN). Q arrays are [batch, A].
template <class T>
void td_targets(std::span<const T> next_q_target, std::span<const T> next_q_online, std::span<const T> rewards,
                std::span<const T> terminated, double gamma, std::span<T> out, std::size_t batch) {
    std::size_t A = 0;
    detail_rl::check_batch("td_targets", next_q_target.size(), batch, A);
    if (!next_q_online.empty() && next_q_online.size() != next_q_target.size())
        detail::fail("rl::td_targets: the online Q values have " + std::to_string(next_q_online.size()) + " values, expected " +
                     std::to_string(next_q_target.size()) + " (as the target network's)");
    detail_rl::check_size("td_targets", "rewards", rewards, batch);
    detail_rl::check_size("td_targets", "terminated", terminated, batch);
    detail_rl::check_size("td_targets", "out", out, batch);
    for (std::size_t i = 0; i < batch; ++i) {
        const T* sel = (next_q_online.empty() ? next_q_target.data() : next_q_online.data()) + i * A;
        const std::size_t a = std::size_t(std::max_element(sel, sel + A) - sel);
        out[i] = T(double(rewards[i]) + gamma * (1.0 - double(terminated[i])) * double(next_q_target[i * A + a]));
    }
}

}  // namespace ctnn::rl
