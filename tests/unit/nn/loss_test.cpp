// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>
#include <cmath>
#include <ctnn/ctnn.hpp>
#include <vector>

#include "../../support/gradcheck.hpp"

using namespace ctnn;

TEST_CASE("mse: value by hand and gradient by finite differences", "[loss][mse]") {
    std::vector<double> y{1, 2, 3, 4}, t{1, 0, 3, 8}, g(4);
    REQUIRE(loss::mse{}(y, t, g) == Approx((0 + 4 + 0 + 16) / 4.0));
    REQUIRE(g == std::vector<double>{0, 1, 0, -2});
    test::check_loss_gradient(loss::mse{}, {0.3, -1.2, 2.5, 0.1, 0.7, -0.4}, std::vector<double>{1, 0, 2, 0.5, -1, 0});
}

TEST_CASE("bce: value by hand and gradient by finite differences", "[loss][bce]") {
    std::vector<double> p{0.9, 0.2}, t{1, 0}, g(2);
    REQUIRE(loss::bce{}(p, t, g) == Approx(-(std::log(0.9) + std::log(0.8)) / 2));
    test::check_loss_gradient(loss::bce{}, {0.3, 0.9, 0.5, 0.05}, std::vector<double>{1, 0, 1, 0});
    std::vector<double> p0{0.0}, t1{1.0}, g1(1);
    REQUIRE(loss::bce{}(p0, t1, g1) == Approx(100.0));  // log clamped at -100 like PyTorch
}

TEST_CASE("bce_with_logits: equals bce(sigmoid(z)), stable for large |z|, gradient checked", "[loss][bce]") {
    std::vector<double> z{2.0, -1.0, 0.3}, t{1, 0, 1}, g(3), p(3), gp(3);
    for (int i = 0; i < 3; ++i) p[i] = 1 / (1 + std::exp(-z[i]));
    REQUIRE(loss::bce_with_logits{}(z, t, g) == Approx(loss::bce{}(p, t, gp)).epsilon(1e-12));
    for (int i = 0; i < 3; ++i) REQUIRE(g[i] == Approx((p[i] - t[i]) / 3).epsilon(1e-12));
    std::vector<double> big{800.0, -800.0}, tb{0, 1}, gb(2);
    REQUIRE(loss::bce_with_logits{}(big, tb, gb) == Approx(800.0));
    REQUIRE(std::isfinite(gb[0]));
    test::check_loss_gradient(loss::bce_with_logits{}, {0.5, -2.0, 3.0, 0.1}, std::vector<double>{1, 0, 0, 1});
}

TEST_CASE("cross_entropy: log-softmax + NLL by hand, gradient checked, bad labels rejected", "[loss][cross_entropy]") {
    std::vector<double> z{1, 2, 3, 1, 1, 1}, g(6);
    std::vector<int> lab{2, 0};
    const double l0 = -(3 - std::log(std::exp(1) + std::exp(2) + std::exp(3)));
    const double l1 = std::log(3.0);
    REQUIRE(loss::cross_entropy{}(z, lab, g) == Approx((l0 + l1) / 2));
    std::vector<double> big{1000, 0, -1000}, gb(3);
    std::vector<int> one{1};
    REQUIRE(loss::cross_entropy{}(big, one, gb) == Approx(1000.0));  // stable
    test::check_loss_gradient(loss::cross_entropy{}, {0.2, -0.3, 1.1, 0.5, 0.4, -2.0, 0.0, 0.3}, std::vector<int>{3, 0});
    std::vector<int> bad{3, 0};
    REQUIRE_THROWS_WITH(loss::cross_entropy{}(z, bad, g), Catch::Contains("label 3") && Catch::Contains("outside [0, 3)"));
    std::vector<int> neg{-1, 0};
    REQUIRE_THROWS_AS(loss::cross_entropy{}(z, neg, g), ctnn::error);
}

TEST_CASE("losses: mismatched sizes throw ctnn::error naming the loss", "[loss]") {
    std::vector<double> y(4), t(3), g(4), g3(3);
    REQUIRE_THROWS_WITH(loss::mse{}(y, t, g), Catch::Contains("mse") && Catch::Contains("target has 3"));
    REQUIRE_THROWS_WITH(loss::bce_with_logits{}(y, y, g3), Catch::Contains("gradient buffer"));
}

// ---------------------------------------------------------------------------------------------------
// The loss concept, the new losses against PyTorch (tests/data/torch_loss_reference.npz, written by
// tools/export_torch_loss_reference.py) and by finite differences, and a user-defined loss in training.

#include <cstring>
#include <map>
#include <string>

#include "../../support/weighted_mse.hpp"

namespace {
const std::map<std::string, io::npy_array>& torch_reference() {
    static const auto arrays = io::read_npz(std::string(CTNN_TEST_DATA_DIR) + "/torch_loss_reference.npz");
    return arrays;
}
/// A float32 array of the reference, as T.
template <class T = float>
std::vector<T> ref(const std::string& key) {
    const auto& arrays = torch_reference();
    const auto it = arrays.find(key);
    INFO("reference array " << key);
    REQUIRE(it != arrays.end());
    REQUIRE(it->second.dtype == "<f4");
    std::vector<float> v(it->second.count());
    std::memcpy(v.data(), it->second.data.data(), v.size() * sizeof(float));
    return std::vector<T>(v.begin(), v.end());
}
std::vector<std::int32_t> ref_labels(const std::string& key) {
    const auto& a = torch_reference().at(key);
    REQUIRE(a.dtype == "<i4");
    std::vector<std::int32_t> v(a.count());
    std::memcpy(v.data(), a.data.data(), v.size() * sizeof(std::int32_t));
    return v;
}
/// Element-wise within 1e-5 relative (float), 1e-7 absolute for values that are 0 in the reference.
void require_close_rel(const std::vector<float>& got, const std::vector<float>& want, const char* what) {
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        INFO(what << " index " << i << ": ctnn " << got[i] << " torch " << want[i]);
        REQUIRE(double(got[i]) == Approx(double(want[i])).epsilon(1e-5).margin(1e-7));
    }
}
/// Finite-difference check of both input gradients of a pair loss (double).
template <class L, class Tg>
void check_pair_gradient(const L& l, const std::vector<double>& a, const std::vector<double>& b, const Tg& t, std::size_t batch,
                         double tol = 1e-7) {
    std::vector<double> da(a.size()), db(a.size()), s1(a.size()), s2(a.size());
    l(a, b, t, da, db, batch);
    const double eps = 1e-6;
    for (int which = 0; which < 2; ++which)
        for (std::size_t i = 0; i < a.size(); ++i) {
            auto ap = a, am = a, bp = b, bm = b;
            (which == 0 ? ap : bp)[i] += eps;
            (which == 0 ? am : bm)[i] -= eps;
            const double num = (l(ap, bp, t, s1, s2, batch) - l(am, bm, t, s1, s2, batch)) / (2 * eps);
            const double ana = which == 0 ? da[i] : db[i];
            INFO((which == 0 ? "first" : "second") << " input, element " << i << ": numeric " << num << " analytic " << ana);
            REQUIRE(test::max_rel_error(num, ana) < tol);
        }
}
}  // namespace

