// SPDX-License-Identifier: MIT
#pragma once
/// @file model_base.hpp  What every model type shares (sequential, graph): the flat parameter,
/// gradient and state buffers in the policy's memory, the body (a chain or a graph of chains) bound
/// into them, train/eval mode, freezing, the trainable ranges optimizers update, and the named
/// state_dict views that save/load use.
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "../backend/buffer.hpp"
#include "../core/aligned.hpp"
#include "../core/error.hpp"
#include "../core/random.hpp"
#include "../core/tensor.hpp"
#include "../backend/cuda/device_buffer.hpp"
#include "../layers/concepts.hpp"
#include "../layers/sequence.hpp"
#include "parameters.hpp"

namespace ctnn::detail {

/// [batch, S...] at @p p in the policy's memory: an xtensor adaptor (host) or a device_view (GPU).
template <class P, shape_type S, class U>
auto batch_view(U* p, std::size_t batch) {
    if constexpr (std::same_as<P, cuda>) return device_view<U>{p, batch * S::size, batch};
    else return adapt_batch<S>(p, batch);
}
/// @p max_batch, checked to be positive (what contexts are sized for).
inline std::size_t checked_max_batch(std::size_t max_batch, const char* what) {
    check(max_batch > 0, std::string(what) + ": max_batch must be positive");
    return max_batch;
}

/// Buffers and parameter API of a model whose layers are run by `Body` (a composite layer:
/// chain_core or graph_core). `Name` prefixes error messages ("sequential", "graph").
template <class P, class T, class Body>
class model_base {
protected:
    static constexpr bool on_gpu = std::same_as<P, cuda>;
    using buffer = buffer_t<P, T>;

public:
    using value_type = T;
    using policy = P;
    using body_type = Body;
    /// Number of scalar parameters, and of state values (running statistics).
    static constexpr std::size_t parameter_count = Body::parameter_count;
    static constexpr std::size_t state_count = Body::state_count;

    /// Builds the model and initialises every layer from @p s (He/Xavier per layer). Parameters are
    /// drawn on the host in the same order for every policy, so a CUDA model starts from exactly the
    /// CPU model's values.
    explicit model_base(seed s = seed{0}) : m_params(parameter_count), m_grads(parameter_count), m_state(state_count) {
        bind_all();
        reset_parameters(s);
        update_trainable();
    }
    model_base(const model_base& o)
        : m_params(o.m_params), m_grads(o.m_grads), m_state(o.m_state), m_body(o.m_body), m_mode(o.m_mode) {
        bind_all();
        update_trainable();
    }
    model_base& operator=(const model_base& o) {
        if (this != &o) {
            m_params = o.m_params;
            m_grads = o.m_grads;
            m_state = o.m_state;
            m_body = o.m_body;
            m_mode = o.m_mode;
            bind_all();
            update_trainable();
        }
        return *this;
    }

    /// Re-draws every parameter from @p s.
    void reset_parameters(seed s) {
        rng g(s);
        if constexpr (on_gpu) {
            aligned_buffer<T> host(parameter_count), host_grads(parameter_count), host_state(state_count);
            m_body.attach(host.data(), host_grads.data());
            m_body.attach_state(host_state.data());
            m_body.init(g);
            bind_all();
            copy_from_host<P>(m_params.data(), host.data(), parameter_count);
            copy_from_host<P>(m_state.data(), host_state.data(), state_count);
        } else
            m_body.init(g);
    }

    /// Training (dropout active, batch statistics) or evaluation mode for `forward`.
    void train() noexcept { m_mode = mode::train; }
    void eval() noexcept { m_mode = mode::eval; }
    ctnn::mode current_mode() const noexcept { return m_mode; }

    /// Sets every gradient to zero.
    void zero_grad() { m_grads.fill(T(0)); }
    /// Freezes layer (or node) @p i of the top level (a block: all of it): its parameters are neither
    /// updated by optimizers nor get gradients, and by default it runs forward in eval mode (batch norm
    /// keeps its running statistics; see frozen_mode).
    void freeze(std::size_t i, frozen_mode how = frozen_mode::eval) { set_frozen(i, true, how); }
    void unfreeze(std::size_t i) { set_frozen(i, false, frozen_mode::eval); }
    /// Freezes the layer whose state_dict entries start with @p name (`"2"`, `"layer1.0"`,
    /// `"3.main.0"`): any depth. Throws ctnn::error when no layer has that name.
    void freeze(std::string_view name, frozen_mode how = frozen_mode::eval) { set_frozen(name, true, how); }
    void unfreeze(std::string_view name) { set_frozen(name, false, frozen_mode::eval); }
    bool is_frozen(std::size_t i) const { return m_body.is_frozen(i); }
    frozen_mode frozen_mode_of(std::size_t i) const { return m_body.frozen_mode_of(i); }

