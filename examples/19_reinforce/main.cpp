// SPDX-License-Identifier: MIT
// REINFORCE with a learned baseline on CartPole-v1 (ctnn::rl::cartpole, Gymnasium's equations): a policy network
// 4 → 128 → ReLU → 2 logits and a value network 4 → 128 → ReLU → 1, one update of each per episode on the whole
// episode as one batch: the policy-gradient loss with advantages A_t = G_t − V(s_t) (normalised over the episode),
// the value network by MSE to the returns G_t. Adam for both. The PyTorch twin: tools/torch_rl.py reinforce.
#include <ctnn/ctnn.hpp>

#include "../common/rl_loop.hpp"

using namespace ctnn;
namespace {
template <std::size_t N>
using linear = dense<N, true, initializer::torch>;  // nn.Linear's default initialisation
using policy_net = sequential<input<4>, linear<128>, relu, linear<2>>;
using value_net = sequential<input<4>, linear<128>, relu, linear<1>>;
constexpr std::size_t max_len = 500;  // CartPole-v1's time limit: the longest episode, one update's batch

struct settings : example::rl_loop::options {
    double value_lr = 1e-3, entropy = 0.0;
    bool normalize = true;
};

class agent {
public:
    agent(seed s, const settings& o)
        : m_o(o), m_pi(seed{s.value * 2 + 1}), m_v(seed{s.value * 2 + 2}), m_act(m_pi.context(1)), m_cpi(m_pi.context(max_len)),
          m_cv(m_v.context(max_len)), m_opi(m_pi.parameters(), {.lr = m_o.lr}), m_ov(m_v.parameters(), {.lr = m_o.value_lr}), m_g(seed{s.value + 99}) {
        m_states.reserve(max_len * 4);
    }

    /// One episode, then one update; returns the return and the steps.
    std::pair<double, std::size_t> episode(rl::cartpole& env) {
        m_states.clear();
        m_actions.clear();
        m_rewards.clear();
        auto obs = env.reset();
        rl::step_result<rl::cartpole::observation> r;
        do {
            const std::span<const float> x{obs.data(), 4};
            const float* logits = m_pi.forward(x, m_act).data();
            const std::size_t a = example::rl_loop::sample_softmax(logits, 2, m_g);
            m_states.insert(m_states.end(), obs.begin(), obs.end());
            m_actions.push_back(std::int32_t(a));
            r = env.step(a);
            m_rewards.push_back(float(r.reward));
            obs = r.observation;
        } while (!r.done());
        update(r.truncated ? bootstrap(obs) : 0.0);
        return {double(m_rewards.size()), m_rewards.size()};
    }
    policy_net& policy() { return m_pi; }

private:
    double bootstrap(const rl::cartpole::observation& obs) {  // V(s) of the state the time limit cut at (update() reruns m_cv)
        return m_v.forward(std::span<const float>{obs.data(), 4}, m_cv).data()[0];
    }
    void update(double bootstrap_value) {
        const std::size_t n = m_rewards.size();
        m_returns.resize(n);
        rl::discounted_returns(std::span<const float>(m_rewards), m_o.gamma, bootstrap_value, std::span<float>(m_returns));
        const std::span<const float> xs{m_states.data(), n * 4};
        // the baseline: V(s_t) (its training step reuses this forward)
        const float* v = m_v.forward(xs, m_cv).data();
        m_adv.resize(n);
        for (std::size_t t = 0; t < n; ++t) m_adv[t] = m_returns[t] - v[t];
        if (m_o.normalize && n > 1) {
            double mean = 0, var = 0;
            for (float a : m_adv) mean += a / double(n);
            for (float a : m_adv) var += (a - mean) * (a - mean) / double(n - 1);
            const double inv = 1.0 / (std::sqrt(var) + 1e-8);
            for (float& a : m_adv) a = float((a - mean) * inv);
        }
        m_v.zero_grad();
        auto dv = m_cv.output_gradient();
        loss::mse{}(std::span<const float>{v, n}, std::span<const float>(m_returns), dv);
        m_v.backward(dv, m_cv);
        m_ov.step();
        // the policy
        const float* z = m_pi.forward(xs, m_cpi).data();
        auto dz = m_cpi.output_gradient();
        m_pi.zero_grad();
        rl::policy_gradient{m_o.entropy}(std::span<const float>{z, 2 * n}, std::span<const std::int32_t>(m_actions),
                                         std::span<const float>(m_adv), std::span<float>{dz.data(), 2 * n}, n);
        m_pi.backward(dz, m_cpi);
        m_opi.step();
    }
    const settings& m_o;
    policy_net m_pi;
    value_net m_v;
    policy_net::context_type m_act, m_cpi;
    value_net::context_type m_cv;
    optim::adam<float> m_opi, m_ov;
    rng m_g;
    std::vector<float> m_states, m_rewards, m_returns, m_adv;
    std::vector<std::int32_t> m_actions;
};
}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"ctnn example 19: REINFORCE with a learned baseline on CartPole-v1"};
    settings s;
    s.max_episodes = 2000;
    s.lr = 1e-3;
    example::rl_loop::add_options(app, s);
    app.add_option("--value-lr", s.value_lr, "the value network's Adam learning rate")->check(CLI::PositiveNumber);
    app.add_option("--entropy", s.entropy, "entropy bonus β")->check(CLI::Range(0.0, 1.0));
    app.add_flag("!--no-normalize", s.normalize, "use the raw advantages (default: normalised over each episode)");
    CLI11_PARSE(app, argc, argv);
    std::ostringstream cfg;
    cfg << "\"value_lr\": " << s.value_lr << ", \"entropy\": " << s.entropy << ", \"normalize\": " << (s.normalize ? "true" : "false");
    return example::rl_loop::run<agent>(s, "REINFORCE", cfg.str(), [](agent& a, const std::string& p) { save_npz(a.policy(), p); });
}
