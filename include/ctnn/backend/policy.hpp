// SPDX-License-Identifier: MIT
#pragma once
/// @file policy.hpp  Execution policy tags. Layers call ops::*, which dispatch on the policy.
#include <concepts>

namespace ctnn {

/// The CPU policy: xsimd kernels + ctnn's thread pool. The default everywhere.
struct cpu {
    static constexpr const char* name = "cpu";
};

/// The CUDA policy: parameters, gradients, optimizer state and activations in GPU memory, kernels on
/// ctnn's CUDA stream (cuBLAS for GEMM). Programs that use it link the `ctnn::cuda` CMake target.
struct cuda {
    static constexpr const char* name = "cuda";
};

/// True for types usable as an execution policy.
template <class P>
inline constexpr bool is_policy_v = std::same_as<P, cpu> || std::same_as<P, cuda>;

/// An execution policy tag (`ctnn::cpu`, `ctnn::cuda`).
template <class P>
concept execution_policy = is_policy_v<P>;

/// Whether this program was built against the CUDA policy's library (CMake target ctnn::cuda).
inline constexpr bool cuda_built =
#ifdef CTNN_WITH_CUDA
    true;
#else
    false;
#endif

namespace detail {
template <class T>
inline constexpr bool cuda_not_linked = false;
}  // namespace detail

}  // namespace ctnn
