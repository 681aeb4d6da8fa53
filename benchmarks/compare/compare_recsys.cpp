// SPDX-License-Identifier: MIT
// ctnn vs libtorch, in one process, same data, same initial parameters (copied), same threads, for example 22's
// recommenders:
//  - biased matrix factorisation r̂ = μ + b_u + b_i + p_u·q_i (100 factors, lr 0.01, reg 0.1: example 22's
//    defaults), one epoch over the ratings. ctnn: recsys::biased_mf::sgd_epoch (Surprise's per-rating SGD). The
//    libtorch twins: (a) the same per-rating SGD with torch tensors (index_select, dot, index_add_ under
//    NoGradGuard, one rating at a time); only its first 2 000 ratings are timed and the time is scaled to the
//    epoch; (b) minibatch SGD as one writes it in libtorch (nn::Embedding tables for P, Q, b_u, b_i, batch 1024,
//    MSE + reg·mean(‖p_u‖² + ‖q_i‖² + b_u² + b_i²), optim::SGD with lr 0.01·1024/2, so that each rating's
//    gradient step is Surprise's), a different algorithm of the same model. Data: example 22's 80 % training
//    split (random_split 0.2, seed 1) of data/movielens/ratings.csv (or --data PATH), else a seeded synthetic
//    set of the same size (671 users, 9066 items, 80 000 ratings);
//  - one NeuMF training step at batch 256: examples/22_recommender/models.hpp unchanged (recommender::neumf,
//    shrink_embeddings, bce_step with optim::adam 1e-3) vs a torch::nn::Module of the same architecture
//    (dense embedding gradients, BCEWithLogits, optim::Adam 1e-3) on the same fixed batches (user ids < 671,
//    item ids < 9066, targets 1:4).
// Reported: ms per MF epoch, µs per NeuMF step (median over interleaved rounds), NeuMF samples/s, and libtorch time / ctnn
// time. Sanity lines (stderr): the per-rating twin against sgd_epoch on 2 000 ratings (same order, same start),
// both epochs' training RMSE, and NeuMF's first-step losses (which must agree to 1e-5 relative).
// glibc's malloc is given fixed mmap and trim thresholds (32 MiB, 256 MiB) at start: with its adaptive defaults,
// libtorch's per-step tensors of a few MiB (dense embedding gradients, Adam's temporaries) were handed back to the
// kernel and faulted in anew every step, and libtorch's NeuMF step ran several times slower or not depending on
// which benchmark ran before it. ctnn allocates nothing per step; the fixed thresholds only help libtorch.
// Options: --threads 1,2 (default), --rounds N (default 7), --only mf|neumf (repeatable), --data PATH, --json FILE.
#include <malloc.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctnn/ctnn.hpp>
#include <ctnn/recsys/factorization.hpp>
#include <ctnn/recsys/ratings.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "22_recommender/models.hpp"
#include "compare_common.hpp"

using namespace ctnn;
namespace rs = ctnn::recsys;

