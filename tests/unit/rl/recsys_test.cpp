// SPDX-License-Identifier: MIT
// ctnn::recsys: the rating loaders on small files in the real formats (and their bad rows), the splits, kNN
// similarities and predictions on a hand-computed matrix, biases and matrix factorisation by hand, the ranking
// metrics on hand-computed lists, the BPR loss by finite differences, negative sampling.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <ctnn/ctnn.hpp>
#include <ctnn/recsys/factorization.hpp>
#include <ctnn/recsys/implicit.hpp>
#include <ctnn/recsys/metrics.hpp>
#include <ctnn/recsys/neighbors.hpp>
#include <ctnn/recsys/ratings.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <span>
#include <string>
#include <vector>

using namespace ctnn;
namespace rs = ctnn::recsys;

TEST_CASE("recsys: MovieLens ratings.csv and ml-100k u.data, ids mapped densely in id order", "[recsys][data]") {
    const auto dir = std::filesystem::temp_directory_path() / "ctnn_recsys_test";
    std::filesystem::create_directories(dir);
    {
        std::ofstream f(dir / "ratings.csv", std::ios::binary);
        f << "userId,movieId,rating,timestamp\r\n1,31,2.5,1260759144\r\n1,1029,3.0,1260759179\r\n7,31,5.0,851866703\r\n";
    }
    const auto r = rs::read_ratings(dir / "ratings.csv");
    REQUIRE(r.rows.size() == 3u);
    CHECK(r.user_ids == std::vector<std::int64_t>{1, 7});
    CHECK(r.item_ids == std::vector<std::int64_t>{31, 1029});
    CHECK((r.rows[1].user == 0 && r.rows[1].item == 1 && r.rows[1].value == 3.0f && r.rows[1].timestamp == 1260759179));
    CHECK((r.rows[2].user == 1 && r.rows[2].item == 0));
    {
        std::ofstream f(dir / "u.data", std::ios::binary);
        f << "196\t242\t3\t881250949\n186\t302\t3\t891717742\n22\t377\t1\t878887116\n";
    }
    const auto m = rs::read_ratings(dir / "u.data", rs::rating_format::ml100k);
    CHECK(m.users() == 3u);
    CHECK(m.user_ids == std::vector<std::int64_t>{22, 186, 196});
    CHECK((m.rows[0].user == 2 && m.rows[0].item == 0 && m.rows[0].value == 3.0f));
    std::filesystem::remove_all(dir);
}

TEST_CASE("recsys: malformed rating rows are errors naming the file and line", "[recsys][data][bad-input]") {
    const auto csv = rs::rating_format::movielens_csv;
    const std::string h = "userId,movieId,rating,timestamp\n";
    CHECK_THROWS_WITH(rs::parse_ratings("user,movie\n1,2,3,4\n", csv, "r.csv"), Catch::Contains("r.csv line 1: expected the header"));
    CHECK_THROWS_WITH(rs::parse_ratings(h + "1,2,3.5,4\n1,2,3\n", csv, "r.csv"),
                      Catch::Contains("r.csv line 3: expected 4 comma-separated fields") && Catch::Contains("got 3"));
    CHECK_THROWS_WITH(rs::parse_ratings(h + "1,2,x,4\n", csv, "r.csv"), Catch::Contains("line 2: the rating 'x' is not a number"));
    CHECK_THROWS_WITH(rs::parse_ratings(h + "1,2,7.5,4\n", csv, "r.csv"), Catch::Contains("the rating 7.5 is outside [0.5, 5]"));
    CHECK_THROWS_WITH(rs::parse_ratings(h + "-1,2,3,4\n", csv, "r.csv"), Catch::Contains("the user id '-1' is not a non-negative integer"));
    CHECK_THROWS_WITH(rs::parse_ratings(h + "1,2.5,3,4\n", csv, "r.csv"), Catch::Contains("the item id '2.5'"));
    CHECK_THROWS_WITH(rs::parse_ratings(h + "1,2,3,soon\n", csv, "r.csv"), Catch::Contains("the timestamp 'soon'"));
    CHECK_THROWS_WITH(rs::parse_ratings("", csv, "r.csv"), Catch::Contains("r.csv: empty file"));
    CHECK_THROWS_WITH(rs::parse_ratings(h, csv, "r.csv"), Catch::Contains("r.csv: no ratings"));
    CHECK_THROWS_WITH(rs::parse_ratings("1,2,3,4\n", rs::rating_format::ml100k, "u.data"),
                      Catch::Contains("u.data line 1: expected 4 tab-separated fields"));
    CHECK_THROWS_WITH(rs::read_ratings("/nonexistent/ratings.csv"), Catch::Contains("cannot open '/nonexistent/ratings.csv'"));
}

