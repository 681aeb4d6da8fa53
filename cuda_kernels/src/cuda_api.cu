// SPDX-License-Identifier: MIT
// The CUDA policy's host functions (include/ctnn/backend/cuda/api.hpp): memory, ctnn's stream, cuBLAS,
// and the launches of the functors in ctnn/kernels/functors.cuh. Compiled by nvcc as C++17.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cub/device/device_reduce.cuh>
#include <thrust/execution_policy.h>
#include <thrust/fill.h>
#include <thrust/for_each.h>
#include <thrust/iterator/counting_iterator.h>

#include <cstdio>
#include <mutex>
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

template <class F>
void for_each(std::size_t n, F f) {
    if (n == 0) return;
    thrust::for_each_n(thrust::cuda::par_nosync.on(stream()), thrust::counting_iterator<std::size_t>(0), n, f);
    check(cudaGetLastError(), "kernel launch");
}

/// Sum of n device values into the device scalar out (CUB, deterministic for a given n).
template <class T>
void sum_into(const T* in, std::size_t n, T* out) {
    std::size_t bytes = 0;
    check(cub::DeviceReduce::Sum(nullptr, bytes, in, out, int(n), stream()), "cub::DeviceReduce::Sum (size)");
    void* tmp = reduce_scratch().get(bytes);
    check(cub::DeviceReduce::Sum(tmp, bytes, in, out, int(n), stream()), "cub::DeviceReduce::Sum");
}

