// SPDX-License-Identifier: MIT
// ctnn::rl: the environments against Gymnasium's own classes (tests/data/gym_reference.npz, written by
// tools/export_gym_reference.py from a Gymnasium checkout), tabular Q-learning and dynamic programming, the RL
// losses by finite differences and on hand-computed values, the replay buffer.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <ctnn/ctnn.hpp>
#include <ctnn/rl/environments.hpp>
#include <ctnn/rl/losses.hpp>
#include <ctnn/rl/replay.hpp>
#include <ctnn/rl/tabular.hpp>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "../../support/npz_floats.hpp"

using namespace ctnn;
using ctnn::test::npz_doubles;
using ctnn::test::npz_floats;
using ctnn::test::npz_ints;

namespace {
const auto& gym_reference() {
    static const auto a = io::read_npz(std::string(CTNN_TEST_DATA_DIR) + "/gym_reference.npz");
    return a;
}
}  // namespace

TEST_CASE("rl::cartpole follows Gymnasium's CartPoleEnv step for step", "[rl]") {
    const auto& ref = gym_reference();
    for (int e = 0; e < 7; ++e) {
        const std::string p = "cartpole." + std::to_string(e) + ".";
        INFO("episode " << e);
        const auto start = npz_doubles(ref, p + "start");
        const auto actions = npz_ints(ref, p + "actions");
        const auto states = npz_doubles(ref, p + "states");
        const auto obs = npz_floats(ref, p + "observations");
        const auto rewards = npz_doubles(ref, p + "rewards");
        const auto terminated = npz_ints(ref, p + "terminated");
        const bool semi = npz_ints(ref, p + "integrator")[0] == 1;
        const rl::cartpole::options o{.kinematics = semi ? rl::cartpole::integrator::semi_implicit_euler : rl::cartpole::integrator::euler};
        const std::size_t n = actions.size();
        // 1. The equations: every step from Gymnasium's state before it (the pole is unstable, e-folding in ~0.2 s,
        //    so a rollout amplifies the last-bit differences of two sin/cos implementations: checked apart, in 2.)
        rl::cartpole env{o};
        for (std::size_t t = 0; t < n; ++t) {
            INFO("step " << t);
            env.reset_to(t == 0 ? rl::cartpole::state_type{start[0], start[1], start[2], start[3]}
                                : rl::cartpole::state_type{states[t * 4 - 4], states[t * 4 - 3], states[t * 4 - 2], states[t * 4 - 1]});
            const auto r = env.step(std::size_t(actions[t]));
            for (std::size_t k = 0; k < 4; ++k) {
                REQUIRE(env.state()[k] == Approx(states[t * 4 + k]).margin(1e-14).epsilon(1e-13));
                REQUIRE(r.observation[k] == Approx(obs[t * 4 + k]).margin(1e-7).epsilon(1e-7));
            }
            REQUIRE(r.reward == rewards[t]);
            REQUIRE(r.terminated == (terminated[t] == 1));
        }
        // 2. The episode: rolled out from the start with the same actions (episode 6: the same balancing controller,
        //    closed loop), ending when Gymnasium's did — terminated, or truncated by the 500-step limit.
        env.reset_to({start[0], start[1], start[2], start[3]});
        for (std::size_t t = 0; t < n; ++t) {
            INFO("rollout step " << t);
            const auto& [x, xd, th, thd] = env.state();
            const std::size_t a = n == 500 ? (th + 0.5 * thd + 0.01 * x + 0.1 * xd > 0 ? 1 : 0) : std::size_t(actions[t]);
            const auto r = env.step(a);
            if (t < 250) {  // after 5 s the two runs' last-bit differences have grown past 1e-7
                REQUIRE(a == std::size_t(actions[t]));
                for (std::size_t k = 0; k < 4; ++k) REQUIRE(env.state()[k] == Approx(states[t * 4 + k]).margin(1e-7));
            }
            REQUIRE(r.terminated == (terminated[t] == 1));
            REQUIRE(r.truncated == (t + 1 == 500 && !r.terminated));  // Gymnasium's TimeLimit(500)
        }
        if (n == 500) CHECK(terminated.back() == 0);  // the controlled episode reached the time limit
        CHECK_THROWS_WITH(env.step(0), Catch::Contains("call reset() first"));
    }
}

