// SPDX-License-Identifier: MIT
// Collaborative filtering on real MovieLens ratings (the dslabs extract: tools/extract_dslabs_movielens.py writes
// data/movielens/ratings.csv; or any MovieLens ratings.csv / ml-100k u.data):
//  1. rating prediction on a random 80/20 split — global mean, user/item biases, user- and item-based kNN (cosine,
//     Pearson), biased matrix factorisation by SGD and by ALS: RMSE and MAE;
//  2. top-10 ranking on a leave-last-out split (each user's latest rating held out, all unseen items ranked) —
//     popularity, GMF trained with the BPR loss on sampled negatives, and NeuMF (GMF ⊙ tower beside an MLP tower
//     on user and item embeddings: a two-input ctnn graph) trained with binary cross-entropy on 4 sampled
//     negatives per positive: precision, recall, NDCG and hit rate at 10.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <ctnn/ctnn.hpp>
#include <ctnn/recsys/factorization.hpp>
#include <ctnn/recsys/implicit.hpp>
#include <ctnn/recsys/metrics.hpp>
#include <ctnn/recsys/neighbors.hpp>
#include <ctnn/recsys/ratings.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "models.hpp"

using namespace ctnn;
namespace rs = ctnn::recsys;
using namespace recommender;
namespace {

struct settings {
    std::string data = "data/movielens/ratings.csv", format = "csv", json_path, only;
    std::uint64_t seed_value = 1;
    double test_fraction = 0.2;
    std::size_t threads = 1, knn_k = 40;
    std::size_t mf_factors = 100, mf_epochs = 50, als_factors = 50, als_sweeps = 15;
    double mf_lr = 0.01, mf_reg = 0.1, als_reg = 0.12;
    std::size_t neumf_epochs = 6, bpr_epochs = 40, negatives = 4, batch = 256, top = 10;
    double lr = 1e-3, bpr_weight_decay = 0.0, neumf_weight_decay = 0.0;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::vector<float> values_of(const std::vector<rs::rating>& r) {
    std::vector<float> v(r.size());
    for (std::size_t k = 0; k < r.size(); ++k) v[k] = r[k].value;
    return v;
}

struct row {
    std::string method;
    double a = 0, b = 0, c = 0, d = 0, seconds = 0;  // RMSE, MAE (or P, R, NDCG, HR)
};

/// Ranks every unseen item for each user with held-out ratings (all of them relevant); @p scores(u, out) writes one
/// score per item.
rs::ranking_metrics rank_all(const rs::interactions& seen, const std::vector<rs::rating>& test, std::size_t k,
                             const std::function<void(std::size_t, std::vector<float>&)>& scores) {
    std::vector<std::vector<std::int32_t>> relevant(seen.users());
    for (const auto& r : test) relevant.at(std::size_t(r.user)).push_back(r.item);
    rs::ranking_evaluator ev(k);
    std::vector<float> s;
    std::vector<std::uint8_t> mask;
    for (std::size_t u = 0; u < relevant.size(); ++u) {
        if (relevant[u].empty()) continue;
        scores(u, s);
        seen.seen_mask(u, mask);
        ev.add(rs::top_k(s, k, mask), relevant[u]);
    }
    return ev.result();
}

/// Scores of every item for one user at a time from a two-input model (predict on [items] rows); the item ids are
/// built once.
template <class M>
auto all_item_scores(const M& m, std::size_t items) {
    std::vector<float> us(items), is(items);
    std::iota(is.begin(), is.end(), 0.0f);
    return [&m, us = std::move(us), is = std::move(is)](std::size_t u, std::vector<float>& out) mutable {
        std::fill(us.begin(), us.end(), float(u));
        const auto [y] = m.predict(std::tie(us, is));
        out.assign(y.data(), y.data() + is.size());
    };
}

int run(const settings& s) {
    set_num_threads(s.threads);
    if (s.data == "data/movielens/ratings.csv" && !std::filesystem::exists(s.data)) {
        std::fprintf(stderr, "no %s: run tools/extract_dslabs_movielens.py first (MovieLens ratings from Debian's r-cran-dslabs), "
                     "or pass --data FILE\n", s.data.c_str());
        return 1;
    }
    const auto data = rs::read_ratings(s.data, s.format == "csv" ? rs::rating_format::movielens_csv : rs::rating_format::ml100k);
    const std::size_t U = data.users(), I = data.items();
    std::printf("%s: %zu ratings, %zu users, %zu items\n", s.data.c_str(), data.rows.size(), U, I);
    auto want = [&](const std::string& m) { return s.only.empty() || ("," + s.only + ",").find("," + m + ",") != std::string::npos; };
    std::vector<row> rating_rows, ranking_rows;

    // 1. rating prediction
    const auto sp = rs::random_split(data, s.test_fraction, seed{s.seed_value});
    const auto truth = values_of(sp.test);
    auto report = [&](const char* name, const std::vector<float>& pred, double secs) {
        rating_rows.push_back({name, rs::rmse(pred, truth), rs::mae(pred, truth), 0, 0, secs});
        std::printf("  %-28s RMSE %.4f  MAE %.4f  (%.2f s)\n", name, rating_rows.back().a, rating_rows.back().b, secs);
    };
    std::printf("rating prediction, random %.0f/%.0f split: %zu train, %zu test ratings\n", 100 * (1 - s.test_fraction), 100 * s.test_fraction,
                sp.train.size(), sp.test.size());
    {
        double mu = 0;
        for (const auto& r : sp.train) mu += r.value / double(sp.train.size());
        report("global mean", std::vector<float>(sp.test.size(), float(mu)), 0);
    }
    if (want("bias")) {
        const auto t0 = std::chrono::steady_clock::now();
        const rs::bias_baseline b(sp.train, U, I, {});
        report("user + item biases", b.predict(sp.test), seconds_since(t0));
    }
    if (want("knn"))
        for (auto kind : {rs::neighborhood::user_based, rs::neighborhood::item_based})
            for (auto m : {rs::similarity::cosine, rs::similarity::pearson}) {
                const auto t0 = std::chrono::steady_clock::now();
                const rs::knn model(sp.train, U, I, {.kind = kind, .measure = m, .k = s.knn_k});
                const auto pred = model.predict(sp.test);
                const std::string name = std::string(kind == rs::neighborhood::user_based ? "user" : "item") + " kNN (" +
                                         (m == rs::similarity::cosine ? "cosine" : "Pearson") + ", k=" + std::to_string(s.knn_k) + ")";
                report(name.c_str(), pred, seconds_since(t0));
            }
    if (want("mf")) {
        rs::biased_mf mf(U, I, s.mf_factors, seed{s.seed_value + 1});
        rng g{seed{s.seed_value + 2}};
        const auto t0 = std::chrono::steady_clock::now();
        for (std::size_t e = 0; e < s.mf_epochs; ++e) mf.sgd_epoch(sp.train, s.mf_lr, s.mf_reg, g);
        const double secs = seconds_since(t0);
        report(("biased MF, SGD (" + std::to_string(s.mf_factors) + " factors)").c_str(), mf.predict(sp.test), secs);
        std::printf("    %.1f ms per SGD epoch\n", 1e3 * secs / double(s.mf_epochs));
    }
    if (want("als")) {
        rs::biased_mf mf(U, I, s.als_factors, seed{s.seed_value + 1});
        const auto t0 = std::chrono::steady_clock::now();
        for (std::size_t e = 0; e < s.als_sweeps; ++e) mf.als_sweep(sp.train, s.als_reg);
        report(("biased MF, ALS (" + std::to_string(s.als_factors) + " factors)").c_str(), mf.predict(sp.test), seconds_since(t0));
    }

    // 2. top-k ranking, on the random split (a user's test items all relevant) and leave-last-out
    auto ranking = [&](const char* split_name, const rs::split& loo) {
        const rs::interactions seen(loo.train, U, I);
        std::printf("top-%zu ranking, %s split: %zu held-out ratings, all unseen items ranked\n", s.top, split_name, loo.test.size());
        auto report_rank = [&](const char* name, const rs::ranking_metrics& m, double secs) {
            ranking_rows.push_back({std::string(split_name) + ": " + name, m.precision, m.recall, m.ndcg, m.hit_rate, secs});
            std::printf("  %-28s P@%zu %.4f  R@%zu %.4f  NDCG@%zu %.4f  HR@%zu %.4f  (%.2f s)\n", name, s.top, m.precision, s.top,
                        m.recall, s.top, m.ndcg, s.top, m.hit_rate, secs);
        };
        {
            const auto pop = seen.by_popularity();
            std::vector<float> score(I);
            for (std::size_t r = 0; r < I; ++r) score[std::size_t(pop[r])] = float(I - r);
            report_rank("popularity", rank_all(seen, loo.test, s.top, [&](std::size_t, std::vector<float>& o) { o = score; }), 0);
        }
        if (U > max_users || I > max_items) {
            std::printf("  (GMF and NeuMF skipped: this example's embedding tables hold %zu users and %zu items)\n", max_users, max_items);
        } else {
            if (want("bpr")) {
                auto m = std::make_unique<gmf>(seed{s.seed_value + 3});
                shrink_embeddings(*m);
                optim::adam opt{m->parameters(), {.lr = s.lr, .weight_decay = s.bpr_weight_decay}};
                auto ctx = m->context(2 * s.batch);
                rng g{seed{s.seed_value + 4}};
                std::vector<float> us(2 * s.batch), is(2 * s.batch);
                std::vector<std::size_t> order(loo.train.size());
                const auto t0 = std::chrono::steady_clock::now();
                double loss = 0;
                for (std::size_t e = 0; e < s.bpr_epochs; ++e) {
                    std::iota(order.begin(), order.end(), std::size_t(0));
                    g.shuffle(order.data(), order.size());
                    loss = 0;
                    for (std::size_t b0 = 0; b0 < order.size(); b0 += s.batch) {
                        const std::size_t B = std::min(s.batch, order.size() - b0);
                        for (std::size_t k = 0; k < B; ++k) {  // rows [0, B): (u, seen item); [B, 2B): (u, unseen item)
                            const auto& r = loo.train[order[b0 + k]];
                            us[k] = us[B + k] = float(r.user);
                            is[k] = float(r.item);
                            is[B + k] = float(seen.sample_unseen(std::size_t(r.user), g));
                        }
                        const std::span<const float> su{us.data(), 2 * B}, si{is.data(), 2 * B};
                        const float* y = std::get<0>(m->forward(std::tie(su, si), ctx)).data();
                        auto dy = ctx.output_gradient<0>();
                        m->zero_grad();
                        loss += rs::bpr_loss(std::span<const float>{y, B}, std::span<const float>{y + B, B}, std::span<float>{dy.data(), B},
                                             std::span<float>{dy.data() + B, B}) * double(B);
                        m->backward(std::tuple{dy}, ctx);
                        opt.step();
                    }
                    std::printf("    GMF-BPR epoch %zu: loss %.4f\n", e + 1, loss / double(order.size()));
                }
                const double secs = seconds_since(t0);
                std::printf("    %.0f training pairs/s\n", double(order.size() * s.bpr_epochs) / secs);
                report_rank("GMF + BPR", rank_all(seen, loo.test, s.top, all_item_scores(*m, I)), secs);
            }
            if (want("neumf")) {
                auto m = std::make_unique<neumf>(seed{s.seed_value + 5});
                shrink_embeddings(*m);
                optim::adam opt{m->parameters(), {.lr = s.lr, .weight_decay = s.neumf_weight_decay}};
                auto ctx = m->context(s.batch);
                rng g{seed{s.seed_value + 6}};
                const std::size_t per = 1 + s.negatives, n = loo.train.size() * per;
                std::vector<float> eu(n), ei(n), et(n);
                std::vector<std::size_t> order(n);
                std::vector<float> bu(s.batch), bi(s.batch), bt(s.batch);
                const auto t0 = std::chrono::steady_clock::now();
                for (std::size_t e = 0; e < s.neumf_epochs; ++e) {
                    for (std::size_t k = 0; k < loo.train.size(); ++k) {  // each positive with fresh negatives
                        const auto& r = loo.train[k];
                        for (std::size_t j = 0; j < per; ++j) {
                            eu[k * per + j] = float(r.user);
                            ei[k * per + j] = float(j == 0 ? r.item : seen.sample_unseen(std::size_t(r.user), g));
                            et[k * per + j] = j == 0 ? 1.0f : 0.0f;
                        }
                    }
                    std::iota(order.begin(), order.end(), std::size_t(0));
                    g.shuffle(order.data(), n);
                    double loss = 0;
                    for (std::size_t b0 = 0; b0 < n; b0 += s.batch) {
                        const std::size_t B = std::min(s.batch, n - b0);
                        for (std::size_t k = 0; k < B; ++k) bu[k] = eu[order[b0 + k]], bi[k] = ei[order[b0 + k]], bt[k] = et[order[b0 + k]];
                        loss += bce_step(*m, ctx, opt, bu.data(), bi.data(), bt.data(), B) * double(B);
                    }
                    std::printf("    NeuMF epoch %zu: loss %.4f\n", e + 1, loss / double(n));
                }
                const double secs = seconds_since(t0);
                std::printf("    %.0f training samples/s\n", double(n * s.neumf_epochs) / secs);
                report_rank("NeuMF (BCE, 4 negatives)",
                            rank_all(seen, loo.test, s.top, all_item_scores(*m, I)), secs);
            }
        }
    };
    ranking("random 80/20", sp);
    ranking("leave-last-out", rs::leave_last_out(data));
    if (!s.json_path.empty()) {
        std::ostringstream j;
        j << "{\n  \"data\": \"" << s.data << "\",\n  \"ratings\": " << data.rows.size() << ",\n  \"users\": " << U << ",\n  \"items\": " << I
          << ",\n  \"seed\": " << s.seed_value << ",\n  \"threads\": " << s.threads << ",\n  \"rating_prediction\": [";
        for (std::size_t k = 0; k < rating_rows.size(); ++k)
            j << (k ? ",\n    " : "\n    ") << "{\"method\": \"" << rating_rows[k].method << "\", \"rmse\": " << rating_rows[k].a
              << ", \"mae\": " << rating_rows[k].b << ", \"seconds\": " << rating_rows[k].seconds << "}";
        j << "\n  ],\n  \"ranking_k\": " << s.top << ",\n  \"ranking\": [";
        for (std::size_t k = 0; k < ranking_rows.size(); ++k)
            j << (k ? ",\n    " : "\n    ") << "{\"method\": \"" << ranking_rows[k].method << "\", \"precision\": " << ranking_rows[k].a
              << ", \"recall\": " << ranking_rows[k].b << ", \"ndcg\": " << ranking_rows[k].c << ", \"hit_rate\": " << ranking_rows[k].d
              << ", \"seconds\": " << ranking_rows[k].seconds << "}";
        j << "\n  ]\n}\n";
        io::write_file_atomic(s.json_path, j.str());
    }
    return 0;
}
}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"ctnn example 22: collaborative filtering on MovieLens ratings"};
    settings s;
    app.add_option("--data", s.data, "ratings file (default data/movielens/ratings.csv: run tools/extract_dslabs_movielens.py)");
    app.add_option("--format", s.format, "csv: MovieLens ratings.csv; ml100k: u.data")->check(CLI::IsMember({"csv", "ml100k"}));
    app.add_option("--only", s.only, "run only these methods (comma-separated: bias, knn, mf, als, bpr, neumf); default all");
    app.add_option("--seed", s.seed_value, "seed of the split, initialisation and sampling");
    app.add_option("--test-fraction", s.test_fraction, "test share of the random split")->check(CLI::Range(0.01, 0.99));
    app.add_option("--threads", s.threads, "CPU threads")->check(CLI::Range(1, 256));
    app.add_option("--knn-k", s.knn_k, "neighbours per kNN prediction")->check(CLI::Range(1, 100000));
    app.add_option("--mf-factors", s.mf_factors, "SGD MF factors")->check(CLI::Range(1, 1024));
    app.add_option("--mf-epochs", s.mf_epochs, "SGD MF epochs")->check(CLI::Range(1, 10000));
    app.add_option("--mf-lr", s.mf_lr, "SGD MF learning rate")->check(CLI::PositiveNumber);
    app.add_option("--mf-reg", s.mf_reg, "SGD MF regularisation")->check(CLI::NonNegativeNumber);
    app.add_option("--als-factors", s.als_factors, "ALS MF factors")->check(CLI::Range(1, 1024));
    app.add_option("--als-sweeps", s.als_sweeps, "ALS sweeps")->check(CLI::Range(1, 10000));
    app.add_option("--als-reg", s.als_reg, "ALS regularisation λ (times each row's rating count)")->check(CLI::PositiveNumber);
    app.add_option("--neumf-epochs", s.neumf_epochs, "NeuMF epochs")->check(CLI::Range(1, 10000));
    app.add_option("--bpr-epochs", s.bpr_epochs, "GMF-BPR epochs")->check(CLI::Range(1, 10000));
    app.add_option("--negatives", s.negatives, "sampled negatives per positive (NeuMF)")->check(CLI::Range(1, 1000));
    app.add_option("--batch", s.batch, "minibatch (GMF-BPR pairs, NeuMF samples)")->check(CLI::Range(1, 65536));
    app.add_option("--lr", s.lr, "Adam learning rate (GMF-BPR, NeuMF)")->check(CLI::PositiveNumber);
    app.add_option("--bpr-weight-decay", s.bpr_weight_decay, "Adam weight decay of GMF-BPR")->check(CLI::NonNegativeNumber);
    app.add_option("--neumf-weight-decay", s.neumf_weight_decay, "Adam weight decay of NeuMF")->check(CLI::NonNegativeNumber);
    app.add_option("--top", s.top, "the k of the ranking metrics")->check(CLI::Range(1, 1000));
    app.add_option("--json", s.json_path, "write a JSON summary here");
    CLI11_PARSE(app, argc, argv);
    try {
        return run(s);
    } catch (const ctnn::error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
}
