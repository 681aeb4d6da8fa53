// SPDX-License-Identifier: MIT
#pragma once
/// @file buffer.hpp  `buffer_t<P, T>`: the owning buffer type of a policy (host memory for ctnn::cpu,
/// GPU memory for ctnn::cuda), and copies between a policy's memory and the host.
#include <cstddef>
#include <cstring>
#include <type_traits>

#include "../core/aligned.hpp"
#include "cuda/device_buffer.hpp"
#include "policy.hpp"

namespace ctnn {

namespace detail {
template <class P, class T>
struct policy_buffer {
    using type = aligned_buffer<T>;
};
template <class T>
struct policy_buffer<cuda, T> {
    using type = backend::cuda::device_buffer<T>;
};
}  // namespace detail

/// The buffer that holds a policy's parameters, gradients, optimizer state and activations.
template <class P, class T>
using buffer_t = typename detail::policy_buffer<P, T>::type;

/// Copies n values from host memory into the policy's memory (a memcpy for the CPU).
template <class P, class T>
void copy_from_host(T* dst, const T* src, std::size_t n) {
    if constexpr (std::is_same_v<P, cuda>) cuda_api::copy_to_device(dst, src, n * sizeof(T));
    else if (n) std::memcpy(dst, src, n * sizeof(T));
}
/// Copies n values from the policy's memory to host memory (waits for the GPU).
template <class P, class T>
void copy_to_host(T* dst, const T* src, std::size_t n) {
    if constexpr (std::is_same_v<P, cuda>) cuda_api::copy_to_host(dst, src, n * sizeof(T));
    else if (n) std::memcpy(dst, src, n * sizeof(T));
}

}  // namespace ctnn