TEST_CASE("rl::cartpole: resets, bad actions and the time limit", "[rl]") {
    rl::cartpole env;
    const auto a = env.reset(seed{3});
    for (float v : a) REQUIRE(std::abs(v) <= 0.05f);
    rl::cartpole other;
    CHECK(other.reset(seed{3}) == a);      // reproducible from the seed
    CHECK(env.reset() != a);               // the stream continues
    CHECK_THROWS_WITH(env.step(2), Catch::Contains("action 2 is outside {0, 1}"));
    rl::cartpole short_env{{.max_steps = 3}};
    short_env.reset_to({0, 0, 0, 0});
    CHECK_FALSE(short_env.step(0).done());
    CHECK_FALSE(short_env.step(1).done());
    const auto r = short_env.step(0);
    CHECK(r.truncated);
    CHECK_FALSE(r.terminated);
    CHECK_THROWS_AS(rl::cartpole({.max_steps = 0}), ctnn::error);
    CHECK_THROWS_AS(env.reset_to({0, NAN, 0, 0}), ctnn::error);
}

TEST_CASE("rl::frozen_lake has Gymnasium's transition model", "[rl]") {
    const auto& ref = gym_reference();
    for (const char* name : {"4x4", "8x8"})
        for (bool slippery : {true, false}) {
            INFO(name << (slippery ? " slippery" : " not slippery"));
            const auto P = npz_doubles(ref, std::string("frozen_lake.") + name + (slippery ? ".slippery" : ".still"));
            const rl::frozen_lake env{std::string(name) == "4x4" ? rl::frozen_lake::map_4x4() : rl::frozen_lake::map_8x8(),
                                      {.slippery = slippery}};
            REQUIRE(P.size() == env.state_count() * 4 * 3 * 4);
            CHECK(env.max_steps() == (std::string(name) == "4x4" ? 100u : 200u));
            for (std::size_t s = 0; s < env.state_count(); ++s)
                for (std::size_t a = 0; a < 4; ++a) {
                    const auto& ts = env.transitions(s, a);
                    for (std::size_t k = 0; k < 3; ++k) {
                        const double* row = P.data() + ((s * 4 + a) * 3 + k) * 4;
                        if (k >= ts.size()) {
                            REQUIRE(row[0] == 0.0);
                            continue;
                        }
                        REQUIRE(ts[k].probability == Approx(row[0]).epsilon(1e-15));
                        REQUIRE(double(ts[k].next) == row[1]);
                        REQUIRE(ts[k].reward == row[2]);
                        REQUIRE(ts[k].terminal == (row[3] == 1.0));
                    }
                }
        }
}

TEST_CASE("rl::frozen_lake: stepping, limits and bad maps", "[rl]") {
    rl::frozen_lake still{{"SFG"}, {.slippery = false, .max_steps = 5}};
    CHECK(still.reset(seed{1}) == 0u);
    auto r = still.step(rl::frozen_lake::right);
    CHECK((r.observation == 1u && r.reward == 0.0 && !r.done()));
    r = still.step(rl::frozen_lake::right);
    CHECK((r.observation == 2u && r.reward == 1.0 && r.terminated));
    CHECK_THROWS_WITH(still.step(0), Catch::Contains("call reset() first"));
    still.reset();
    for (int i = 0; i < 4; ++i) CHECK_FALSE(still.step(rl::frozen_lake::left).done());  // bumps the wall
    CHECK(still.step(rl::frozen_lake::up).truncated);
    CHECK_THROWS_WITH(still.step(4), Catch::Contains("action 4 is outside"));
    CHECK_THROWS_WITH(rl::frozen_lake({"SF", "F"}, {}), Catch::Contains("map row 1 has 1 tiles, expected 2"));
    CHECK_THROWS_WITH(rl::frozen_lake({"SX", "FG"}, {}), Catch::Contains("is 'X'"));
    CHECK_THROWS_WITH(rl::frozen_lake({"FF", "FG"}, {}), Catch::Contains("0 start tiles"));
    CHECK_THROWS_WITH(rl::frozen_lake({"SF", "FH"}, {}), Catch::Contains("no goal"));
    // slippery moves: each of the three directions about a third of the time
    rl::frozen_lake lake{{"FFF", "FSF", "FFG"}, {.slippery = true}};
    lake.reset(seed{5});
    std::size_t counts[9] = {};
    for (int i = 0; i < 30000; ++i) {
        lake.reset();
        ++counts[lake.step(rl::frozen_lake::down).observation];
    }
    CHECK(counts[7] == Approx(10000).margin(300));  // down
    CHECK(counts[3] == Approx(10000).margin(300));  // left
    CHECK(counts[5] == Approx(10000).margin(300));  // right
    CHECK(counts[1] == 0u);                          // never up
}

