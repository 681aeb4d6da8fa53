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
#include "parameters.hpp"

namespace ctnn {

/// The per-sample input shape of a model; the first type of a `sequential`, e.g. `input<28, 28, 1>`.
template <std::size_t... Dims>
struct input {
    using shape_type = ctnn::shape<Dims...>;
};

namespace detail {
template <class T>
inline constexpr bool is_input_v = false;
template <std::size_t... D>
inline constexpr bool is_input_v<input<D...>> = true;

inline constexpr char invalid_name[] = "invalid";
/// Stands in for a type that is not a layer spec, so the static_assert is the only error shown.
struct invalid_spec {
    template <shape_type In, class T, class P = cpu>
    using bind = reinterpret_layer<In, In, T, invalid_name, P>;
};

/// Binds each spec to the output shape of the previous one; yields std::tuple<bound layers...>.
template <class In, class T, class P, class... Specs>
struct bind_chain {
    using type = std::tuple<>;
};
template <class In, class T, class P, class S, class... Rest>
struct bind_chain<In, T, P, S, Rest...> {
    static_assert(layer_spec<S>,
                  "ctnn::sequential: every type after input<...> must be a layer spec such as dense<N>, relu or "
                  "flatten; check the layer list for a typo or a missing template argument");
    using bound = typename std::conditional_t<layer_spec<S>, S, invalid_spec>::template bind<In, T, P>;
    static_assert(layer<bound>, "ctnn::sequential: a layer spec bound to its input does not satisfy ctnn::layer; "
                                "see layers/concepts.hpp for the required members");
    using type = decltype(std::tuple_cat(std::declval<std::tuple<bound>>(),
                                         std::declval<typename bind_chain<typename bound::output_shape, T, P, Rest...>::type>()));
};
}  // namespace detail

/// A sequential model over value type `T` on execution policy `P` (`ctnn::cpu` or `ctnn::cuda`):
/// `policy_sequential<cpu, float, input<784>, dense<10>>`, usually spelled `sequential<input<784>,
/// dense<10>>` and, for the GPU, `sequential<input<784>, dense<10>>::on<cuda>` — the same layer list.
/// Parameters are named `<index>.<name>` like PyTorch's nn.Sequential (index counts every layer
/// after `input<>`, parameter-free ones included).
template <class P, class T, class Input, class... Specs>
class policy_sequential {
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
    /// The same model on another execution policy: `model::on<ctnn::cuda>`.
    template <class Q>
    using on = policy_sequential<Q, T, Input, Specs...>;
    using input_shape = typename Input::shape_type;
    using layers = typename detail::bind_chain<input_shape, T, P, Specs...>::type;
    static constexpr std::size_t depth = sizeof...(Specs);
    template <std::size_t I>
    using layer_type = std::tuple_element_t<I, layers>;
    using output_shape = typename layer_type<depth - 1>::output_shape;