TEST_CASE("loss concept: every built-in loss satisfies it on both policies", "[loss][concept]") {
    STATIC_REQUIRE(loss::loss_function<loss::mse, float, cpu>);
    STATIC_REQUIRE(loss::loss_function<loss::mse, double, cuda>);
    STATIC_REQUIRE(loss::loss_function<loss::bce, float, cuda>);
    STATIC_REQUIRE(loss::loss_function<loss::bce_with_logits, float, cuda>);
    STATIC_REQUIRE(loss::loss_function<loss::weighted_bce_with_logits<float, cpu>, float, cpu>);
    STATIC_REQUIRE(loss::loss_function<loss::huber, double, cuda>);
    STATIC_REQUIRE(loss::loss_function<loss::smooth_l1, double, cuda>);
    STATIC_REQUIRE(loss::loss_function<loss::cross_entropy, float, cuda>);
    STATIC_REQUIRE(loss::loss_function<loss::nll, float, cuda>);
    STATIC_REQUIRE(loss::loss_function<test::weighted_mse<cpu>, float, cpu>);
    STATIC_REQUIRE(loss::pair_loss_function<loss::gaussian_kl, float, cuda>);
    STATIC_REQUIRE(loss::pair_loss_function<loss::cosine_embedding, double, cuda>);
    STATIC_REQUIRE(loss::pair_loss_function<loss::margin_ranking, float, cpu>);
    STATIC_REQUIRE_FALSE(loss::loss_function<loss::gaussian_kl, float, cpu>);  // two inputs: not for train_step
    STATIC_REQUIRE(loss::takes_labels_v<loss::nll>);
    STATIC_REQUIRE_FALSE(loss::takes_labels_v<loss::huber>);
    STATIC_REQUIRE(std::is_same_v<loss::target_type_t<loss::cross_entropy, float>, std::int32_t>);
    STATIC_REQUIRE(loss::decision_threshold_v<loss::bce>() == 0.5);
    STATIC_REQUIRE(loss::decision_threshold_v<loss::huber>() == 0.0);
    // target counts
    REQUIRE(loss::cross_entropy{}.target_elements(6, 5) == 6);
    REQUIRE(loss::huber{}.target_elements(6, 5) == 30);
    REQUIRE(loss::cosine_embedding{}.target_elements(6, 5) == 6);
    REQUIRE(loss::gaussian_kl{}.target_elements(6, 5) == 0);
}

TEST_CASE("huber and smooth_l1: values and gradients equal PyTorch's, gradients checked in double", "[loss][huber]") {
    const auto y = ref("huber.y"), t = ref("huber.t");
    std::vector<float> dy(y.size());
    const float lh = loss::huber{0.7}(y, t, dy);
    require_close_rel({lh}, ref("huber.loss"), "huber loss");
    require_close_rel(dy, ref("huber.dy"), "huber dy");
    const float ls = loss::smooth_l1{0.5}(y, t, dy);
    require_close_rel({ls}, ref("smooth_l1.loss"), "smooth_l1 loss");
    require_close_rel(dy, ref("smooth_l1.dy"), "smooth_l1 dy");
    // by hand: d = 2 beyond δ = 1 → δ(|d| - δ/2) = 1.5; d = 0.5 inside → 0.125
    std::vector<double> yh{3.0, 0.5}, th{1.0, 0.0}, gh(2);
    REQUIRE(loss::huber{}(yh, th, gh) == Approx((1.5 + 0.125) / 2));
    REQUIRE(gh == std::vector<double>{0.5, 0.25});
    REQUIRE(loss::smooth_l1{0.0}(yh, th, gh) == Approx((2.0 + 0.5) / 2));  // β = 0: L1
    // smooth L1 with β = δ is huber/δ
    std::vector<double> gs(2);
    REQUIRE(loss::smooth_l1{0.8}(yh, th, gs) == Approx(loss::huber{0.8}(yh, th, gh) / 0.8));
    const std::vector<double> yd{0.3, -1.2, 2.5, 0.1, 0.7, -0.4}, td{1, 0, 2, 0.5, -1, 0};
    test::check_loss_gradient(loss::huber{0.7}, yd, td);
    test::check_loss_gradient(loss::smooth_l1{0.5}, yd, td);
    REQUIRE_THROWS_WITH(loss::huber{0.0}, Catch::Contains("huber: delta is 0") && Catch::Contains("> 0"));
    REQUIRE_THROWS_WITH(loss::smooth_l1{-1.0}, Catch::Contains("smooth_l1: beta"));
}

