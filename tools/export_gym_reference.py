#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes tests/data/gym_reference.npz: CartPole-v1 trajectories and the FrozenLake-v1 transition models computed
by Gymnasium's own environment classes, for tests/unit/rl/rl_test.cpp, which runs ctnn::rl::cartpole and
ctnn::rl::frozen_lake on the same inputs and compares.

    /usr/bin/python3 tools/export_gym_reference.py GYMNASIUM_SOURCE_DIR [OUT.npz]

GYMNASIUM_SOURCE_DIR is a checkout of github.com/Farama-Foundation/Gymnasium (the directory that holds the
`gymnasium` package; it needs only NumPy — Gymnasium is not packaged in Debian, so no install is assumed).
The reference was written from Gymnasium commit 3f0476a8c (2026).

CartPole: 6 episodes, each from a start state s0 (the first three drawn uniformly in ±0.05 as reset() does, the
others pushed towards each termination: |θ| > 12° either side, |x| > 2.4) and a fixed action sequence
(action t of episode e = bit t of a hashed word), stepped in CartPoleEnv (Euler; episode 5 semi-implicit Euler)
until terminated or 500 steps (the TimeLimit wrapper's truncation). Keys: cartpole.<e>.start [4] float64,
.actions [n] int32, .states [n, 4] float64 (the internal state after each step), .observations [n, 4]
float32, .rewards [n], .terminated [n] (1/0), .integrator [1] (0 Euler, 1 semi-implicit).
FrozenLake: for the 4×4 and 8×8 maps, slippery and not, the model P[s][a] as an array [S, 4, 3, 4]: up to
three outcomes (probability, next state, reward, terminated), unused rows zero.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_torch import write_atomic  # noqa: E402


def actions_for(e, n=500):
    """Action t: bit (t mod 64) of a 64-bit word hashed from (e, t // 64)."""
    out = np.zeros(n, dtype=np.int32)
    for t in range(n):
        w = ((e + 1) * 0x9E3779B97F4A7C15 + (t // 64) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        w ^= w >> 31
        w = (w * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
        w ^= w >> 29
        out[t] = (w >> (t % 64)) & 1
    return out


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.path.insert(0, sys.argv[1])
    from gymnasium.envs.classic_control.cartpole import CartPoleEnv
    from gymnasium.envs.toy_text.frozen_lake import FrozenLakeEnv

    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "..", "tests", "data", "gym_reference.npz")
    arrays = {}
    rng = np.random.default_rng(7)
    starts = [rng.uniform(-0.05, 0.05, 4) for _ in range(3)]
    starts += [np.array([0.0, 0.0, 0.2, 1.0]), np.array([2.3, 1.5, 0.0, 0.0]), np.array([0.01, -0.02, 0.03, -0.04]),
               np.array([0.02, 0.0, -0.03, 0.0])]
    for e, s0 in enumerate(starts):
        controlled = e == 6
        env = CartPoleEnv()
        env.reset(seed=0)
        semi = e == 5
        if semi:
            env.kinematics_integrator = "semi-implicit euler"
        env.state = np.array(s0, dtype=np.float64)
        acts = actions_for(e)
        states, obs, rewards, terms = [], [], [], []
        for t in range(500):
            if controlled:  # a balancing controller: push towards where the pole falls
                x, xd, th, thd = env.state
                acts[t] = 1 if th + 0.5 * thd + 0.01 * x + 0.1 * xd > 0 else 0
            o, r, term, _, _ = env.step(int(acts[t]))
            states.append(np.array(env.state, dtype=np.float64))
            obs.append(o)
            rewards.append(r)
            terms.append(1 if term else 0)
            if term:
                break
        n = len(states)
        p = f"cartpole.{e}."
        arrays[p + "start"] = np.array(s0, dtype=np.float64)
        arrays[p + "actions"] = acts[:n]
        arrays[p + "states"] = np.array(states)
        arrays[p + "observations"] = np.array(obs, dtype=np.float32)
        arrays[p + "rewards"] = np.array(rewards, dtype=np.float64)
        arrays[p + "terminated"] = np.array(terms, dtype=np.int32)
        arrays[p + "integrator"] = np.array([1 if semi else 0], dtype=np.int32)
        print(f"cartpole episode {e}: {n} steps, terminated={bool(terms[-1])}", file=sys.stderr)
    for name in ("4x4", "8x8"):
        for slippery in (True, False):
            env = FrozenLakeEnv(map_name=name, is_slippery=slippery)
            S = env.observation_space.n
            P = np.zeros((S, 4, 3, 4))
            for s in range(S):
                for a in range(4):
                    for k, (prob, nxt, rew, term) in enumerate(env.P[s][a]):
                        P[s, a, k] = (prob, nxt, rew, 1.0 if term else 0.0)
            arrays[f"frozen_lake.{name}.{'slippery' if slippery else 'still'}"] = P
    def write(tmp):
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
    write_atomic(out, write)
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
