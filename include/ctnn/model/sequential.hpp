// SPDX-License-Identifier: MIT
#pragma once
/// @file sequential.hpp  `sequential<input<...>, layer specs...>`: a static model graph with one flat
/// parameter buffer and a context reserved once for a maximum batch.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>
#include <xtensor/xtensor.hpp>

#include "../backend/buffer.hpp"
#include "../core/aligned.hpp"
#include "../core/error.hpp"
#include "../core/random.hpp"
#include "../core/tensor.hpp"
#include "../layers/concepts.hpp"
#include "../layers/named.hpp"
#include "../layers/reshape.hpp"
#include "chain.hpp"
#include "model_base.hpp"
#include "parameters.hpp"

namespace ctnn {

/// A sequential model over value type `T` on execution policy `P` (`ctnn::cpu` or `ctnn::cuda`):
/// `policy_sequential<cpu, float, input<784>, dense<10>>`, usually spelled `sequential<input<784>,
/// dense<10>>` and, for the GPU, `sequential<input<784>, dense<10>>::on<cuda>` — the same layer list.
/// Parameters are named `<index>.<name>` like PyTorch's nn.Sequential (index counts every layer
/// after `input<>`, parameter-free ones included). The layers run as one `chain` (model/chain.hpp);
/// this class adds the flat buffers, the context and the user-facing checks. A model type is also a
/// layer spec: `sequential<input<...>, encoder, dense<10>>` with `encoder` a model type nests it.
template <class P, class T, class Input, class... Specs>
class policy_sequential : public detail::model_base<P, T, detail::chain_core<detail::input_shape_of_t<Input>, T, P, Specs...>> {
    using base = detail::model_base<P, T, detail::chain_core<detail::input_shape_of_t<Input>, T, P, Specs...>>;
    static_assert(is_policy_v<P>, "ctnn::sequential: the policy must be ctnn::cpu or ctnn::cuda");
    static_assert(detail::is_input_v<Input>,
                  "ctnn::sequential: the first type must be the input shape, e.g. sequential<input<28, 28, 1>, flatten, dense<10>>");
    static_assert(sizeof...(Specs) > 0, "ctnn::sequential: a model needs at least one layer after input<...>");
    static_assert(std::is_floating_point_v<T>, "ctnn::sequential: the value type must be float or double");

    static constexpr bool on_gpu = std::same_as<P, cuda>;
    using buffer = buffer_t<P, T>;

public:
    using value_type = T;
    using policy = P;
    using base::parameter_count;
    using base::state_count;
    /// The same model on another execution policy: `model::on<ctnn::cuda>`.
    template <class Q>
    using on = policy_sequential<Q, T, Input, Specs...>;
    using input_shape = detail::input_shape_of_t<Input>;
    /// The chain of layers that does the work.
    using body_type = detail::chain_core<input_shape, T, P, Specs...>;
    using layers = typename body_type::layers;
    static constexpr std::size_t depth = sizeof...(Specs);
    template <std::size_t I>
    using layer_type = std::tuple_element_t<I, layers>;
    using output_shape = typename body_type::output_shape;

    /// The model as a layer of another model (its layers, names `<i>.<j>.<name>`, nested).
    template <shape_type In, class U, class Q = cpu>
    struct bind : detail::chain_core<In, U, Q, Specs...> {
        static_assert(std::is_same_v<In, input_shape>,
                      "ctnn::sequential: a model used as a layer must receive its own input shape; check the layer "
                      "before it against the model's input<...>");
    };

