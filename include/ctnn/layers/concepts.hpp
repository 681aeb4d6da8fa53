// SPDX-License-Identifier: MIT
#pragma once
/// @file concepts.hpp  What a layer is: the `layer_spec` and `layer` concepts, parameter descriptors.
#include <array>
#include <concepts>
#include <cstddef>
#include <string_view>

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

/// A layer bound to its input shape and value type. Shapes are per sample; data is row-major
/// [batch, sample...]. `cache` holds `cache_size` values per sample for backward.
template <class L>
concept layer = requires(L& l, const L& cl, typename L::value_type* p, const typename L::value_type* cp, std::size_t n,
                         rng& g) {
    typename L::value_type;
    requires shape_type<typename L::input_shape>;
    requires shape_type<typename L::output_shape>;
    { L::parameter_count } -> std::convertible_to<std::size_t>;
    { L::cache_size } -> std::convertible_to<std::size_t>;
    { L::name } -> std::convertible_to<std::string_view>;
    L::parameters();
    l.attach(p, p);
    l.init(g);
    l.forward(cp, p, n, p, mode::train);
    l.backward(cp, cp, cp, p, n, cp, true);
    cl.predict(cp, p, n);
};

/// Layers may also own *states*: values that are not trained but travel with the model (batch_norm's
/// running statistics). Such a layer declares `state_count`, `states()` (descriptors in order) and
/// `attach_state(T*)`; `sequential` keeps all states in one buffer beside the parameters.
template <class L>
constexpr std::size_t state_count_of() {
    if constexpr (requires { L::state_count; }) return L::state_count;
    else return 0;
}

/// A layer specification (`dense<256>`, `relu`): binds to an input shape and value type.
template <class S>
concept layer_spec = requires { typename S::template bind<shape<1>, float>; };

/// Base for layers without parameters.
struct parameter_free {
    static constexpr std::size_t parameter_count = 0;
    static constexpr std::array<param_desc, 0> parameters() noexcept { return {}; }
    template <class T>
    void attach(T*, T*) noexcept {}
    void init(rng&) noexcept {}
};

}  // namespace ctnn
