// SPDX-License-Identifier: MIT
// Tabular Q-learning on FrozenLake-v1 (ctnn::rl::frozen_lake: Gymnasium's 4×4 or 8×8 map, slippery ice, its time
// limit). Trains with ε-greedy exploration, then evaluates the greedy policy over 1 000 episodes and exactly (dynamic
// programming over the map's transition model), beside the best success probability any policy reaches within the
// time limit. Prints the learned policy as arrows.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <ctnn/ctnn.hpp>
#include <sstream>
#include <string>

#include "../common/history.hpp"

using namespace ctnn;

int main(int argc, char** argv) {
    CLI::App app{"ctnn example 18: tabular Q-learning on FrozenLake-v1"};
    std::string map = "4x4", json_path, history_path;
    bool still = false;
    rl::q_learning_options o{.episodes = 20000, .alpha = 0.1, .gamma = 0.99, .epsilon = {1.0, 0.01, 10000}};
    std::uint64_t seed_value = 1;
    std::size_t eval_episodes = 1000;
    app.add_option("--map", map, "Gymnasium's map: 4x4 (FrozenLake-v1) or 8x8 (FrozenLake8x8-v1)")->check(CLI::IsMember({"4x4", "8x8"}));
    app.add_flag("--not-slippery", still, "deterministic moves (is_slippery=False)");
    app.add_option("--episodes", o.episodes, "training episodes")->check(CLI::Range(1, 100000000));
    app.add_option("--alpha", o.alpha, "learning rate α")->check(CLI::Range(1e-9, 1.0));
    app.add_option("--gamma", o.gamma, "discount γ")->check(CLI::Range(0.0, 1.0));
    app.add_option("--epsilon-start", o.epsilon.start, "ε in the first episode")->check(CLI::Range(0.0, 1.0));
    app.add_option("--epsilon-end", o.epsilon.end, "ε after the schedule")->check(CLI::Range(0.0, 1.0));
    app.add_option("--epsilon-episodes", o.epsilon.steps, "episodes of the linear ε schedule")->check(CLI::Range(1, 100000000));
    app.add_option("--eval-episodes", eval_episodes, "episodes of the greedy policy's evaluation")->check(CLI::Range(1, 100000000));
    app.add_option("--seed", seed_value, "seed of exploration and the environment");
    app.add_option("--json", json_path, "write a JSON summary here");
    app.add_option("--history", history_path, "write the success rate per 100 training episodes as CSV");
    CLI11_PARSE(app, argc, argv);
    try {
        rl::frozen_lake env{map == "4x4" ? rl::frozen_lake::map_4x4() : rl::frozen_lake::map_8x8(), {.slippery = !still}};
        example::history h{history_path, {"episode", "success_last_100", "epsilon"}};
        double window = 0;
        const auto t0 = std::chrono::steady_clock::now();
        const auto q = rl::q_learning(env, o, seed{seed_value}, [&](std::size_t e, double ret) {
            window += ret;
            if ((e + 1) % 100 == 0) {
                h.add({double(e + 1), window / 100, o.epsilon(e)});
                window = 0;
            }
        });
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        h.save();
        const auto policy = q.policy();
        const double sampled = rl::evaluate_policy(env, policy, eval_episodes, seed{seed_value + 1000});
        const double exact = rl::success_probability(env, policy);
        const double optimum = rl::optimal_success_probability(env);
        const double vi = rl::success_probability(env, rl::value_iteration(env, 0.999).policy());
        std::printf("FrozenLake %s%s: %zu episodes of Q-learning in %.3f s (%.0f episodes/s)\n", map.c_str(), still ? "" : " (slippery)",
                    o.episodes, seconds, double(o.episodes) / seconds);
        std::printf("greedy policy: success %.3f over %zu episodes, %.4f exactly; value iteration's policy %.4f; optimum %.4f\n", sampled,
                    eval_episodes, exact, vi, optimum);
        const char* arrows[] = {"<", "v", ">", "^"};
        for (std::size_t r = 0; r < env.rows(); ++r) {
            std::printf("  ");
            for (std::size_t c = 0; c < env.columns(); ++c) {
                const std::size_t s = r * env.columns() + c;
                const char t = env.tile(s);
                std::printf("%s ", t == 'H' || t == 'G' ? (t == 'H' ? "H" : "G") : arrows[policy[s]]);
            }
            std::printf("\n");
        }
        if (!json_path.empty()) {
            std::ostringstream j;
            j << "{\n  \"algorithm\": \"Q-learning\",\n  \"environment\": \"FrozenLake-v1 " << map << (still ? "" : " slippery")
              << "\",\n  \"episodes\": " << o.episodes << ",\n  \"alpha\": " << o.alpha << ",\n  \"gamma\": " << o.gamma
              << ",\n  \"epsilon\": [" << o.epsilon.start << ", " << o.epsilon.end << ", " << o.epsilon.steps << "],\n  \"seed\": " << seed_value
              << ",\n  \"seconds\": " << seconds << ",\n  \"success_rate\": " << sampled << ",\n  \"eval_episodes\": " << eval_episodes
              << ",\n  \"success_probability\": " << exact << ",\n  \"value_iteration_success_probability\": " << vi
              << ",\n  \"optimal_success_probability\": " << optimum << "\n}\n";
            io::write_file_atomic(json_path, j.str());
        }
    } catch (const ctnn::error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}
