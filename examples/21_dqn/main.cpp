// SPDX-License-Identifier: MIT
// DQN on CartPole-v1: a Q network 4 → 128 → ReLU → 128 → ReLU → 2, an experience-replay buffer, a target network
// (soft updates θ' ← τθ + (1 − τ)θ' each step, or a hard copy every N steps), ε-greedy exploration on a linear
// schedule, the Huber loss on the TD error, optionally Double DQN (the online network picks the next action, the
// target network values it). One Adam step per environment step once the buffer holds --learning-starts
// transitions. The PyTorch twin: tools/torch_rl.py dqn.
#include <ctnn/ctnn.hpp>

#include "../common/rl_loop.hpp"

using namespace ctnn;
namespace {
template <std::size_t N>
using linear = dense<N, true, initializer::torch>;
using q_net = sequential<input<4>, linear<128>, relu, linear<128>, relu, linear<2>>;

struct settings : example::rl_loop::options {
    std::size_t batch = 128, buffer = 10000, learning_starts = 1000, epsilon_steps = 10000, target_every = 0;
    double epsilon_start = 1.0, epsilon_end = 0.01, tau = 0.005, huber_delta = 1.0;
    bool double_dqn = false;
};

class agent {
public:
    agent(seed s, const settings& o)
        : m_o(o), m_q(s), m_target(m_q), m_act(m_q.context(1)), m_train(m_q.context(m_o.batch)), m_next(m_q.context(m_o.batch)),
          m_opt(m_q.parameters(), {.lr = m_o.lr}), m_replay(m_o.buffer, 4), m_g(seed{s.value + 99}),
          m_epsilon{m_o.epsilon_start, m_o.epsilon_end, m_o.epsilon_steps}, m_s(m_o.batch * 4), m_s2(m_o.batch * 4), m_r(m_o.batch),
          m_done(m_o.batch), m_y(m_o.batch), m_a(m_o.batch) {}

    std::pair<double, std::size_t> episode(rl::cartpole& env) {
        auto obs = env.reset();
        double ret = 0;
        std::size_t steps = 0;
        for (;;) {
            std::size_t a;
            if (m_g.uniform() < m_epsilon(m_steps)) a = std::size_t(m_g.below(2));
            else {
                const float* q = m_q.forward(std::span<const float>{obs.data(), 4}, m_act).data();
                a = q[1] > q[0] ? 1 : 0;
            }
            const auto r = env.step(a);
            m_replay.push(std::span<const float>{obs.data(), 4}, std::int32_t(a), float(r.reward),
                          std::span<const float>{r.observation.data(), 4}, r.terminated);
            obs = r.observation;
            ret += r.reward;
            ++steps;
            ++m_steps;
            if (m_replay.size() >= m_o.learning_starts) learn();
            if (r.done()) return {ret, steps};
        }
    }
    q_net& network() { return m_q; }

private:
    void learn() {
        const std::size_t B = m_o.batch;
        m_replay.sample(B, m_g, m_s, m_a, m_r, m_s2, m_done);
        // TD targets from the target network (and, for Double DQN, the online network's choice of action)
        const std::span<const float> s2{m_s2};
        const float* qt = m_target.forward(s2, m_next).data();
        std::span<const float> online;  // Double DQN: Q_online(s') in m_train, which the Q(s) forward below then reuses
        if (m_o.double_dqn) online = {m_q.forward(s2, m_train).data(), 2 * B};
        rl::td_targets(std::span<const float>{qt, 2 * B}, online, std::span<const float>(m_r), std::span<const float>(m_done), m_o.gamma,
                       std::span<float>(m_y), B);
        const float* q = m_q.forward(std::span<const float>{m_s}, m_train).data();
        auto dq = m_train.output_gradient();
        m_q.zero_grad();
        rl::q_loss{rl::td_error::huber, m_o.huber_delta}(std::span<const float>{q, 2 * B}, std::span<const std::int32_t>(m_a),
                                                         std::span<const float>(m_y), std::span<float>{dq.data(), 2 * B}, B);
        m_q.backward(dq, m_train);
        m_opt.step();
        ++m_updates;
        auto dst = m_target.parameter_values();
        const auto src = m_q.parameter_values();
        if (m_o.target_every > 0) {
            if (m_updates % m_o.target_every == 0) std::copy(src.begin(), src.end(), dst.begin());
        } else {
            const float tau = float(m_o.tau);
            for (std::size_t i = 0; i < dst.size(); ++i) dst[i] += tau * (src[i] - dst[i]);
        }
    }
    const settings& m_o;
    q_net m_q, m_target;
    q_net::context_type m_act, m_train, m_next;
    optim::adam<float> m_opt;
    rl::replay_buffer<float> m_replay;
    rng m_g;
    rl::linear_schedule m_epsilon;
    std::vector<float> m_s, m_s2, m_r, m_done, m_y;
    std::vector<std::int32_t> m_a;
    std::size_t m_steps = 0, m_updates = 0;
};
}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"ctnn example 21: DQN (and Double DQN) with experience replay on CartPole-v1"};
    settings s;
    s.max_episodes = 1000;
    s.lr = 1e-4;
    example::rl_loop::add_options(app, s);
    app.add_option("--batch", s.batch, "replay minibatch")->check(CLI::Range(1, 4096));
    app.add_option("--buffer", s.buffer, "replay capacity (transitions)")->check(CLI::Range(1, 10000000));
    app.add_option("--learning-starts", s.learning_starts, "transitions collected before the first update")->check(CLI::Range(1, 10000000));
    app.add_option("--epsilon-start", s.epsilon_start, "ε at the first step")->check(CLI::Range(0.0, 1.0));
    app.add_option("--epsilon-end", s.epsilon_end, "ε after the schedule")->check(CLI::Range(0.0, 1.0));
    app.add_option("--epsilon-steps", s.epsilon_steps, "steps of the linear ε schedule")->check(CLI::Range(1, 100000000));
    app.add_option("--tau", s.tau, "soft target update rate (each update)")->check(CLI::Range(0.0, 1.0));
    app.add_option("--target-every", s.target_every, "hard target copy every N updates instead of soft updates (0: soft)");
    app.add_option("--huber-delta", s.huber_delta, "Huber loss threshold")->check(CLI::PositiveNumber);
    app.add_flag("--double", s.double_dqn, "Double DQN targets");
    CLI11_PARSE(app, argc, argv);
    if (s.batch > s.learning_starts) s.learning_starts = s.batch;
    std::ostringstream cfg;
    cfg << "\"double\": " << (s.double_dqn ? "true" : "false") << ", \"batch\": " << s.batch << ", \"buffer\": " << s.buffer
        << ", \"learning_starts\": " << s.learning_starts << ", \"epsilon\": [" << s.epsilon_start << ", " << s.epsilon_end << ", "
        << s.epsilon_steps << "], \"tau\": " << s.tau << ", \"target_every\": " << s.target_every << ", \"huber_delta\": " << s.huber_delta;
    return example::rl_loop::run<agent>(s, s.double_dqn ? "Double DQN" : "DQN", cfg.str(),
                                        [](agent& a, const std::string& p) { save_npz(a.network(), p); });
}