    /// True when layer I (a dense layer) computes layer I+1 (an activation) in its GEMM epilogue:
    /// bias and activation are applied to each output tile in registers, layer I+1 does no pass of its
    /// own, and layer I's pre-activation output is not stored.
    template <std::size_t I>
    static constexpr bool fuses_next() {
        if constexpr (I + 1 >= depth) return false;
        else {
            using L = layer_type<I>;
            using A = layer_type<I + 1>;
            if constexpr (requires { L::fuses_activation; A::fusable; }) return L::fuses_activation && A::fusable;
            else return false;
        }
    }
    template <std::size_t I>
    static constexpr bool fused_into_previous() {
        if constexpr (I == 0) return false;
        else return fuses_next<I - 1>();
    }

private:
    using idx = std::make_index_sequence<depth>;
    template <std::size_t... I>
    static constexpr auto param_offsets(std::index_sequence<I...>) {
        std::array<std::size_t, depth + 1> o{};
        std::size_t acc = 0, k = 0;
        ((o[k++] = acc, acc += layer_type<I>::parameter_count), ...);
        o[depth] = acc;
        return o;
    }
    template <std::size_t... I>
    static constexpr auto state_offs(std::index_sequence<I...>) {
        std::array<std::size_t, depth + 1> o{};
        std::size_t acc = 0, k = 0;
        ((o[k++] = acc, acc += state_count_of<layer_type<I>>()), ...);
        o[depth] = acc;
        return o;
    }
    template <std::size_t... I>
    static constexpr auto act_sizes(std::index_sequence<I...>) {
        return std::array<std::size_t, depth + 1>{input_shape::size, layer_type<I>::output_shape::size...};
    }
    template <std::size_t... I>
    static constexpr auto cache_sizes(std::index_sequence<I...>) {
        return std::array<std::size_t, depth>{layer_type<I>::cache_size...};
    }
    static constexpr std::size_t sum(const auto& a, std::size_t n) {
        std::size_t s = 0;
        for (std::size_t i = 0; i < n; ++i) s += a[i];
        return s;
    }
    static constexpr std::size_t max_of(const auto& a) {
        std::size_t m = 0;
        for (auto v : a) m = v > m ? v : m;
        return m;
    }

public:
    /// Offset of each layer's parameters in the flat buffer (and the total at [depth]).
    static constexpr auto parameter_offsets = param_offsets(idx{});
    /// Number of scalar parameters.
    static constexpr std::size_t parameter_count = parameter_offsets[depth];
    /// Offset of each layer's states (running statistics) in the state buffer, and their total.
    static constexpr auto state_offsets = state_offs(idx{});
    static constexpr std::size_t state_count = state_offsets[depth];
    /// Per-sample sizes of the input and of each layer's output.
    static constexpr auto activation_sizes = act_sizes(idx{});
    static constexpr auto cache_sizes_per_sample = cache_sizes(idx{});

