// SPDX-License-Identifier: MIT
#pragma once
/// @file environments.hpp  Reinforcement-learning environments with the dynamics of Gymnasium's classic tasks:
/// CartPole-v1 and FrozenLake-v1 (4×4 or 8×8, slippery or not, or a map of your own). The API is Gymnasium's:
/// `reset(seed)` → observation, `step(action)` → observation, reward, terminated (the task ended: the pole fell, a
/// hole or the goal), truncated (the time limit). Each environment owns a seeded `ctnn::rng`, so a run is
/// reproducible from its seed on every platform (Gymnasium's NumPy streams are not reproduced; the dynamics are).
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../core/random.hpp"

namespace ctnn::rl {

/// What `step` returns (Gymnasium's 5-tuple without the info dict).
template <class Observation>
struct step_result {
    Observation observation{};
    double reward = 0;
    bool terminated = false;  ///< the episode ended inside the task (a terminal state)
    bool truncated = false;   ///< the time limit cut it (the state is not terminal: bootstrap from it)
    bool done() const noexcept { return terminated || truncated; }
};

/// CartPole-v1 (Barto, Sutton & Anderson 1983, as Gymnasium's `CartPoleEnv` with `TimeLimit(500)`): a pole on a
/// cart, pushed left (action 0) or right (action 1) with 10 N; observation [x, ẋ, θ, θ̇] (float, the state is kept
/// in double as Gymnasium's float64 array); reward 1 per step, the terminating step included; terminated when
/// |x| > 2.4 or |θ| > 12°, truncated after 500 steps. Reset draws each state variable uniformly in ±0.05.
class cartpole {
public:
    static constexpr std::size_t observation_size = 4, action_count = 2;
    using observation = std::array<float, observation_size>;
    using state_type = std::array<double, observation_size>;
    enum class integrator { euler, semi_implicit_euler };
    struct options {
        std::size_t max_steps = 500;  ///< CartPole-v1's time limit (v0: 200)
        integrator kinematics = integrator::euler;
    };
    static constexpr double gravity = 9.8, mass_cart = 1.0, mass_pole = 0.1, total_mass = mass_cart + mass_pole;
    static constexpr double half_length = 0.5, pole_mass_length = mass_pole * half_length, force_mag = 10.0, tau = 0.02;
    static constexpr double theta_threshold = 12 * 2 * std::numbers::pi / 360, x_threshold = 2.4;
    static constexpr double reward_threshold = 475.0;  ///< "solved": this mean return over 100 consecutive episodes

    explicit cartpole(options o) : m_opt(o) {
        detail::check(o.max_steps > 0, "rl::cartpole: max_steps must be at least 1");
    }
    cartpole() : cartpole(options{}) {}

    /// Starts an episode with the generator reseeded from @p s.
    observation reset(seed s) {
        m_rng.reseed(s);
        return reset();
    }
    /// Starts an episode, continuing the generator's stream.
    observation reset() {
        for (auto& v : m_state) v = m_rng.uniform(-0.05, 0.05);
        m_steps = 0;
        m_over = false;
        return to_observation();
    }
    /// Starts an episode from @p state (tests; the state is checked only for being finite).
    observation reset_to(const state_type& state) {
        for (double v : state) detail::check(std::isfinite(v), "rl::cartpole: reset_to: a state variable is not finite");
        m_state = state;
        m_steps = 0;
        m_over = false;
        return to_observation();
    }

