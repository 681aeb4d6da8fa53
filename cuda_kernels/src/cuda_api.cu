// SPDX-License-Identifier: MIT
// The CUDA policy's host functions (include/ctnn/backend/cuda/api.hpp): memory, ctnn's stream, cuBLAS,
// and the launches of the functors in ctnn/kernels/functors.cuh. Compiled by nvcc as C++17.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cub/device/device_reduce.cuh>
#include <thrust/execution_policy.h>
#include <thrust/for_each.h>
#include <thrust/iterator/counting_iterator.h>

#include <cstdio>
#include <string>

#include <ctnn/backend/cuda/api.hpp>
#include <ctnn/core/error.hpp>
#include <ctnn/kernels/functors.cuh>

namespace ctnn::cuda_api {
namespace {

void check(cudaError_t e, const char* what) {
    if (e != cudaSuccess) ctnn::detail::fail(std::string("cuda: ") + what + " failed: " + cudaGetErrorString(e));
}
void check(cublasStatus_t s, const char* what) {
    if (s != CUBLAS_STATUS_SUCCESS)
        ctnn::detail::fail(std::string("cuda: ") + what + " failed: cuBLAS status " + std::to_string(int(s)));
}

/// ctnn's stream and cuBLAS handle, created on first use.
struct context {
    cudaStream_t stream = nullptr;
    cublasHandle_t blas = nullptr;
    context() {
        check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate");
        check(cublasCreate(&blas), "cublasCreate");
        check(cublasSetStream(blas, stream), "cublasSetStream");
        // results independent of the run: no atomics-based split-K reductions in cuBLAS
        check(cublasSetAtomicsMode(blas, CUBLAS_ATOMICS_NOT_ALLOWED), "cublasSetAtomicsMode");
    }
    ~context() {
        if (blas) cublasDestroy(blas);
        if (stream) cudaStreamDestroy(stream);
    }
    static context& get() {
        static context c;
        return c;
    }
};
cudaStream_t stream() { return context::get().stream; }

/// A device scratch buffer that only grows (loss terms, CUB temporary storage).
struct scratch {
    void* p = nullptr;
    std::size_t bytes = 0;
    void* get(std::size_t n) {
        if (n > bytes) {
            if (p) cudaFree(p);
            p = nullptr;
            check(cudaMalloc(&p, n), "cudaMalloc (scratch)");
            bytes = n;
        }
        return p;
    }
};
scratch& terms_scratch() {
    static scratch s;
    return s;
}
scratch& reduce_scratch() {
    static scratch s;
    return s;
}

}  // namespace

namespace impl {
template <class F>
void for_each(std::size_t n, F f) {
    if (n == 0) return;
    thrust::for_each_n(thrust::cuda::par_nosync.on(stream()), thrust::counting_iterator<std::size_t>(0), n, f);
    check(cudaGetLastError(), "kernel launch");
}
void* scratch_bytes(int which, std::size_t bytes) { return (which == 0 ? terms_scratch() : reduce_scratch()).get(bytes); }

/// Sum of n device values into the device scalar out (CUB, deterministic for a given n).
template <class T>
void sum_into(const T* in, std::size_t n, T* out) {
    std::size_t bytes = 0;
    check(cub::DeviceReduce::Sum(nullptr, bytes, in, out, int(n), stream()), "cub::DeviceReduce::Sum (size)");
    void* tmp = reduce_scratch().get(bytes);
    check(cub::DeviceReduce::Sum(tmp, bytes, in, out, int(n), stream()), "cub::DeviceReduce::Sum");
}

/// Column-major C = alpha·op(first)·op(second) + beta·C (cuBLAS), k >= 1.
template <class T>
void blas_gemm(bool trans_first, bool trans_second, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* first,
               std::size_t ld_first, const T* second, std::size_t ld_second, T beta, T* c, std::size_t ldc) {
    const auto ta = trans_first ? CUBLAS_OP_T : CUBLAS_OP_N, tb = trans_second ? CUBLAS_OP_T : CUBLAS_OP_N;
    cublasStatus_t st;
    if constexpr (std::is_same_v<T, float>)
        st = cublasSgemm(context::get().blas, ta, tb, int(m), int(n), int(k), &alpha, first, int(ld_first), second,
                         int(ld_second), &beta, c, int(ldc));
    else
        st = cublasDgemm(context::get().blas, ta, tb, int(m), int(n), int(k), &alpha, first, int(ld_first), second,
                         int(ld_second), &beta, c, int(ldc));
    check(st, "cublas gemm");
}
}  // namespace impl

int device_count() noexcept {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        cudaGetLastError();  // clear the sticky "no driver" error
        return 0;
    }
    return n;
}