TEST_CASE("rl: Q-learning on a tiny deterministic lake converges to value iteration's Q*", "[rl]") {
    rl::frozen_lake lake{{"SFF", "HFG"}, {.slippery = false}};
    const double gamma = 0.9;
    const auto qstar = rl::value_iteration(lake, gamma);
    // hand-computed: from S the goal is 3 moves away (right, right, down or right, down, right)
    CHECK(qstar.max(0) == Approx(gamma * gamma));
    CHECK(qstar(0, rl::frozen_lake::down) == 0.0);       // into the hole
    CHECK(qstar(4, rl::frozen_lake::right) == Approx(1.0));  // F next to G
    std::vector<double> returns;
    const auto q = rl::q_learning(lake, {.episodes = 3000, .alpha = 0.5, .gamma = gamma, .epsilon = {1.0, 0.1, 1000}}, seed{7},
                                  [&](std::size_t, double ret) { returns.push_back(ret); });
    REQUIRE(returns.size() == 3000u);
    for (std::size_t s : {0u, 1u, 4u})
        for (std::size_t a = 0; a < 4; ++a) {
            INFO("state " << s << " action " << a);
            CHECK(q(s, a) == Approx(qstar(s, a)).margin(1e-6));
        }
    CHECK(rl::success_probability(lake, q.policy()) == 1.0);
    CHECK(rl::evaluate_policy(lake, q.policy(), 10, seed{1}) == 1.0);
}

TEST_CASE("rl: dynamic programming on the slippery 4x4 lake: Gymnasium's optimum 0.74 and a sampled check", "[rl]") {
    rl::frozen_lake lake;
    const double best = rl::optimal_success_probability(lake);
    CHECK(best == Approx(0.74).margin(0.01));  // Gymnasium's registration: "optimum = 0.74"
    const auto policy = rl::value_iteration(lake, 0.999).policy();
    const double exact = rl::success_probability(lake, policy);
    CHECK(exact <= best + 1e-12);
    CHECK(exact > best - 0.01);  // a stationary policy loses almost nothing to the time-dependent optimum
    const std::size_t n = 20000;
    const double sampled = rl::evaluate_policy(lake, policy, n, seed{11});
    CHECK(sampled == Approx(exact).margin(4 * std::sqrt(exact * (1 - exact) / double(n))));
    CHECK_THROWS_WITH(rl::success_probability(lake, std::vector<std::size_t>(3)), Catch::Contains("expected one per state (16)"));
}

namespace {
// dL/dz by central differences of f(z) (double), compared with the analytic gradient
template <class F>
void check_fd(std::vector<double> z, const std::vector<double>& analytic, F&& f) {
    for (std::size_t i = 0; i < z.size(); ++i) {
        const double h = 1e-6, z0 = z[i];
        z[i] = z0 + h;
        const double up = f(z);
        z[i] = z0 - h;
        const double down = f(z);
        z[i] = z0;
        INFO("element " << i);
        CHECK(analytic[i] == Approx((up - down) / (2 * h)).margin(1e-8));
    }
}
}  // namespace

