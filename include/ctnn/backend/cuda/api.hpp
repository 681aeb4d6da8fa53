// SPDX-License-Identifier: MIT
#pragma once
/// @file api.hpp  The functions the CUDA policy calls. Declarations only (C++17, no CUDA headers), so
/// every ctnn header compiles without the CUDA toolkit; the definitions are compiled by nvcc into the
/// `ctnn::cuda` library (cuda_kernels/src). All work is queued on one CUDA stream that ctnn owns;
/// nothing here waits for the GPU except `copy_to_host`, `read_scalar` and `synchronize`.
/// Pointers named `d_*` or taken by kernels are device memory.
#include <cstddef>
#include <cstdint>
#include <string>

#include "../attention_rules.hpp"
#include "../conv_rules.hpp"
#include "../epilogue.hpp"
#include "../loss_rules.hpp"
#include "../norm_rules.hpp"
#include "../recurrent_rules.hpp"
#include "../rules.hpp"

namespace ctnn::cuda_api {

/// Number of usable CUDA devices; 0 when there is no device or no driver (never throws).
int device_count() noexcept;
/// "NVIDIA H100 80GB HBM3 (sm_90, 79.1 GiB)", or why no device can be used (the CUDA error text).
std::string device_description();

/// Device memory (cudaMalloc; never managed memory). Throws ctnn::error naming the size on failure.
void* device_malloc(std::size_t bytes);
void device_free(void* p) noexcept;
/// Page-locked host memory, for asynchronous host-to-device copies.
void* pinned_malloc(std::size_t bytes);
void pinned_free(void* p) noexcept;

/// Queues a host-to-device copy on ctnn's stream. @p src must stay unchanged until the stream reaches
/// the copy: pinned memory that the caller does not reuse before the next synchronisation, or any
/// memory if the caller synchronises.
void copy_to_device_async(void* d_dst, const void* src, std::size_t bytes);
/// Host-to-device copy that returns when @p src may be reused (pageable memory).
void copy_to_device(void* d_dst, const void* src, std::size_t bytes);
/// Device-to-host copy; waits for the work queued before it.
void copy_to_host(void* dst, const void* d_src, std::size_t bytes);
void copy_on_device(void* d_dst, const void* d_src, std::size_t bytes);
void zero(void* d_dst, std::size_t bytes);
/// Waits until every queued operation has finished.
void synchronize();

/// Events on ctnn's stream: `event_record` marks the work queued so far; `event_wait` blocks the host
/// until that work has finished (used to reuse a pinned staging buffer only once its copy is done).
void* event_create();
void event_record(void* event);
void event_wait(void* event);
void event_destroy(void* event) noexcept;

#define CTNN_CUDA_API_FOR(T)                                                                                          \
    /* row-major C = ep(alpha·op(A)·op(B) + beta·C) through cuBLAS, then the epilogue kernel */                        \
    void gemm(bool trans_a, bool trans_b, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* a,           \
              std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc, const epilogue<T>& ep);    \
    void apply_epilogue(const epilogue<T>& ep, T* c, std::size_t rows, std::size_t n, std::size_t ldc);              \
    void accumulate_column_sums(T* acc, const T* a, std::size_t rows, std::size_t n);                                \
    void activation_forward(activation_kind kind, T slope, const T* x, T* y, std::size_t n);                         \
    void activation_backward(activation_kind kind, T slope, const T* x, const T* y, const T* dy, T* dx,              \
                             std::size_t n);                                                                          \
    void softmax_forward(const T* x, T* y, std::size_t rows, std::size_t n);                                         \
    void softmax_backward(const T* y, const T* dy, T* dx, std::size_t rows, std::size_t n);                          \
    void dropout_forward(const T* x, T* y, T* mask, std::size_t n, double rate, std::uint64_t seed,                  \
                         std::uint64_t counter);                                                                      \
    void multiply(const T* a, const T* b, T* y, std::size_t n);                                                      \
    void add(const T* a, const T* b, T* y, std::size_t n);                                                           \
    void scale(const T* x, T alpha, T* y, std::size_t n);                                                            \
    /* recurrent step rules (recurrent_rules.hpp) over n elements */                                                \
    void recurrent(const rules::lstm_step_forward<T>& r, std::size_t n);                                             \
    void recurrent(const rules::lstm_step_backward<T>& r, std::size_t n);                                            \
    void recurrent(const rules::gru_step_forward<T>& r, std::size_t n);                                              \
    void recurrent(const rules::gru_step_backward<T>& r, std::size_t n);                                             \
    void recurrent(const rules::rnn_step_forward<T>& r, std::size_t n);                                              \
    void recurrent(const rules::rnn_step_backward<T>& r, std::size_t n);                                             \
    void recurrent(const rules::sequence_emit<T>& r, std::size_t n);                                                 \
    void recurrent(const rules::sequence_pool_forward<T>& r, std::size_t n);                                         \
    void recurrent(const rules::sequence_pool_backward<T>& r, std::size_t n);                                        \
    /* embedding lookup and weight gradient (embedding_rules.hpp) over `positions` token ids */                     \
    void embedding_forward(const T* ids, const T* w, T* y, std::size_t positions, std::size_t dim, std::size_t vocab); \
    void embedding_backward(const T* ids, const T* dy, T* dw, std::size_t positions, std::size_t dim,               \
                            std::size_t vocab, std::size_t padding);                                                  \
    void fill(T* d, T value, std::size_t n);                                                                         \
    /* losses: the gradient into d_grad, the mean loss into the device scalar d_loss (no wait) */                    \
    void cross_entropy(const T* z, const std::int32_t* labels, std::size_t batch, std::size_t classes, T* d_grad,    \
                       T* d_loss);                                                                                    \
    void cross_entropy_ignoring(const T* z, const std::int32_t* labels, std::size_t rows, std::size_t classes,       \
                                std::int32_t ignore_index, T* d_grad, T* d_loss);                                     \
    T read_scalar(const T* d_value);                                                                                  \
    /* optimizer updates over one contiguous range */                                                                 \
    void sgd_update(T* p, const T* g, T* buf, std::size_t n, T lr, T momentum, T dampening_complement,               \
                    T weight_decay, bool first, bool nesterov);                                                       \
    void adam_update(T* p, const T* g, T* m, T* v, std::size_t n, T beta1, T beta2, T eps, T weight_decay, T step,  \
                     T c2, T decay, bool decoupled);                                                                  \
    void rmsprop_update(T* p, const T* g, T* v, T* buf, std::size_t n, T lr, T alpha, T eps, T weight_decay,        \
                        T momentum);                                                                                  \
    /* predicted class of each row (metrics::predicted_class) into d_out; with d_labels, 1/0 for correct */        \
    /* convolution and pooling on NHWC batches (conv_rules.hpp); `batch` samples of geometry g */                  \
    void im2col(const T* x, T* cols, const conv::geometry& g, std::size_t batch);                                    \
    void col2im(const T* dcols, T* dx, const conv::geometry& g, std::size_t batch);                                  \
    void max_pool_forward(const T* x, T* y, T* arg, const conv::geometry& g, std::size_t batch);                     \
    void max_pool_backward(const T* dy, const T* arg, T* dx, const conv::geometry& g, std::size_t batch);            \
    void avg_pool_forward(const T* x, T* y, const conv::geometry& g, std::size_t batch);                             \
    void avg_pool_backward(const T* dy, T* dx, const conv::geometry& g, std::size_t batch);                          \
    /* zero padding / nearest upsampling over n output (forward) or input (backward) elements */                      \
    void zero_pad(const conv::zero_pad<T>& op, std::size_t n);                                                       \
    void upsample_nearest(const conv::upsample_nearest<T>& op, std::size_t n);                                       \
    void concat_channels(const conv::concat_channels<T>& op, std::size_t n);                                         \
    /* batch normalisation per channel of [rows, C] (norm_rules.hpp) */                                              \
    void batch_norm_train(const norm::batch_norm_train<T>& op);                                                      \
    void batch_norm_eval(const norm::batch_norm_eval<T>& op);                                                        \
    void batch_norm_train_backward(const norm::batch_norm_train_backward<T>& op);                                    \
    void batch_norm_eval_backward(const norm::batch_norm_eval_backward<T>& op);                                      \
    /* layer norm rules (norm_rules.hpp): forward and dx over n rows, dγ/dβ over n columns */                      \
    void layer_norm(const norm::layer_norm_forward<T>& op, std::size_t n);                                           \
    void layer_norm(const norm::layer_norm_input_backward<T>& op, std::size_t n);                                    \
    void layer_norm(const norm::layer_norm_param_backward<T>& op, std::size_t n);                                    \
    /* y = x + position code over n elements (rules.hpp) */                                                         \
    void add_positions(const rules::add_positions<T>& op, std::size_t n);                                            \
    /* a VAE's reparameterisation and its backward over n = batch·latent elements (rules.hpp) */                  \
    void gaussian_sample(const rules::gaussian_sample_forward<T>& op, std::size_t n);                                \
    void gaussian_sample(const rules::gaussian_sample_backward<T>& op, std::size_t n);                               \
    /* fused attention rules (attention_rules.hpp) over n rows (batch·heads·T) */                                   \
    void attention(const attn::forward_rows<T>& op, std::size_t n);                                                  \
    void attention(const attn::backward_rows<T>& op, std::size_t n);                                                 \
    void attention(const attn::backward_keys<T>& op, std::size_t n);                                                 \
    void predicted_class_rows(const T* x, std::size_t rows, std::size_t n, T threshold,                              \
                              const std::int32_t* d_labels, std::int32_t* d_out);

CTNN_CUDA_API_FOR(float)
CTNN_CUDA_API_FOR(double)
#undef CTNN_CUDA_API_FOR

/* The losses of ops/loss_ops.hpp (rules in backend/loss_rules.hpp): gradients into d_grad (d_a, d_b),
   the mean loss into the device scalar d_loss, nothing waits. Labels and targets were checked on the host. */
#define CTNN_CUDA_LOSS_API_FOR(T)                                                                                     \
    void pointwise_loss(const rules::pointwise_loss<T>& rule, const T* y, const T* t, const T* w, std::size_t w_len, \
                        std::size_t n, T* d_grad, T* d_loss);                                                         \
    void nll(const T* logp, const std::int32_t* labels, std::size_t batch, std::size_t classes, T* d_grad, T* d_loss); \
    void categorical_cross_entropy(const T* p, const std::int32_t* labels, std::size_t batch, std::size_t classes, T eps, \
                                   T* d_grad, T* d_loss);                                                           \
    void log_softmax_forward(const T* x, T* y, std::size_t rows, std::size_t n);                                     \
    void log_softmax_backward(const T* y, const T* dy, T* dx, std::size_t rows, std::size_t n);                      \
    void gaussian_kl(const T* mu, const T* logvar, std::size_t batch, std::size_t latent, std::size_t stride,       \
                     T* d_mu, T* d_logvar, T* d_loss);                                                                \
    void cosine_embedding(const T* a, const T* b, const T* t, std::size_t batch, std::size_t dim, T margin, T* d_a,  \
                          T* d_b, T* d_loss);                                                                         \
    void margin_ranking(const T* a, const T* b, const T* t, std::size_t n, T margin, T* d_a, T* d_b, T* d_loss);

CTNN_CUDA_LOSS_API_FOR(float)
CTNN_CUDA_LOSS_API_FOR(double)
#undef CTNN_CUDA_LOSS_API_FOR

}  // namespace ctnn::cuda_api