    /// The activations, caches and gradient buffers of one training step, reserved for a maximum batch.
    class context_type {
    public:
        explicit context_type(std::size_t max_batch) : m_max_batch(max_batch) {
            detail::check(max_batch > 0, "sequential::context: max_batch must be positive");
            std::size_t o = 0;
            for (std::size_t i = 0; i <= depth; ++i) {
                m_act_off[i] = o;
                o += activation_sizes[i] * max_batch;
            }
            m_act.resize(o);
            o = 0;
            for (std::size_t i = 0; i < depth; ++i) {
                m_cache_off[i] = o;
                o += cache_sizes_per_sample[i] * max_batch;
            }
            m_cache.resize(o);
            const std::size_t g = max_of(activation_sizes) * max_batch;
            m_grad[0].resize(g);
            m_grad[1].resize(g);
            m_dy.resize(output_shape::size * max_batch);
            m_dx.resize(input_shape::size * max_batch);
            if constexpr (on_gpu) {
                m_input = backend::cuda::uploader<T>(input_shape::size * max_batch);
                m_labels = backend::cuda::uploader<std::int32_t>(max_batch);
                m_targets = backend::cuda::uploader<T>(output_shape::size * max_batch);
                m_d_labels.resize(max_batch);
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
        /// Output of layer I (I = depth-1 is the model output) from the last forward.
        template <std::size_t I>
        auto activation() const {
            static_assert(!fuses_next<I>(), "sequential::context::activation<I>: layer I is a dense layer fused with the "
                                            "activation after it, so its own output is not stored; read activation<I + 1>()");
            return view<typename layer_type<I>::output_shape>(m_act.data() + m_act_off[I + 1]);
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
            if constexpr (on_gpu) return device_view<U>{p, m_batch * S::size, m_batch};
            else return adapt_batch<S>(p, m_batch);
        }
        T* act(std::size_t i) noexcept { return m_act.data() + m_act_off[i]; }
        std::size_t m_max_batch, m_batch = 0;
        std::array<std::size_t, depth + 1> m_act_off{};
        std::array<std::size_t, depth> m_cache_off{};
        buffer m_act, m_cache, m_grad[2], m_dy, m_dx;
        struct no_staging {};
        template <class U>
        using staging = std::conditional_t<on_gpu, backend::cuda::uploader<U>, no_staging>;
        [[no_unique_address]] staging<T> m_input, m_targets;
        [[no_unique_address]] staging<std::int32_t> m_labels;
        buffer_t<P, std::int32_t> m_d_labels;
        buffer m_d_targets, m_d_loss;
    };

    /// Builds the model and initialises every layer from @p s (He/Xavier per layer). Parameters are
    /// drawn on the host in the same order for every policy, so a CUDA model starts from exactly the
    /// CPU model's values.
    explicit policy_sequential(seed s = seed{0})
        : m_params(parameter_count), m_grads(parameter_count), m_state(state_count) {
        bind_all(m_params.data(), m_grads.data(), m_state.data(), idx{});
        reset_parameters(s);
        update_trainable();
    }
    policy_sequential(const policy_sequential& o)
        : m_params(o.m_params), m_grads(o.m_grads), m_state(o.m_state), m_layers(o.m_layers), m_frozen(o.m_frozen),
          m_frozen_mode(o.m_frozen_mode), m_mode(o.m_mode) {
        bind_all(m_params.data(), m_grads.data(), m_state.data(), idx{});
        update_trainable();
    }
    policy_sequential& operator=(const policy_sequential& o) {
        if (this != &o) {
            m_params = o.m_params;
            m_grads = o.m_grads;
            m_state = o.m_state;
            m_layers = o.m_layers;
            m_frozen = o.m_frozen;
            m_frozen_mode = o.m_frozen_mode;
            m_mode = o.m_mode;
            bind_all(m_params.data(), m_grads.data(), m_state.data(), idx{});
            update_trainable();
        }
        return *this;
    }
    /// The same model (parameters, frozen layers, mode, dropout streams) on another policy.
    template <class Q>
    explicit policy_sequential(const on<Q>& o) : policy_sequential(seed{0}) {
        copy_layer_state(o);
        set_parameters(o.host_parameters());
        set_states(o.host_states());
        for (std::size_t i = 0; i < depth; ++i) {
            m_frozen[i] = o.is_frozen(i);
            m_frozen_mode[i] = o.frozen_mode_of(i);
        }
        m_mode = o.current_mode();
        update_trainable();
    }

    /// Re-draws every parameter from @p s.
    void reset_parameters(seed s) {
        rng g(s);
        if constexpr (on_gpu) {
            aligned_buffer<T> host(parameter_count), host_grads(parameter_count), host_state(state_count);
            bind_all(host.data(), host_grads.data(), host_state.data(), idx{});
            std::apply([&](auto&... l) { (l.init(g), ...); }, m_layers);
            bind_all(m_params.data(), m_grads.data(), m_state.data(), idx{});
            copy_from_host<P>(m_params.data(), host.data(), parameter_count);
            copy_from_host<P>(m_state.data(), host_state.data(), state_count);
        } else
            std::apply([&](auto&... l) { (l.init(g), ...); }, m_layers);
    }

    /// A context for batches of up to @p max_batch samples (all memory reserved here, once).
    context_type context(std::size_t max_batch) const { return context_type(max_batch); }

    /// Training (dropout active) or evaluation mode for `forward`.
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
        ctx.m_batch = batch;
        if constexpr (on_gpu) ctx.m_input.upload(ctx.act(0), x.data(), batch * input_shape::size);
        else std::memcpy(ctx.act(0), x.data(), batch * input_shape::size * sizeof(T));
        forward_all(ctx, idx{});
        return ctx.template view<output_shape>(static_cast<const T*>(ctx.act(depth)));
    }

    /// Backward pass for the last forward on @p ctx (for the CUDA policy @p dy is in GPU memory, e.g.
    /// `ctx.output_gradient()`): accumulates parameter gradients (`+=`) of every
    /// layer that is not frozen. With @p input_gradient, also computes dL/dx into ctx.input_gradient().
    template <contiguous_tensor DY>
    void backward(const DY& dy, context_type& ctx, bool input_gradient = false) {
        const std::size_t batch = batch_of<output_shape>(dy, "sequential::backward: output gradient");
        if (batch != ctx.m_batch) [[unlikely]]
            detail::fail("sequential::backward: gradient batch " + std::to_string(batch) +
                         " does not match the last forward's batch " + std::to_string(ctx.m_batch));
        const T* cur = dy.data();
        backward_all(ctx, cur, input_gradient, idx{});
    }