TEST_CASE("cross_entropy and nll equal PyTorch's; log_softmax + nll is cross_entropy", "[loss][nll]") {
    const auto z = ref("cross_entropy.z");
    const auto labels = ref_labels("cross_entropy.labels");
    std::vector<float> dz(z.size());
    require_close_rel({loss::cross_entropy{}(z, labels, dz)}, ref("cross_entropy.loss"), "cross_entropy loss");
    require_close_rel(dz, ref("cross_entropy.dz"), "cross_entropy dz");
    const auto logp = ref("nll.logp");
    std::vector<float> dl(logp.size());
    require_close_rel({loss::nll{}(logp, ref_labels("nll.labels"), dl)}, ref("nll.loss"), "nll loss");
    require_close_rel(dl, ref("nll.dlogp"), "nll dlogp");
    // the composition: gradient through log_softmax of nll's gradient = cross_entropy's gradient
    std::vector<double> zd{0.2, -0.3, 1.1, 0.5, 0.4, -2.0, 0.0, 0.3}, lp(8), g_nll(8), g_ce(8), g_z(8);
    std::vector<int> lab{3, 0};
    ops::log_softmax_forward<cpu>(zd.data(), lp.data(), 2, 4);
    const double l_nll = loss::nll{}(lp, lab, g_nll);
    ops::log_softmax_backward<cpu>(lp.data(), g_nll.data(), g_z.data(), 2, 4);
    REQUIRE(l_nll == Approx(loss::cross_entropy{}(zd, lab, g_ce)).epsilon(1e-14));
    for (std::size_t i = 0; i < 8; ++i) REQUIRE(g_z[i] == Approx(g_ce[i]).epsilon(1e-12).margin(1e-15));
    test::check_loss_gradient(loss::nll{}, lp, lab);
    std::vector<int> bad{0, 4};
    REQUIRE_THROWS_WITH(loss::nll{}(lp, bad, g_nll), Catch::Contains("nll: label 4 at index 1 is outside [0, 4)"));
    std::vector<int> three{0, 1, 2};
    REQUIRE_THROWS_WITH(loss::nll{}(lp, three, g_nll), Catch::Contains("nll") && Catch::Contains("not a multiple of the 3 labels"));
}

TEST_CASE("log_softmax layer: equals nn.LogSoftmax (forward and backward), gradient checked", "[layers][log_softmax]") {
    using model = basic_sequential<float, input<5>, log_softmax>;
    model m{seed{0}};
    auto ctx = m.context(6);
    const auto x = ref("log_softmax.x"), r = ref("log_softmax.r");
    const auto y = m.forward(x, ctx);
    require_close_rel(std::vector<float>(y.begin(), y.end()), ref("log_softmax.y"), "log_softmax y");
    m.backward(r, ctx, true);
    const auto dx = ctx.input_gradient();
    require_close_rel(std::vector<float>(dx.begin(), dx.end()), ref("log_softmax.dx"), "log_softmax dx");
    // stable for huge logits: finite, and exp of the outputs sums to 1 (within float's spacing at 1000, 6e-5)
    std::vector<float> big{1000.f, 0.f, -1000.f, 999.f, 3.f}, out(5);
    m.predict_into(big.data(), out.data(), 1);
    double s = 0;
    for (float v : out) s += std::exp(double(v));
    REQUIRE(s == Approx(1.0).epsilon(1e-4));
    REQUIRE(out[0] == Approx(-std::log1p(std::exp(-1.0))).epsilon(1e-4));
    REQUIRE(std::isfinite(out[2]));
    test::check_model_gradients(basic_sequential<double, input<5>, log_softmax>{seed{1}}, 3);
    test::check_model_gradients(basic_sequential<double, input<4>, dense<6>, log_softmax>{seed{2}}, 2);
    test::check_model_gradients(basic_sequential<double, input<2, 3>, log_softmax>{seed{3}}, 2);  // rows of the last dim
}

TEST_CASE("bce_with_logits: per-element weights and label smoothing equal PyTorch's, gradients checked",
          "[loss][bce]") {
    const auto z = ref("bce_one_sided.z"), t = ref("bce_one_sided.t"), w = ref("bce_one_sided.w");
    std::vector<float> dz(z.size());
    const loss::weighted_bce_with_logits<float> one(w, 0.1);
    require_close_rel({one(z, t, dz)}, ref("bce_one_sided.loss"), "one-sided loss");
    require_close_rel(dz, ref("bce_one_sided.dz"), "one-sided dz");
    const loss::weighted_bce_with_logits<float> two(w, 0.1, loss::smoothing_mode::two_sided);
    require_close_rel({two(z, t, dz)}, ref("bce_two_sided.loss"), "two-sided loss");
    require_close_rel(dz, ref("bce_two_sided.dz"), "two-sided dz");
    REQUIRE(one.weight_count() == 3);
    // unit weights are the unweighted loss; smoothing moves the targets as documented
    std::vector<double> zd{0.5, -2.0, 3.0, 0.1}, td{1, 0, 0, 1}, g1(4), g2(4);
    const loss::weighted_bce_with_logits<double> unit({1.0, 1.0});
    REQUIRE(unit(zd, td, g1) == Approx(loss::bce_with_logits{}(zd, td, g2)).epsilon(1e-15));
    std::vector<double> moved{0.8, 0, 0, 0.8};
    REQUIRE(loss::bce_with_logits{0.2}(zd, td, g1) == Approx(loss::bce_with_logits{}(zd, moved, g2)).epsilon(1e-15));
    std::vector<double> moved2{0.9, 0.1, 0.1, 0.9};
    REQUIRE(loss::bce_with_logits(0.2, loss::smoothing_mode::two_sided)(zd, td, g1) ==
            Approx(loss::bce_with_logits{}(zd, moved2, g2)).epsilon(1e-15));
    test::check_loss_gradient(loss::weighted_bce_with_logits<double>({0.5, 2.0}, 0.1, loss::smoothing_mode::two_sided), zd, td);
    test::check_loss_gradient(loss::bce_with_logits{0.3}, zd, td);
    // bad input
    REQUIRE_THROWS_WITH((loss::weighted_bce_with_logits<double>({1.0, 2.0, 3.0})(zd, td, g1)),
                        Catch::Contains("weighted_bce_with_logits: 4 predictions are not a multiple of the 3 weights"));
    REQUIRE_THROWS_WITH(loss::weighted_bce_with_logits<double>({}), Catch::Contains("weighted_bce_with_logits: no weights"));
    REQUIRE_THROWS_WITH(loss::bce_with_logits{1.0}, Catch::Contains("bce_with_logits: label_smoothing is 1") &&
                                                        Catch::Contains("[0, 1)"));
}