template <class T>
cublasStatus_t cublas_gemm(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, const T* alpha, const T* a,
                           int lda, const T* b, int ldb, const T* beta, T* c, int ldc) {
    if constexpr (std::is_same_v<T, float>)
        return cublasSgemm(context::get().blas, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    else
        return cublasDgemm(context::get().blas, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace

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

void* graph_capture_begin() {
    check(cudaStreamBeginCapture(stream(), cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture");
    return stream();
}
void* graph_capture_end(void*) {
    cudaGraph_t g = nullptr;
    check(cudaStreamEndCapture(stream(), &g), "cudaStreamEndCapture");
    cudaGraphExec_t exec = nullptr;
    const cudaError_t e = cudaGraphInstantiate(&exec, g, 0);
    cudaGraphDestroy(g);
    check(e, "cudaGraphInstantiate");
    return exec;
}
void graph_launch(void* graph) { check(cudaGraphLaunch(static_cast<cudaGraphExec_t>(graph), stream()), "cudaGraphLaunch"); }
void graph_destroy(void* graph) noexcept {
    if (graph) cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(graph));
}

namespace {
template <class T>
void gemm_impl(bool trans_a, bool trans_b, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* a, std::size_t lda,
               const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc, const epilogue<T>& ep) {
    if (M == 0 || N == 0) return;
    const auto cm = kernels::to_column_major(trans_a, trans_b, M, N, K);
    if (K == 0) {  // C = beta·C (cuBLAS needs k >= 1); beta == 0 never reads C
        for_each(M * N, kernels::scale_matrix<T>{c, N, ldc, beta});
    } else
        check(cublas_gemm<T>(cm.trans_first ? CUBLAS_OP_T : CUBLAS_OP_N, cm.trans_second ? CUBLAS_OP_T : CUBLAS_OP_N,
                             int(cm.m), int(cm.n), int(cm.k), &alpha, b, int(ldb), a, int(lda), &beta, c, int(ldc)),
              "cublas gemm");
    if (!ep.empty()) for_each(M * N, kernels::apply_epilogue<T>{c, N, ldc, ep});
}

template <class T>
void loss_finish(std::size_t n_terms, const T* terms, T* d_loss) {
    sum_into(terms, n_terms, d_loss);
}
}  // namespace

#define CTNN_CUDA_API_DEFINE(T)                                                                                        \
    void gemm(bool ta, bool tb, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* a, std::size_t lda,    \
              const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc, const epilogue<T>& ep) {                    \
        gemm_impl<T>(ta, tb, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc, ep);                                       \
    }                                                                                                                 \
    void apply_epilogue(const epilogue<T>& ep, T* c, std::size_t rows, std::size_t n, std::size_t ldc) {              \
        if (!ep.empty()) for_each(rows * n, kernels::apply_epilogue<T>{c, n, ldc, ep});                               \
    }                                                                                                                 \
    void accumulate_column_sums(T* acc, const T* a, std::size_t rows, std::size_t n) {                                \
        for_each(n, kernels::accumulate_column_sums<T>{acc, a, rows, n});                                             \
    }                                                                                                                 \
    void activation_forward(activation_kind kind, T slope, const T* x, T* y, std::size_t n) {                         \
        for_each(n, kernels::activation_forward<T>{kind, slope, x, y});                                               \
    }                                                                                                                 \
    void activation_backward(activation_kind kind, T slope, const T* x, const T* y, const T* dy, T* dx,               \
                             std::size_t n) {                                                                         \
        for_each(n, kernels::activation_backward<T>{kind, slope, x, y, dy, dx});                                      \
    }                                                                                                                 \
    void softmax_forward(const T* x, T* y, std::size_t rows, std::size_t n) {                                         \
        for_each(rows, kernels::softmax_rows<T>{x, y, n});                                                            \
    }                                                                                                                 \
    void softmax_backward(const T* y, const T* dy, T* dx, std::size_t rows, std::size_t n) {                          \
        for_each(rows, kernels::softmax_rows_backward<T>{y, dy, dx, n});                                              \
    }                                                                                                                 \
    void dropout_forward(const T* x, T* y, T* mask, std::size_t n, double rate, std::uint64_t seed,                   \
                         std::uint64_t counter) {                                                                     \
        for_each(n, kernels::dropout_forward<T>{x, y, mask, rate, seed, counter});                                    \
    }                                                                                                                 \
    void multiply(const T* a, const T* b, T* y, std::size_t n) { for_each(n, kernels::multiply<T>{a, b, y}); }        \
    void fill(T* d, T value, std::size_t n) {                                                                         \
        if (n) thrust::fill_n(thrust::cuda::par_nosync.on(stream()), d, n, value);                                    \
    }                                                                                                                 \
    void cross_entropy(const T* z, const std::int32_t* labels, std::size_t batch, std::size_t classes, T* d_grad,     \
                       T* d_loss) {                                                                                   \
        T* terms = static_cast<T*>(terms_scratch().get(batch * sizeof(T)));                                           \
        for_each(batch, kernels::cross_entropy_rows<T>{z, labels, d_grad, terms, classes, T(1) / T(batch)});          \
        loss_finish<T>(batch, terms, d_loss);                                                                         \
    }                                                                                                                 \
    void pointwise_loss(int kind, const T* y, const T* t, std::size_t n, T* d_grad, T* d_loss) {                      \
        T* terms = static_cast<T*>(terms_scratch().get(n * sizeof(T)));                                               \
        for_each(n, kernels::pointwise_loss_terms<T>{kernels::pointwise_loss(kind), y, t, d_grad, terms, T(1) / T(n)}); \
        loss_finish<T>(n, terms, d_loss);                                                                             \
    }                                                                                                                 \
    T read_scalar(const T* d_value) {                                                                                 \
        T v{};                                                                                                        \
        copy_to_host(&v, d_value, sizeof(T));                                                                         \
        return v;                                                                                                     \
    }                                                                                                                 \
    void sgd_update(T* p, const T* g, T* buf, std::size_t n, T lr, T momentum, T dampening_complement, T weight_decay, \
                    bool first, bool nesterov) {                                                                      \
        for_each(n, kernels::sgd_update<T>{p, g, buf, lr, momentum, dampening_complement, weight_decay, first, nesterov}); \
    }                                                                                                                 \
    void adam_update(T* p, const T* g, T* m, T* v, std::size_t n, T beta1, T beta2, T eps, T weight_decay, T step,    \
                     T c2, T decay, bool decoupled) {                                                                 \
        for_each(n, kernels::adam_update<T>{p, g, m, v, beta1, beta2, eps, weight_decay, step, c2, decay, decoupled}); \
    }                                                                                                                 \
    void rmsprop_update(T* p, const T* g, T* v, T* buf, std::size_t n, T lr, T alpha, T eps, T weight_decay,         \
                        T momentum) {                                                                                 \
        for_each(n, kernels::rmsprop_update<T>{p, g, v, buf, lr, alpha, eps, weight_decay, momentum});                \
    }                                                                                                                 \
    void predicted_class_rows(const T* x, std::size_t rows, std::size_t n, T threshold, const std::int32_t* d_labels, \
                              std::int32_t* d_out) {                                                                  \
        for_each(rows, kernels::predicted_class_rows<T>{x, n, threshold, d_labels, d_out});                           \
    }

CTNN_CUDA_API_DEFINE(float)
CTNN_CUDA_API_DEFINE(double)

}  // namespace ctnn::cuda_api