    /// True when layer I computes layer I+1 (an activation) in its epilogue (see chain.hpp).
    template <std::size_t I>
    static constexpr bool fuses_next() {
        return body_type::template fuses_next<I>();
    }
    template <std::size_t I>
    static constexpr bool fused_into_previous() {
        return body_type::template fused_into_previous<I>();
    }

private:
    using idx = std::make_index_sequence<depth>;
    template <std::size_t... I>
    static constexpr auto act_sizes(std::index_sequence<I...>) {
        return std::array<std::size_t, depth + 1>{input_shape::size, layer_type<I>::output_shape::size...};
    }

public:
    /// Offset of each layer's parameters in the flat buffer (and the total at [depth]).
    static constexpr auto parameter_offsets = body_type::parameter_offsets;
    /// Offset of each layer's states (running statistics) in the state buffer, and their total.
    static constexpr auto state_offsets = body_type::state_offsets;
    /// Per-sample sizes of the input and of each layer's output.
    static constexpr auto activation_sizes = act_sizes(idx{});

    /// The activations, caches, gradient buffers and scratch of one training step, reserved for a
    /// maximum batch (the whole scratch plan of the model, once).
    class context_type : public detail::lengths_holder<P> {
    public:
        explicit context_type(std::size_t max_batch)
            : m_max_batch(max_batch), m_in(input_shape::size * detail::checked_max_batch(max_batch, "sequential::context")), m_out(output_shape::size * max_batch),
              m_cache(body_type::cache_size * max_batch), m_scratch(body_type::scratch_size(max_batch)),
              m_dy(output_shape::size * max_batch), m_dx(input_shape::size * max_batch) {
            if constexpr (on_gpu) {
                m_input = backend::cuda::uploader<T>(input_shape::size * max_batch);
                // up to one label per output value: per-step labels of a sequence model (cross_entropy{classes})
                m_labels = backend::cuda::uploader<std::int32_t>(output_shape::size * max_batch);
                m_targets = backend::cuda::uploader<T>(output_shape::size * max_batch);
                m_d_labels.resize(output_shape::size * max_batch);
                m_d_targets.resize(output_shape::size * max_batch);
                m_d_loss.resize(1);
            }
        }
        std::size_t max_batch() const noexcept { return m_max_batch; }
        /// Batch of the last forward.
        std::size_t batch() const noexcept { return m_batch; }
        /// A buffer [batch, output...] for the loss to write dL/dy into (sized by the last forward).
        auto output_gradient() { return view<output_shape>(m_dy.data()); }
        /// dL/dx of the last backward that asked for it (`backward(dy, ctx, true)`).
        auto input_gradient() const { return view<input_shape>(m_dx.data()); }
        /// The model's output of the last forward, [batch, output...].
        auto output() const { return view<output_shape>(m_out.data()); }
        /// Output of layer I (I = depth-1 is the model output) from the last forward.
        template <std::size_t I>
        auto activation() const {
            static_assert(!fuses_next<I>(), "sequential::context::activation<I>: layer I is a dense layer fused with the "
                                            "activation after it, so its own output is not stored; read activation<I + 1>()");
            T* p = body_type::template output_of<I>(const_cast<T*>(m_cache.data()), const_cast<T*>(m_out.data()), m_batch);
            return view<typename layer_type<I>::output_shape>(static_cast<const T*>(p));
        }
        /// Layer I's cache of the last forward (policy memory), e.g. for a recurrent layer's
        /// `final_state(ctx.layer_cache<I>(), ctx.batch(), h_n, c_n)`.
        template <std::size_t I>
        const T* layer_cache() const noexcept {
            return body_type::layer_cache(const_cast<T*>(m_cache.data()), m_batch, I);
        }
        /// Bytes this context reserved (activations, caches, gradients and scratch).
        std::size_t reserved_bytes() const noexcept {
            return (m_in.size() + m_out.size() + m_cache.size() + m_scratch.size() + m_dy.size() + m_dx.size()) * sizeof(T);
        }
        /// CUDA policy: device copies of the last uploaded labels/targets and the device scalar the
        /// loss of the last step was written to.
        const std::int32_t* device_labels() const noexcept requires on_gpu { return m_d_labels.data(); }
        const T* device_targets() const noexcept requires on_gpu { return m_d_targets.data(); }
        T* device_loss() noexcept requires on_gpu { return m_d_loss.data(); }
        /// CUDA policy: queues the upload of @p n labels / targets through pinned staging buffers.
        void upload_labels(const std::int32_t* labels, std::size_t n) requires on_gpu { m_labels.upload(m_d_labels.data(), labels, n); }
        void upload_targets(const T* targets, std::size_t n) requires on_gpu { m_targets.upload(m_d_targets.data(), targets, n); }