TEST_CASE("gaussian_kl: value and both gradients equal torch.distributions.kl_divergence, checked in double",
          "[loss][kl]") {
    const auto mu = ref("kl.mu"), lv = ref("kl.logvar");
    std::vector<float> dmu(mu.size()), dlv(lv.size());
    const float l = loss::gaussian_kl{}(mu, lv, dmu, dlv, 4);
    require_close_rel({l}, ref("kl.loss"), "kl loss");
    require_close_rel(dmu, ref("kl.dmu"), "kl dmu");
    require_close_rel(dlv, ref("kl.dlogvar"), "kl dlogvar");
    // by hand: μ = 0, log σ² = 0 is the prior itself; μ = 1 adds ½ per dimension
    std::vector<double> z2(2, 0.0), one{1.0, 1.0}, g1(2), g2(2);
    REQUIRE(loss::gaussian_kl{}(z2, z2, g1, g2, 1) == 0.0);
    REQUIRE(loss::gaussian_kl{}(one, z2, g1, g2, 2) == Approx(0.5));  // [2, 1]: (½ + ½)/2
    const std::vector<double> none;
    check_pair_gradient(loss::gaussian_kl{}, {0.3, -1.2, 2.5, 0.1, 0.7, -0.4}, {0.5, -0.3, 0.2, -1.5, 0.9, 0.0}, none, 2);
    REQUIRE_THROWS_WITH(loss::gaussian_kl{}(one, z2, g1, g2, 3), Catch::Contains("gaussian_kl") &&
                                                                    Catch::Contains("not a multiple of the batch of 3"));
    std::vector<double> g3(3);
    REQUIRE_THROWS_WITH(loss::gaussian_kl{}(one, z2, g3, g2, 1), Catch::Contains("gaussian_kl: the first gradient buffer has 3"));
}

TEST_CASE("gaussian_kl.packed: the KL of [mu | logvar] rows equals the two-array form; finite differences in double",
          "[loss][kl][vae]") {
    const std::vector<double> mu{0.3, -1.2, 2.5, 0.1, 0.7, -0.4}, lv{0.5, -0.3, 0.2, -1.5, 0.9, 0.0};
    std::vector<double> stats, dmu(6), dlv(6), dstats(12);
    for (std::size_t r = 0; r < 2; ++r) {  // batch 2, latent 3
        stats.insert(stats.end(), mu.begin() + 3 * r, mu.begin() + 3 * r + 3);
        stats.insert(stats.end(), lv.begin() + 3 * r, lv.begin() + 3 * r + 3);
    }
    const double l = loss::gaussian_kl{}(mu, lv, dmu, dlv, 2);
    REQUIRE(loss::gaussian_kl{}.packed(stats, dstats, 2) == Approx(l).epsilon(1e-15));
    for (std::size_t r = 0; r < 2; ++r)
        for (std::size_t j = 0; j < 3; ++j) {
            REQUIRE(dstats[6 * r + j] == Approx(dmu[3 * r + j]).epsilon(1e-15));
            REQUIRE(dstats[6 * r + 3 + j] == Approx(dlv[3 * r + j]).epsilon(1e-15));
        }
    std::vector<double> scratch(12);
    for (std::size_t i = 0; i < 12; ++i) {
        auto p = stats, m = stats;
        p[i] += 1e-6;
        m[i] -= 1e-6;
        const double num = (loss::gaussian_kl{}.packed(p, scratch, 2) - loss::gaussian_kl{}.packed(m, scratch, 2)) / 2e-6;
        INFO("element " << i << ": numeric " << num << " analytic " << dstats[i]);
        REQUIRE(test::max_rel_error(num, dstats[i]) < 1e-7);
    }
    REQUIRE_THROWS_WITH(loss::gaussian_kl{}.packed(stats, scratch, 5), Catch::Contains("gaussian_kl: packed statistics have 12"));
    std::vector<double> small(6);
    REQUIRE_THROWS_WITH(loss::gaussian_kl{}.packed(stats, small, 2), Catch::Contains("gaussian_kl: the gradient buffer has 6"));
}