    /// One step of 0.02 s pushing left (0) or right (1).
    step_result<observation> step(std::size_t action) {
        if (action >= action_count)
            detail::fail("rl::cartpole: action " + std::to_string(action) + " is outside {0, 1} (0 pushes left, 1 right)");
        if (m_over) detail::fail("rl::cartpole: step() after the episode ended (terminated or truncated); call reset() first");
        auto& [x, x_dot, theta, theta_dot] = m_state;
        const double force = action == 1 ? force_mag : -force_mag;
        const double c = std::cos(theta), s = std::sin(theta);
        // Gymnasium's expressions in its order of operations (np.square(θ̇), np.square(cos θ)); a step agrees with
        // Gymnasium's to ~1e-15 (the last bits differ where the compiler fuses a multiply-add or libm's sin/cos NumPy's)
        const double temp = (force + pole_mass_length * (theta_dot * theta_dot) * s) / total_mass;
        const double theta_acc = (gravity * s - c * temp) / (half_length * (4.0 / 3.0 - mass_pole * (c * c) / total_mass));
        const double x_acc = temp - pole_mass_length * theta_acc * c / total_mass;
        if (m_opt.kinematics == integrator::euler) {
            x += tau * x_dot;
            x_dot += tau * x_acc;
            theta += tau * theta_dot;
            theta_dot += tau * theta_acc;
        } else {
            x_dot += tau * x_acc;
            x += tau * x_dot;
            theta_dot += tau * theta_acc;
            theta += tau * theta_dot;
        }
        step_result<observation> r;
        r.observation = to_observation();
        r.reward = 1.0;
        r.terminated = x < -x_threshold || x > x_threshold || theta < -theta_threshold || theta > theta_threshold;
        r.truncated = !r.terminated && ++m_steps >= m_opt.max_steps;
        m_over = r.done();
        return r;
    }

    const state_type& state() const noexcept { return m_state; }
    std::size_t elapsed_steps() const noexcept { return m_steps; }

private:
    observation to_observation() const noexcept {
        return {float(m_state[0]), float(m_state[1]), float(m_state[2]), float(m_state[3])};
    }
    options m_opt;
    rng m_rng{seed{0}};
    state_type m_state{};
    std::size_t m_steps = 0;
    bool m_over = true;
};

/// FrozenLake-v1 (Gymnasium's `FrozenLakeEnv` with its `TimeLimit`): walk on a grid from S to the goal G over
/// frozen tiles F without falling into a hole H. Actions 0 left, 1 down, 2 right, 3 up (a move off the grid
/// stays put). Slippery ice: the intended move with probability 1/3, each perpendicular one with 1/3.
/// Reward 1 on reaching G; terminated on G or H; truncated after 100 steps (4×4) or 200 (8×8).
/// The transition model is public (`transitions(s, a)`, Gymnasium's `env.P`) for dynamic programming.
class frozen_lake {
public:
    static constexpr std::size_t action_count = 4;
    using observation = std::size_t;  ///< the tile index row · columns + column
    enum action : std::size_t { left = 0, down = 1, right = 2, up = 3 };
    /// One outcome of (state, action): its probability, the next state, the reward and whether it ends the episode.
    struct transition {
        double probability;
        std::size_t next;
        double reward;
        bool terminal;
    };
    struct options {
        bool slippery = true;
        std::size_t max_steps = 0;  ///< 0: Gymnasium's limits: 100 for maps of up to 16 tiles, 200 for larger ones
    };

    /// Gymnasium's "4x4" and "8x8" maps.
    static std::vector<std::string> map_4x4() { return {"SFFF", "FHFH", "FFFH", "HFFG"}; }
    static std::vector<std::string> map_8x8() {
        return {"SFFFFFFF", "FFFFFFFF", "FFFHFFFF", "FFFFFHFF", "FFFHFFFF", "FHHFFFHF", "FHFFHFHF", "FFFHFFFG"};
    }

    /// A lake from rows of S/F/H/G (rectangular, one S, at least one G; errors name what is wrong).
    explicit frozen_lake(std::vector<std::string> map, options o) : m_map(std::move(map)), m_opt(o) {
        detail::check(!m_map.empty() && !m_map[0].empty(), "rl::frozen_lake: the map is empty");
        m_rows = m_map.size();
        m_cols = m_map[0].size();
        std::size_t starts = 0, goals = 0;
        for (std::size_t r = 0; r < m_rows; ++r) {
            if (m_map[r].size() != m_cols)
                detail::fail("rl::frozen_lake: map row " + std::to_string(r) + " has " + std::to_string(m_map[r].size()) +
                             " tiles, expected " + std::to_string(m_cols) + " (the map must be rectangular)");
            for (std::size_t c = 0; c < m_cols; ++c) {
                const char t = m_map[r][c];
                if (t != 'S' && t != 'F' && t != 'H' && t != 'G')
                    detail::fail("rl::frozen_lake: map row " + std::to_string(r) + " column " + std::to_string(c) + " is '" +
                                 std::string(1, t) + "'; tiles are S, F, H, G");
                starts += t == 'S';
                goals += t == 'G';
                if (t == 'S') m_start = r * m_cols + c;
            }
        }
        if (starts != 1) detail::fail("rl::frozen_lake: the map has " + std::to_string(starts) + " start tiles S, expected 1");
        if (goals == 0) detail::fail("rl::frozen_lake: the map has no goal tile G");
        if (m_opt.max_steps == 0) m_opt.max_steps = m_rows * m_cols <= 16 ? 100 : 200;
        build_model();
    }
    explicit frozen_lake(options o) : frozen_lake(map_4x4(), o) {}
    frozen_lake() : frozen_lake(map_4x4(), options{}) {}