std::string device_description() {
    int n = 0;
    const cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
        cudaGetLastError();
        return std::string("no usable CUDA device: ") + cudaGetErrorString(e);
    }
    if (n == 0) return "no CUDA device";
    cudaDeviceProp p{};
    check(cudaGetDeviceProperties(&p, 0), "cudaGetDeviceProperties");
    char buf[256];
    std::snprintf(buf, sizeof buf, "%s (sm_%d%d, %.1f GiB)", p.name, p.major, p.minor, double(p.totalGlobalMem) / (1 << 30));
    return buf;
}

void* device_malloc(std::size_t bytes) {
    void* p = nullptr;
    if (bytes == 0) return nullptr;
    const cudaError_t e = cudaMalloc(&p, bytes);
    if (e != cudaSuccess)
        ctnn::detail::fail("cuda: cudaMalloc of " + std::to_string(bytes) + " bytes failed: " + cudaGetErrorString(e));
    return p;
}
void device_free(void* p) noexcept {
    if (p) cudaFree(p);
}
void* pinned_malloc(std::size_t bytes) {
    void* p = nullptr;
    if (bytes == 0) return nullptr;
    const cudaError_t e = cudaMallocHost(&p, bytes);
    if (e != cudaSuccess)
        ctnn::detail::fail("cuda: cudaMallocHost of " + std::to_string(bytes) + " bytes failed: " + cudaGetErrorString(e));
    return p;
}
void pinned_free(void* p) noexcept {
    if (p) cudaFreeHost(p);
}
void copy_to_device_async(void* d_dst, const void* src, std::size_t bytes) {
    if (bytes) check(cudaMemcpyAsync(d_dst, src, bytes, cudaMemcpyHostToDevice, stream()), "cudaMemcpyAsync (to device)");
}
void copy_to_device(void* d_dst, const void* src, std::size_t bytes) {
    copy_to_device_async(d_dst, src, bytes);
    if (bytes) check(cudaStreamSynchronize(stream()), "cudaStreamSynchronize");
}
void copy_to_host(void* dst, const void* d_src, std::size_t bytes) {
    if (!bytes) return;
    check(cudaMemcpyAsync(dst, d_src, bytes, cudaMemcpyDeviceToHost, stream()), "cudaMemcpyAsync (to host)");
    check(cudaStreamSynchronize(stream()), "cudaStreamSynchronize");
}
void copy_on_device(void* d_dst, const void* d_src, std::size_t bytes) {
    if (bytes) check(cudaMemcpyAsync(d_dst, d_src, bytes, cudaMemcpyDeviceToDevice, stream()), "cudaMemcpyAsync (on device)");
}
void zero(void* d_dst, std::size_t bytes) {
    if (bytes) check(cudaMemsetAsync(d_dst, 0, bytes, stream()), "cudaMemsetAsync");
}
void synchronize() { check(cudaStreamSynchronize(stream()), "cudaStreamSynchronize"); }

void* event_create() {
    cudaEvent_t e = nullptr;
    check(cudaEventCreateWithFlags(&e, cudaEventDisableTiming), "cudaEventCreate");
    return e;
}
void event_record(void* event) { check(cudaEventRecord(static_cast<cudaEvent_t>(event), stream()), "cudaEventRecord"); }
void event_wait(void* event) { check(cudaEventSynchronize(static_cast<cudaEvent_t>(event)), "cudaEventSynchronize"); }
void event_destroy(void* event) noexcept {
    if (event) cudaEventDestroy(static_cast<cudaEvent_t>(event));
}

}  // namespace ctnn::cuda_api

#include <ctnn/kernels/api_impl.hpp>  // every kernel entry point, on the primitives above