TEST_CASE("cosine_embedding and margin_ranking: values and both gradients equal PyTorch's, checked in double",
          "[loss][cosine][ranking]") {
    {
        const auto a = ref("cosine.a"), b = ref("cosine.b"), t = ref("cosine.t");
        std::vector<float> da(a.size()), db(b.size());
        const float l = loss::cosine_embedding{0.2}(a, b, t, da, db, 5);
        require_close_rel({l}, ref("cosine.loss"), "cosine loss");
        require_close_rel(da, ref("cosine.da"), "cosine da");
        require_close_rel(db, ref("cosine.db"), "cosine db");
    }
    {
        const auto a = ref("margin_ranking.a"), b = ref("margin_ranking.b"), t = ref("margin_ranking.t");
        std::vector<float> da(a.size()), db(b.size());
        const float l = loss::margin_ranking{0.3}(a, b, t, da, db, 8);
        require_close_rel({l}, ref("margin_ranking.loss"), "margin_ranking loss");
        require_close_rel(da, ref("margin_ranking.da"), "margin_ranking da");
        require_close_rel(db, ref("margin_ranking.db"), "margin_ranking db");
    }
    // by hand: parallel vectors with t = 1 cost 0; orthogonal with t = -1 cost max(0, 0 - margin) = 0
    std::vector<double> a{1, 2}, b{2, 4}, c{-2, 1}, g1(2), g2(2);
    REQUIRE(loss::cosine_embedding{}(a, b, std::vector<double>{1}, g1, g2, 1) == Approx(0.0).margin(1e-12));
    REQUIRE(loss::cosine_embedding{-0.5}(a, c, std::vector<double>{-1}, g1, g2, 1) == Approx(0.5));
    std::vector<double> h1(1), h2(1);
    REQUIRE(loss::margin_ranking{1.0}(std::vector<double>{2.0}, std::vector<double>{0.5}, std::vector<double>{1}, h1, h2, 1) == 0.0);
    REQUIRE(loss::margin_ranking{1.0}(std::vector<double>{2.0}, std::vector<double>{1.5}, std::vector<double>{1}, h1, h2, 1) == 0.5);
    REQUIRE((h1[0] == -1.0 && h2[0] == 1.0));
    // gradients (both inputs): batch 3 of dimension 4, targets mixing both signs, hinge active and not
    const std::vector<double> x1{0.3, -1.2, 2.5, 0.1, 0.7, -0.4, 0.2, 0.9, -0.6, 0.5, 0.4, -1.1};
    const std::vector<double> x2{0.5, -0.3, 0.2, -1.5, 0.9, -0.1, 0.3, 1.0, 0.4, -0.2, 0.8, 0.6};
    check_pair_gradient(loss::cosine_embedding{0.1}, x1, x2, std::vector<double>{1, -1, -1}, 3);
    std::vector<double> tr(12);
    for (std::size_t i = 0; i < 12; ++i) tr[i] = i % 3 == 0 ? -1 : 1;
    check_pair_gradient(loss::margin_ranking{0.25}, x1, x2, tr, 12);  // (no element on the hinge)
    // bad input
    std::vector<double> g4(4), g4b(4);
    REQUIRE_THROWS_WITH(loss::cosine_embedding{}(a, b, std::vector<double>{0.5}, g1, g2, 1),
                        Catch::Contains("cosine_embedding: target 0.5") && Catch::Contains("not 1 or -1"));
    REQUIRE_THROWS_WITH(loss::cosine_embedding{}(a, b, std::vector<double>{1, 1}, g1, g2, 1),
                        Catch::Contains("cosine_embedding: the target has 2 elements, expected 1"));
    REQUIRE_THROWS_WITH(loss::margin_ranking{}(a, b, std::vector<double>{1}, g1, g2, 1),
                        Catch::Contains("margin_ranking: the target has 1 elements, expected 2"));
    REQUIRE_THROWS_WITH(loss::cosine_embedding{2.0}, Catch::Contains("cosine_embedding: margin is 2"));
    REQUIRE_THROWS_WITH(loss::margin_ranking{}(a, g4, std::vector<double>{1, 1}, g1, g2, 1),
                        Catch::Contains("margin_ranking: the second input has 4 elements, expected 2"));
}

TEST_CASE("a user-defined loss of ops:: calls trains through train_step and fit on the CPU", "[loss][user][fit]") {
    using model = basic_sequential<double, input<4>, dense<3>>;
    const std::size_t batch = 5;
    rng g{seed{9}};
    std::vector<double> x(batch * 4), t(batch * 3);
    for (auto& v : x) v = g.uniform(-1, 1);
    for (auto& v : t) v = g.uniform(-1, 1);
    SECTION("its value is the weighted mean by hand, and weights 2 train like mse at twice the rate") {
        const test::weighted_mse<> wl({1.0, 2.0, 0.5});
        model m{seed{1}};
        const auto y = m.predict(x);
        double expect = 0;
        for (std::size_t i = 0; i < y.size(); ++i) expect += std::vector<double>{1.0, 2.0, 0.5}[i % 3] * (y[i] - t[i]) * (y[i] - t[i]);
        expect /= double(y.size());
        auto ctx = m.context(batch);
        optim::sgd o(m.parameters(), {0.1});
        REQUIRE(train_step(m, ctx, o, wl, x, t) == Approx(expect).epsilon(1e-14));

        model a{seed{2}}, b{seed{2}};
        auto ca = a.context(batch);
        auto cb = b.context(batch);
        optim::sgd oa(a.parameters(), {0.05}), ob(b.parameters(), {0.1});
        for (int s = 0; s < 3; ++s) {
            const double la = train_step(a, ca, oa, test::weighted_mse<>({2.0, 2.0, 2.0}), x, t);
            const double lb = train_step(b, cb, ob, loss::mse{}, x, t);
            REQUIRE(la == Approx(2 * lb).epsilon(1e-13));
        }
        for (std::size_t i = 0; i < model::parameter_count; ++i)
            REQUIRE(a.parameter_values()[i] == Approx(b.parameter_values()[i]).epsilon(1e-13));
        REQUIRE_THROWS_WITH(train_step(m, ctx, o, wl, x, std::vector<double>(7)),
                            Catch::Contains("weighted_mse: the target has 7 elements, expected 15"));
    }
    SECTION("fit learns a linear map with it") {
        auto d = data::dataset<double>::zeros(256, 4, 0, 3);
        rng gd{seed{3}};
        for (std::size_t i = 0; i < 256; ++i) {
            for (std::size_t j = 0; j < 4; ++j) d.x[i * 4 + j] = gd.uniform(-1, 1);
            for (std::size_t k = 0; k < 3; ++k) d.targets[i * 3 + k] = d.x[i * 4 + k] - 0.5 * d.x[i * 4 + k + 1] + 0.1 * double(k);
        }
        model m{seed{4}};
        optim::adam o(m.parameters(), {0.05});
        fit_options opt;
        opt.epochs = 12;
        opt.batch = 32;
        const auto r = fit(m, o, test::weighted_mse<>({1.0, 3.0, 0.5}), d, opt);
        REQUIRE(r.history.size() == 12);
        INFO("first epoch " << r.history.front().loss << ", last " << r.history.back().loss);
        REQUIRE(r.history.back().loss < r.history.front().loss / 20);
        REQUIRE(r.history.back().loss < 2e-3);
    }
}