TEST_CASE("recsys: random and leave-last-out splits", "[recsys][data]") {
    std::string text = "userId,movieId,rating,timestamp\n";
    for (int u = 0; u < 10; ++u)
        for (int i = 0; i < 10; ++i)
            if ((u + i) % 3 != 0) text += std::to_string(u) + "," + std::to_string(i) + ",4," + std::to_string(1000 + u * 10 + (i * 7) % 10) + "\n";
    text += "10,3,2,5\n";  // a user with one rating
    const auto r = rs::parse_ratings(text, rs::rating_format::movielens_csv, "t");
    const auto a = rs::random_split(r, 0.25, seed{1}), b = rs::random_split(r, 0.25, seed{1});
    CHECK(a.test.size() == std::size_t(std::llround(0.25 * double(r.rows.size()))));
    CHECK(a.train.size() + a.test.size() == r.rows.size());
    auto key = [](const rs::rating& x) { return x.user * 1000 + x.item; };
    std::set<int> train, test;
    for (const auto& x : a.train) train.insert(key(x));
    for (const auto& x : a.test) test.insert(key(x));
    for (int k : test) CHECK(train.count(k) == 0u);
    CHECK(b.test.size() == a.test.size());
    for (std::size_t k = 0; k < a.test.size(); ++k) CHECK(key(a.test[k]) == key(b.test[k]));  // reproducible
    const auto l = rs::leave_last_out(r);
    CHECK(l.test.size() == 10u);  // user 10 has one rating: training only
    for (const auto& t : l.test)
        for (const auto& x : r.rows)
            if (x.user == t.user) CHECK(x.timestamp <= t.timestamp);
    CHECK_THROWS_AS(rs::random_split(r, 1.0, seed{1}), ctnn::error);
}

namespace {
// 4 users × 4 items (0 = unrated); hand-computed similarities below
const float R[4][4] = {{5, 3, 0, 1}, {4, 0, 0, 1}, {1, 1, 0, 5}, {0, 1, 5, 4}};
std::vector<rs::rating> hand_ratings() {
    std::vector<rs::rating> v;
    for (int u = 0; u < 4; ++u)
        for (int i = 0; i < 4; ++i)
            if (R[u][i] != 0) v.push_back({u, i, R[u][i], 0});
    return v;
}
double cosine_common(int a, int b, const double* mean) {  // over co-rated items, centred by mean (nullptr: raw)
    double n = 0, da = 0, db = 0;
    for (int i = 0; i < 4; ++i)
        if (R[a][i] != 0 && R[b][i] != 0) {
            const double x = R[a][i] - (mean ? mean[a] : 0), y = R[b][i] - (mean ? mean[b] : 0);
            n += x * y, da += x * x, db += y * y;
        }
    return da * db > 0 ? n / std::sqrt(da * db) : 0;
}
}  // namespace

TEST_CASE("recsys::knn: similarities over co-rated items and mean-centred predictions by hand", "[recsys][knn]") {
    const auto train = hand_ratings();
    const double mean[4] = {3.0, 2.5, 7.0 / 3, 10.0 / 3};
    for (auto m : {rs::similarity::cosine, rs::similarity::pearson}) {
        INFO((m == rs::similarity::cosine ? "cosine" : "pearson"));
        const rs::knn user(train, 4, 4, {.kind = rs::neighborhood::user_based, .measure = m, .k = 2, .block = 3});
        const auto s = user.similarity_rows(0, 4);
        for (int a = 0; a < 4; ++a)
            for (int b = 0; b < 4; ++b)
                CHECK(s[std::size_t(a * 4 + b)] == Approx(a == b ? 0.0 : cosine_common(a, b, m == rs::similarity::pearson ? mean : nullptr)).margin(1e-6));
    }
    // user-based Pearson prediction of (user 1, item 1): raters of item 1 are users 0, 2, 3; the k = 2 most similar
    // with a positive similarity
    const rs::knn user(train, 4, 4, {.kind = rs::neighborhood::user_based, .measure = rs::similarity::pearson, .k = 2});
    const auto s = user.similarity_rows(1, 2);
    std::vector<std::pair<double, int>> cand;
    for (int v : {0, 2, 3})
        if (s[std::size_t(v)] > 0) cand.push_back({s[std::size_t(v)], v});
    std::sort(cand.rbegin(), cand.rend());
    cand.resize(std::min<std::size_t>(2, cand.size()));
    double num = 0, den = 0;
    for (auto [w, v] : cand) num += w * (R[v][1] - mean[v]), den += w;
    const double expect = std::clamp(mean[1] + (den > 0 ? num / den : 0.0), 0.5, 5.0);
    const std::vector<rs::rating> q = {{1, 1, 0, 0}, {3, 0, 0, 0}, {9, 0, 0, 0}};
    const auto p = user.predict(q);
    CHECK(p[0] == Approx(expect).epsilon(1e-5));
    CHECK(p[2] == Approx(31.0 / 11).epsilon(1e-6));  // an unknown user: the global mean
    // item-based cosine of (user 3, item 0): user 3 rated items 1, 2, 3
    const rs::knn item(train, 4, 4, {.kind = rs::neighborhood::item_based, .measure = rs::similarity::cosine, .k = 40});
    const auto si = item.similarity_rows(0, 1);
    const double imean[4] = {10.0 / 3, 5.0 / 3, 5.0, 11.0 / 4};
    double n2 = 0, d2 = 0;
    for (int j : {1, 2, 3})
        if (si[std::size_t(j)] > 0) n2 += si[std::size_t(j)] * (R[3][j] - imean[j]), d2 += si[std::size_t(j)];
    CHECK(p[1] != 0.0f);
    CHECK(item.predict(std::vector<rs::rating>{{3, 0, 0, 0}})[0] == Approx(std::clamp(imean[0] + n2 / d2, 0.5, 5.0)).epsilon(1e-5));
    CHECK_THROWS_WITH(rs::knn(std::vector<rs::rating>{{5, 0, 3, 0}}, 4, 4, {}), Catch::Contains("outside the 4 users"));
}