namespace {


[[noreturn]] void fail(const std::string& what) {
    std::fprintf(stderr, "compare_recsys: %s\n", what.c_str());
    std::exit(1);
}

// ---- biased matrix factorisation ----
constexpr std::size_t mf_factors = 100, mf_slice = 2000, mf_batch = 1024;
constexpr double mf_lr = 0.01, mf_reg = 0.1;

struct mf_data {
    std::vector<rs::rating> train;
    std::size_t users = 0, items = 0;
    std::string source;
};

/// Example 22's training split of the ratings file, or (no file at the default path) a seeded synthetic set of the
/// same size.
mf_data load_ratings(const std::string& path, bool given) {
    mf_data d;
    if (given || std::filesystem::exists(path)) {
        const auto all = rs::read_ratings(path);
        d.train = rs::random_split(all, 0.2, seed{1}).train;
        d.users = all.users();
        d.items = all.items();
        d.source = path + " (real ratings: example 22's 80 % training split)";
        return d;
    }
    d.users = 671;
    d.items = 9066;
    rng g{seed{7}};
    d.train.resize(80000);
    for (auto& r : d.train) r = {std::int32_t(g.below(d.users)), std::int32_t(g.below(d.items)), 0.5f + 0.5f * float(g.below(10)), 0};
    d.source = "synthetic (seeded; " + path + " not found)";
    return d;
}

/// P [users, F], Q [items, F], b_u [users], b_i [items] as torch tensors.
struct mf_tensors {
    torch::Tensor p, q, bu, bi;
};

mf_tensors tensors_of(const rs::biased_mf& m, std::size_t users, std::size_t items) {
    const std::size_t F = m.factors();
    mf_tensors t{torch::empty({long(users), long(F)}), torch::empty({long(items), long(F)}), torch::empty({long(users)}),
                 torch::empty({long(items)})};
    for (std::size_t u = 0; u < users; ++u) {
        std::copy_n(m.user_factors(u).data(), F, t.p.data_ptr<float>() + u * F);
        t.bu.data_ptr<float>()[u] = m.user_bias(u);
    }
    for (std::size_t i = 0; i < items; ++i) {
        std::copy_n(m.item_factors(i).data(), F, t.q.data_ptr<float>() + i * F);
        t.bi.data_ptr<float>()[i] = m.item_bias(i);
    }
    return t;
}

double max_abs_diff(const mf_tensors& a, const mf_tensors& b) {
    double worst = 0;
    for (const auto& [x, y] : {std::pair{a.p, b.p}, std::pair{a.q, b.q}, std::pair{a.bu, b.bu}, std::pair{a.bi, b.bi}})
        worst = std::max(worst, (x - y).abs().max().item<double>());
    return worst;
}

/// Ratings in a given order as the per-rating twin takes them: one-element id tensors and the values (built
/// outside the timed loop, as ctnn's ratings are).
struct rating_tensors {
    std::vector<torch::Tensor> user, item;
    std::vector<float> value;
};

rating_tensors rating_tensors_of(const std::vector<rs::rating>& r, const std::vector<std::size_t>& order) {
    rating_tensors t;
    for (std::size_t k : order) {
        t.user.push_back(torch::tensor({std::int64_t(r[k].user)}, torch::kLong));
        t.item.push_back(torch::tensor({std::int64_t(r[k].item)}, torch::kLong));
        t.value.push_back(r[k].value);
    }
    return t;
}

/// biased_mf::sgd_epoch's update, one rating at a time, with torch tensors: e = r − r̂, then b_u += lr(e − λ b_u),
/// b_i += lr(e − λ b_i), p_u += lr(e q_i − λ p_u), q_i += lr(e p_u − λ q_i) (old p_u). Returns the RMSE seen.
double torch_sgd_ratings(mf_tensors& t, const rating_tensors& r, float mu, float lr, float reg) {
    torch::NoGradGuard no_grad;
    auto sq = torch::zeros({1});
    for (std::size_t k = 0; k < r.value.size(); ++k) {
        const auto& u = r.user[k];
        const auto& i = r.item[k];
        const auto p = t.p.index_select(0, u), q = t.q.index_select(0, i);  // [1, F] copies: the old p_u, q_i
        const auto bu = t.bu.index_select(0, u), bi = t.bi.index_select(0, i);
        const auto e = r.value[k] - (mu + bu + bi + torch::dot(p.view({-1}), q.view({-1})));
        sq.addcmul_(e, e);
        t.bu.index_add_(0, u, lr * (e - reg * bu));
        t.bi.index_add_(0, i, lr * (e - reg * bi));
        t.p.index_add_(0, u, lr * (e * q - reg * p));
        t.q.index_add_(0, i, lr * (e * p - reg * q));
    }
    return std::sqrt(sq.item<double>() / double(r.value.size()));
}

float mean_rating(const std::vector<rs::rating>& r) {
    double s = 0;
    for (const auto& x : r) s += x.value;
    return float(s / double(r.size()));
}

/// The twin against ctnn on the first mf_slice ratings: the same start, sgd_epoch's shuffle replayed from a copy
/// of its generator; the parameters after the pass must agree.
void check_per_rating_twin(const mf_data& d) {
    const std::vector<rs::rating> part(d.train.begin(), d.train.begin() + std::ptrdiff_t(std::min(mf_slice, d.train.size())));
    rs::biased_mf c(d.users, d.items, mf_factors, seed{3});
    auto t = tensors_of(c, d.users, d.items);
    rng gc{seed{4}}, gt = gc;
    std::vector<std::size_t> order(part.size());
    for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
    gt.shuffle(order.data(), order.size());
    const double rc = c.sgd_epoch(part, mf_lr, mf_reg, gc);
    const double rt = torch_sgd_ratings(t, rating_tensors_of(part, order), mean_rating(part), float(mf_lr), float(mf_reg));
    const double diff = max_abs_diff(t, tensors_of(c, d.users, d.items));
    std::fprintf(stderr, "sanity: MF per-rating SGD on %zu ratings: RMSE ctnn %.6f / libtorch %.6f, parameters differ by at most %.2g\n",
                 part.size(), rc, rt, diff);
    if (!(diff < 1e-4) || !(std::abs(rc - rt) < 1e-4)) fail("the libtorch per-rating twin does not reproduce biased_mf::sgd_epoch");
}

void mf_bench(std::vector<row>& rows, const mf_data& d, int threads, int rounds) {
    const std::size_t n = d.train.size(), slice = std::min(mf_slice, n);
    rs::biased_mf mf(d.users, d.items, mf_factors, seed{1});
    const auto start = tensors_of(mf, d.users, d.items);  // before any epoch: both libtorch versions start here
    rng g{seed{2}};
    double rmse_ctnn = 0;
    auto ctnn_epoch = [&] { rmse_ctnn = mf.sgd_epoch(d.train, mf_lr, mf_reg, g); };
    const float mu = mean_rating(d.train);

    // (a) the per-rating twin on the first `slice` ratings
    mf_tensors ta{start.p.clone(), start.q.clone(), start.bu.clone(), start.bi.clone()};
    std::vector<std::size_t> first(slice);
    for (std::size_t k = 0; k < slice; ++k) first[k] = k;
    const auto slice_tensors = rating_tensors_of(d.train, first);
    double rmse_a = 0;
    auto torch_slice = [&] { rmse_a = torch_sgd_ratings(ta, slice_tensors, mu, float(mf_lr), float(mf_reg)); };

    // (b) minibatch SGD with embedding tables
    namespace nn = torch::nn;
    nn::Embedding P(long(d.users), long(mf_factors)), Q(long(d.items), long(mf_factors)), BU(long(d.users), 1), BI(long(d.items), 1);
    {
        torch::NoGradGuard no_grad;
        P->weight.copy_(start.p);
        Q->weight.copy_(start.q);
        BU->weight.zero_();
        BI->weight.zero_();
    }
    std::vector<torch::Tensor> params;
    for (auto* e : {&P, &Q, &BU, &BI}) params.push_back((*e)->weight);
    torch::optim::SGD sgd(params, torch::optim::SGDOptions(mf_lr * double(mf_batch) / 2));
    std::vector<std::int64_t> us(n), is(n);
    std::vector<float> vs(n);
    for (std::size_t k = 0; k < n; ++k) us[k] = d.train[k].user, is[k] = d.train[k].item, vs[k] = d.train[k].value;
    const auto users_t = torch::from_blob(us.data(), {long(n)}, torch::kLong), items_t = torch::from_blob(is.data(), {long(n)}, torch::kLong);
    const auto values_t = torch::from_blob(vs.data(), {long(n)}, torch::kFloat32);
    double rmse_b = 0;
    auto torch_minibatch_epoch = [&] {
        const auto perm = torch::randperm(long(n), torch::kLong);
        double sq = 0;
        for (std::size_t b0 = 0; b0 < n; b0 += mf_batch) {
            const auto idx = perm.narrow(0, long(b0), long(std::min(mf_batch, n - b0)));
            const auto u = users_t.index_select(0, idx), i = items_t.index_select(0, idx);
            const auto p = P(u), q = Q(i);
            const auto bu = BU(u).squeeze(1), bi = BI(i).squeeze(1);
            const auto mse = ((mu + bu + bi + (p * q).sum(1)) - values_t.index_select(0, idx)).square().mean();
            const auto loss = mse + mf_reg * (p.square().sum(1) + q.square().sum(1) + bu.square() + bi.square()).mean();
            sgd.zero_grad();
            loss.backward();
            sgd.step();
            sq += mse.item<double>() * double(idx.size(0));
        }
        rmse_b = std::sqrt(sq / double(n));
    };

    // first epochs (also the warm-up): training RMSE of each from the same start
    ctnn_epoch();
    torch_minibatch_epoch();
    torch_slice();
    std::fprintf(stderr,
                 "sanity: MF first epoch, %d thread(s): training RMSE ctnn %.4f / libtorch minibatch %.4f (libtorch per-rating, "
                 "first %zu ratings: %.4f)\n",
                 threads, rmse_ctnn, rmse_b, slice, rmse_a);
    if (!std::isfinite(rmse_ctnn) || !std::isfinite(rmse_a) || !std::isfinite(rmse_b)) fail("an MF training RMSE is not finite");
    const auto [tc_a, t_slice] = interleaved_medians(rounds, ctnn_epoch, torch_slice);
    const auto [tc_b, t_mini] = interleaved_medians(rounds, ctnn_epoch, torch_minibatch_epoch);
    const std::string what = "biased MF SGD epoch, " + std::to_string(n) + " ratings, 100 factors: libtorch ";
    rows.push_back({what + "per-rating twin (" + std::to_string(slice) + " ratings timed, scaled to the epoch)", threads, tc_a * 1e3,
                    t_slice * double(n) / double(slice) * 1e3, "ms", false});
    rows.push_back({what + "minibatch SGD, batch 1024 (a different algorithm)", threads, tc_b * 1e3, t_mini * 1e3, "ms", false});
}

// ---- NeuMF (example 22) ----
constexpr std::size_t neumf_batch = 256, neumf_batches = 8;

/// recommender::neumf as a torch module. The embedding tables sit in one-module Sequentials so that the
/// parameter names are ctnn's (`gmf_user.0.weight`: ctnn's tower is chain<embedding, flatten>).
struct torch_neumf : torch::nn::Module {
    torch::nn::Sequential gmf_user{nullptr}, gmf_item{nullptr}, mlp_user{nullptr}, mlp_item{nullptr}, mlp{nullptr};
    torch::nn::Linear predict{nullptr};
    torch_neumf() {
        namespace nn = torch::nn;
        const long U = long(recommender::max_users), I = long(recommender::max_items);
        gmf_user = register_module("gmf_user", nn::Sequential(nn::Embedding(U, 16)));
        gmf_item = register_module("gmf_item", nn::Sequential(nn::Embedding(I, 16)));
        mlp_user = register_module("mlp_user", nn::Sequential(nn::Embedding(U, 32)));
        mlp_item = register_module("mlp_item", nn::Sequential(nn::Embedding(I, 32)));
        mlp = register_module("mlp", nn::Sequential(nn::Linear(64, 64), nn::ReLU(), nn::Linear(64, 32), nn::ReLU(), nn::Linear(32, 16), nn::ReLU()));
        predict = register_module("predict", nn::Linear(16 + 16, 1));
    }
    /// Logits [B] of user and item ids [B].
    torch::Tensor forward(const torch::Tensor& u, const torch::Tensor& i) {
        const auto g = gmf_user->forward(u) * gmf_item->forward(i);
        const auto h = mlp->forward(torch::cat({mlp_user->forward(u), mlp_item->forward(i)}, 1));
        return predict->forward(torch::cat({g, h}, 1)).squeeze(1);
    }
};

/// Every ctnn parameter tensor has a torch parameter of the same name and shape.
template <class Model>
void require_same_layout(const Model& m, torch::nn::Module& net) {
    const auto dst = net.named_parameters();
    for (const auto& e : m.parameter_layout()) {
        const auto* t = dst.find(e.name);
        bool same = t && std::size_t(t->dim()) == e.desc.rank;
        for (std::size_t k = 0; same && k < e.desc.rank; ++k) same = std::size_t(t->size(long(k))) == e.desc.dims[k];
        if (!same) fail("torch's NeuMF has no parameter " + e.name + " of ctnn's shape");
    }
}

void neumf_bench(std::vector<row>& rows, int threads, int rounds) {
    constexpr std::size_t B = neumf_batch, N = neumf_batch * neumf_batches;
    rng g{seed{21}};
    std::vector<float> uf(N), itf(N), tf(N);
    for (std::size_t k = 0; k < N; ++k) uf[k] = float(g.below(671)), itf[k] = float(g.below(9066)), tf[k] = k % 5 == 0 ? 1.0f : 0.0f;
    const auto ut = torch::from_blob(uf.data(), {long(N)}, torch::kFloat32).to(torch::kLong);
    const auto it = torch::from_blob(itf.data(), {long(N)}, torch::kFloat32).to(torch::kLong);
    const auto tt = torch::from_blob(tf.data(), {long(N)}, torch::kFloat32);
    // ctnn: example 22's model, initialisation and step
    auto m = std::make_unique<recommender::neumf>(seed{6});
    recommender::shrink_embeddings(*m);
    optim::adam opt{m->parameters(), {.lr = 1e-3}};
    auto ctx = m->context(B);
    // libtorch: the same architecture from the same parameters
    auto net = std::make_shared<torch_neumf>();
    require_same_layout(*m, *net);
    copy_weights_by_name(*m, *net, 0);
    torch::optim::Adam topt(net->parameters(), torch::optim::AdamOptions(1e-3));
    auto ctnn_step = [&](std::size_t b) { return recommender::bce_step(*m, ctx, opt, &uf[b * B], &itf[b * B], &tf[b * B], B); };
    auto torch_step = [&](std::size_t b) {
        const long o = long(b * B), n = long(B);
        const auto loss = torch::binary_cross_entropy_with_logits(net->forward(ut.narrow(0, o, n), it.narrow(0, o, n)), tt.narrow(0, o, n));
        topt.zero_grad();
        loss.backward();
        topt.step();
        return loss.item<double>();
    };
    const double c0 = ctnn_step(0), t0 = torch_step(0), c1 = ctnn_step(1), t1 = torch_step(1);
    std::fprintf(stderr, "sanity: NeuMF, %d thread(s): first-step loss ctnn %.7f / libtorch %.7f, second step ctnn %.7f / libtorch %.7f\n",
                 threads, c0, t0, c1, t1);
    if (!(std::abs(c0 - t0) <= 1e-5 * std::abs(t0))) fail("NeuMF's first-step losses differ by more than 1e-5 relative");
    double lc = 0, lt = 0;
    auto ctnn_chunk = [&] {
        for (std::size_t b = 0; b < neumf_batches; ++b) lc = ctnn_step(b);
    };
    auto torch_chunk = [&] {
        for (std::size_t b = 0; b < neumf_batches; ++b) lt = torch_step(b);
    };
    ctnn_chunk();  // warm-up
    torch_chunk();
    const auto [tc, tl] = interleaved_medians(rounds, ctnn_chunk, torch_chunk);
    if (!std::isfinite(lc) || !std::isfinite(lt)) fail("a NeuMF loss after the timed steps is not finite");
    const std::string what = "NeuMF training step (Adam), batch 256";
    rows.push_back({what, threads, tc / neumf_batches * 1e6, tl / neumf_batches * 1e6, "µs", false});
    rows.push_back({what, threads, N / tc, N / tl, "samples/s", true});
}

}  // namespace

