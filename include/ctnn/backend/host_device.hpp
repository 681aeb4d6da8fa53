// SPDX-License-Identifier: MIT
#pragma once
/// @file host_device.hpp  CTNN_HD marks functions that run on the host and, compiled by nvcc, on the
/// GPU: the per-element rules (epilogues, activations, losses, optimizer updates) are written once
/// and shared by the CPU kernels, the CUDA kernels and the host tests of those kernels. C++17.
#if defined(__CUDACC__)
#define CTNN_HD __host__ __device__
#else
#define CTNN_HD
#endif