TEST_CASE("fit: huber on targets and nll on a log_softmax model train on the CPU", "[loss][fit]") {
    auto d = data::dataset<float>::zeros(300, 6, 3, 0);
    rng g{seed{5}};
    for (std::size_t i = 0; i < 300; ++i) {
        const int cls = int(g.below(3));
        d.labels[i] = cls;
        for (std::size_t j = 0; j < 6; ++j) d.x[i * 6 + j] = float(g.normal() * 0.4 + (j % 3 == std::size_t(cls) ? 1.0 : 0.0));
    }
    using clf = sequential<input<6>, dense<8>, relu, dense<3>, log_softmax>;
    clf m{seed{1}};
    optim::adam o(m.parameters(), {1e-2});
    fit_options opt;
    opt.epochs = 5;
    const auto r = fit(m, o, loss::nll{}, d, opt);
    REQUIRE(r.history.back().loss < r.history.front().loss);
    REQUIRE(r.history.back().train_accuracy > 0.9);
    // a regression dataset with huber
    auto dr = data::dataset<float>::zeros(200, 2, 0, 1);
    for (std::size_t i = 0; i < 200; ++i) {
        dr.x[i * 2] = float(g.uniform(-1, 1));
        dr.x[i * 2 + 1] = float(g.uniform(-1, 1));
        dr.targets[i] = 2 * dr.x[i * 2] - dr.x[i * 2 + 1];
    }
    sequential<input<2>, dense<1>> lin{seed{2}};
    optim::adam os(lin.parameters(), {0.05});  // (huber's gradient is capped at δ: SGD would crawl)
    opt.epochs = 20;
    const auto rr = fit(lin, os, loss::huber{0.5}, dr, opt);
    REQUIRE(rr.history.back().loss < 1e-3);
    REQUIRE_THROWS_WITH(fit(lin, os, loss::nll{}, dr, opt), Catch::Contains("fit: nll needs a dataset with integer labels"));
}

TEST_CASE("categorical_cross_entropy: equals PyTorch's nll_loss(log(p.clamp_min(eps))); softmax + it is cross_entropy; "
          "gradients checked in double",
          "[loss][categorical_cross_entropy]") {
    SECTION("value and gradient equal PyTorch's, with a label probability below the clamp") {
        const auto p = ref("categorical.p");
        std::vector<float> dp(p.size());
        require_close_rel({loss::categorical_cross_entropy{}(p, ref_labels("categorical.labels"), dp)}, ref("categorical.loss"),
                          "categorical loss");
        require_close_rel(dp, ref("categorical.dp"), "categorical dp");
    }
    SECTION("by hand: the mean of -log p at the labels, gradient -1/(p·batch) at the labels only") {
        std::vector<double> p{0.2, 0.5, 0.3, 0.9, 0.05, 0.05}, g(6);
        std::vector<int> lab{1, 0};
        REQUIRE(loss::categorical_cross_entropy{}(p, lab, g) == Approx(-(std::log(0.5) + std::log(0.9)) / 2).epsilon(1e-15));
        const std::vector<double> want{0, -1 / (0.5 * 2), 0, -1 / (0.9 * 2), 0, 0};
        for (std::size_t i = 0; i < 6; ++i) REQUIRE(g[i] == Approx(want[i]).epsilon(1e-15));
        test::check_loss_gradient(loss::categorical_cross_entropy{}, {0.3, 0.2, 0.4, 0.1, 0.6, 0.25, 0.05, 0.1},
                                  std::vector<int>{2, 1});
    }
    SECTION("through a softmax it is cross_entropy on the logits (value and gradient)") {
        std::vector<double> z{0.2, -0.3, 1.1, 0.5, 0.4, -2.0, 0.0, 0.3}, p(8), g_p(8), g_z(8), g_ce(8);
        std::vector<int> lab{3, 0};
        ops::softmax_forward<cpu>(z.data(), p.data(), 2, 4);
        const double l = loss::categorical_cross_entropy{}(p, lab, g_p);
        ops::softmax_backward<cpu>(p.data(), g_p.data(), g_z.data(), 2, 4);
        REQUIRE(l == Approx(loss::cross_entropy{}(z, lab, g_ce)).epsilon(1e-14));
        for (std::size_t i = 0; i < 8; ++i) REQUIRE(g_z[i] == Approx(g_ce[i]).epsilon(1e-12).margin(1e-15));
    }
    SECTION("below eps the value is -log(eps) and the gradient 0; a zero probability stays finite") {
        std::vector<double> p{0.0, 1.0, 5e-4, 0.9995}, g(4);
        REQUIRE(loss::categorical_cross_entropy{1e-3}(p, std::vector<int>{0, 0}, g) == Approx(-std::log(1e-3)));
        REQUIRE(g == std::vector<double>(4, 0.0));
        std::vector<float> pf{0.f, 1.f}, gf(2);
        REQUIRE(std::isfinite(loss::categorical_cross_entropy{}(pf, std::vector<int>{0}, gf)));
        REQUIRE((gf[0] == 0.f && gf[1] == 0.f));
    }
    SECTION("bad labels and eps are rejected with the loss's name") {
        std::vector<double> p{0.5, 0.5, 0.5, 0.5}, g(4);
        REQUIRE_THROWS_WITH(loss::categorical_cross_entropy{}(p, std::vector<int>{0, 2}, g),
                            Catch::Contains("categorical_cross_entropy: label 2 at index 1 is outside [0, 2)"));
        REQUIRE_THROWS_WITH(loss::categorical_cross_entropy{0.0}, Catch::Contains("categorical_cross_entropy: eps is 0"));
        REQUIRE_THROWS_WITH(loss::categorical_cross_entropy{1.0}, Catch::Contains("expected a value in (0, 1)"));
    }
    STATIC_REQUIRE(loss::loss_function<loss::categorical_cross_entropy, float, cuda>);
    STATIC_REQUIRE(loss::takes_labels_v<loss::categorical_cross_entropy>);
}

