// SPDX-License-Identifier: MIT
#pragma once
/// @file api_impl.hpp  The kernel entry points of cuda_api (include/ctnn/backend/cuda/api.hpp) written on
/// four primitives, which the one translation unit that includes this header defines first in
/// namespace ctnn::cuda_api::impl:
///   template <class F> void for_each(std::size_t n, F f);        // f(i) for i in [0, n), queued
///   template <class T> void sum_into(const T* in, std::size_t n, T* out);  // *out = Σ in, queued
///   template <class T> void blas_gemm(bool ta, bool tb, m, n, k, alpha, first, ld_first, second,
///                                     ld_second, beta, c, ldc);  // column-major, k >= 1
///   void* scratch_bytes(int which, std::size_t bytes);           // a grow-only device scratch
/// cuda_kernels/src/cuda_api.cu defines them with Thrust's CUDA system, CUB and cuBLAS on ctnn's stream;
/// tests/support/cuda_emulation.cpp defines them on the host, so the whole CUDA policy above the
/// primitives (this file, the functors, the model/optimizer/fit code paths) also runs without a GPU.
#include <cstddef>
#include <cstdint>

#include <ctnn/backend/attention_rules.hpp>
#include <ctnn/backend/conv_rules.hpp>
#include <ctnn/backend/embedding_rules.hpp>
#include <ctnn/backend/recurrent_rules.hpp>
#include <ctnn/backend/cuda/api.hpp>
#include <ctnn/backend/loss_rules.hpp>
#include <ctnn/backend/norm_rules.hpp>
#include <ctnn/kernels/functors.cuh>

