// SPDX-License-Identifier: MIT
// A host emulation of the CUDA policy's primitives, for the tests only (never installed or linked
// into ctnn::cuda): "device" memory is host memory, the stream is the calling thread, kernels run
// through Thrust's CPP system, the column-major GEMM is a reference loop, reductions are in order.
// Everything above these primitives — ctnn/kernels/api_impl.hpp, the functors, and the model,
// optimizer, loss and fit code paths of the CUDA policy — is the code a GPU runs, so
// test_cuda_emulated executes the CUDA policy's host-side logic on machines without a GPU. It says
// nothing about the CUDA runtime, cuBLAS or CUB themselves: test_cuda does, on a GPU.
#include <thrust/execution_policy.h>
#include <thrust/for_each.h>
#include <thrust/iterator/counting_iterator.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include <ctnn/backend/cuda/api.hpp>
#include <ctnn/core/error.hpp>

namespace ctnn::cuda_api {

int device_count() noexcept { return 1; }
std::string device_description() { return "host emulation of the CUDA policy (no GPU: kernels on the CPU)"; }

namespace {
void* host_alloc(std::size_t bytes) {
    if (bytes == 0) return nullptr;
    void* p = std::malloc(bytes);
    if (!p) ctnn::detail::fail("cuda emulation: allocation of " + std::to_string(bytes) + " bytes failed");
    return p;
}
int event_token;
}  // namespace

void* device_malloc(std::size_t bytes) { return host_alloc(bytes); }
void device_free(void* p) noexcept { std::free(p); }
void* pinned_malloc(std::size_t bytes) { return host_alloc(bytes); }
void pinned_free(void* p) noexcept { std::free(p); }
void copy_to_device_async(void* d, const void* s, std::size_t bytes) {
    if (bytes) std::memcpy(d, s, bytes);
}
void copy_to_device(void* d, const void* s, std::size_t bytes) { copy_to_device_async(d, s, bytes); }
void copy_to_host(void* d, const void* s, std::size_t bytes) { copy_to_device_async(d, s, bytes); }
void copy_on_device(void* d, const void* s, std::size_t bytes) {
    if (bytes) std::memmove(d, s, bytes);
}
void zero(void* d, std::size_t bytes) {
    if (bytes) std::memset(d, 0, bytes);
}
void synchronize() {}
void* event_create() { return &event_token; }
void event_record(void*) {}
void event_wait(void*) {}
void event_destroy(void*) noexcept {}

namespace impl {
template <class F>
void for_each(std::size_t n, F f) {
    thrust::for_each_n(thrust::cpp::par, thrust::counting_iterator<std::size_t>(0), n, f);
}
template <class T>
void sum_into(const T* in, std::size_t n, T* out) {
    T s = 0;
    for (std::size_t i = 0; i < n; ++i) s += in[i];
    *out = s;
}
template <class T>
void blas_gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a, std::size_t lda,
               const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
    for (std::size_t j = 0; j < n; ++j)
        for (std::size_t i = 0; i < m; ++i) {
            T s = 0;
            for (std::size_t p = 0; p < k; ++p) s += (ta ? a[i * lda + p] : a[p * lda + i]) * (tb ? b[p * ldb + j] : b[j * ldb + p]);
            T& cij = c[j * ldc + i];
            cij = alpha * s + (beta == T(0) ? T(0) : beta * cij);
        }
}
void* scratch_bytes(int which, std::size_t bytes) {
    static std::size_t size[2];
    static void* mem[2];
    if (bytes > size[which]) {
        std::free(mem[which]);
        mem[which] = host_alloc(bytes);
        size[which] = bytes;
    }
    return mem[which];
}
}  // namespace impl
}  // namespace ctnn::cuda_api

#include <ctnn/kernels/api_impl.hpp>
