// SPDX-License-Identifier: MIT
// Advantage actor-critic (A2C, one environment) on CartPole-v1: one network, a shared trunk 4 → 128 → ReLU and two
// heads — policy logits (2) and the state value (1) — as a ctnn graph with two outputs, trained with two losses:
// every n steps (or at the episode's end) the n-step returns R_t (bootstrapped from V of the next state unless the
// episode terminated) give advantages A_t = R_t − V(s_t); loss = policy_gradient(A) − β·entropy + c_v·MSE(V, R),
// one Adam step. The PyTorch twin: tools/torch_rl.py a2c.
#include <ctnn/ctnn.hpp>

#include "../common/rl_loop.hpp"

using namespace ctnn;
namespace {
template <std::size_t N>
using linear = dense<N, true, initializer::torch>;
using actor_critic = graph<inputs<input<4>>,                                    // id 0: the observation
                           node<from<0>, named<"trunk", chain<linear<128>, relu>>>,  // 1
                           node<from<1>, named<"policy", linear<2>>>,           // 2: action logits
                           node<from<1>, named<"value", linear<1>>>,            // 3: V(s)
                           outputs<2, 3>>;

struct settings : example::rl_loop::options {
    std::size_t n_steps = 32;
    double value_coef = 0.5, entropy = 0.01;
};

class agent {
public:
    agent(seed s, const settings& o)
        : m_o(o), m_net(s), m_act(m_net.context(1)), m_train(m_net.context(m_o.n_steps)),
          m_opt(m_net.parameters(), {.lr = m_o.lr}), m_g(seed{s.value + 99}) {}

    std::pair<double, std::size_t> episode(rl::cartpole& env) {
        auto obs = env.reset();
        std::size_t steps = 0;
        for (;;) {
            const float* logits = std::get<0>(m_net.forward(std::tuple{as_span(obs)}, m_act)).data();
            const std::size_t a = example::rl_loop::sample_softmax(logits, 2, m_g);
            m_states.insert(m_states.end(), obs.begin(), obs.end());
            m_actions.push_back(std::int32_t(a));
            const auto r = env.step(a);
            m_rewards.push_back(float(r.reward));
            ++steps;
            obs = r.observation;
            if (r.done() || m_actions.size() == m_o.n_steps) {
                // bootstrap from V(s') unless s' is terminal (a truncated episode's last state is not)
                const double v_next = r.terminated ? 0.0 : double(std::get<1>(m_net.forward(std::tuple{as_span(obs)}, m_act)).data()[0]);
                update(v_next);
            }
            if (r.done()) return {double(steps), steps};
        }
    }
    actor_critic& network() { return m_net; }

private:
    static std::span<const float> as_span(const rl::cartpole::observation& o) { return {o.data(), o.size()}; }
    void update(double v_next) {
        const std::size_t n = m_actions.size();
        m_returns.resize(n);
        rl::discounted_returns(std::span<const float>(m_rewards), m_o.gamma, v_next, std::span<float>(m_returns));
        const std::span<const float> xs{m_states.data(), n * 4};
        auto [logits, values] = m_net.forward(std::tie(xs), m_train);
        m_adv.resize(n);
        for (std::size_t t = 0; t < n; ++t) m_adv[t] = m_returns[t] - values.data()[t];
        auto dz = m_train.output_gradient<0>();
        auto dv = m_train.output_gradient<1>();
        m_net.zero_grad();
        rl::policy_gradient{m_o.entropy}(std::span<const float>{logits.data(), 2 * n}, std::span<const std::int32_t>(m_actions),
                                         std::span<const float>(m_adv), std::span<float>{dz.data(), 2 * n}, n);
        loss::mse{}(std::span<const float>{values.data(), n}, std::span<const float>(m_returns), dv);
        for (std::size_t t = 0; t < n; ++t) dv.data()[t] *= float(m_o.value_coef);
        m_net.backward(std::tuple{dz, dv}, m_train);
        m_opt.step();
        m_states.clear();
        m_actions.clear();
        m_rewards.clear();
    }
    const settings& m_o;
    actor_critic m_net;
    actor_critic::context_type m_act, m_train;
    optim::adam<float> m_opt;
    rng m_g;
    std::vector<float> m_states, m_rewards, m_returns, m_adv;
    std::vector<std::int32_t> m_actions;
};
}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"ctnn example 20: advantage actor-critic (shared trunk, policy and value heads) on CartPole-v1"};
    settings s;
    s.max_episodes = 3000;
    s.lr = 1e-3;
    example::rl_loop::add_options(app, s);
    app.add_option("--n-steps", s.n_steps, "steps per update (fewer at an episode's end)")->check(CLI::Range(1, 500));
    app.add_option("--value-coef", s.value_coef, "weight c_v of the value loss")->check(CLI::PositiveNumber);
    app.add_option("--entropy", s.entropy, "entropy bonus β")->check(CLI::Range(0.0, 1.0));
    CLI11_PARSE(app, argc, argv);
    std::ostringstream cfg;
    cfg << "\"n_steps\": " << s.n_steps << ", \"value_coef\": " << s.value_coef << ", \"entropy\": " << s.entropy;
    return example::rl_loop::run<agent>(s, "A2C", cfg.str(), [](agent& a, const std::string& p) { save_npz(a.network(), p); });
}
