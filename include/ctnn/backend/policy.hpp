// SPDX-License-Identifier: MIT
#pragma once
/// @file policy.hpp  Execution policy tags. Layers call ops::*, which dispatch on the policy.
#include <concepts>

namespace ctnn {

/// The CPU policy: xsimd kernels + ctnn's thread pool. The default everywhere.
struct cpu {
    static constexpr const char* name = "cpu";
};

/// True for types usable as an execution policy.
template <class P>
inline constexpr bool is_policy_v = std::same_as<P, cpu>;

/// An execution policy tag (`ctnn::cpu`; `ctnn::cuda` where the CUDA side is built).
template <class P>
concept execution_policy = is_policy_v<P>;

}  // namespace ctnn