    /// Inference (no context; eval mode; batch 1 allowed). Returns [batch, output...].
    template <contiguous_tensor X>
    auto predict(const X& x) const {
        const std::size_t batch = batch_of<input_shape>(x, "sequential::predict: input");
        std::array<std::size_t, output_shape::rank + 1> sh;
        sh[0] = batch;
        for (std::size_t i = 0; i < output_shape::rank; ++i) sh[i + 1] = output_shape::dims[i];
        xt::xtensor<T, output_shape::rank + 1> out(sh);
        predict_into(x.data(), out.data(), batch);
        return out;
    }
    /// Inference into caller memory: @p out holds batch·output_shape::size values. Host pointers for
    /// both policies (a CUDA model uploads x and downloads the result; `predict_device` keeps both on
    /// the GPU).
    void predict_into(const T* x, T* out, std::size_t batch) const {
        if constexpr (on_gpu) {
            auto& s = scratch();
            grow(s, batch);
            copy_from_host<P>(s[2].data(), x, batch * input_shape::size);
            predict_all(s[2].data(), s[3].data(), batch, s, idx{});
            copy_to_host<P>(out, s[3].data(), batch * output_shape::size);
        } else
            predict_all(x, out, batch, grow(scratch(), batch), idx{});
    }
    /// Inference with @p d_x and @p d_out in the policy's memory (GPU memory for the CUDA policy).
    void predict_device(const T* d_x, T* d_out, std::size_t batch) const { predict_all(d_x, d_out, batch, grow(scratch(), batch), idx{}); }

    /// Sets every gradient to zero.
    void zero_grad() { m_grads.fill(T(0)); }
    /// Freezes layer @p i: its parameters are neither updated by optimizers nor get gradients, and by
    /// default it runs forward in eval mode (batch norm keeps its running statistics; see frozen_mode).
    void freeze(std::size_t i, frozen_mode how = frozen_mode::eval) { set_frozen(i, true, how); }
    void unfreeze(std::size_t i) { set_frozen(i, false, frozen_mode::eval); }
    bool is_frozen(std::size_t i) const { return i < depth && m_frozen[i]; }
    frozen_mode frozen_mode_of(std::size_t i) const { return i < depth ? m_frozen_mode[i] : frozen_mode::eval; }

    /// The flat buffers (in the policy's memory) and trainable ranges, for optimizers.
    parameter_set<T, P> parameters() noexcept { return {m_params.data(), m_grads.data(), parameter_count, &m_trainable}; }
    /// The flat parameter and gradient buffers in host memory (CPU policy).
    std::span<T> parameter_values() noexcept requires(!on_gpu) { return {m_params.data(), parameter_count}; }
    std::span<const T> parameter_values() const noexcept requires(!on_gpu) { return {m_params.data(), parameter_count}; }
    std::span<T> gradients() noexcept requires(!on_gpu) { return {m_grads.data(), parameter_count}; }
    /// Copies of the flat parameter / gradient buffers in host memory (any policy).
    std::vector<T> host_parameters() const {
        std::vector<T> v(parameter_count);
        copy_to_host<P>(v.data(), m_params.data(), parameter_count);
        return v;
    }
    std::vector<T> host_gradients() const {
        std::vector<T> v(parameter_count);
        copy_to_host<P>(v.data(), m_grads.data(), parameter_count);
        return v;
    }
    /// Replaces every parameter with @p values (host memory, parameter_count values, layout of
    /// parameter_layout()).
    void set_parameters(std::span<const T> values) {
        detail::check(values.size() == parameter_count, "sequential::set_parameters: expected " +
                                                            std::to_string(parameter_count) + " values, got " +
                                                            std::to_string(values.size()));
        copy_from_host<P>(m_params.data(), values.data(), parameter_count);
    }

