// SPDX-License-Identifier: MIT
#pragma once
/// @file concepts.hpp  What a layer is: the `layer_spec` and `layer` concepts, parameter descriptors.
#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <string>
#include <vector>

#include "../backend/epilogue.hpp"
#include "../core/random.hpp"
#include "../core/shape.hpp"

namespace ctnn {

/// Whether a forward pass trains (dropout active, caches kept) or evaluates.
enum class mode { train, eval };
/// How a frozen layer runs forward (model.freeze(i, ...)): `eval` (the default, as Keras's
/// trainable = False) — batch norm normalises with its running statistics and leaves them unchanged,
/// dropout is off — or `model`: the model's own mode (as PyTorch's requires_grad_(False) alone, where
/// batch norm in training mode still uses batch statistics and updates its running ones).
enum class frozen_mode { eval, model };

/// Name and PyTorch-layout dimensions of one parameter tensor of a layer (e.g. "weight" [out, in]).
struct param_desc {
    std::string_view name;
    std::array<std::size_t, 4> dims{};
    std::size_t rank = 0;
    /// For states (non-trainable buffers such as batch_norm's running statistics): saved in a
    /// state_dict (`persistent`), and saved as int64 (`integer`, e.g. num_batches_tracked).
    bool persistent = true;
    bool integer = false;
    constexpr std::size_t size() const noexcept {
        std::size_t s = 1;
        for (std::size_t i = 0; i < rank; ++i) s *= dims[i];
        return s;
    }
};

/// A half-open range [begin, end) of the flat parameter buffer.
struct param_range {
    std::size_t begin = 0, end = 0;
};

/// Where one parameter tensor lives in a model's flat buffer: PyTorch name, shape, offset.
struct parameter_entry {
    std::string name;
    param_desc desc;
    std::size_t offset;
};

/// The layer contract. A *layer* is a layer spec bound to its per-sample input shape, value type and
/// policy (`dense<256>::bind<shape<784>, float, cpu>`). Data is row-major [batch, sample...] in the
/// policy's memory; shapes are per sample. The core members, all required:
///
/// | member | what it is |
/// |---|---|
/// | `value_type`, `input_shape`, `output_shape` | element type, per-sample shapes (`ctnn::shape<...>`) |
/// | `parameter_count`, `parameters()` | number of parameters; `param_desc`s (PyTorch names, layouts) summing to it |
/// | `cache_size` | values per sample the layer keeps from `forward` for `backward` |
/// | `name` | a short name for messages |
/// | `attach(p, g)` | the layer's slices of the model's flat parameter and gradient buffers |
/// | `init(rng&)` | draws the parameters |
/// | `forward(x, y, batch, cache, mode)` | training forward; may write `cache` |
/// | `backward(x, y, dy, dx, batch, cache, param_grads)` | accumulates (`+=`) parameter gradients when `param_grads`; writes (`=`) dx unless dx is null |
/// | `predict(x, y, batch) const` | inference; reads nothing but parameters and states, so it is safe from several threads |
///
/// Optional capabilities, each a concept below. A layer that declares part of one must declare all of
/// it: containers check every layer with `check_layer_contract<L>()`, so a misspelt member is a compile
/// error naming what is missing, never a silently disabled feature.
/// - stateful (`state_count`, `states()`, `attach_state(T*)`): non-trained values that travel with the
///   model (batch norm's running statistics).
/// - needs scratch (`scratch_size(batch)`, and `forward`/`backward`/`predict` (and `predict_fused`) taking
///   a trailing `T* scratch`): temporary memory for one call, planned by the container.
/// - fuses a following activation (`fuses_activation`, `predict_fused(x, y, batch, kind, slope)`).
/// - fusable activation (`fusable`, `kind`, `slope`; its backward reads only y and dy).
/// - composite (`layout(...)`, `collect_trainable(...)`, ...): a container of layers (chains, blocks).
/// - checks its input (`static check_input(const T* x, std::size_t n)`): a layer whose input is discrete
///   (an embedding's token ids) validates host data at the model's boundary, before any upload, with
///   a ctnn::error; it must be a model's first layer or read a graph input directly.
template <class L>
concept layer_core = requires {
    typename L::value_type;
    requires shape_type<typename L::input_shape>;
    requires shape_type<typename L::output_shape>;
    { L::parameter_count } -> std::convertible_to<std::size_t>;
    { L::cache_size } -> std::convertible_to<std::size_t>;
    { L::name } -> std::convertible_to<std::string_view>;
    L::parameters();
};

/// The scratch capability: `scratch_size(batch)` values of the policy's memory, enough for any batch up
/// to `batch`, handed to each call as a trailing pointer that is the layer's alone during that call.
template <class L>
concept scratch_layer = layer_core<L> && requires(L& l, const L& cl, typename L::value_type* p,
                                                  const typename L::value_type* cp, std::size_t n) {
    { L::scratch_size(n) } -> std::convertible_to<std::size_t>;
    l.forward(cp, p, n, p, mode::train, p);
    l.backward(cp, cp, cp, p, n, cp, true, p);
    cl.predict(cp, p, n, p);
};

/// A layer (see the table above): the core members, with or without the scratch capability.
template <class L>
concept layer = layer_core<L> && (scratch_layer<L> || requires(L& l, const L& cl, typename L::value_type* p,
                                                                const typename L::value_type* cp, std::size_t n, rng& g) {
                                      l.attach(p, p);
                                      l.init(g);
                                      l.forward(cp, p, n, p, mode::train);
                                      l.backward(cp, cp, cp, p, n, cp, true);
                                      cl.predict(cp, p, n);
                                  });

/// The stateful capability: `state_count` values in the model's state buffer, described by `states()`.
template <class L>
concept stateful_layer = requires(L& l, typename L::value_type* p) {
    { L::state_count } -> std::convertible_to<std::size_t>;
    L::states();
    l.attach_state(p);
};

/// The capability of computing a following fusable activation in the same pass (GEMM epilogue).
template <class L>
concept fusing_layer = requires(const L& cl, typename L::value_type* p, const typename L::value_type* cp, std::size_t n) {
    { L::fuses_activation } -> std::convertible_to<bool>;
    requires(scratch_layer<L> ? requires { cl.predict_fused(cp, p, n, activation_kind::none, typename L::value_type(0), p); }
                              : requires { cl.predict_fused(cp, p, n, activation_kind::none, typename L::value_type(0)); });
};

/// An activation that a fusing layer can compute in its epilogue (`kind`, `slope`).
template <class L>
concept fusable_activation = requires {
    { L::fusable } -> std::convertible_to<bool>;
    { L::kind } -> std::convertible_to<activation_kind>;
    { L::slope } -> std::convertible_to<typename L::value_type>;
};

/// A container of layers (chains and blocks): names its entries, reports its trainable ranges and
/// whether it has any, and forwards freezing and per-layer stream copies to its members.
template <class L>
concept composite_layer = requires(const L& cl, std::vector<param_range>& ranges, std::vector<parameter_entry>& out,
                                   const std::string& prefix, std::size_t n) {
    cl.layout(prefix, n, n, true, out);
    cl.collect_trainable(n, ranges);
    { cl.has_trainable() } -> std::convertible_to<bool>;
};

/// Counts the values of a list of descriptors.
template <class Descs>
constexpr std::size_t described_size(const Descs& d) {
    std::size_t s = 0;
    for (const auto& e : d) s += e.size();
    return s;
}

/// Asserts at compile time that L keeps the whole contract of every capability it declares part of.
template <class L>
constexpr bool check_layer_contract() {
    static_assert(layer_core<L>, "ctnn::layer: a bound layer must declare value_type, input_shape, output_shape, "
                                 "parameter_count, cache_size, name and parameters(); see layers/concepts.hpp");
    if constexpr (!requires { &L::layout; })  // composites name their entries themselves
        static_assert(described_size(L::parameters()) == L::parameter_count,
                      "ctnn::layer: the sizes of parameters() must add up to parameter_count; describe every parameter "
                      "tensor (name and PyTorch dims)");
    constexpr bool declares_state = requires { L::state_count; } || requires { L::states(); } ||
                                    requires(L& l) { l.attach_state(nullptr); };
    static_assert(!declares_state || stateful_layer<L>,
                  "ctnn::layer: a layer with states must declare all of state_count, states() and "
                  "attach_state(T*); one of them is missing or misspelt");
    if constexpr (stateful_layer<L> && !requires { &L::layout; })
        static_assert(described_size(L::states()) == L::state_count,
                      "ctnn::layer: the sizes of states() must add up to state_count");
    constexpr bool declares_scratch = requires { L::scratch_size; } || requires { &L::scratch_size; };
    static_assert(!declares_scratch || scratch_layer<L>,
                  "ctnn::layer: a layer with scratch_size(batch) must take a trailing `T* scratch` in forward, "
                  "backward and predict; one of them has the old signature or is misspelt");
    constexpr bool declares_fusing = requires { L::fuses_activation; } || requires { &L::predict_fused; };
    static_assert(!declares_fusing || fusing_layer<L>,
                  "ctnn::layer: a layer that fuses activations must declare fuses_activation and "
                  "predict_fused(x, y, batch, kind, slope[, scratch]) const");
    constexpr bool declares_fusable = requires { L::fusable; } || requires { L::kind; };
    static_assert(!declares_fusable || fusable_activation<L>,
                  "ctnn::layer: a fusable activation must declare fusable, kind and slope");
    constexpr bool declares_composite = requires { &L::layout; } || requires { &L::collect_trainable; } ||
                                        requires { &L::has_trainable; };
    static_assert(!declares_composite || composite_layer<L>,
                  "ctnn::layer: a composite layer (a block of layers) must declare layout(...), "
                  "collect_trainable(base, ranges) and has_trainable(); one of them is missing or misspelt");
    static_assert(layer<L>, "ctnn::layer: forward/backward/predict/attach/init do not have the signatures of the "
                            "contract (layers/concepts.hpp)");
    return true;
}

/// A layer specification (`dense<256>`, `relu`): binds to an input shape and value type.
template <class S>
concept layer_spec = requires { typename S::template bind<shape<1>, float>; };

/// The random stream of a stochastic layer (dropout, gaussian_sample, attention dropout): a seed drawn at
/// init and the number of training forwards drawn so far; element i of draw c is a pure function of
/// (seed, c, i) (backend/rules.hpp), so both policies draw alike. Moving a model between policies
/// continues the stream (`set_mask_stream`, model/composite.hpp).
class counter_stream {
public:
    std::uint64_t mask_seed() const noexcept { return m_seed; }
    std::uint64_t mask_counter() const noexcept { return m_counter; }
    void set_mask_stream(std::uint64_t seed, std::uint64_t counter) noexcept {
        m_seed = seed;
        m_counter = counter;
    }

protected:
    void reseed(rng& g) noexcept { set_mask_stream(g(), 0); }
    std::uint64_t m_seed = 0, m_counter = 0;
};

/// Base for layers without parameters.
struct parameter_free {
    static constexpr std::size_t parameter_count = 0;
    static constexpr std::array<param_desc, 0> parameters() noexcept { return {}; }
    template <class T>
    void attach(T*, T*) noexcept {}
    void init(rng&) noexcept {}
};

}  // namespace ctnn