TEST_CASE("rl::policy_gradient: value and finite-difference gradient, with and without entropy", "[rl][gradient]") {
    const std::size_t B = 4, A = 3;
    std::vector<double> z = {0.1, -0.4, 0.9, 1.5, 0.2, -0.3, -1.0, 0.0, 2.0, 0.3, 0.3, 0.3};
    const std::vector<std::int32_t> a = {2, 0, 1, 1};
    const std::vector<double> w = {1.5, -0.7, 2.0, 0.25};
    for (double beta : {0.0, 0.1}) {
        INFO("entropy " << beta);
        const rl::policy_gradient pg{beta};
        std::vector<double> dz(B * A);
        const auto r = pg(std::span<const double>(z), std::span<const std::int32_t>(a), std::span<const double>(w), std::span<double>(dz), B);
        // by hand: −mean(w log softmax(z)[a]) − β mean(H)
        double expect = 0, h = 0;
        for (std::size_t i = 0; i < B; ++i) {
            double s = 0;
            for (std::size_t j = 0; j < A; ++j) s += std::exp(z[i * A + j]);
            double hi = 0;
            for (std::size_t j = 0; j < A; ++j) {
                const double p = std::exp(z[i * A + j]) / s;
                hi -= p * std::log(p);
            }
            expect -= (w[i] * (z[i * A + a[i]] - std::log(s)) + beta * hi) / B;
            h += hi / B;
        }
        CHECK(r.loss == Approx(expect).epsilon(1e-14));
        CHECK(r.entropy == Approx(h).epsilon(1e-14));
        CHECK(r.entropy < std::log(3.0));
        check_fd(z, dz, [&](const std::vector<double>& zz) {
            std::vector<double> d(B * A);
            return pg(std::span<const double>(zz), std::span<const std::int32_t>(a), std::span<const double>(w), std::span<double>(d), B).loss;
        });
    }
    std::vector<float> zf(6), dzf(6), wf(2, 1.0f);
    const std::vector<std::int32_t> bad = {0, 3};
    CHECK_THROWS_WITH(rl::policy_gradient{}(std::span<const float>(zf), std::span<const std::int32_t>(bad), std::span<const float>(wf),
                                            std::span<float>(dzf), 2),
                      Catch::Contains("action 3 at index 1 is outside [0, 3)"));
    CHECK_THROWS_WITH(rl::policy_gradient{}(std::span<const float>(zf), std::span<const std::int32_t>(bad), std::span<const float>(wf),
                                            std::span<float>(dzf), 4),
                      Catch::Contains("6 outputs do not split into a batch of 4"));
}

TEST_CASE("rl::q_loss: Huber and squared TD errors on the chosen actions only", "[rl][gradient]") {
    const std::size_t B = 3, A = 2;
    const std::vector<double> q = {0.5, 2.0, -1.0, 0.25, 3.0, 3.5};
    const std::vector<std::int32_t> a = {1, 0, 1};
    const std::vector<double> y = {1.7, 1.5, 3.0};  // errors 0.3 (quadratic), −2.5 (linear), 0.5
    std::vector<double> dq(B * A);
    const double huber = rl::q_loss{}(std::span<const double>(q), std::span<const std::int32_t>(a), std::span<const double>(y),
                                      std::span<double>(dq), B);
    CHECK(huber == Approx((0.5 * 0.09 + (2.5 - 0.5) + 0.5 * 0.25) / 3).epsilon(1e-14));
    const std::vector<double> dq_expected = {0, 0.3 / 3, -1.0 / 3, 0, 0, 0.5 / 3};
    for (std::size_t i = 0; i < dq.size(); ++i) CHECK(dq[i] == Approx(dq_expected[i]).margin(1e-15));
    for (auto kind : {rl::td_error::huber, rl::td_error::squared}) {
        const rl::q_loss l{kind, 1.0};
        std::vector<double> g(B * A);
        l(std::span<const double>(q), std::span<const std::int32_t>(a), std::span<const double>(y), std::span<double>(g), B);
        check_fd(q, g, [&](const std::vector<double>& qq) {
            std::vector<double> d(B * A);
            return l(std::span<const double>(qq), std::span<const std::int32_t>(a), std::span<const double>(y), std::span<double>(d), B);
        });
    }
    const double sq = rl::q_loss{rl::td_error::squared}(std::span<const double>(q), std::span<const std::int32_t>(a),
                                                        std::span<const double>(y), std::span<double>(dq), B);
    CHECK(sq == Approx((0.09 + 6.25 + 0.25) / 3).epsilon(1e-14));
    CHECK_THROWS_WITH((rl::q_loss{rl::td_error::huber, 0.0}(std::span<const double>(q), std::span<const std::int32_t>(a),
                                                            std::span<const double>(y), std::span<double>(dq), B)),
                      Catch::Contains("delta must be positive"));
}

