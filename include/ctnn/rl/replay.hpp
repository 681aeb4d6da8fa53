// SPDX-License-Identifier: MIT
#pragma once
/// @file replay.hpp  An experience-replay buffer for off-policy learning (DQN): a ring of transitions
/// (s, a, r, s', terminated) of fixed capacity, stored flat, allocated once; uniform minibatches drawn with
/// replacement from a caller's seeded generator.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../core/random.hpp"

namespace ctnn::rl {

template <class T = float>
class replay_buffer {
public:
    /// A buffer of @p capacity transitions with observations of @p observation_size values.
    replay_buffer(std::size_t capacity, std::size_t observation_size) : m_capacity(capacity), m_obs(observation_size) {
        detail::check(capacity > 0 && observation_size > 0, "rl::replay_buffer: capacity and observation size must be positive");
        detail::check(capacity <= (std::size_t(1) << 40) / (2 * observation_size * sizeof(T)),
                      "rl::replay_buffer: " + std::to_string(capacity) + " transitions of " + std::to_string(observation_size) +
                          " values would take more than 1 TiB");
        m_s.resize(capacity * observation_size);
        m_s2.resize(capacity * observation_size);
        m_a.resize(capacity);
        m_r.resize(capacity);
        m_done.resize(capacity);
    }

    /// Stores a transition, overwriting the oldest once full. @p terminated: s' ended the episode inside the task
    /// (a time-limit truncation is not terminal: the target bootstraps from s').
    void push(std::span<const T> s, std::int32_t action, T reward, std::span<const T> next, bool terminated) {
        if (s.size() != m_obs || next.size() != m_obs)
            detail::fail("rl::replay_buffer: an observation has " + std::to_string(s.size() != m_obs ? s.size() : next.size()) +
                         " values, expected " + std::to_string(m_obs));
        std::copy(s.begin(), s.end(), m_s.begin() + std::ptrdiff_t(m_next * m_obs));
        std::copy(next.begin(), next.end(), m_s2.begin() + std::ptrdiff_t(m_next * m_obs));
        m_a[m_next] = action;
        m_r[m_next] = reward;
        m_done[m_next] = terminated ? T(1) : T(0);
        m_next = (m_next + 1) % m_capacity;
        m_size = std::min(m_size + 1, m_capacity);
    }

    /// Draws @p batch transitions uniformly (with replacement) into [batch, obs] states and next states and
    /// [batch] actions, rewards and terminal flags (1 or 0).
    void sample(std::size_t batch, rng& g, std::span<T> s, std::span<std::int32_t> a, std::span<T> r, std::span<T> next,
                std::span<T> terminated) const {
        if (m_size == 0) detail::fail("rl::replay_buffer: sample() from an empty buffer");
        if (s.size() < batch * m_obs || next.size() < batch * m_obs || a.size() < batch || r.size() < batch || terminated.size() < batch)
            detail::fail("rl::replay_buffer: the output arrays are too small for a batch of " + std::to_string(batch));
        for (std::size_t i = 0; i < batch; ++i) {
            const std::size_t k = std::size_t(g.below(m_size));
            std::copy_n(m_s.begin() + std::ptrdiff_t(k * m_obs), m_obs, s.begin() + std::ptrdiff_t(i * m_obs));
            std::copy_n(m_s2.begin() + std::ptrdiff_t(k * m_obs), m_obs, next.begin() + std::ptrdiff_t(i * m_obs));
            a[i] = m_a[k];
            r[i] = m_r[k];
            terminated[i] = m_done[k];
        }
    }

    std::size_t size() const noexcept { return m_size; }
    std::size_t capacity() const noexcept { return m_capacity; }
    std::size_t observation_size() const noexcept { return m_obs; }

private:
    std::size_t m_capacity, m_obs, m_size = 0, m_next = 0;
    std::vector<T> m_s, m_s2, m_r, m_done;
    std::vector<std::int32_t> m_a;
};

}  // namespace ctnn::rl