    private:
        friend class policy_sequential;
        /// Host memory: an xtensor view [batch, S...]; GPU memory: a device_view.
        template <shape_type S, class U>
        auto view(U* p) const {
            return detail::batch_view<P, S>(p, m_batch);
        }
        std::size_t m_max_batch, m_batch = 0;
        buffer m_in, m_out, m_cache, m_scratch, m_dy, m_dx;
        struct no_staging {};
        template <class U>
        using staging = std::conditional_t<on_gpu, backend::cuda::uploader<U>, no_staging>;
        [[no_unique_address]] staging<T> m_input, m_targets;
        [[no_unique_address]] staging<std::int32_t> m_labels;
        buffer_t<P, std::int32_t> m_d_labels;
        buffer m_d_targets, m_d_loss;
    };

    using detail::model_base<P, T, detail::chain_core<detail::input_shape_of_t<Input>, T, P, Specs...>>::model_base;
    /// The same model (parameters, frozen layers, mode, dropout streams) on another policy.
    template <class Q>
    explicit policy_sequential(const on<Q>& o) : policy_sequential(seed{0}) {
        this->copy_from_other_policy(o);
    }

    /// A context for batches of up to @p max_batch samples (all memory reserved here, once).
    context_type context(std::size_t max_batch) const { return context_type(max_batch); }

    /// Training (dropout active, batch statistics) or evaluation mode for `forward`.
    void train() noexcept { m_mode = mode::train; }
    void eval() noexcept { m_mode = mode::eval; }
    ctnn::mode current_mode() const noexcept { return m_mode; }

    /// Forward pass that keeps in @p ctx what backward needs. @p x is [batch, input...] with
    /// batch <= ctx.max_batch(). Returns a view [batch, output...] into @p ctx.
    /// For the CUDA policy @p x is in host memory; it is uploaded asynchronously through the
    /// context's pinned staging buffers, and the returned view is a device_view.
    template <contiguous_tensor X>
    auto forward(const X& x, context_type& ctx) {
        const std::size_t batch = batch_of<input_shape>(x, "sequential::forward: input");
        if (batch > ctx.m_max_batch)
            detail::fail("sequential::forward: batch of " + std::to_string(batch) + " is larger than the " +
                         std::to_string(ctx.m_max_batch) + " reserved by model.context(); reserve a larger context");
        check_input(x.data(), batch);
        ctx.m_batch = batch;
        if constexpr (on_gpu) ctx.m_input.upload(ctx.m_in.data(), x.data(), batch * input_shape::size);
        else std::memcpy(ctx.m_in.data(), x.data(), batch * input_shape::size * sizeof(T));
        const lengths_scope lengths(ctx.lengths_view());
        m_body.forward(ctx.m_in.data(), ctx.m_out.data(), batch, ctx.m_cache.data(), m_mode, ctx.m_scratch.data());
        return ctx.output();
    }

    /// Backward pass for the last forward on @p ctx (for the CUDA policy @p dy is in GPU memory, e.g.
    /// `ctx.output_gradient()`): accumulates parameter gradients (`+=`) of every layer that is not
    /// frozen. With @p input_gradient, also computes dL/dx into ctx.input_gradient() (off by default:
    /// a frozen backbone before the first trainable layer then costs nothing).
    template <contiguous_tensor DY>
    void backward(const DY& dy, context_type& ctx, bool input_gradient = false) {
        const std::size_t batch = batch_of<output_shape>(dy, "sequential::backward: output gradient");
        if (batch != ctx.m_batch) [[unlikely]]
            detail::fail("sequential::backward: gradient batch " + std::to_string(batch) +
                         " does not match the last forward's batch " + std::to_string(ctx.m_batch));
        const lengths_scope lengths(ctx.lengths_view());
        m_body.backward(ctx.m_in.data(), ctx.m_out.data(), dy.data(), input_gradient ? ctx.m_dx.data() : nullptr, batch,
                        ctx.m_cache.data(), true, ctx.m_scratch.data());
    }

