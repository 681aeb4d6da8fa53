// SPDX-License-Identifier: MIT
#pragma once
/// @file schedule.hpp  Learning-rate schedules: callables from a step/epoch index to a learning rate.
#include <cmath>
#include <cstddef>
#include <numbers>

namespace ctnn::optim {

/// lr = base·γ^⌊t/step⌋ (torch StepLR).
struct step_lr {
    double base, gamma = 0.1;
    std::size_t step_size = 10;
    double operator()(std::size_t t) const noexcept { return base * std::pow(gamma, double(t / step_size)); }
};

/// lr = η_min + (base - η_min)(1 + cos(π·t/T))/2 for t ≤ T, η_min after (torch CosineAnnealingLR).
struct cosine_lr {
    double base;
    std::size_t period;
    double eta_min = 0.0;
    double operator()(std::size_t t) const noexcept {
        if (t >= period) return eta_min;
        return eta_min + (base - eta_min) * (1 + std::cos(std::numbers::pi * double(t) / double(period))) / 2;
    }
};

/// Linear warm-up from base/warmup to base over `warmup` steps, then `after(t - warmup)`.
template <class After>
struct warmup_lr {
    std::size_t warmup;
    After after;
    double operator()(std::size_t t) const noexcept {
        if (t < warmup) return after(0) * double(t + 1) / double(warmup);
        return after(t - warmup);
    }
};
template <class After>
warmup_lr(std::size_t, After) -> warmup_lr<After>;

/// A constant learning rate (the schedule `fit` uses when none is given).
struct constant_lr {
    double base;
    double operator()(std::size_t) const noexcept { return base; }
};

}  // namespace ctnn::optim
