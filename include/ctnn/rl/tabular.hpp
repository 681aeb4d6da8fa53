// SPDX-License-Identifier: MIT
#pragma once
/// @file tabular.hpp  Tabular reinforcement learning on environments with a known, finite model (FrozenLake):
/// Q-learning with an ε-greedy schedule, value iteration, and the exact success probability of a policy within
/// the time limit (dynamic programming over the transition model, no sampling) next to a Monte-Carlo estimate.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <vector>

#include "../core/error.hpp"
#include "../core/random.hpp"

namespace ctnn::rl {

/// A table of action values Q[s, a], row-major, with its sizes.
struct q_table {
    std::size_t states = 0, actions = 0;
    std::vector<double> values;  ///< [states × actions]
    q_table() = default;
    q_table(std::size_t s, std::size_t a, double init = 0.0) : states(s), actions(a), values(s * a, init) {}
    double& operator()(std::size_t s, std::size_t a) { return values[s * actions + a]; }
    double operator()(std::size_t s, std::size_t a) const { return values[s * actions + a]; }
    /// The greedy action in @p s; ties go to the lowest index (NumPy's argmax).
    std::size_t greedy(std::size_t s) const {
        const double* row = values.data() + s * actions;
        return std::size_t(std::max_element(row, row + actions) - row);
    }
    double max(std::size_t s) const {
        const double* row = values.data() + s * actions;
        return *std::max_element(row, row + actions);
    }
    /// The greedy policy: one action per state.
    std::vector<std::size_t> policy() const {
        std::vector<std::size_t> p(states);
        for (std::size_t s = 0; s < states; ++s) p[s] = greedy(s);
        return p;
    }
};

/// A linear schedule from @p start to @p end over @p steps steps, then @p end (an ε-greedy exploration rate).
struct linear_schedule {
    double start = 1.0, end = 0.05;
    std::size_t steps = 1;
    double operator()(std::size_t t) const noexcept {
        if (t >= steps) return end;
        return start + (end - start) * double(t) / double(steps);
    }
};

/// Q-learning's settings: learning rate α, discount γ, ε over episodes.
struct q_learning_options {
    std::size_t episodes = 10000;
    double alpha = 0.1, gamma = 0.99;
    linear_schedule epsilon{1.0, 0.01, 5000};
};

/// Tabular Q-learning (Watkins): Q(s, a) += α (r + γ max_a' Q(s', a') − Q(s, a)), the bootstrap dropped when s' is
/// terminal (not when the episode was truncated); actions ε-greedy, ties broken at random. @p on_episode(episode,
/// return) runs after each episode. Env: `reset(seed)`, `reset()`, `step(a)` with `.observation` a state index,
/// `state_count()`, `action_count`.
template <class Env, class OnEpisode = void (*)(std::size_t, double)>
q_table q_learning(Env& env, const q_learning_options& o, seed s, OnEpisode&& on_episode = [](std::size_t, double) {}) {
    detail::check(o.alpha > 0 && o.alpha <= 1, "rl::q_learning: alpha must be in (0, 1]");
    detail::check(o.gamma >= 0 && o.gamma <= 1, "rl::q_learning: gamma must be in [0, 1]");
    q_table q(env.state_count(), Env::action_count);
    rng g{s};
    env.reset(seed{g()});
    std::vector<std::size_t> best;
    for (std::size_t e = 0; e < o.episodes; ++e) {
        std::size_t st = env.reset();
        const double eps = o.epsilon(e);
        double ret = 0;
        for (;;) {
            std::size_t a;
            if (g.uniform() < eps) a = std::size_t(g.below(Env::action_count));
            else {  // greedy, a random one among ties (an all-zero table must not always go left)
                best.clear();
                const double m = q.max(st);
                for (std::size_t b = 0; b < Env::action_count; ++b)
                    if (q(st, b) == m) best.push_back(b);
                a = best[g.below(best.size())];
            }
            const auto r = env.step(a);
            const double target = r.reward + (r.terminated ? 0.0 : o.gamma * q.max(r.observation));
            q(st, a) += o.alpha * (target - q(st, a));
            ret += r.reward;
            st = r.observation;
            if (r.done()) break;
        }
        on_episode(e, ret);
    }
    return q;
}

/// Value iteration on @p env's model with discount @p gamma (γ = 1 is allowed for episodic tasks whose terminal
/// states absorb): iterates Q(s, a) = Σ p (r + γ [not terminal] max Q(s', ·)) until the largest change is below
/// @p tolerance. Returns Q*.
template <class Env>
q_table value_iteration(const Env& env, double gamma, double tolerance = 1e-12, std::size_t max_iterations = 100000) {
    q_table q(env.state_count(), Env::action_count);
    for (std::size_t it = 0; it < max_iterations; ++it) {
        double change = 0;
        for (std::size_t s = 0; s < q.states; ++s)
            for (std::size_t a = 0; a < q.actions; ++a) {
                double v = 0;
                for (const auto& t : env.transitions(s, a)) v += t.probability * (t.reward + (t.terminal ? 0.0 : gamma * q.max(t.next)));
                change = std::max(change, std::abs(v - q(s, a)));
                q(s, a) = v;
            }
        if (change < tolerance) return q;
    }
    detail::fail("rl::value_iteration: no convergence within " + std::to_string(max_iterations) + " sweeps");
}

namespace detail_rl {
/// P(goal within @p horizon steps) from the start, by dynamic programming over the model: v_{k+1}(s) =
/// best over the actions @p actions(s) allows of Σ p (terminal ? r : v_k(s')).
template <class Env, class Actions>
double goal_probability(const Env& env, std::size_t horizon, Actions&& actions) {
    if (horizon == 0) horizon = env.max_steps();
    std::vector<double> v(env.state_count(), 0.0), next(v.size());  // v[s]: P(goal within k steps from s)
    for (std::size_t k = 0; k < horizon; ++k) {
        for (std::size_t s = 0; s < v.size(); ++s) {
            double best = 0;
            actions(s, [&](std::size_t a) {
                double p = 0;
                for (const auto& t : env.transitions(s, a)) p += t.probability * (t.terminal ? t.reward : v[t.next]);
                best = std::max(best, p);
            });
            next[s] = best;
        }
        v.swap(next);
    }
    return v[env.start_state()];
}
}  // namespace detail_rl

/// The exact probability that the stationary @p policy reaches the goal (reward 1) from the start within
/// @p horizon steps (the environment's time limit by default): dynamic programming over the model.
template <class Env>
double success_probability(const Env& env, const std::vector<std::size_t>& policy, std::size_t horizon = 0) {
    detail::check(policy.size() == env.state_count(), "rl::success_probability: the policy has " + std::to_string(policy.size()) +
                                                          " actions, expected one per state (" + std::to_string(env.state_count()) + ")");
    return detail_rl::goal_probability(env, horizon, [&](std::size_t s, auto&& consider) { consider(policy[s]); });
}

/// The best success probability any (time-dependent) policy reaches within @p horizon steps: the bar that
/// a learned stationary policy is compared with.
template <class Env>
double optimal_success_probability(const Env& env, std::size_t horizon = 0) {
    return detail_rl::goal_probability(env, horizon, [](std::size_t, auto&& consider) {
        for (std::size_t a = 0; a < Env::action_count; ++a) consider(a);
    });
}

/// Runs @p episodes episodes of @p policy (one action per state) from seed @p s; returns the mean return (for
/// FrozenLake: the success rate).
template <class Env>
double evaluate_policy(Env& env, const std::vector<std::size_t>& policy, std::size_t episodes, seed s) {
    detail::check(episodes > 0, "rl::evaluate_policy: episodes must be at least 1");
    env.reset(s);
    double total = 0;
    for (std::size_t e = 0; e < episodes; ++e) {
        std::size_t st = env.reset();
        for (;;) {
            const auto r = env.step(policy.at(st));
            total += r.reward;
            st = r.observation;
            if (r.done()) break;
        }
    }
    return total / double(episodes);
}

}  // namespace ctnn::rl