TEST_CASE("averaged-softmax ensemble (a CNN and an LSTM branch): the training gradient of categorical_cross_entropy "
          "equals finite differences in double; fit trains it",
          "[loss][categorical_cross_entropy][parallel]") {
    // the fusion of example 11 in miniature: image rows as an LSTM's sequence next to a small CNN
    using branches = parallel<merge::average, chain<conv2d<2, 3, {.padding = 1}>, ctnn::tanh, flatten, dense<3>, softmax>,
                              chain<reshape<4, 5>, lstm<3>, dense<3>, softmax>>;
    using ensemble = basic_sequential<double, input<4, 5, 1>, branches>;
    test::check_model_gradients(ensemble{seed{1}}, 3);

    const std::size_t batch = 4;
    rng g{seed{7}};
    const auto x = test::random_values(batch * 20, g);
    const std::vector<std::int32_t> labels{2, 0, 1, 2};
    ensemble m{seed{2}};
    auto ctx = m.context(batch);
    m.zero_grad();
    const auto y = m.forward(x, ctx);
    double p_sum = 0;  // each output row is a distribution
    for (double v : y) p_sum += v;
    REQUIRE(p_sum == Approx(double(batch)).epsilon(1e-12));
    auto dy = ctx.output_gradient();
    loss::categorical_cross_entropy{}(y, labels, dy);
    m.backward(dy, ctx);
    const std::vector<double> analytic(m.gradients().begin(), m.gradients().end());
    const auto objective = [&] {
        std::vector<double> scratch(batch * 3);
        return loss::categorical_cross_entropy{}(m.predict(x), labels, scratch);
    };
    const double eps = 1e-6;
    for (std::size_t i = 0; i < ensemble::parameter_count; ++i) {
        double& w = m.parameter_values()[i];
        const double w0 = w;
        w = w0 + eps;
        const double lp = objective();
        w = w0 - eps;
        const double lm = objective();
        w = w0;
        INFO("parameter " << i << ": numeric " << (lp - lm) / (2 * eps) << " analytic " << analytic[i]);
        REQUIRE(test::max_rel_error((lp - lm) / (2 * eps), analytic[i]) < 1e-7);
    }

    // fit on a separable task: the averaged probabilities learn it
    auto d = data::dataset<float>::zeros(240, 20, 3, 0);
    for (std::size_t i = 0; i < 240; ++i) {
        const int cls = int(g.below(3));
        d.labels[i] = cls;
        for (std::size_t j = 0; j < 20; ++j) d.x[i * 20 + j] = float(g.normal() * 0.3 + (j / 7 == std::size_t(cls) ? 1.0 : 0.0));
    }
    sequential<input<4, 5, 1>, branches> f{seed{3}};
    optim::adam o(f.parameters(), {2e-2});
    fit_options opt;
    opt.epochs = 8;
    const auto r = fit(f, o, loss::categorical_cross_entropy{}, d, opt);
    INFO("loss " << r.history.front().loss << " -> " << r.history.back().loss);
    REQUIRE(r.history.back().loss < r.history.front().loss / 2);
    REQUIRE(r.history.back().train_accuracy > 0.9);
}

TEST_CASE("cross_entropy{classes}: one label per step of a sequence equals PyTorch's loss of the flattened logits; "
          "gradients checked in double; a language model's training gradient equals finite differences",
          "[loss][cross_entropy][sequence]") {
    SECTION("value and gradient equal nn.CrossEntropyLoss on (batch·T, classes), the mean over batch × T rows") {
        const auto z = ref("cross_entropy_seq.z");  // [3, 4, 5]
        const auto labels = ref_labels("cross_entropy_seq.labels");  // [3, 4]
        std::vector<float> dz(z.size()), dz_flat(z.size());
        const loss::cross_entropy ce{5};
        REQUIRE(ce.target_elements(3, 20) == 12);
        REQUIRE(loss::cross_entropy{}.target_elements(3, 20) == 3);
        const float l = ce(z, labels, dz, 3);
        require_close_rel({l}, ref("cross_entropy_seq.loss"), "per-step cross_entropy loss");
        require_close_rel(dz, ref("cross_entropy_seq.dz"), "per-step cross_entropy dz");
        // the same rows as one label per sample of a [12, 5] output, bit for bit; the call without a batch too
        REQUIRE(loss::cross_entropy{}(z, labels, dz_flat) == l);
        REQUIRE(dz_flat == dz);
        REQUIRE(ce(z, labels, dz_flat) == l);
    }
    SECTION("finite differences in double, with the batch given (rows per sample = per_sample / classes)") {
        rng g{seed{5}};
        const auto z = test::random_values(2 * 3 * 4, g);
        const std::vector<int> lab{3, 0, 1, 2, 2, 0};
        const auto ce_batch2 = [](const auto& y, const auto& t, auto& dy) { return loss::cross_entropy{4}(y, t, dy, 2); };
        test::check_loss_gradient(ce_batch2, z, lab);
        // the gradient is (softmax - onehot)/(batch × rows): each row sums to 0, the label's entry is negative
        std::vector<double> dz(z.size());
        ce_batch2(z, lab, dz);
        for (std::size_t r = 0; r < 6; ++r) {
            double s = 0;
            for (std::size_t j = 0; j < 4; ++j) s += dz[r * 4 + j];
            REQUIRE(std::abs(s) < 1e-15);
            REQUIRE(dz[r * 4 + std::size_t(lab[r])] < 0);
            REQUIRE(dz[r * 4 + std::size_t(lab[r])] > -1.0 / 6);
        }
    }
    SECTION("wrong sizes and labels are rejected with the loss's name") {
        std::vector<double> y(3 * 20), dy(y.size());
        const std::vector<int> twelve(12, 1), three{0, 1, 2};
        REQUIRE_THROWS_WITH(loss::cross_entropy{6}(y, twelve, dy, 3),
                            Catch::Contains("cross_entropy: 20 outputs per sample are not a multiple of the 6 classes"));
        REQUIRE_THROWS_WITH(loss::cross_entropy{5}(y, three, dy, 3),
                            Catch::Contains("cross_entropy: the target has 3 elements, expected 12 (one label per row of 5 classes"));
        auto bad = twelve;
        bad[7] = 5;
        REQUIRE_THROWS_WITH(loss::cross_entropy{5}(y, bad, dy, 3), Catch::Contains("cross_entropy: label 5 at index 7 is outside [0, 5)"));
        REQUIRE_THROWS_WITH(loss::cross_entropy{0}, Catch::Contains("cross_entropy: classes is 0"));
    }
    SECTION("embedding → lstm (every step) → dense per step: train_step's gradient equals finite differences in double") {
        using lm = basic_sequential<double, input<5>, embedding<6, 3>, lstm<4, {.return_sequences = true}>, dense<6>>;
        const std::size_t batch = 3;
        const std::vector<double> x{0, 1, 2, 3, 4, 5, 4, 3, 2, 1, 2, 2, 0, 5, 1};  // ids
        const std::vector<std::int32_t> labels{1, 2, 3, 4, 5, 0, 3, 2, 1, 0, 2, 0, 5, 1, 4};  // one per step
        const loss::cross_entropy ce{6};
        lm m{seed{4}};
        const lm before = m;
        auto ctx = m.context(batch);
        optim::sgd opt{m.parameters(), {.lr = 0.0}};
        std::vector<double> scratch(batch * 5 * 6);
        const double l0 = ce(before.predict(x), labels, scratch, batch);
        REQUIRE(train_step(m, ctx, opt, ce, x, labels) == Approx(l0).epsilon(1e-14));
        const std::vector<double> analytic(m.gradients().begin(), m.gradients().end());
        const auto objective = [&] { return ce(m.predict(x), labels, scratch, batch); };
        const double eps = 1e-6;
        for (std::size_t i = 0; i < lm::parameter_count; ++i) {
            double& w = m.parameter_values()[i];
            const double w0 = w;
            w = w0 + eps;
            const double lp = objective();
            w = w0 - eps;
            const double lm_ = objective();
            w = w0;
            INFO("parameter " << i << ": numeric " << (lp - lm_) / (2 * eps) << " analytic " << analytic[i]);
            REQUIRE(test::max_rel_error((lp - lm_) / (2 * eps), analytic[i]) < 1e-7);
        }
        // one label per sample is a clear error, not a silent misread
        REQUIRE_THROWS_WITH(train_step(m, ctx, opt, ce, x, std::vector<std::int32_t>{1, 2, 3}),
                            Catch::Contains("cross_entropy: the target has 3 elements, expected 15"));
    }
}