TEST_CASE("recsys: biases by ALS and matrix factorisation steps by hand", "[recsys][mf]") {
    const auto train = hand_ratings();
    // one sweep with reg 0 ... items first: b_i = mean residual, then users
    const rs::bias_baseline b(train, 4, 4, {.reg_user = 0, .reg_item = 0, .sweeps = 1});
    const double mu = 31.0 / 11;
    CHECK(b.item_bias(2) == Approx(5 - mu));
    // SGD: one epoch over a single rating, 2 factors, from known factors
    rs::biased_mf mf(1, 1, 2, seed{3}, 0.1);
    const std::vector<rs::rating> one = {{0, 0, 4.0f, 0}};
    const float before = mf.predict(0, 0);  // μ is set by the first fit; before it, 0 + p·q clipped to 0.5
    CHECK(before == 0.5f);
    rng g{seed{1}};
    // μ = 4, so e = −p·q: one step by hand (λ = 0.05), then after many epochs the training rating is reproduced
    const std::vector<float> p0(mf.user_factors(0).begin(), mf.user_factors(0).end()), q0(mf.item_factors(0).begin(), mf.item_factors(0).end());
    const double e0 = -(double(p0[0]) * q0[0] + double(p0[1]) * q0[1]), lr = 0.1, lam = 0.05;
    mf.sgd_epoch(one, lr, lam, g);
    CHECK(mf.user_bias(0) == Approx(lr * e0).epsilon(1e-5));
    CHECK(mf.item_bias(0) == Approx(lr * e0).epsilon(1e-5));
    for (std::size_t f = 0; f < 2; ++f) {
        CHECK(mf.user_factors(0)[f] == Approx(p0[f] + lr * (e0 * q0[f] - lam * p0[f])).epsilon(1e-5));
        CHECK(mf.item_factors(0)[f] == Approx(q0[f] + lr * (e0 * p0[f] - lam * q0[f])).epsilon(1e-5));
    }
    for (int e = 0; e < 200; ++e) mf.sgd_epoch(one, 0.1, 0.0, g);
    CHECK(mf.predict(0, 0) == Approx(4.0f).margin(1e-4));
    // ALS on an exactly rank-1 + biases matrix: a few sweeps fit it closely
    std::vector<rs::rating> full;
    const double u[4] = {1.0, -0.5, 0.3, 0.8}, v[5] = {0.9, -1.0, 0.2, 0.5, -0.3};
    for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 5; ++j) full.push_back({i, j, float(3.0 + 0.2 * i - 0.1 * j + u[i] * v[j]), 0});
    rs::biased_mf als(4, 5, 1, seed{2}, 0.5);
    for (int s = 0; s < 60; ++s) als.als_sweep(full, 1e-6);
    std::vector<float> truth;
    for (const auto& r : full) truth.push_back(r.value);
    CHECK(rs::rmse(als.predict(full), truth) < 1e-3);
    // Cholesky on a hand system: [[4, 2], [2, 3]] x = [2, 5] → x = [−0.5, 2]
    std::vector<double> A = {4, 2, 2, 3}, bv = {2, 5};
    rs::detail_recsys::cholesky_solve(A, bv, 2);
    CHECK(bv[0] == Approx(-0.5));
    CHECK(bv[1] == Approx(2.0));
    std::vector<double> bad = {0, 0, 0, 0}, bb = {1, 1};
    CHECK_THROWS_WITH(rs::detail_recsys::cholesky_solve(bad, bb, 2), Catch::Contains("not positive definite"));
}

