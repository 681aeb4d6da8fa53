// SPDX-License-Identifier: MIT
#pragma once
/// @file step.hpp  One training step, the unit `fit` repeats and manual loops call.
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>

#include "../backend/policy.hpp"
#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "../loss/concepts.hpp"
#include "../ops/loss_ops.hpp"

namespace ctnn {

/// A value in GPU memory that is read (waiting for the GPU) only when converted: what `train_step`
/// returns for a CUDA model, so a loop that does not look at every loss never waits.
template <class T>
struct device_scalar {
    const T* ptr = nullptr;
    T get() const { return ops::read_scalar<cuda>(ptr); }
    operator T() const { return get(); }
};

namespace detail {
/// Uploads a checked target to the CUDA context's label or target buffer and returns its device pointer.
template <class Loss, class T, class Ctx, class Target>
auto upload_target(Ctx& ctx, const Target& target) {
    using Tg = std::remove_cvref_t<decltype(*target.data())>;
    if constexpr (loss::takes_labels_v<Loss>) {
        static_assert(std::is_same_v<Tg, std::int32_t>,
                      "ctnn::train_step: the CUDA policy takes labels as std::int32_t; convert them (datasets already hold int32)");
        ctx.upload_labels(target.data(), target.size());
        return ctx.device_labels();
    } else {
        static_assert(std::is_same_v<Tg, T>,
                      "ctnn::train_step: the CUDA policy takes targets of the model's value type; convert them");
        ctx.upload_targets(target.data(), target.size());
        return ctx.device_targets();
    }
}
}  // namespace detail

/// zero_grad → forward (kept in @p ctx) → @p loss, writing its gradient into ctx.output_gradient()
/// → backward → optimizer step. Returns the mean loss of the batch; the batch's outputs stay readable
/// as `ctx.template activation<Model::depth - 1>()`. Allocates nothing after the first call.
/// @p loss: any `loss::loss_function` (loss/concepts.hpp); @p target: what its `target_kind` says —
/// integer labels [batch] or values of the model's type (e.g. [batch, outputs]). The target is checked
/// on the host first (`loss.check_target`), then the loss's `evaluate<policy>` runs.
/// For a CUDA model, @p x and @p target are in host memory (uploaded asynchronously), every kernel
/// is queued without waiting, and the loss comes back as a device_scalar that waits only when read.
template <class Model, class Opt, class Loss, contiguous_tensor X, contiguous_tensor Target>
auto train_step(Model& model, typename Model::context_type& ctx, Opt& opt, const Loss& loss, const X& x,
                const Target& target) {
    using T = typename Model::value_type;
    using P = typename Model::policy;
    static_assert(loss::loss_function<Loss, T, P>,
                  "ctnn::train_step: the loss does not satisfy loss::loss_function (name, target_kind, target_elements, "
                  "check_target, evaluate<P>); see loss/concepts.hpp");
    model.zero_grad();
    auto y = model.forward(x, ctx);
    auto dy = ctx.output_gradient();
    const std::size_t batch = ctx.batch();
    loss::check_batch(loss, y.size(), target.data(), target.size(), batch);
    if constexpr (std::is_same_v<P, cuda>) {
        const auto* t = detail::upload_target<Loss, T>(ctx, target);
        loss.template evaluate<P>(y.data(), t, dy.data(), batch, y.size() / batch, ctx.device_loss());
        model.backward(dy, ctx);
        opt.step();
        return device_scalar<T>{ctx.device_loss()};
    } else {
        T l{};
        loss.template evaluate<P>(y.data(), target.data(), dy.data(), batch, y.size() / batch, &l);
        model.backward(dy, ctx);
        opt.step();
        return l;
    }
}

}  // namespace ctnn
