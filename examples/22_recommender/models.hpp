// SPDX-License-Identifier: MIT
#pragma once
// Example 22's neural recommenders, shared with benchmarks/compare/compare_recsys.cpp: NeuMF and GMF as two-input
// ctnn graphs on (user id, item id), and NCF's small initialisation of their embedding tables.
#include <cstddef>
#include <ctnn/ctnn.hpp>
#include <span>
#include <string>
#include <tuple>

namespace recommender {
using namespace ctnn;

// the embedding tables are compile-time sizes: room for ml-latest-small, dslabs and ml-100k
constexpr std::size_t max_users = 2048, max_items = 16384;

/// NeuMF (He et al. 2017): GMF (user ⊙ item embeddings, 16) beside an MLP on [user, item] embeddings (32 + 32 →
/// 64 → 32 → 16), joined into one logit.
using neumf = graph<inputs<input<1>, input<1>>,                                                          // user, item ids
                    node<from<0>, named<"gmf_user", chain<embedding<max_users, 16>, flatten>>>,          // 2
                    node<from<1>, named<"gmf_item", chain<embedding<max_items, 16>, flatten>>>,          // 3
                    node<multiply_of<2, 3>, identity>,                                                   // 4: GMF
                    node<from<0>, named<"mlp_user", chain<embedding<max_users, 32>, flatten>>>,          // 5
                    node<from<1>, named<"mlp_item", chain<embedding<max_items, 32>, flatten>>>,          // 6
                    node<concat_of<5, 6>, named<"mlp", chain<dense<64>, relu, dense<32>, relu, dense<16>, relu>>>,  // 7
                    node<concat_of<4, 7>, named<"predict", dense<1>>>,                                   // 8
                    outputs<8>>;
/// GMF for BPR: the score h·(p_u ⊙ q_i).
using gmf = graph<inputs<input<1>, input<1>>, node<from<0>, named<"user", chain<embedding<max_users, 32>, flatten>>>,
                  node<from<1>, named<"item", chain<embedding<max_items, 32>, flatten>>>,
                  node<multiply_of<2, 3>, named<"h", dense<1, false>>>, outputs<4>>;

/// NCF's initialisation of the embedding tables: N(0, 0.01²) instead of nn.Embedding's N(0, 1) (large random
/// products would swamp the first gradients; BPR then shrinks every score to a tie), by rescaling the drawn values.
template <class M>
void shrink_embeddings(M& m, float factor = 0.01f) {
    auto p = m.parameter_values();
    for (const auto& e : m.parameter_layout())
        if (e.name.find("user.0.weight") != std::string::npos || e.name.find("item.0.weight") != std::string::npos)
            for (std::size_t k = e.offset; k < e.offset + e.desc.size(); ++k) p[k] *= factor;
}

/// One training step of a one-output, two-input model (NeuMF) on @p B rows (user id, item id, target 0/1): binary
/// cross-entropy on the logit, backward, one step of @p opt. Returns the mean loss.
template <class M, class Opt>
double bce_step(M& m, typename M::context_type& ctx, Opt& opt, const float* users, const float* items, const float* targets, std::size_t B) {
    const std::span<const float> su{users, B}, si{items, B}, st{targets, B};
    const auto [y] = m.forward(std::tie(su, si), ctx);
    auto dy = ctx.template output_gradient<0>();
    m.zero_grad();
    const double loss = loss::bce_with_logits{}(std::span<const float>{y.data(), B}, st, dy);
    m.backward(std::tuple{dy}, ctx);
    opt.step();
    return loss;
}

}  // namespace recommender