TEST_CASE("cross_entropy{classes, {.ignore_index}}: masked-LM targets equal nn.CrossEntropyLoss(ignore_index=-100); "
          "gradients checked in double; only the ignored label may leave the range",
          "[loss][cross_entropy][ignore_index]") {
    const loss::cross_entropy ce{6, {.ignore_index = -100}};
    SECTION("value and gradient equal PyTorch's: the mean over the 4 labelled rows, zero gradient elsewhere") {
        const auto z = ref("cross_entropy_ignore.z");  // [3, 4, 6]
        const auto labels = ref_labels("cross_entropy_ignore.labels");  // [3, 4], -100 but at 4 rows
        std::vector<float> dz(z.size());
        require_close_rel({ce(z, labels, dz, 3)}, ref("cross_entropy_ignore.loss"), "ignore_index loss");
        require_close_rel(dz, ref("cross_entropy_ignore.dz"), "ignore_index dz");
        for (std::size_t r = 0; r < 12; ++r)
            if (labels[r] == -100)
                for (std::size_t j = 0; j < 6; ++j) REQUIRE(dz[r * 6 + j] == 0.0f);
        // the labelled rows alone, as a plain cross_entropy: the same loss and the same rows of gradient
        std::vector<float> zk, dk(4 * 6);
        std::vector<std::int32_t> lk;
        for (std::size_t r = 0; r < 12; ++r)
            if (labels[r] != -100) {
                zk.insert(zk.end(), z.begin() + std::ptrdiff_t(r * 6), z.begin() + std::ptrdiff_t(r * 6 + 6));
                lk.push_back(labels[r]);
            }
        const float l_plain = loss::cross_entropy{6}(zk, lk, dk, 4);
        REQUIRE(ce(z, labels, dz, 3) == Approx(l_plain).epsilon(1e-6));
        for (std::size_t r = 0, k = 0; r < 12; ++r)
            if (labels[r] != -100) {
                for (std::size_t j = 0; j < 6; ++j) REQUIRE(dz[r * 6 + j] == Approx(dk[k * 6 + j]).margin(1e-7));
                ++k;
            }
    }
    SECTION("finite differences in double; a batch with every row ignored gives 0 and a zero gradient") {
        rng g{seed{9}};
        const auto z = test::random_values(2 * 3 * 4, g);
        const std::vector<int> lab{3, -1, 1, -1, 2, 0};
        const auto ce_ignore = [](const auto& y, const auto& t, auto& dy) {
            return loss::cross_entropy{4, {.ignore_index = -1}}(y, t, dy, 2);
        };
        test::check_loss_gradient(ce_ignore, z, lab);
        std::vector<double> dz(z.size(), 1.0);
        REQUIRE(ce_ignore(z, std::vector<int>(6, -1), dz) == 0.0);
        for (const double d : dz) REQUIRE(d == 0.0);
        // one label per sample with an ignored sample: the mean over the others
        const std::vector<double> two{0.5, -0.5, 2.0, 1.0};
        std::vector<double> d2(4);
        const double l = loss::cross_entropy{{.ignore_index = 7}}(two, std::vector<int>{0, 7}, d2);
        REQUIRE(l == Approx(std::log(1 + std::exp(-1.0))).epsilon(1e-14));
        REQUIRE(d2[2] == 0.0);
        REQUIRE(d2[3] == 0.0);
    }
    SECTION("labels outside [0, classes) other than the ignored one are rejected") {
        std::vector<double> y(2 * 8), dy(y.size());
        REQUIRE_THROWS_WITH((loss::cross_entropy{4, {.ignore_index = -100}}(y, std::vector<int>{0, -100, -1, 3}, dy, 2)),
                            Catch::Contains("cross_entropy: label -1 at index 2 is outside [0, 4) and is not the ignore_index -100"));
        REQUIRE_THROWS_WITH((loss::cross_entropy{4, {.ignore_index = -100}}(y, std::vector<int>{0, 4, 1, 3}, dy, 2)),
                            Catch::Contains("label 4 at index 1"));
        REQUIRE_THROWS_WITH((loss::cross_entropy{4}(y, std::vector<int>{0, -100, 1, 3}, dy, 2)),
                            Catch::Contains("label -100 at index 1 is outside [0, 4)"));
    }
}
