// SPDX-License-Identifier: MIT
#pragma once
/// @file step.hpp  One training step, the unit `fit` repeats and manual loops call.
#include "../core/tensor.hpp"

namespace ctnn {

/// zero_grad → forward (kept in @p ctx) → @p loss, writing its gradient into ctx.output_gradient()
/// → backward → optimizer step. Returns the mean loss of the batch; the batch's outputs stay readable
/// as `ctx.template activation<Model::depth - 1>()`. Allocates nothing after the first call.
/// @p target: integer labels for cross_entropy, float targets of the output's size for the others.
template <class Model, class Opt, class Loss, contiguous_tensor X, contiguous_tensor Target>
auto train_step(Model& model, typename Model::context_type& ctx, Opt& opt, const Loss& loss, const X& x,
                const Target& target) {
    model.zero_grad();
    auto y = model.forward(x, ctx);
    auto dy = ctx.output_gradient();
    const auto l = loss(y, target, dy);
    model.backward(dy, ctx);
    opt.step();
    return l;
}

}  // namespace ctnn