TEST_CASE("rl: discounted returns and (double) DQN targets by hand", "[rl]") {
    const std::vector<float> r = {1, 0, 2};
    std::vector<float> g(3);
    rl::discounted_returns(std::span<const float>(r), 0.5, 4.0, std::span<float>(g));
    CHECK(g == std::vector<float>{1 + 0.5f * (0 + 0.5f * (2 + 0.5f * 4)), 0 + 0.5f * (2 + 0.5f * 4), 2 + 0.5f * 4});
    rl::discounted_returns(std::span<const float>(g), 1.0, 0.0, std::span<float>(g));  // in place
    CHECK(g[2] == 4.0f);
    // next-state Q values of 2 samples, 3 actions; the online network prefers another action than the target's
    const std::vector<double> target = {1.0, 5.0, 2.0, 0.5, 0.25, 3.0};
    const std::vector<double> online = {9.0, 1.0, 2.0, 0.0, 4.0, 1.0};
    const std::vector<double> rew = {1.0, -1.0}, term = {0.0, 1.0};
    std::vector<double> y(2);
    rl::td_targets(std::span<const double>(target), std::span<const double>{}, std::span<const double>(rew), std::span<const double>(term),
                   0.9, std::span<double>(y), 2);
    CHECK(y == std::vector<double>{1.0 + 0.9 * 5.0, -1.0});
    rl::td_targets(std::span<const double>(target), std::span<const double>(online), std::span<const double>(rew),
                   std::span<const double>(term), 0.9, std::span<double>(y), 2);
    CHECK(y == std::vector<double>{1.0 + 0.9 * 1.0, -1.0});  // Double DQN: Q_target(s', argmax Q_online) = Q_target(s', 0)
    CHECK_THROWS_WITH(rl::td_targets(std::span<const double>(target), std::span<const double>(online.data(), 4), std::span<const double>(rew),
                                     std::span<const double>(term), 0.9, std::span<double>(y), 2),
                      Catch::Contains("expected 6"));
}

TEST_CASE("rl::replay_buffer: a ring of transitions sampled uniformly", "[rl]") {
    rl::replay_buffer<float> buf(4, 2);
    CHECK_THROWS_WITH(([&] {
                          rng g{seed{1}};
                          std::vector<float> s(2), n(2), r(1), d(1);
                          std::vector<std::int32_t> a(1);
                          buf.sample(1, g, s, a, r, n, d);
                      }()),
                      Catch::Contains("empty buffer"));
    for (int i = 0; i < 6; ++i) {  // 0 and 1 are overwritten by 4 and 5
        const std::vector<float> s = {float(i), float(10 * i)}, n = {float(i + 1), float(10 * (i + 1))};
        buf.push(s, i % 2, float(i) / 2, n, i == 5);
    }
    CHECK(buf.size() == 4u);
    rng g{seed{2}};
    const std::size_t B = 400;
    std::vector<float> s(2 * B), n(2 * B), r(B), d(B);
    std::vector<std::int32_t> a(B);
    buf.sample(B, g, s, a, r, n, d);
    std::set<int> seen;
    for (std::size_t k = 0; k < B; ++k) {
        const int i = int(s[2 * k]);
        seen.insert(i);
        REQUIRE(i >= 2);
        REQUIRE(s[2 * k + 1] == 10.0f * float(i));
        REQUIRE(n[2 * k] == float(i + 1));
        REQUIRE(a[k] == i % 2);
        REQUIRE(r[k] == float(i) / 2);
        REQUIRE(d[k] == (i == 5 ? 1.0f : 0.0f));
    }
    CHECK(seen == std::set<int>{2, 3, 4, 5});
    const std::vector<float> three(3);
    CHECK_THROWS_WITH(buf.push(three, 0, 0.f, three, false), Catch::Contains("has 3 values, expected 2"));
    CHECK_THROWS_AS(rl::replay_buffer<float>(0, 4), ctnn::error);
}