int main(int argc, char** argv) {
    if (!mallopt(M_MMAP_THRESHOLD, 32 << 20) || !mallopt(M_TRIM_THRESHOLD, 256 << 20)) fail("mallopt refused the malloc thresholds");
    // --data is this program's own option; the rest is the comparison programs' command line
    std::string data_path = "data/movielens/ratings.csv";
    bool data_given = false;
    std::vector<char*> rest{argv[0]};
    for (int i = 1; i < argc; ++i)
        if (std::string(argv[i]) == "--data" && i + 1 < argc) data_path = argv[++i], data_given = true;
        else rest.push_back(argv[i]);
    const auto args = parse_compare_args(int(rest.size()), rest.data(), 7,
                                         "usage: compare_recsys [--json FILE] [--threads 1,2] [--only mf|neumf]... [--rounds N] [--data PATH]");
    if (!args.ok) return 2;
    try {
        std::printf("%s\nglibc malloc: mmap threshold 32 MiB, trim threshold 256 MiB (fixed, for libtorch's per-step tensors)\n",
                    isa_line().c_str());
        mf_data d;
        if (args.wanted("mf")) {
            d = load_ratings(data_path, data_given);
            std::printf("MF data: %s: %zu ratings, %zu users, %zu items\n", d.source.c_str(), d.train.size(), d.users, d.items);
            check_per_rating_twin(d);
        }
        std::printf("\n");
        std::fflush(stdout);
        torch::manual_seed(1);
        std::vector<row> rows;
        for (int threads : args.threads) {
            ctnn::set_num_threads(std::size_t(threads));
            torch::set_num_threads(threads);
            if (args.wanted("mf")) mf_bench(rows, d, threads, args.rounds);
            if (args.wanted("neumf")) neumf_bench(rows, threads, args.rounds);
        }
        print_and_save(rows, args.json_path);
    } catch (const ctnn::error& e) {
        fail(e.what());
    }
    return 0;
}