TEST_CASE("recsys: RMSE, MAE, top-k and ranking metrics by hand", "[recsys][metrics]") {
    const std::vector<float> p = {3, 4, 5}, t = {2, 4, 3};
    CHECK(rs::rmse(p, t) == Approx(std::sqrt(5.0 / 3)));
    CHECK(rs::mae(p, t) == Approx(1.0));
    CHECK_THROWS_AS(rs::rmse(p, std::vector<float>{1}), ctnn::error);
    const std::vector<float> s = {0.1f, 0.9f, 0.5f, 0.9f, 0.3f};
    const std::vector<std::uint8_t> ex = {0, 0, 1, 0, 0};
    CHECK(rs::top_k(s, 3) == std::vector<std::int32_t>{1, 3, 2});  // tie 0.9: lower index first
    CHECK(rs::top_k(s, 3, ex) == std::vector<std::int32_t>{1, 3, 4});
    rs::ranking_evaluator ev(3);
    const std::vector<std::int32_t> ranked = {7, 2, 9}, rel1 = {2, 5}, rel2 = {4}, none = {};
    ev.add(ranked, rel1);  // hit at rank 2: P 1/3, R 1/2, DCG 1/log2(3), IDCG 1 + 1/log2(3)
    ev.add(ranked, rel2);  // no hit
    ev.add(ranked, none);  // no relevant items: not averaged
    const auto m = ev.result();
    CHECK(m.users == 2u);
    CHECK(m.precision == Approx((1.0 / 3) / 2));
    CHECK(m.recall == Approx(0.5 / 2));
    CHECK(m.ndcg == Approx((1 / std::log2(3.0)) / (1 + 1 / std::log2(3.0)) / 2));
    CHECK(m.hit_rate == Approx(0.5));
}

TEST_CASE("recsys: the BPR loss and its gradient; negative sampling and popularity", "[recsys][gradient]") {
    const std::vector<double> pos = {1.0, -0.5, 2.0}, neg = {0.5, 0.7, -1.0};
    std::vector<double> dp(3), dn(3);
    const double l = rs::bpr_loss<double>(pos, neg, dp, dn);
    double expect = 0;
    for (int k = 0; k < 3; ++k) expect += std::log(1 + std::exp(neg[std::size_t(k)] - pos[std::size_t(k)])) / 3;
    CHECK(l == Approx(expect).epsilon(1e-14));
    for (int k = 0; k < 3; ++k) {
        auto f = [&](double dx, bool p) {
            auto a = pos, b = neg;
            (p ? a : b)[std::size_t(k)] += dx;
            std::vector<double> x(3), y(3);
            return rs::bpr_loss<double>(a, b, x, y);
        };
        CHECK(dp[std::size_t(k)] == Approx((f(1e-6, true) - f(-1e-6, true)) / 2e-6).margin(1e-8));
        CHECK(dn[std::size_t(k)] == Approx((f(1e-6, false) - f(-1e-6, false)) / 2e-6).margin(1e-8));
    }
    CHECK(rs::bpr_loss<double>(std::vector<double>{1000.0}, std::vector<double>{-1000.0}, dp, dn) == 0.0);  // no overflow
    CHECK_THROWS_WITH(rs::bpr_loss<double>(pos, std::vector<double>{1.0}, dp, dn), Catch::Contains("3 positive and 1 negative"));
    const std::vector<rs::rating> train = {{0, 0, 5, 0}, {0, 2, 3, 0}, {1, 2, 4, 0}, {2, 2, 1, 0}, {2, 1, 2, 0}, {1, 0, 1, 1}};
    const rs::interactions seen(train, 3, 4);
    rng g{seed{4}};
    std::set<std::int32_t> drawn;
    for (int k = 0; k < 200; ++k) {
        const auto i = seen.sample_unseen(0, g);
        REQUIRE((i == 1 || i == 3));
        drawn.insert(i);
    }
    CHECK(drawn.size() == 2u);
    CHECK(seen.by_popularity() == std::vector<std::int32_t>{2, 0, 1, 3});
    const rs::interactions all(std::vector<rs::rating>{{0, 0, 1, 0}, {0, 1, 1, 0}}, 1, 2);
    CHECK_THROWS_WITH(all.sample_unseen(0, g), Catch::Contains("has seen every item"));
}
