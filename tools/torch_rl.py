#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""PyTorch twins of the CartPole-v1 examples 19 (REINFORCE with a learned baseline), 20 (A2C) and 21 (DQN,
Double DQN): the same algorithms, networks, update order, defaults, options, table and JSON, for a wall-time
comparison of ctnn and PyTorch. Run with Debian's /usr/bin/python3 (python3-torch):

    /usr/bin/python3 tools/torch_rl.py reinforce [--value-lr 1e-3] [--entropy 0] [--no-normalize] [common]
    /usr/bin/python3 tools/torch_rl.py a2c [--n-steps 32] [--value-coef 0.5] [--entropy 0.01] [common]
    /usr/bin/python3 tools/torch_rl.py dqn [--double] [--batch 128] [--buffer 10000] [--learning-starts 1000]
        [--epsilon-start 1] [--epsilon-end 0.01] [--epsilon-steps 10000] [--tau 0.005] [--target-every 0]
        [--huber-delta 1] [common]

common: --episodes N --seed S --seeds K --lr LR --gamma G --threads T --keep-going --json OUT.json
--history H.csv (H.csv.seedN.csv for several seeds) --save NET.npz (the first seed's network, its state_dict).
A seed's run stops once the mean return of the last 100 episodes reaches 475 (unless --keep-going); its time is
the wall time from the start of training to the solve. The defaults are the C++ examples' (DEFAULTS below).
CartPole is Gymnasium's CartPoleEnv (TimeLimit 500) in plain Python floats; the random streams are not ctnn's, so
the episodes to solve differ between the frameworks: compare the time per environment step.
"""
import argparse
import copy
import math
import os
import random
import sys
import time
from collections import deque

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_torch import save_state_dict, write_atomic, write_json  # noqa: E402
from fashion_mnist import setup_torch  # noqa: E402

# The C++ examples' defaults (examples/19_reinforce, 20_actor_critic, 21_dqn main.cpp and common/rl_loop.hpp).
COMMON = dict(seed=1, seeds=1, gamma=0.99, threads=1)
DEFAULTS = {
    "reinforce": dict(episodes=2000, lr=1e-3, value_lr=1e-3, entropy=0.0),
    "a2c": dict(episodes=3000, lr=1e-3, n_steps=32, value_coef=0.5, entropy=0.01),
    "dqn": dict(episodes=1000, lr=1e-4, batch=128, buffer=10000, learning_starts=1000, epsilon_start=1.0, epsilon_end=0.01,
                epsilon_steps=10000, tau=0.005, target_every=0, huber_delta=1.0),
}
SOLVED_AT, WINDOW = 475.0, 100


class CartPole:
    """Gymnasium's CartPoleEnv with TimeLimit(500): the state in Python floats (float64), reset uniform in ±0.05."""
    GRAVITY, MASS_POLE, TOTAL_MASS, HALF_LENGTH, FORCE, TAU = 9.8, 0.1, 1.0 + 0.1, 0.5, 10.0, 0.02
    POLE_MASS_LENGTH = MASS_POLE * HALF_LENGTH
    THETA_LIMIT, X_LIMIT = 12 * 2 * math.pi / 360, 2.4

    def __init__(self, seed, max_steps=500):
        self.rng, self.max_steps = random.Random(seed), max_steps

    def reset(self):
        self.state = tuple(self.rng.uniform(-0.05, 0.05) for _ in range(4))
        self.steps = 0
        return self.state

    def step(self, action):
        """→ (observation: the state tuple, reward, terminated, truncated); Gymnasium's order of operations."""
        x, x_dot, theta, theta_dot = self.state
        force = self.FORCE if action == 1 else -self.FORCE
        c, s = math.cos(theta), math.sin(theta)
        temp = (force + self.POLE_MASS_LENGTH * (theta_dot * theta_dot) * s) / self.TOTAL_MASS
        theta_acc = (self.GRAVITY * s - c * temp) / (self.HALF_LENGTH * (4.0 / 3.0 - self.MASS_POLE * (c * c) / self.TOTAL_MASS))
        x_acc = temp - self.POLE_MASS_LENGTH * theta_acc * c / self.TOTAL_MASS
        x, x_dot = x + self.TAU * x_dot, x_dot + self.TAU * x_acc
        theta, theta_dot = theta + self.TAU * theta_dot, theta_dot + self.TAU * theta_acc
        self.state = (x, x_dot, theta, theta_dot)
        terminated = x < -self.X_LIMIT or x > self.X_LIMIT or theta < -self.THETA_LIMIT or theta > self.THETA_LIMIT
        self.steps += 1
        return self.state, 1.0, terminated, not terminated and self.steps >= self.max_steps


def as_batch(states):
    """Observations (float64 tuples) → a float32 tensor [n, 4], as the C++ observation's float."""
    return torch.tensor(states, dtype=torch.float32)


def sample_softmax(logits, u):
    """An action drawn from softmax(logits) with one uniform number u (rl_loop.hpp's sample_softmax)."""
    m = max(logits)
    p = [math.exp(z - m) for z in logits]
    u *= sum(p)
    for j in range(len(p) - 1):
        u -= p[j]
        if u < 0:
            return j
    return len(p) - 1


def discounted_returns(rewards, gamma, bootstrap):
    out, g = [0.0] * len(rewards), bootstrap
    for t in reversed(range(len(rewards))):
        g = rewards[t] + gamma * g
        out[t] = g
    return out


def policy_gradient_loss(logits, actions, weights, beta):
    """−mean(w · log π(a|s)) − β · mean(H(π(·|s))) (rl::policy_gradient); weights are constants."""
    logp = F.log_softmax(logits, 1)
    entropy = -(logp.exp() * logp).sum(1)
    return -(weights * logp.gather(1, actions[:, None]).squeeze(1)).mean() - beta * entropy.mean()


def mlp(*sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers += [nn.Linear(sizes[i], sizes[i + 1]), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


class Reinforce:
    """Example 19: one update of the value network (MSE to G) and then of the policy per episode."""
    name = "REINFORCE"

    def __init__(self, a, seed):
        self.a, self.g = a, random.Random(seed + 99)
        self.pi, self.v = mlp(4, 128, 2), mlp(4, 128, 1)
        self.opt_pi, self.opt_v = torch.optim.Adam(self.pi.parameters(), a.lr), torch.optim.Adam(self.v.parameters(), a.value_lr)
        self.network = self.pi

    def episode(self, env):
        states, actions, rewards = [], [], []
        obs, done = env.reset(), False
        while not done:
            with torch.no_grad():
                logits = self.pi(as_batch([obs]))[0].tolist()
            action = sample_softmax(logits, self.g.random())
            states.append(obs)
            actions.append(action)
            obs, reward, terminated, truncated = env.step(action)
            rewards.append(reward)
            done = terminated or truncated
        with torch.no_grad():  # bootstrap from V of the state the time limit cut at
            bootstrap = self.v(as_batch([obs])).item() if truncated else 0.0
        self.update(states, actions, rewards, bootstrap)
        return sum(rewards), len(rewards)

    def update(self, states, actions, rewards, bootstrap):
        x, n = as_batch(states), len(rewards)
        returns = torch.tensor(discounted_returns(rewards, self.a.gamma, bootstrap))
        v = self.v(x).squeeze(1)  # the baseline; its training step reuses this forward
        adv = returns - v.detach()
        if self.a.normalize and n > 1:
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        self.opt_v.zero_grad()
        F.mse_loss(v, returns).backward()
        self.opt_v.step()
        self.opt_pi.zero_grad()
        policy_gradient_loss(self.pi(x), torch.tensor(actions), adv, self.a.entropy).backward()
        self.opt_pi.step()


class ActorCriticNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk, self.policy, self.value = nn.Sequential(nn.Linear(4, 128), nn.ReLU()), nn.Linear(128, 2), nn.Linear(128, 1)

    def forward(self, x):
        h = self.trunk(x)
        return self.policy(h), self.value(h)


class A2C:
    """Example 20: an update every --n-steps steps or at the episode's end, one loss, one Adam step."""
    name = "A2C"

    def __init__(self, a, seed):
        self.a, self.g = a, random.Random(seed + 99)
        self.network = ActorCriticNet()
        self.opt = torch.optim.Adam(self.network.parameters(), a.lr)
        self.states, self.actions, self.rewards = [], [], []

    def episode(self, env):
        obs, steps = env.reset(), 0
        while True:
            with torch.no_grad():
                logits = self.network(as_batch([obs]))[0][0].tolist()
            action = sample_softmax(logits, self.g.random())
            self.states.append(obs)
            self.actions.append(action)
            obs, reward, terminated, truncated = env.step(action)
            self.rewards.append(reward)
            steps += 1
            if terminated or truncated or len(self.actions) == self.a.n_steps:
                # bootstrap from V(s') unless s' is terminal (a truncated episode's last state is not)
                with torch.no_grad():
                    v_next = 0.0 if terminated else self.network(as_batch([obs]))[1].item()
                self.update(v_next)
            if terminated or truncated:
                return float(steps), steps

    def update(self, v_next):
        returns = torch.tensor(discounted_returns(self.rewards, self.a.gamma, v_next))
        logits, values = self.network(as_batch(self.states))
        values = values.squeeze(1)
        loss = policy_gradient_loss(logits, torch.tensor(self.actions), returns - values.detach(), self.a.entropy)
        loss = loss + self.a.value_coef * F.mse_loss(values, returns)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        self.states, self.actions, self.rewards = [], [], []


class Replay:
    """A ring of (s, a, r, s', terminated), preallocated; numpy arrays to write, torch views of them to sample."""

    def __init__(self, capacity, seed):
        self.capacity, self.size, self.next = capacity, 0, 0
        self.s, self.s2 = np.zeros((capacity, 4), np.float32), np.zeros((capacity, 4), np.float32)
        self.a, self.r, self.done = np.zeros(capacity, np.int64), np.zeros(capacity, np.float32), np.zeros(capacity, np.float32)
        self.views = [torch.from_numpy(t) for t in (self.s, self.a, self.r, self.s2, self.done)]
        self.gen = torch.Generator().manual_seed(seed)

    def push(self, s, a, r, s2, terminated):
        i = self.next
        self.s[i], self.a[i], self.r[i], self.s2[i], self.done[i] = s, a, r, s2, terminated
        self.next, self.size = (i + 1) % self.capacity, min(self.size + 1, self.capacity)

    def sample(self, batch):
        """Uniform, with replacement: (s, a, r, s', terminated)."""
        k = torch.randint(self.size, (batch,), generator=self.gen)
        return [t[k] for t in self.views]


class DQN:
    """Example 21: ε-greedy steps into the replay, one Adam step per step once it holds --learning-starts."""

    def __init__(self, a, seed):
        self.a, self.g = a, random.Random(seed + 99)
        self.name = "Double DQN" if a.double else "DQN"
        self.network = mlp(4, 128, 128, 2)
        self.target = copy.deepcopy(self.network)
        self.opt = torch.optim.Adam(self.network.parameters(), a.lr)
        self.replay = Replay(a.buffer, seed + 99)
        self.steps = self.updates = 0

    def epsilon(self):
        """The linear schedule over all environment steps so far (rl::linear_schedule)."""
        a, t = self.a, self.steps
        return a.epsilon_end if t >= a.epsilon_steps else a.epsilon_start + (a.epsilon_end - a.epsilon_start) * t / a.epsilon_steps

    def episode(self, env):
        obs, ret, steps = env.reset(), 0.0, 0
        while True:
            if self.g.random() < self.epsilon():
                action = self.g.randrange(2)
            else:
                with torch.no_grad():
                    q0, q1 = self.network(as_batch([obs]))[0].tolist()
                action = 1 if q1 > q0 else 0
            nxt, reward, terminated, truncated = env.step(action)
            self.replay.push(obs, action, reward, nxt, terminated)
            obs, ret, steps, self.steps = nxt, ret + reward, steps + 1, self.steps + 1
            if self.replay.size >= self.a.learning_starts:
                self.learn()
            if terminated or truncated:
                return ret, steps

    def learn(self):
        a = self.a
        s, act, r, s2, done = self.replay.sample(a.batch)
        with torch.no_grad():  # TD targets; Double DQN: the online network picks the next action
            qt = self.target(s2)
            best = (self.network(s2) if a.double else qt).argmax(1, keepdim=True)
            y = r + a.gamma * (1 - done) * qt.gather(1, best).squeeze(1)
        q = self.network(s).gather(1, act[:, None]).squeeze(1)
        self.opt.zero_grad()
        F.huber_loss(q, y, delta=a.huber_delta).backward()
        self.opt.step()
        self.updates += 1
        with torch.no_grad():
            if a.target_every > 0:
                if self.updates % a.target_every == 0:
                    self.target.load_state_dict(self.network.state_dict())
            else:
                for pt, p in zip(self.target.parameters(), self.network.parameters()):
                    pt.lerp_(p, a.tau)


AGENTS = {"reinforce": Reinforce, "a2c": A2C, "dqn": DQN}


def config(cmd, a):
    """The example's own JSON members, as its C++ main writes them."""
    if cmd == "reinforce":
        return {"value_lr": a.value_lr, "entropy": a.entropy, "normalize": a.normalize}
    if cmd == "a2c":
        return {"n_steps": a.n_steps, "value_coef": a.value_coef, "entropy": a.entropy}
    return {"double": a.double, "batch": a.batch, "buffer": a.buffer, "learning_starts": a.learning_starts,
            "epsilon": [a.epsilon_start, a.epsilon_end, a.epsilon_steps], "tau": a.tau, "target_every": a.target_every, "huber_delta": a.huber_delta}


def write_history(path, returns):
    rows, window = ["episode,return,mean_last_100"], deque(maxlen=WINDOW)
    for e, r in enumerate(returns):
        window.append(r)
        rows.append(f"{e + 1},{r:.7g},{sum(window) / len(window):.7g}")

    def write(tmp):
        with open(tmp, "w") as f:
            f.write("\n".join(rows) + "\n")
    write_atomic(path, write)


def train_seed(cmd, a, seed):
    """One seed (rl_loop.hpp's run): episodes until solved (unless --keep-going) or --episodes."""
    torch.manual_seed(seed)
    agent, env = AGENTS[cmd](a, seed), CartPole(seed * 1000003 + 17)
    r = {"seed": seed, "solved": False, "episodes": 0, "steps": 0, "seconds": 0.0, "returns": []}
    total_steps = 0
    window = deque(maxlen=WINDOW)
    t0 = time.perf_counter()
    for e in range(a.episodes):
        ret, steps = agent.episode(env)
        r["returns"].append(ret)
        total_steps += steps
        window.append(ret)
        mean = sum(window) / len(window)
        if (e + 1) % 50 == 0:
            print(f"seed {seed}  episode {e + 1:5d}  mean of last 100 {mean:6.1f}  {time.perf_counter() - t0:.1f} s", flush=True)
        if not r["solved"] and len(window) == WINDOW and mean >= SOLVED_AT:
            r.update(solved=True, episodes=e + 1, steps=total_steps, seconds=time.perf_counter() - t0)
            print(f"seed {seed}: solved after {e + 1} episodes ({r['steps']} steps) in {r['seconds']:.2f} s", flush=True)
            if not a.keep_going:
                break
    if not r["solved"]:
        r.update(episodes=len(r["returns"]), steps=total_steps, seconds=time.perf_counter() - t0)
        print(f"seed {seed}: not solved in {r['episodes']} episodes (mean of last 100: {mean:.1f}), {r['seconds']:.2f} s", flush=True)
    r["final_mean_return"] = mean
    return r, agent


def run(cmd, a):
    setup_torch(a)
    results = []
    for k in range(a.seeds):
        r, agent = train_seed(cmd, a, a.seed + k)
        returns = r.pop("returns")
        if a.history:
            write_history(a.history if a.seeds == 1 else f"{a.history}.seed{r['seed']}.csv", returns)
        if k == 0 and a.save:
            save_state_dict(agent.network, a.save)
        results.append(r)
    solved = sum(r["solved"] for r in results)
    print(f"\n{agent.name} on CartPole-v1: seed, solved, episodes, steps, seconds")
    for r in results:
        print(f"  {r['seed']}  {'yes' if r['solved'] else 'no '}  {r['episodes']}  {r['steps']}  {r['seconds']:.2f}")
    print(f"solved: {solved} of {len(results)} seeds")
    if a.json:
        write_json(a.json, {"algorithm": agent.name, "environment": "CartPole-v1", "framework": f"PyTorch {torch.__version__}",
                            "lr": a.lr, "gamma": a.gamma, "max_episodes": a.episodes, "threads": a.threads, **config(cmd, a),
                            "solved": solved, "seeds": results})


def bounded(kind, lo, hi=math.inf, strict=False):
    """An argparse type: `kind` in [lo, hi] ((lo, hi] if strict), as the C++ options' CLI11 checks."""
    def parse(text):
        v = kind(text)
        if v < lo or v > hi or (strict and v == lo):
            raise argparse.ArgumentTypeError(f"{text} is outside {'(' if strict else '['}{lo}, {hi}]")
        return v
    return parse


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    positive, unit = bounded(float, 0, strict=True), bounded(float, 0, 1)
    parsers = {cmd: sub.add_parser(cmd, formatter_class=argparse.ArgumentDefaultsHelpFormatter) for cmd in DEFAULTS}
    for p in parsers.values():
        p.add_argument("--episodes", type=bounded(int, 1, 1000000), help="give up after this many episodes")
        p.add_argument("--seed", type=int, help="the first seed (initialisation, environment, exploration)")
        p.add_argument("--seeds", type=bounded(int, 1, 100), help="run seeds seed, seed+1, ... (the solve table)")
        p.add_argument("--lr", type=positive, help="Adam learning rate")
        p.add_argument("--gamma", type=unit, help="discount factor")
        p.add_argument("--threads", type=bounded(int, 1, 256), help="CPU threads")
        p.add_argument("--keep-going", action="store_true", help="train all --episodes instead of stopping once solved")
        p.add_argument("--json", help="write a JSON summary here")
        p.add_argument("--history", help="each seed's per-episode returns as CSV (PATH.seedN.csv for several seeds)")
        p.add_argument("--save", help="save the first seed's trained network (its state_dict) to this .npz")
    p = parsers["reinforce"]
    p.add_argument("--value-lr", type=positive, help="the value network's Adam learning rate")
    p.add_argument("--entropy", type=unit, help="entropy bonus β")
    p.add_argument("--no-normalize", dest="normalize", action="store_false", help="use the raw advantages")
    p = parsers["a2c"]
    p.add_argument("--n-steps", type=bounded(int, 1, 500), help="steps per update (fewer at an episode's end)")
    p.add_argument("--value-coef", type=positive, help="weight c_v of the value loss")
    p.add_argument("--entropy", type=unit, help="entropy bonus β")
    p = parsers["dqn"]
    p.add_argument("--batch", type=bounded(int, 1, 4096), help="replay minibatch")
    p.add_argument("--buffer", type=bounded(int, 1, 10000000), help="replay capacity (transitions)")
    p.add_argument("--learning-starts", type=bounded(int, 1, 10000000), help="transitions collected before the first update")
    p.add_argument("--epsilon-start", type=unit, help="ε at the first step")
    p.add_argument("--epsilon-end", type=unit, help="ε after the schedule")
    p.add_argument("--epsilon-steps", type=bounded(int, 1, 100000000), help="steps of the linear ε schedule")
    p.add_argument("--tau", type=unit, help="soft target update rate (each update)")
    p.add_argument("--target-every", type=bounded(int, 0), help="hard target copy every N updates instead of soft (0: soft)")
    p.add_argument("--huber-delta", type=positive, help="Huber loss threshold")
    p.add_argument("--double", action="store_true", help="Double DQN targets")
    for cmd, p in parsers.items():
        p.set_defaults(**COMMON, **DEFAULTS[cmd])
    a = ap.parse_args(argv)
    if a.cmd == "dqn":
        a.learning_starts = max(a.learning_starts, a.batch)
    return a


if __name__ == "__main__":
    args = parse_args()
    run(args.cmd, args)