    /// The flat buffers (in the policy's memory) and trainable ranges, for optimizers.
    parameter_set<T, P> parameters() noexcept { return {m_params.data(), m_grads.data(), parameter_count, &m_trainable}; }
    /// The ranges of the flat buffer an optimizer updates (frozen layers left out).
    const std::vector<param_range>& trainable_ranges() const noexcept { return m_trainable; }
    /// The flat parameter and gradient buffers in host memory (CPU policy).
    std::span<T> parameter_values() noexcept requires(!on_gpu) { return {m_params.data(), parameter_count}; }
    std::span<const T> parameter_values() const noexcept requires(!on_gpu) { return {m_params.data(), parameter_count}; }
    std::span<T> gradients() noexcept requires(!on_gpu) { return {m_grads.data(), parameter_count}; }
    /// Copies of the flat parameter / gradient buffers in host memory (any policy).
    std::vector<T> host_parameters() const { return to_host(m_params, parameter_count); }
    std::vector<T> host_gradients() const { return to_host(m_grads, parameter_count); }
    /// Replaces every parameter with @p values (host memory, parameter_count values, layout of
    /// parameter_layout()).
    void set_parameters(std::span<const T> values) {
        check(values.size() == parameter_count, "model::set_parameters: expected " + std::to_string(parameter_count) +
                                                    " values, got " + std::to_string(values.size()));
        copy_from_host<P>(m_params.data(), values.data(), parameter_count);
    }

    /// Every parameter tensor with its PyTorch `state_dict` name (`"0.weight"`), its shape and its
    /// offset in the flat buffer, in layer order (any policy).
    std::vector<parameter_entry> parameter_layout() const {
        std::vector<parameter_entry> out;
        m_body.layout("", 0, 0, false, out);
        return out;
    }
    /// The same for the states (`"1.running_mean"`, ...), with offsets into the state buffer.
    std::vector<parameter_entry> state_layout() const {
        std::vector<parameter_entry> out;
        m_body.layout("", 0, 0, true, out);
        return out;
    }
    /// A copy of the state buffer in host memory, and its replacement (state_count values).
    std::vector<T> host_states() const { return to_host(m_state, state_count); }
    void set_states(std::span<const T> values) {
        check(values.size() == state_count, "model::set_states: expected " + std::to_string(state_count) + " values, got " +
                                                std::to_string(values.size()));
        copy_from_host<P>(m_state.data(), values.data(), state_count);
    }
    /// Every parameter tensor with its name and pointers into the host buffers (CPU policy).
    std::vector<named_parameter<T>> named_parameters() requires(!on_gpu) {
        std::vector<named_parameter<T>> out;
        for (const auto& e : parameter_layout())
            out.push_back({e.name, e.desc, m_params.data() + e.offset, m_grads.data() + e.offset});
        return out;
    }
    /// The composite layer that runs the model.
    const Body& body() const noexcept { return m_body; }
    /// Layer (sequential) or node (graph) @p K, bound type: e.g. for inspection or dropout reseeding.
    template <std::size_t K>
    auto& layer() noexcept {
        return m_body.template layer<K>();
    }
    template <std::size_t K>
    const auto& layer() const noexcept {
        return m_body.template layer<K>();
    }

protected:
    /// This thread's scratch for `predict` of this model type, grown to at least @p n values (what makes
    /// `predict` safe from several threads on one model: nothing else it writes is shared).
    static T* thread_arena(std::size_t n) {
        static thread_local buffer b;
        if (b.size() < n) b.resize(n);
        return b.data();
    }
    /// Takes parameters, states, frozen layers, mode and dropout streams from the same model on
    /// another policy.
    template <class Other>
    void copy_from_other_policy(const Other& o) {
        m_body.copy_layer_state(o.body());
        set_parameters(o.host_parameters());
        set_states(o.host_states());
        m_mode = o.current_mode();
        update_trainable();
    }
    static std::vector<T> to_host(const buffer& b, std::size_t n) {
        std::vector<T> v(n);
        copy_to_host<P>(v.data(), b.data(), n);
        return v;
    }
    void bind_all() noexcept {
        m_body.attach(m_params.data(), m_grads.data());
        m_body.attach_state(m_state.data());
    }
    void update_trainable() {
        m_body.update_trainable();
        m_trainable.clear();
        m_body.collect_trainable(0, m_trainable);
    }
    void set_frozen(std::size_t i, bool frozen, frozen_mode how) {
        m_body.set_frozen(i, frozen, how);
        update_trainable();
    }
    void set_frozen(std::string_view name, bool frozen, frozen_mode how) {
        if (!m_body.set_frozen(name, frozen, how))
            fail("model::freeze: no layer is named \"" + std::string(name) +
                 "\"; use a prefix of the state_dict names (parameter_layout()), e.g. \"0\" or \"layer1.0\"");
        update_trainable();
    }

    buffer m_params, m_grads, m_state;
    Body m_body{};
    std::vector<param_range> m_trainable;
    mode m_mode = mode::train;
};

}  // namespace ctnn::detail