    /// Every parameter tensor with its PyTorch `state_dict` name (`"0.weight"`), its shape and its
    /// offset in the flat buffer, in layer order (any policy).
    std::vector<parameter_entry> parameter_layout() const {
        std::vector<parameter_entry> out;
        collect_layout<false>(out, idx{});
        return out;
    }
    /// The same for the states (`"1.running_mean"`, ...), with offsets into the state buffer.
    std::vector<parameter_entry> state_layout() const {
        std::vector<parameter_entry> out;
        collect_layout<true>(out, idx{});
        return out;
    }
    /// A copy of the state buffer in host memory, and its replacement (state_count values).
    std::vector<T> host_states() const {
        std::vector<T> v(state_count);
        copy_to_host<P>(v.data(), m_state.data(), state_count);
        return v;
    }
    void set_states(std::span<const T> values) {
        detail::check(values.size() == state_count, "sequential::set_states: expected " + std::to_string(state_count) +
                                                        " values, got " + std::to_string(values.size()));
        copy_from_host<P>(m_state.data(), values.data(), state_count);
    }
    /// Every parameter tensor with its name and pointers into the host buffers (CPU policy).
    std::vector<named_parameter<T>> named_parameters() requires(!on_gpu) {
        std::vector<named_parameter<T>> out;
        for (const auto& e : parameter_layout())
            out.push_back({e.name, e.desc, m_params.data() + e.offset, m_grads.data() + e.offset});
        return out;
    }

