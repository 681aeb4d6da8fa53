// SPDX-License-Identifier: MIT
#pragma once
/// @file random.hpp  Seeded, platform-independent random numbers.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <utility>

namespace ctnn {

/// A seed, passed explicitly to everything random (init, shuffling, dropout).
struct seed {
    std::uint64_t value = 0;
    constexpr explicit seed(std::uint64_t v = 0) noexcept : value(v) {}
};

/// xoshiro256** generator. Its distributions are ctnn's own, so the same seed gives the same
/// numbers with every standard library (std::normal_distribution is implementation-defined).
class rng {
public:
    using result_type = std::uint64_t;
    explicit rng(seed s = seed{0}) noexcept { reseed(s); }
    void reseed(seed s) noexcept {
        std::uint64_t x = s.value;
        for (auto& w : m_s) w = splitmix(x);
    }
    static constexpr result_type min() noexcept { return 0; }
    static constexpr result_type max() noexcept { return ~result_type{0}; }
    /// Next 64 random bits.
    result_type operator()() noexcept {
        const std::uint64_t r = rotl(m_s[1] * 5, 7) * 9;
        const std::uint64_t t = m_s[1] << 17;
        m_s[2] ^= m_s[0];
        m_s[3] ^= m_s[1];
        m_s[1] ^= m_s[2];
        m_s[0] ^= m_s[3];
        m_s[2] ^= t;
        m_s[3] = rotl(m_s[3], 45);
        return r;
    }
    /// Uniform in [0, 1) with 53 random bits.
    double uniform() noexcept { return double((*this)() >> 11) * 0x1.0p-53; }
    /// Uniform in [lo, hi).
    double uniform(double lo, double hi) noexcept { return lo + (hi - lo) * uniform(); }
    /// Uniform integer in [0, n) (n > 0), without modulo bias worth caring about for n < 2^32.
    std::uint64_t below(std::uint64_t n) noexcept {
        return static_cast<std::uint64_t>((static_cast<unsigned __int128>((*this)()) * n) >> 64);
    }
    /// Standard normal (Box-Muller; one draw per call, deterministic).
    double normal() noexcept {
        double u1 = uniform();
        while (u1 <= 0.0) u1 = uniform();
        const double u2 = uniform();
        return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
    }
    /// Shuffles @p p[0, n) in place: Fisher-Yates from the back, one below(i) per element — the order every ctnn
    /// loader, split and epoch uses, so one seed gives one permutation everywhere.
    template <class T>
    void shuffle(T* p, std::size_t n) noexcept {
        for (std::size_t i = n; i > 1; --i) std::swap(p[i - 1], p[below(i)]);
    }
    /// A new independent generator derived from this one (for layers, loaders).
    rng split() noexcept { return rng(seed{(*this)()}); }

private:
    static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
    static constexpr std::uint64_t splitmix(std::uint64_t& x) noexcept {
        std::uint64_t z = (x += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    std::uint64_t m_s[4];
};

}  // namespace ctnn