namespace ctnn::cuda_api {

namespace impl {
template <class T>
void gemm_impl(bool trans_a, bool trans_b, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* a, std::size_t lda,
               const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc, const epilogue<T>& ep) {
    if (M == 0 || N == 0) return;
    const auto cm = kernels::to_column_major(trans_a, trans_b, M, N, K);
    if (K == 0) {  // C = beta·C (cuBLAS needs k >= 1); beta == 0 never reads C
        impl::for_each(M * N, kernels::scale_matrix<T>{c, N, ldc, beta});
    } else
        blas_gemm<T>(cm.trans_first, cm.trans_second, cm.m, cm.n, cm.k, alpha, b, ldb, a, lda, beta, c, ldc);
    if (!ep.empty()) impl::for_each(M * N, kernels::apply_epilogue<T>{c, N, ldc, ep});
}

/// *d_loss = Σ_i f(i) for i in [0, n): the terms into scratch 0, then one reduction (the loss kernels).
template <class T, class F>
void reduce_terms(std::size_t n, const F& f, T* d_loss) {
    T* terms = static_cast<T*>(scratch_bytes(0, (n ? n : 1) * sizeof(T)));
    if (n == 0) {
        for_each(1, kernels::fill<T>{d_loss, T(0)});
        return;
    }
    for_each(n, kernels::store_terms<T, F>{f, terms});
    sum_into<T>(terms, n, d_loss);
}
}  // namespace impl

#define CTNN_CUDA_API_DEFINE(T)                                                                                         \
    void gemm(bool ta, bool tb, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* a, std::size_t lda,      \
              const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc, const epilogue<T>& ep) {                      \
        impl::gemm_impl<T>(ta, tb, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc, ep);                                   \
    }                                                                                                                   \
    void apply_epilogue(const epilogue<T>& ep, T* c, std::size_t rows, std::size_t n, std::size_t ldc) {                \
        if (!ep.empty()) impl::for_each(rows * n, kernels::apply_epilogue<T>{c, n, ldc, ep});                           \
    }                                                                                                                   \
    void accumulate_column_sums(T* acc, const T* a, std::size_t rows, std::size_t n) {                                  \
        impl::for_each(n, kernels::accumulate_column_sums<T>{acc, a, rows, n});                                         \
    }                                                                                                                   \
    void activation_forward(activation_kind kind, T slope, const T* x, T* y, std::size_t n) {                           \
        impl::for_each(n, kernels::activation_forward<T>{kind, slope, x, y});                                           \
    }                                                                                                                   \
    void activation_backward(activation_kind kind, T slope, const T* x, const T* y, const T* dy, T* dx,                 \
                             std::size_t n) {                                                                           \
        impl::for_each(n, kernels::activation_backward<T>{kind, slope, x, y, dy, dx});                                  \
    }                                                                                                                   \
    void softmax_forward(const T* x, T* y, std::size_t rows, std::size_t n) {                                           \
        impl::for_each(rows, kernels::softmax_rows<T>{x, y, n});                                                        \
    }                                                                                                                   \
    void softmax_backward(const T* y, const T* dy, T* dx, std::size_t rows, std::size_t n) {                            \
        impl::for_each(rows, kernels::softmax_rows_backward<T>{y, dy, dx, n});                                          \
    }                                                                                                                   \
    void dropout_forward(const T* x, T* y, T* mask, std::size_t n, double rate, std::uint64_t seed,                     \
                         std::uint64_t counter) {                                                                       \
        impl::for_each(n, kernels::dropout_forward<T>{x, y, mask, rate, seed, counter});                                \
    }                                                                                                                   \
    void multiply(const T* a, const T* b, T* y, std::size_t n) { impl::for_each(n, kernels::multiply<T>{a, b, y}); }  \
    void add(const T* a, const T* b, T* y, std::size_t n) { impl::for_each(n, kernels::add<T>{a, b, y}); }    \
    void scale(const T* x, T alpha, T* y, std::size_t n) { impl::for_each(n, kernels::scale<T>{x, alpha, y}); }  \
    void recurrent(const rules::lstm_step_forward<T>& r, std::size_t n) { impl::for_each(n, r); }                   \
    void recurrent(const rules::lstm_step_backward<T>& r, std::size_t n) { impl::for_each(n, r); }                  \
    void recurrent(const rules::gru_step_forward<T>& r, std::size_t n) { impl::for_each(n, r); }                    \
    void recurrent(const rules::gru_step_backward<T>& r, std::size_t n) { impl::for_each(n, r); }                   \
    void recurrent(const rules::rnn_step_forward<T>& r, std::size_t n) { impl::for_each(n, r); }                    \
    void recurrent(const rules::rnn_step_backward<T>& r, std::size_t n) { impl::for_each(n, r); }                   \
    void recurrent(const rules::sequence_emit<T>& r, std::size_t n) { impl::for_each(n, r); }                       \
    void recurrent(const rules::sequence_pool_forward<T>& r, std::size_t n) { impl::for_each(n, r); }               \
    void recurrent(const rules::sequence_pool_backward<T>& r, std::size_t n) { impl::for_each(n, r); }              \
    void embedding_forward(const T* ids, const T* w, T* y, std::size_t positions, std::size_t dim, std::size_t vocab) { \
        impl::for_each(positions * dim, rules::embedding_gather<T>{ids, w, y, dim, vocab});                            \
    }                                                                                                                   \
    void embedding_backward(const T* ids, const T* dy, T* dw, std::size_t positions, std::size_t dim, std::size_t vocab, \
                            std::size_t padding) {                                                                      \
        impl::for_each(vocab * dim, rules::embedding_scatter<T>{ids, dy, dw, positions, dim, vocab, padding});          \
    }                                                                                                                   \
    void fill(T* d, T value, std::size_t n) {                                                                           \
        impl::for_each(n, kernels::fill<T>{d, value});                                                                  \
    }                                                                                                                   \
    void cross_entropy(const T* z, const std::int32_t* labels, std::size_t batch, std::size_t classes, T* d_grad,       \
                       T* d_loss) {                                                                                     \
        T* terms = static_cast<T*>(impl::scratch_bytes(0, batch * sizeof(T)));                                          \
        impl::for_each(batch, kernels::cross_entropy_rows<T>{z, labels, d_grad, terms, classes, T(1) / T(batch)});      \
        impl::sum_into<T>(terms, batch, d_loss);                                                                        \
    }                                                                                                                   \
    void cross_entropy_ignoring(const T* z, const std::int32_t* labels, std::size_t rows, std::size_t classes,          \
                                std::int32_t ignore_index, T* d_grad, T* d_loss) {                                      \
        /* terms [rows], counted [rows], their count [1]: unscaled rows, then both divided by the count */             \
        T* terms = static_cast<T*>(impl::scratch_bytes(0, (2 * rows + 1) * sizeof(T)));                                 \
        T* counted = terms + rows;                                                                                      \
        T* count = counted + rows;                                                                                      \
        impl::for_each(rows, kernels::cross_entropy_rows<T>{z, labels, d_grad, terms, classes, T(1), counted, ignore_index}); \
        impl::sum_into<T>(counted, rows, count);                                                                        \
        impl::sum_into<T>(terms, rows, d_loss);                                                                         \
        impl::for_each(rows * classes, kernels::divide_by_count<T>{d_grad, count});                                     \
        impl::for_each(1, kernels::divide_by_count<T>{d_loss, count});                                                  \
    }                                                                                                                   \
    T read_scalar(const T* d_value) {                                                                                   \
        T v{};                                                                                                          \
        copy_to_host(&v, d_value, sizeof(T));                                                                           \
        return v;                                                                                                       \
    }                                                                                                                   \
    void sgd_update(T* p, const T* g, T* buf, std::size_t n, T lr, T momentum, T dampening_complement, T weight_decay,  \
                    bool first, bool nesterov) {                                                                        \
        impl::for_each(n, kernels::sgd_update<T>{p, g, buf, lr, momentum, dampening_complement, weight_decay, first, nesterov}); \
    }                                                                                                                   \
    void adam_update(T* p, const T* g, T* m, T* v, std::size_t n, T beta1, T beta2, T eps, T weight_decay, T step,      \
                     T c2, T decay, bool decoupled) {                                                                   \
        impl::for_each(n, kernels::adam_update<T>{p, g, m, v, beta1, beta2, eps, weight_decay, step, c2, decay, decoupled}); \
    }                                                                                                                   \
    void rmsprop_update(T* p, const T* g, T* v, T* buf, std::size_t n, T lr, T alpha, T eps, T weight_decay,            \
                        T momentum) {                                                                                   \
        impl::for_each(n, kernels::rmsprop_update<T>{p, g, v, buf, lr, alpha, eps, weight_decay, momentum});            \
    }                                                                                                                   \
    void im2col(const T* x, T* cols, const conv::geometry& g, std::size_t batch) {                                       \
        impl::for_each(batch * g.OH * g.OW * g.C * g.KH * g.KW, conv::im2col<T>{x, cols, g});                           \
    }                                                                                                                   \
    void col2im(const T* dcols, T* dx, const conv::geometry& g, std::size_t batch) {                                     \
        impl::for_each(batch * g.H * g.W * g.C, conv::col2im<T>{dcols, dx, g});                                         \
    }                                                                                                                   \
    void max_pool_forward(const T* x, T* y, T* arg, const conv::geometry& g, std::size_t batch) {                        \
        impl::for_each(batch * g.OH * g.OW * g.C, conv::max_pool_forward<T>{x, y, arg, g});                             \
    }                                                                                                                   \
    void max_pool_backward(const T* dy, const T* arg, T* dx, const conv::geometry& g, std::size_t batch) {               \
        impl::for_each(batch * g.H * g.W * g.C, conv::max_pool_backward<T>{dy, arg, dx, g});                            \
    }                                                                                                                   \
    void avg_pool_forward(const T* x, T* y, const conv::geometry& g, std::size_t batch) {                                \
        impl::for_each(batch * g.OH * g.OW * g.C, conv::avg_pool_forward<T>{x, y, g});                                  \
    }                                                                                                                   \
    void avg_pool_backward(const T* dy, T* dx, const conv::geometry& g, std::size_t batch) {                             \
        impl::for_each(batch * g.H * g.W * g.C, conv::avg_pool_backward<T>{dy, dx, g});                                 \
    }                                                                                                                   \
    void batch_norm_train(const norm::batch_norm_train<T>& op) { impl::for_each(op.C, op); }                           \
    void batch_norm_eval(const norm::batch_norm_eval<T>& op) { impl::for_each(op.C, op); }                             \
    void batch_norm_train_backward(const norm::batch_norm_train_backward<T>& op) { impl::for_each(op.C, op); }         \
    void batch_norm_eval_backward(const norm::batch_norm_eval_backward<T>& op) { impl::for_each(op.C, op); }           \
    void layer_norm(const norm::layer_norm_forward<T>& op, std::size_t n) { impl::for_each(n, op); }                  \
    void layer_norm(const norm::layer_norm_input_backward<T>& op, std::size_t n) { impl::for_each(n, op); }           \
    void layer_norm(const norm::layer_norm_param_backward<T>& op, std::size_t n) { impl::for_each(n, op); }           \
    void add_positions(const rules::add_positions<T>& op, std::size_t n) { impl::for_each(n, op); }                  \
    void gaussian_sample(const rules::gaussian_sample_forward<T>& op, std::size_t n) { impl::for_each(n, op); }      \
    void gaussian_sample(const rules::gaussian_sample_backward<T>& op, std::size_t n) { impl::for_each(n, op); }     \
    void attention(const attn::forward_rows<T>& op, std::size_t n) { impl::for_each(n, op); }                        \
    void attention(const attn::backward_rows<T>& op, std::size_t n) { impl::for_each(n, op); }                       \
    void attention(const attn::backward_keys<T>& op, std::size_t n) { impl::for_each(n, op); }                       \
    void zero_pad(const conv::zero_pad<T>& op, std::size_t n) { impl::for_each(n, op); }                               \
    void upsample_nearest(const conv::upsample_nearest<T>& op, std::size_t n) { impl::for_each(n, op); }               \
    void concat_channels(const conv::concat_channels<T>& op, std::size_t n) { impl::for_each(n, op); }                 \
    void predicted_class_rows(const T* x, std::size_t rows, std::size_t n, T threshold, const std::int32_t* d_labels,   \
                              std::int32_t* d_out) {                                                                    \
        impl::for_each(rows, kernels::predicted_class_rows<T>{x, n, threshold, d_labels, d_out});                       \
    }

CTNN_CUDA_API_DEFINE(float)
CTNN_CUDA_API_DEFINE(double)
#undef CTNN_CUDA_API_DEFINE

#define CTNN_CUDA_LOSS_API_DEFINE(T)                                                                                    \
    void pointwise_loss(const rules::pointwise_loss<T>& rule, const T* y, const T* t, const T* w, std::size_t w_len,    \
                        std::size_t n, T* d_grad, T* d_loss) {                                                          \
        impl::reduce_terms(n, rules::pointwise_terms<T>{rule, y, t, w, w_len, d_grad, T(1) / T(n ? n : 1)}, d_loss);    \
    }                                                                                                                   \
    void nll(const T* logp, const std::int32_t* labels, std::size_t batch, std::size_t classes, T* d_grad, T* d_loss) { \
        impl::reduce_terms(batch, rules::nll_rows<T>{logp, labels, d_grad, classes, T(1) / T(batch ? batch : 1)}, d_loss); \
    }                                                                                                                   \
    void categorical_cross_entropy(const T* p, const std::int32_t* labels, std::size_t batch, std::size_t classes, T eps, \
                                   T* d_grad, T* d_loss) {                                                              \
        impl::reduce_terms(                                                                                             \
            batch, rules::categorical_cross_entropy_rows<T>{p, labels, d_grad, classes, eps, T(1) / T(batch ? batch : 1)}, \
            d_loss);                                                                                                    \
    }                                                                                                                   \
    void log_softmax_forward(const T* x, T* y, std::size_t rows, std::size_t n) {                                       \
        impl::for_each(rows, rules::log_softmax_rows<T>{x, y, n});                                                      \
    }                                                                                                                   \
    void log_softmax_backward(const T* y, const T* dy, T* dx, std::size_t rows, std::size_t n) {                        \
        impl::for_each(rows, rules::log_softmax_rows_backward<T>{y, dy, dx, n});                                        \
    }                                                                                                                   \
    void gaussian_kl(const T* mu, const T* logvar, std::size_t batch, std::size_t latent, std::size_t stride, T* d_mu, \
                     T* d_logvar, T* d_loss) {                                                                          \
        impl::reduce_terms(                                                                                             \
            batch, rules::gaussian_kl_rows<T>{mu, logvar, d_mu, d_logvar, latent, T(1) / T(batch ? batch : 1), stride}, d_loss); \
    }                                                                                                                   \
    void cosine_embedding(const T* a, const T* b, const T* t, std::size_t batch, std::size_t dim, T margin, T* d_a,     \
                          T* d_b, T* d_loss) {                                                                          \
        impl::reduce_terms(batch, rules::cosine_embedding_rows<T>{a, b, t, d_a, d_b, dim, margin, T(1) / T(batch ? batch : 1)}, \
                           d_loss);                                                                                     \
    }                                                                                                                   \
    void margin_ranking(const T* a, const T* b, const T* t, std::size_t n, T margin, T* d_a, T* d_b, T* d_loss) {       \
        impl::reduce_terms(n, rules::margin_ranking_terms<T>{a, b, t, d_a, d_b, margin, T(1) / T(n ? n : 1)}, d_loss);  \
    }

CTNN_CUDA_LOSS_API_DEFINE(float)
CTNN_CUDA_LOSS_API_DEFINE(double)
#undef CTNN_CUDA_LOSS_API_DEFINE

}  // namespace ctnn::cuda_api
