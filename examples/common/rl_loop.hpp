// SPDX-License-Identifier: MIT
#pragma once
// What the CartPole examples (19 REINFORCE, 20 actor-critic, 21 DQN) share: the options, a softmax action draw,
// the "solved" test of CartPole-v1 (mean return ≥ 475 over 100 consecutive episodes), running several seeds with
// wall times, the per-episode CSV history and the JSON summary.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctnn/ctnn.hpp>
#include <deque>
#include <functional>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "history.hpp"

namespace example::rl_loop {

/// The options every CartPole example has; each example sets its defaults before add_options.
struct options {
    std::size_t max_episodes = 2000, seeds = 1, threads = 1;
    std::uint64_t seed_value = 1;
    double lr = 1e-3, gamma = 0.99;
    bool keep_going = false;
    std::string json_path, history_path, save_path;
};

/// --episodes --seed --seeds --lr --gamma --threads --keep-going --json --history --save.
inline void add_options(CLI::App& app, options& o) {
    app.add_option("--episodes", o.max_episodes, "give up after this many episodes")->check(CLI::Range(1, 1000000));
    app.add_option("--seed", o.seed_value, "the first seed (initialisation, environment, exploration)");
    app.add_option("--seeds", o.seeds, "run seeds seed, seed+1, ... (the solve table)")->check(CLI::Range(1, 100));
    app.add_option("--lr", o.lr, "Adam learning rate")->check(CLI::PositiveNumber);
    app.add_option("--gamma", o.gamma, "discount factor")->check(CLI::Range(0.0, 1.0));
    app.add_option("--threads", o.threads, "CPU threads")->check(CLI::Range(1, 256));
    app.add_flag("--keep-going", o.keep_going, "train all --episodes instead of stopping once solved");
    app.add_option("--json", o.json_path, "write a JSON summary here");
    app.add_option("--history", o.history_path,
                   "write each seed's per-episode returns as CSV (PATH.seedN.csv for several seeds; tools/plot_history.py draws it)");
    app.add_option("--save", o.save_path, "save the trained network of the first seed to this .npz");
}

/// An action drawn from softmax(@p logits) (A values) with one uniform number of @p g.
inline std::size_t sample_softmax(const float* logits, std::size_t A, ctnn::rng& g) {
    double p[16], sum = 0;
    if (A == 0 || A > 16) ctnn::detail::fail("sample_softmax: " + std::to_string(A) + " actions; 1 to 16 are supported");
    const float m = *std::max_element(logits, logits + A);
    for (std::size_t j = 0; j < A; ++j) sum += p[j] = std::exp(double(logits[j] - m));
    double u = g.uniform() * sum;
    for (std::size_t j = 0; j + 1 < A; ++j)
        if ((u -= p[j]) < 0) return j;
    return A - 1;
}

/// What one seed's run gave.
struct seed_result {
    std::uint64_t seed = 0;
    bool solved = false;
    std::size_t episodes = 0, steps = 0;  ///< episodes and environment steps run to the solve (or all, unsolved)
    double seconds = 0;                   ///< wall time of those episodes, training included
    double final_mean = 0;                ///< mean return of the last 100 episodes
    std::vector<double> returns;
};

/// CartPole-v1's criterion: the mean return of the last 100 episodes reaches 475.
class solve_tracker {
public:
    void add(double r) {
        m_window.push_back(r);
        m_sum += r;
        if (m_window.size() > 100) {
            m_sum -= m_window.front();
            m_window.pop_front();
        }
    }
    double mean() const noexcept { return m_window.empty() ? 0.0 : m_sum / double(m_window.size()); }
    bool solved() const noexcept { return m_window.size() == 100 && mean() >= ctnn::rl::cartpole::reward_threshold; }

private:
    std::deque<double> m_window;
    double m_sum = 0;
};

/// Trains one agent per seed: `Agent(seed, o)` (o: the example's own settings, derived from options) then `agent.episode(env)` → the episode's return, until solved (unless
/// --keep-going) or --episodes. Prints progress every 50 episodes and a table at the end; writes the history and the
/// JSON (@p name, @p config: extra JSON members, e.g. "\"double\": true"). @p save(agent, path) saves the first
/// seed's network. Returns the exit code (1 with the message on a ctnn::error).
template <class Agent, class Settings, class Save>
int run(const Settings& o, const char* name, const std::string& config, Save&& save) try {
    using clock = std::chrono::steady_clock;
    ctnn::set_num_threads(o.threads);
    std::vector<seed_result> results;
    for (std::size_t k = 0; k < o.seeds; ++k) {
        seed_result r;
        r.seed = o.seed_value + k;
        ctnn::rl::cartpole env;
        env.reset(ctnn::seed{r.seed * 1000003 + 17});
        Agent agent{ctnn::seed{r.seed}, o};
        solve_tracker track;
        std::size_t steps = 0;
        const auto t0 = clock::now();
        for (std::size_t e = 0; e < o.max_episodes; ++e) {
            const auto [ret, n] = agent.episode(env);
            r.returns.push_back(ret);
            steps += n;
            track.add(ret);
            if ((e + 1) % 50 == 0)
                std::printf("seed %llu  episode %5zu  mean of last 100 %6.1f  %.1f s\n", (unsigned long long)r.seed, e + 1, track.mean(),
                            std::chrono::duration<double>(clock::now() - t0).count());
            if (!r.solved && track.solved()) {
                r.solved = true;
                r.episodes = e + 1;
                r.steps = steps;
                r.seconds = std::chrono::duration<double>(clock::now() - t0).count();
                std::printf("seed %llu: solved after %zu episodes (%zu steps) in %.2f s\n", (unsigned long long)r.seed, r.episodes, r.steps,
                            r.seconds);
                if (!o.keep_going) break;
            }
        }
        if (!r.solved) {
            r.episodes = r.returns.size();
            r.steps = steps;
            r.seconds = std::chrono::duration<double>(clock::now() - t0).count();
            std::printf("seed %llu: not solved in %zu episodes (mean of last 100: %.1f), %.2f s\n", (unsigned long long)r.seed, r.episodes,
                        track.mean(), r.seconds);
        }
        r.final_mean = track.mean();
        if (!o.history_path.empty()) {
            const std::string path = o.seeds == 1 ? o.history_path : o.history_path + ".seed" + std::to_string(r.seed) + ".csv";
            history h{path, {"episode", "return", "mean_last_100"}};
            solve_tracker t;
            for (std::size_t e = 0; e < r.returns.size(); ++e) {
                t.add(r.returns[e]);
                h.add({double(e + 1), r.returns[e], t.mean()});
            }
            h.save();
        }
        if (k == 0 && !o.save_path.empty()) save(agent, o.save_path);
        results.push_back(std::move(r));
    }
    std::size_t solved = 0;
    std::printf("\n%s on CartPole-v1: seed, solved, episodes, steps, seconds\n", name);
    for (const auto& r : results) {
        solved += r.solved;
        std::printf("  %llu  %s  %zu  %zu  %.2f\n", (unsigned long long)r.seed, r.solved ? "yes" : "no ", r.episodes, r.steps, r.seconds);
    }
    std::printf("solved: %zu of %zu seeds\n", solved, results.size());
    if (!o.json_path.empty()) {
        std::ostringstream j;
        j << "{\n  \"algorithm\": \"" << name << "\",\n  \"environment\": \"CartPole-v1\",\n  \"lr\": " << o.lr << ",\n  \"gamma\": " << o.gamma
          << ",\n  \"max_episodes\": " << o.max_episodes << ",\n  \"threads\": " << o.threads << (config.empty() ? "" : ",\n  ") << config
          << ",\n  \"solved\": " << solved << ",\n  \"seeds\": [";
        for (std::size_t k = 0; k < results.size(); ++k) {
            const auto& r = results[k];
            j << (k ? ",\n    " : "\n    ") << "{\"seed\": " << r.seed << ", \"solved\": " << (r.solved ? "true" : "false")
              << ", \"episodes\": " << r.episodes << ", \"steps\": " << r.steps << ", \"seconds\": " << r.seconds
              << ", \"final_mean_return\": " << r.final_mean << "}";
        }
        j << "\n  ]\n}\n";
        ctnn::io::write_file_atomic(o.json_path, j.str());
    }
    return 0;
} catch (const ctnn::error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
}

}  // namespace example::rl_loop