    std::size_t state_count() const noexcept { return m_rows * m_cols; }
    std::size_t rows() const noexcept { return m_rows; }
    std::size_t columns() const noexcept { return m_cols; }
    std::size_t max_steps() const noexcept { return m_opt.max_steps; }
    /// The S tile, where every episode starts.
    std::size_t start_state() const noexcept { return m_start; }
    char tile(std::size_t s) const { return m_map.at(s / m_cols).at(s % m_cols); }
    /// The outcomes of @p action in state @p s (a terminal tile loops on itself with reward 0).
    const std::vector<transition>& transitions(std::size_t s, std::size_t action) const {
        check_state_action(s, action);
        return m_model[s * action_count + action];
    }

    observation reset(seed s) {
        m_rng.reseed(s);
        return reset();
    }
    observation reset() {
        m_state = m_start;
        m_steps = 0;
        m_over = false;
        return m_state;
    }
    step_result<observation> step(std::size_t action) {
        check_state_action(m_state, action);
        if (m_over) detail::fail("rl::frozen_lake: step() after the episode ended (terminated or truncated); call reset() first");
        const auto& outcomes = m_model[m_state * action_count + action];
        const double u = m_rng.uniform();
        double acc = 0;
        std::size_t k = 0;
        for (; k + 1 < outcomes.size(); ++k)
            if (u < (acc += outcomes[k].probability)) break;
        const transition& t = outcomes[k];
        m_state = t.next;
        step_result<observation> r{t.next, t.reward, t.terminal, false};
        r.truncated = !r.terminated && ++m_steps >= m_opt.max_steps;
        m_over = r.done();
        return r;
    }
    observation state() const noexcept { return m_state; }

private:
    void check_state_action(std::size_t s, std::size_t action) const {
        if (action >= action_count)
            detail::fail("rl::frozen_lake: action " + std::to_string(action) + " is outside {0, 1, 2, 3} (left, down, right, up)");
        if (s >= state_count())
            detail::fail("rl::frozen_lake: state " + std::to_string(s) + " is outside [0, " + std::to_string(state_count()) + ")");
    }
    std::size_t move(std::size_t s, std::size_t a) const noexcept {
        std::size_t r = s / m_cols, c = s % m_cols;
        switch (a) {
            case left: c = c > 0 ? c - 1 : 0; break;
            case down: r = r + 1 < m_rows ? r + 1 : r; break;
            case right: c = c + 1 < m_cols ? c + 1 : c; break;
            default: r = r > 0 ? r - 1 : 0; break;
        }
        return r * m_cols + c;
    }
    void build_model() {
        m_model.assign(state_count() * action_count, {});
        for (std::size_t s = 0; s < state_count(); ++s)
            for (std::size_t a = 0; a < action_count; ++a) {
                auto& out = m_model[s * action_count + a];
                const char here = tile(s);
                if (here == 'G' || here == 'H') {
                    out.push_back({1.0, s, 0.0, true});
                    continue;
                }
                auto outcome = [&](std::size_t b, double p) {
                    const std::size_t n = move(s, b);
                    const char t = tile(n);
                    out.push_back({p, n, t == 'G' ? 1.0 : 0.0, t == 'G' || t == 'H'});
                };
                if (m_opt.slippery)
                    for (std::size_t b : {(a + 3) % 4, a, (a + 1) % 4}) outcome(b, 1.0 / 3.0);
                else
                    outcome(a, 1.0);
            }
    }
    std::vector<std::string> m_map;
    options m_opt;
    std::size_t m_rows = 0, m_cols = 0, m_start = 0, m_state = 0, m_steps = 0;
    std::vector<std::vector<transition>> m_model;
    rng m_rng{seed{0}};
    bool m_over = true;
};

}  // namespace ctnn::rl