    /// Layer @p I (bound type), e.g. for dropout reseeding or inspection.
    template <std::size_t I>
    auto& layer() noexcept {
        return std::get<I>(m_layers);
    }
    template <std::size_t I>
    const auto& layer() const noexcept {
        return std::get<I>(m_layers);
    }

private:
    template <std::size_t... I>
    void bind_all(T* params, T* grads, T* states, std::index_sequence<I...>) noexcept {
        auto one = [&](auto& l, std::size_t i) {
            l.attach(params + parameter_offsets[i], grads + parameter_offsets[i]);
            if constexpr (requires { l.attach_state(states); }) l.attach_state(states + state_offsets[i]);
        };
        (one(std::get<I>(m_layers), I), ...);
    }
    template <class M>
    void copy_layer_state(const M& o) {
        // parameter-free state that travels with a model (dropout streams): copy layer by layer where
        // the bound types expose it
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            auto one = [&](auto& mine, const auto& theirs) {
                if constexpr (requires { mine.set_mask_stream(theirs.mask_seed(), theirs.mask_counter()); })
                    mine.set_mask_stream(theirs.mask_seed(), theirs.mask_counter());
            };
            (one(std::get<I>(m_layers), o.template layer<I>()), ...);
        }(idx{});
    }
    void update_trainable() {
        m_trainable.clear();
        for (std::size_t i = 0; i < depth; ++i) {
            if (m_frozen[i] || parameter_offsets[i] == parameter_offsets[i + 1]) continue;
            if (!m_trainable.empty() && m_trainable.back().end == parameter_offsets[i])
                m_trainable.back().end = parameter_offsets[i + 1];
            else
                m_trainable.push_back({parameter_offsets[i], parameter_offsets[i + 1]});
        }
        // layer i needs dL/d(its input) only if a trainable layer sits before it
        bool any = false;
        for (std::size_t i = 0; i < depth; ++i) {
            m_need_dx[i] = any;
            any = any || (!m_frozen[i] && parameter_offsets[i] != parameter_offsets[i + 1]);
        }
    }
    void set_frozen(std::size_t i, bool frozen, frozen_mode how) {
        detail::check(i < depth, "sequential::freeze: layer index " + std::to_string(i) + " out of range (depth " +
                                     std::to_string(depth) + ")");
        m_frozen[i] = frozen;
        m_frozen_mode[i] = how;
        update_trainable();
    }
    template <std::size_t I>
    void forward_one(context_type& ctx) {
        if constexpr (fuses_next<I>()) {
            using A = layer_type<I + 1>;
            std::get<I>(m_layers).predict_fused(ctx.act(I), ctx.act(I + 2), ctx.m_batch, A::kind, A::slope);
        } else if constexpr (!fused_into_previous<I>())
            std::get<I>(m_layers).forward(ctx.act(I), ctx.act(I + 1), ctx.m_batch, ctx.m_cache.data() + ctx.m_cache_off[I],
                                          m_frozen[I] && m_frozen_mode[I] == frozen_mode::eval ? mode::eval : m_mode);
    }
    template <std::size_t... I>
    void forward_all(context_type& ctx, std::index_sequence<I...>) {
        (forward_one<I>(ctx), ...);
    }
    template <std::size_t I>
    bool backward_one(context_type& ctx, const T*& cur, bool input_gradient) {
        T* dx = nullptr;
        if constexpr (I == 0)
            dx = input_gradient ? ctx.m_dx.data() : nullptr;
        else
            dx = (input_gradient || m_need_dx[I]) ? ctx.m_grad[I % 2].data() : nullptr;
        std::get<I>(m_layers).backward(ctx.act(I), ctx.act(I + 1), cur, dx, ctx.m_batch,
                                       ctx.m_cache.data() + ctx.m_cache_off[I], !m_frozen[I]);
        cur = dx;
        return dx != nullptr;  // false: nothing earlier needs a gradient
    }
    template <std::size_t... I>
    void backward_all(context_type& ctx, const T* cur, bool input_gradient, std::index_sequence<I...>) {
        (backward_one<depth - 1 - I>(ctx, cur, input_gradient) && ...);
    }
    // ping-pong activations, plus input and output staging on the GPU
    using scratch_t = std::array<buffer, 4>;
    static scratch_t& scratch() {
        static thread_local scratch_t s;
        return s;
    }
    static scratch_t& grow(scratch_t& s, std::size_t batch) {
        const std::size_t need = max_of(activation_sizes) * batch;
        if (s[0].size() < need) {
            s[0].resize(need);
            s[1].resize(need);
            if constexpr (on_gpu) {
                s[2].resize(input_shape::size * batch);
                s[3].resize(output_shape::size * batch);
            }
        }
        return s;
    }
    template <std::size_t... I>
    void predict_all(const T* x, T* out, std::size_t batch, scratch_t& s, std::index_sequence<I...>) const {
        const T* cur = x;
        std::size_t free = 0;  // the scratch buffer that does not hold `cur`
        auto one = [&]<std::size_t J>(std::integral_constant<std::size_t, J>) {
            if constexpr (!fused_into_previous<J>()) {
                constexpr std::size_t last = fuses_next<J>() ? J + 1 : J;
                T* dst = last == depth - 1 ? out : s[free].data();
                if constexpr (fuses_next<J>()) {
                    using A = layer_type<J + 1>;
                    std::get<J>(m_layers).predict_fused(cur, dst, batch, A::kind, A::slope);
                } else
                    std::get<J>(m_layers).predict(cur, dst, batch);
                cur = dst;
                free ^= 1;
            }
        };
        (one(std::integral_constant<std::size_t, I>{}), ...);
    }
    template <bool States, std::size_t... I>
    void collect_layout(std::vector<parameter_entry>& out, std::index_sequence<I...>) const {
        auto one = [&]<std::size_t J>(std::integral_constant<std::size_t, J>) {
            using L = layer_type<J>;
            const auto& l = std::get<J>(m_layers);
            const std::string prefix = detail::entry_prefix<L>("", J);
            if constexpr (requires { l.layout(prefix, 0, 0, States, out); })  // blocks name their sub-layers
                l.layout(prefix, parameter_offsets[J], state_offsets[J], States, out);
            else {
                auto add = [&](const auto& descs, std::size_t off) {
                    for (const auto& d : descs) {
                        out.push_back({prefix + std::string(d.name), d, off});
                        off += d.size();
                    }
                };
                if constexpr (!States) add(L::parameters(), parameter_offsets[J]);
                else if constexpr (requires { L::states(); }) add(L::states(), state_offsets[J]);
            }
        };
        (one(std::integral_constant<std::size_t, I>{}), ...);
    }

    buffer m_params, m_grads, m_state;
    layers m_layers{};
    std::array<bool, depth> m_frozen{};
    std::array<frozen_mode, depth> m_frozen_mode{};
    std::array<bool, depth> m_need_dx{};
    std::vector<param_range> m_trainable;
    mode m_mode = mode::train;
};

/// A CPU model over value type T: `basic_sequential<double, input<4>, dense<2>>`.
template <class T, class... InputAndSpecs>
using basic_sequential = policy_sequential<cpu, T, InputAndSpecs...>;

/// The float model most code wants: `sequential<input<784>, dense<128>, relu, dense<10>>`; on the GPU
/// `sequential<...>::on<ctnn::cuda>`.
template <class... InputAndSpecs>
using sequential = policy_sequential<cpu, float, InputAndSpecs...>;

}  // namespace ctnn