    /// Inference (no context; eval mode; batch 1 allowed). Returns [batch, output...]. CPU policy: safe
    /// to call from several threads at once on one model (each thread plans its own scratch; the
    /// parameters are only read).
    /// With @p lengths (one per sample, sequence.hpp), the recurrent layers mask each sample's padded
    /// steps.
    template <contiguous_tensor X>
    auto predict(const X& x, std::span<const std::int32_t> lengths = {}) const {
        const std::size_t batch = batch_of<input_shape>(x, "sequential::predict: input");
        std::array<std::size_t, output_shape::rank + 1> sh;
        sh[0] = batch;
        for (std::size_t i = 0; i < output_shape::rank; ++i) sh[i + 1] = output_shape::dims[i];
        xt::xtensor<T, output_shape::rank + 1> out(sh);
        predict_into(x.data(), out.data(), batch, lengths);
        return out;
    }
    /// Inference into caller memory: @p out holds batch·output_shape::size values. Host pointers for
    /// both policies (a CUDA model uploads x and downloads the result; `predict_device` keeps both on
    /// the GPU).
    void predict_into(const T* x, T* out, std::size_t batch, std::span<const std::int32_t> lengths = {}) const {
        check_input(x, batch);
        const lengths_scope scope(detail::predict_lengths<P>(lengths));
        if constexpr (on_gpu) {
            T* a = predict_arena(batch, true);
            T* dx = a + body_type::scratch_size(batch);
            T* dy = dx + input_shape::size * batch;
            copy_from_host<P>(dx, x, batch * input_shape::size);
            m_body.predict(dx, dy, batch, a);
            copy_to_host<P>(out, dy, batch * output_shape::size);
        } else
            m_body.predict(x, out, batch, predict_arena(batch, false));
    }
    /// Inference with @p d_x and @p d_out in the policy's memory (GPU memory for the CUDA policy).
    void predict_device(const T* d_x, T* d_out, std::size_t batch, std::span<const std::int32_t> lengths = {}) const {
        const lengths_scope scope(detail::predict_lengths<P>(lengths));
        m_body.predict(d_x, d_out, batch, predict_arena(batch, false));
    }

private:
    /// Runs the first layer's input check (token ids of an embedding) on host memory, if it has one.
    static void check_input(const T* x, std::size_t batch) {
        if constexpr (requires { body_type::check_input(x, batch); }) body_type::check_input(x, batch * input_shape::size);
    }
    /// This thread's predict scratch for this model type, grown to @p batch (plus the GPU staging of
    /// the input and output with @p staging).
    static T* predict_arena(std::size_t batch, bool staging) {
        return base::thread_arena(body_type::scratch_size(batch) +
                                  (staging ? (input_shape::size + output_shape::size) * batch : 0));
    }

    using base::m_body;
    using base::m_mode;
};

/// A CPU model over value type T: `basic_sequential<double, input<4>, dense<2>>`.
template <class T, class... InputAndSpecs>
using basic_sequential = policy_sequential<cpu, T, InputAndSpecs...>;

/// The float model most code wants: `sequential<input<784>, dense<128>, relu, dense<10>>`; on the GPU
/// `sequential<...>::on<ctnn::cuda>`.
template <class... InputAndSpecs>
using sequential = policy_sequential<cpu, float, InputAndSpecs...>;

}  // namespace ctnn
