// SPDX-License-Identifier: MIT
#pragma once
/// @file step.hpp  One training step, the unit `fit` repeats and manual loops call.
#include <cstdint>
#include <string>
#include <type_traits>

#include "../backend/cuda/api.hpp"
#include "../backend/policy.hpp"
#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "../loss/losses.hpp"

namespace ctnn {

/// A value in GPU memory that is read (waiting for the GPU) only when converted: what `train_step`
/// returns for a CUDA model, so a loop that does not look at every loss never waits.
template <class T>
struct device_scalar {
    const T* ptr = nullptr;
    T get() const { return cuda_api::read_scalar(ptr); }
    operator T() const { return get(); }
};

namespace detail {
/// The loss of a CUDA model's last forward on the GPU: checks and uploads the target, writes dL/dy into
/// ctx.output_gradient() and the mean loss into ctx.device_loss(), without waiting for the GPU.
template <class Loss, class Ctx, class Y, class Target>
void device_loss(const Loss&, Ctx& ctx, const Y& y, const Target& target) {
    auto dy = ctx.output_gradient();
    const std::size_t batch = ctx.batch(), n = y.size();
    if constexpr (std::is_same_v<Loss, loss::cross_entropy>) {
        const std::size_t k = n / batch;
        if (target.size() != batch) [[unlikely]]
            fail("cross_entropy: " + std::to_string(target.size()) + " labels for a batch of " + std::to_string(batch));
        const auto* lab = target.data();
        for (std::size_t b = 0; b < batch; ++b)
            if (lab[b] < 0 || std::size_t(lab[b]) >= k) [[unlikely]]
                fail("cross_entropy: label " + std::to_string(static_cast<long long>(lab[b])) + " at index " + std::to_string(b) +
                     " is outside [0, " + std::to_string(k) + ")");
        ctx.upload_labels(lab, batch);
        cuda_api::cross_entropy(y.data(), ctx.device_labels(), batch, k, dy.data(), ctx.device_loss());
    } else {
        constexpr int kind = std::is_same_v<Loss, loss::mse> ? 0 : std::is_same_v<Loss, loss::bce> ? 1 : 2;
        static_assert(std::is_same_v<Loss, loss::mse> || std::is_same_v<Loss, loss::bce> ||
                          std::is_same_v<Loss, loss::bce_with_logits>,
                      "ctnn::train_step: this loss has no CUDA kernel; the CUDA policy supports mse, bce, "
                      "bce_with_logits and cross_entropy");
        if (target.size() != n) [[unlikely]]
            fail(std::string(Loss::name) + ": prediction has " + std::to_string(n) + " elements but the target has " +
                 std::to_string(target.size()));
        ctx.upload_targets(target.data(), n);
        cuda_api::pointwise_loss(kind, y.data(), ctx.device_targets(), n, dy.data(), ctx.device_loss());
    }
}
}  // namespace detail

/// zero_grad → forward (kept in @p ctx) → @p loss, writing its gradient into ctx.output_gradient()
/// → backward → optimizer step. Returns the mean loss of the batch; the batch's outputs stay readable
/// as `ctx.template activation<Model::depth - 1>()`. Allocates nothing after the first call.
/// @p target: integer labels for cross_entropy, float targets of the output's size for the others.
/// For a CUDA model, @p x and @p target are in host memory (uploaded asynchronously), every kernel
/// is queued without waiting, and the loss comes back as a device_scalar that waits only when read.
template <class Model, class Opt, class Loss, contiguous_tensor X, contiguous_tensor Target>
auto train_step(Model& model, typename Model::context_type& ctx, Opt& opt, const Loss& loss, const X& x,
                const Target& target) {
    model.zero_grad();
    auto y = model.forward(x, ctx);
    if constexpr (std::is_same_v<typename Model::policy, cuda>) {
        detail::device_loss(loss, ctx, y, target);
        model.backward(ctx.output_gradient(), ctx);
        opt.step();
        return device_scalar<typename Model::value_type>{ctx.device_loss()};
    } else {
        auto dy = ctx.output_gradient();
        const auto l = loss(y, target, dy);
        model.backward(dy, ctx);
        opt.step();
        return l;
    }
}

}  // namespace ctnn
