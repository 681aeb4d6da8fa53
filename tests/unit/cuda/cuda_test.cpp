// SPDX-License-Identifier: MIT
// CPU-vs-CUDA equivalence: every layer, loss and optimizer, and a few training steps of the MLP, run on
// both policies from the same initial parameters. Needs a CUDA device: without one, main() says so and
// exits 77, which ctest reports as "Skipped" (label `cuda`) — never as a pass.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <ctnn/ctnn.hpp>
#include <filesystem>
#include <vector>

#include "../../support/weighted_mse.hpp"

using namespace ctnn;

namespace {
template <class T>
std::vector<T> values(std::size_t n, std::uint64_t s, double lo = -1, double hi = 1) {
    rng g{seed{s}};
    std::vector<T> v(n);
    for (auto& x : v) x = T(g.uniform(lo, hi));
    return v;
}
template <class A, class B>
void require_close(const A& a, const B& b, double tol, const char* what) {
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        INFO(what << " index " << i);
        REQUIRE(double(a[i]) == Approx(double(b[i])).margin(tol).epsilon(tol));
    }
}

/// Forward (train mode), backward with a fixed upstream gradient (parameter and input gradients) and
/// one SGD-with-momentum step of the same double model on both policies.
template <class Input, class... Layers>
void check_layers_on(std::size_t batch, double tol = 1e-10) {
    using cpu_model = basic_sequential<double, Input, Layers...>;
    using gpu_model = typename cpu_model::template on<cuda>;
    cpu_model c{seed{3}};
    gpu_model g{seed{3}};
    require_close(g.host_parameters(), c.host_parameters(), 0, "initial parameters");
    auto cc = c.context(batch);
    auto gc = g.context(batch);
    const auto x = values<double>(batch * cpu_model::input_shape::size, 1);
    const auto yc = c.forward(x, cc);
    const auto yg = g.forward(x, gc).to_host();
    require_close(yg, yc, tol, "forward");
    require_close(g.host_states(), c.host_states(), tol, "states (running statistics)");
    const auto dy = values<double>(yc.size(), 2);
    copy_from_host<cuda>(gc.output_gradient().data(), dy.data(), dy.size());
    c.zero_grad();
    g.zero_grad();
    c.backward(dy, cc, true);
    g.backward(gc.output_gradient(), gc, true);
    require_close(g.host_gradients(), c.host_gradients(), tol, "parameter gradients");
    require_close(gc.input_gradient().to_host(), cc.input_gradient(), tol, "input gradient");
    // (SGD, not Adam: a bias right before a batch norm has a gradient of pure rounding noise, which Adam
    // would scale up to a step of its own; Adam is compared in the optimizer test below)
    optim::sgd oc(c.parameters(), {1e-2, 0.9});
    optim::sgd og(g.parameters(), {1e-2, 0.9});
    oc.step();
    og.step();
    require_close(g.host_parameters(), c.host_parameters(), tol, "parameters after an SGD step");
}

template <class... Layers>
void check_layers(std::size_t batch, double tol = 1e-10) {
    check_layers_on<input<12>, Layers...>(batch, tol);
}

/// Two train_steps of the same model with a loss (its CPU and its CUDA object) and optimizer O on both policies.
template <class LossC, class LossG, class MakeOpt, class Target>
void check_step2(const LossC& loss_c, const LossG& loss_g, MakeOpt make_opt, const Target& target, double tol = 1e-10) {
    using cpu_model = basic_sequential<double, input<12>, dense<9>, ctnn::tanh, dense<3>>;
    using gpu_model = typename cpu_model::template on<cuda>;
    cpu_model c{seed{5}};
    gpu_model g{seed{5}};
    const std::size_t batch = 6;
    auto cc = c.context(batch);
    auto gc = g.context(batch);
    auto oc = make_opt(c.parameters());
    auto og = make_opt(g.parameters());
    for (int s = 0; s < 2; ++s) {
        const auto x = values<double>(batch * 12, 10 + std::uint64_t(s));
        const double lc = train_step(c, cc, oc, loss_c, x, target);
        const double lg = train_step(g, gc, og, loss_g, x, target);
        REQUIRE(lg == Approx(lc).epsilon(tol));
    }
    require_close(g.host_parameters(), c.host_parameters(), tol, "parameters after two steps");
}

/// A pair loss evaluated on both policies from the same inputs: loss and both gradients.
template <class L>
void check_pair(const L& l, std::size_t batch, std::size_t per, const std::vector<double>& t, double tol = 1e-12) {
    const std::size_t n = batch * per;
    const auto a = values<double>(n, 31), b = values<double>(n, 32);
    std::vector<double> da(n), db(n);
    const double lc = l(a, b, t, da, db, batch);
    buffer_t<cuda, double> ga(n), gb(n), gt(t.size() ? t.size() : 1), gda(n), gdb(n), gl(1);
    copy_from_host<cuda>(ga.data(), a.data(), n);
    copy_from_host<cuda>(gb.data(), b.data(), n);
    copy_from_host<cuda>(gt.data(), t.data(), t.size());
    l.check_target(t.data(), t.size(), batch, per);
    l.template evaluate<cuda>(ga.data(), gb.data(), t.empty() ? static_cast<const double*>(nullptr) : gt.data(), gda.data(),
                              gdb.data(), batch, per, gl.data());
    std::vector<double> hda(n), hdb(n);
    copy_to_host<cuda>(hda.data(), gda.data(), n);
    copy_to_host<cuda>(hdb.data(), gdb.data(), n);
    INFO(L::name);
    REQUIRE(ops::read_scalar<cuda>(gl.data()) == Approx(lc).epsilon(tol));
    require_close(hda, da, tol, "first gradient");
    require_close(hdb, db, tol, "second gradient");
}

/// Two train_steps of the same model with loss L and optimizer O on both policies.
template <class Loss, class MakeOpt, class Target>
void check_step(const Loss& loss, MakeOpt make_opt, const Target& target, double tol = 1e-10) {
    check_step2(loss, loss, make_opt, target, tol);
}

}  // namespace

TEST_CASE("cuda: every layer equals the CPU layer (forward, gradients, one step)", "[cuda]") {
    check_layers<dense<7>>(5);
    check_layers<dense<7, false>>(5);
    check_layers<dense<9>, relu, dense<4>>(33);  // fused epilogues
    check_layers<dense<9>, sigmoid, dense<5>, ctnn::tanh, dense<4>, leaky_relu<0.1>, dense<2>, identity>(8);
    check_layers<dense<6>, leaky_relu<-0.5>, dense<3>>(4);  // not fused: backward reads the input
    check_layers<relu, sigmoid, ctnn::tanh, dense<5>>(4);   // activations on their own
    check_layers<dense<10>, softmax>(7);
    check_layers<dense<10>, log_softmax>(7);
    check_layers<dense<12>, reshape<3, 4>, log_softmax>(2);  // rows of the last dimension
    check_layers<reshape<3, 4>, flatten, dense<3>>(2);
    check_layers<dense<16>, dropout<0.3>, dense<4>>(9);  // the same counter-based mask on both
    check_layers<dense<8>, gaussian_sample<4>, dense<3>>(6);  // the same counter-based noise on both
}

TEST_CASE("cuda: convolution and pooling equal the CPU layers", "[cuda][conv]") {
    check_layers_on<input<8, 8, 3>, conv2d<4, 3, {.padding = 1}>, relu, max_pool2d<2>, conv2d<6, 3, {.padding = 1, .groups = 2}>,
                    ctnn::tanh, avg_pool2d<2>, global_avg_pool2d, flatten, dense<3>>(3);
    check_layers_on<input<9, 8, 2>, conv2d<3, {3, 2}, {.stride = {2, 1}, .padding = {1, 0}, .dilation = {1, 2}, .bias = false}>,
                    max_pool2d<3, {.stride = 2, .padding = 1}>>(2);
    check_layers_on<input<6, 6, 4>, conv2d<4, 3, {.padding = 1, .groups = 4}>, sigmoid>(2);  // depthwise, fused sigmoid
    check_layers_on<input<5, 5, 2>, conv2d<3, 3, {.padding = 1}>, batch_norm2d<>, relu, global_avg_pool2d, flatten, dense<4>,
                    batch_norm1d<>>(4);
    check_layers_on<input<4, 4, 2>, residual<chain<conv2d<2, 3, {.padding = 1}>, batch_norm2d<>, relu, conv2d<2, 3, {.padding = 1}>>>,
                    relu,
                    residual<chain<conv2d<3, 3, {.stride = 2, .padding = 1, .bias = false}>, batch_norm2d<>>,
                             chain<conv2d<3, 1, {.stride = 2, .bias = false}>, batch_norm2d<>>>,
                    global_avg_pool2d, flatten, dense<2>>(3);
    check_layers_on<input<3, 4, 2>, zero_pad2d<{2, 1}>, conv2d<2, 3>, upsample2d<{2, 3}>>(2);
    check_layers_on<input<4, 4, 2>, concat<chain<conv2d<3, 3, {.padding = 1}>, relu>, chain<>>, conv2d<2, 1>>(2);
    check_layers_on<input<3, 4, 2>, zero_pad2d<{0, 1, 2, 0}>, conv_transpose2d<4, 3, {.stride = 2, .padding = 1, .output_padding = 1}>,
                    relu, conv_transpose2d<2, {2, 3}, {.stride = {1, 2}, .dilation = {2, 1}, .groups = 2, .bias = false}>>(2);
    check_layers_on<input<4, 5, 2>, conv2d<3, 3, {.padding = 1}>, relu, flatten, dense<4>>(3);  // (c, h, w) flatten
}

TEST_CASE("cuda: losses equal the CPU losses inside train_step", "[cuda]") {
    const std::vector<std::int32_t> labels{0, 2, 1, 1, 0, 2};
    const auto targets = values<double>(18, 7, 0.05, 0.95);
    auto adam = [](auto ps) { return optim::adam(ps, {1e-2}); };
    check_step(loss::cross_entropy{}, adam, labels);
    check_step(loss::mse{}, adam, targets);
    check_step(loss::bce_with_logits{}, adam, targets);
    using prob_model = basic_sequential<double, input<12>, dense<3>, sigmoid>;
    prob_model c{seed{1}};
    prob_model::on<cuda> g{seed{1}};
    auto cc = c.context(6);
    auto gc = g.context(6);
    optim::sgd oc(c.parameters(), {0.1});
    optim::sgd og(g.parameters(), {0.1});
    const auto x = values<double>(72, 8);
    const double lc = train_step(c, cc, oc, loss::bce{}, x, targets);
    const double lg = train_step(g, gc, og, loss::bce{}, x, targets);
    REQUIRE(lg == Approx(lc).epsilon(1e-10));
    REQUIRE_THROWS_WITH(train_step(g, gc, og, loss::cross_entropy{}, x, std::vector<std::int32_t>{0, 1, 2, 3, 0, 1}),
                        Catch::Contains("label 3 at index 3 is outside [0, 3)"));
}

TEST_CASE("cuda: the new losses equal the CPU losses (train_step; pair losses with both gradients)", "[cuda][loss]") {
    const std::vector<std::int32_t> labels{0, 2, 1, 1, 0, 2};
    const auto targets = values<double>(18, 7, -1.5, 1.5);
    auto bits = values<double>(18, 8, 0, 1);
    for (auto& b : bits) b = b > 0.5 ? 1 : 0;
    auto adam = [](auto ps) { return optim::adam(ps, {1e-2}); };
    check_step(loss::huber{0.7}, adam, targets);
    check_step(loss::smooth_l1{0.5}, adam, targets);
    check_step(loss::smooth_l1{0.0}, adam, targets);
    check_step(loss::bce_with_logits{0.1}, adam, bits);
    check_step(loss::bce_with_logits(0.2, loss::smoothing_mode::two_sided), adam, bits);
    const std::vector<double> w{0.5, 1.0, 2.0};
    check_step2(loss::weighted_bce_with_logits<double, cpu>(w, 0.1), loss::weighted_bce_with_logits<double, cuda>(w, 0.1), adam,
                bits);
    check_step(loss::nll{}, adam, labels);
    // nll after log_softmax on both policies
    {
        using m_t = basic_sequential<double, input<12>, dense<5>, ctnn::tanh, dense<3>, log_softmax>;
        m_t c{seed{6}};
        m_t::on<cuda> g{seed{6}};
        auto cc = c.context(6);
        auto gc = g.context(6);
        optim::sgd oc(c.parameters(), {0.1, 0.9});
        optim::sgd og(g.parameters(), {0.1, 0.9});
        for (int s = 0; s < 2; ++s) {
            const auto x = values<double>(72, 40 + std::uint64_t(s));
            const double lc = train_step(c, cc, oc, loss::nll{}, x, labels);
            const double lg = train_step(g, gc, og, loss::nll{}, x, labels);
            REQUIRE(lg == Approx(lc).epsilon(1e-10));
        }
        require_close(g.host_parameters(), c.host_parameters(), 1e-10, "log_softmax + nll parameters");
        REQUIRE_THROWS_WITH(train_step(g, gc, og, loss::nll{}, values<double>(72, 3), std::vector<std::int32_t>{0, 1, 2, 3, 0, 1}),
                            Catch::Contains("nll: label 3 at index 3 is outside [0, 3)"));
    }
    // pair losses
    check_pair(loss::gaussian_kl{}, 4, 3, {});
    {  // gaussian_kl of packed [mu | logvar] rows (gaussian_sample's input)
        const auto st = values<double>(24, 33);
        std::vector<double> ds(24), hds(24);
        const double lc = loss::gaussian_kl{}.packed(st, ds, 4);
        buffer_t<cuda, double> gs(24), gds(24), gl(1);
        copy_from_host<cuda>(gs.data(), st.data(), 24);
        loss::gaussian_kl{}.evaluate_packed<cuda>(gs.data(), gds.data(), 4, 3, gl.data());
        copy_to_host<cuda>(hds.data(), gds.data(), 24);
        REQUIRE(ops::read_scalar<cuda>(gl.data()) == Approx(lc).epsilon(1e-12));
        require_close(hds, ds, 1e-12, "packed KL gradient");
    }
    check_pair(loss::cosine_embedding{0.1}, 5, 4, {1, -1, -1, 1, -1});
    std::vector<double> t(12);
    for (std::size_t i = 0; i < 12; ++i) t[i] = i % 3 == 0 ? -1 : 1;
    check_pair(loss::margin_ranking{0.3}, 3, 4, t);
    // weights and policy belong together: the op takes per-call weights in device memory too
    buffer_t<cuda, double> gy(18), gt(18), gw(3), gdy(18), gl(1);
    const auto y = values<double>(18, 9);
    copy_from_host<cuda>(gy.data(), y.data(), 18);
    copy_from_host<cuda>(gt.data(), bits.data(), 18);
    copy_from_host<cuda>(gw.data(), w.data(), 3);
    const auto rule = rules::pointwise_loss<double>{rules::pointwise_kind::bce_with_logits};
    ops::pointwise_loss<cuda>(rule, gy.data(), gt.data(), gw.data(), 3, 18, gdy.data(), gl.data());
    std::vector<double> dy_c(18), dy_g(18);
    double l_c = 0;
    ops::pointwise_loss<cpu>(rule, y.data(), bits.data(), w.data(), 3, 18, dy_c.data(), &l_c);
    copy_to_host<cuda>(dy_g.data(), gdy.data(), 18);
    REQUIRE(ops::read_scalar<cuda>(gl.data()) == Approx(l_c).epsilon(1e-14));
    require_close(dy_g, dy_c, 1e-14, "weighted pointwise op");
}

TEST_CASE("cuda: categorical_cross_entropy on an averaged-softmax ensemble equals the CPU (train_step, the op with a "
          "clamped probability)",
          "[cuda][loss]") {
    // a dense and an LSTM branch, each ending in softmax, averaged (example 11's fusion in miniature)
    using m_t = basic_sequential<double, input<12>,
                                 parallel<merge::average, chain<dense<5>, ctnn::tanh, dense<3>, softmax>,
                                          chain<reshape<3, 4>, lstm<4>, dense<3>, softmax>>>;
    const std::vector<std::int32_t> labels{0, 2, 1, 1, 0, 2};
    m_t c{seed{8}};
    m_t::on<cuda> g{seed{8}};
    auto cc = c.context(6);
    auto gc = g.context(6);
    optim::adam oc(c.parameters(), {1e-2});
    optim::adam og(g.parameters(), {1e-2});
    for (int s = 0; s < 2; ++s) {
        const auto x = values<double>(72, 50 + std::uint64_t(s));
        const double lc = train_step(c, cc, oc, loss::categorical_cross_entropy{}, x, labels);
        const double lg = train_step(g, gc, og, loss::categorical_cross_entropy{}, x, labels);
        REQUIRE(lg == Approx(lc).epsilon(1e-10));
    }
    require_close(g.host_parameters(), c.host_parameters(), 1e-10, "ensemble parameters after two steps");
    REQUIRE_THROWS_WITH(train_step(g, gc, og, loss::categorical_cross_entropy{}, values<double>(72, 3),
                                   std::vector<std::int32_t>{0, 1, 2, 3, 0, 1}),
                        Catch::Contains("categorical_cross_entropy: label 3 at index 3 is outside [0, 3)"));
    // the op itself, with one label's probability 0 (clamped: value -log(eps), no gradient)
    const std::vector<double> p{0.0, 0.3, 0.7, 0.2, 0.5, 0.3, 0.1, 0.1, 0.8};
    const std::vector<std::int32_t> lab{0, 1, 2};
    buffer_t<cuda, double> gp(9), gdp(9), gl(1);
    buffer_t<cuda, std::int32_t> glab(3);
    copy_from_host<cuda>(gp.data(), p.data(), 9);
    copy_from_host<cuda>(glab.data(), lab.data(), 3);
    ops::categorical_cross_entropy<cuda>(gp.data(), glab.data(), 3, 3, 1e-7, gdp.data(), gl.data());
    std::vector<double> dp_c(9), dp_g(9);
    double l_c = 0;
    ops::categorical_cross_entropy<cpu>(p.data(), lab.data(), 3, 3, 1e-7, dp_c.data(), &l_c);
    copy_to_host<cuda>(dp_g.data(), gdp.data(), 9);
    REQUIRE(l_c == Approx((-std::log(1e-7) - std::log(0.5) - std::log(0.8)) / 3).epsilon(1e-14));
    REQUIRE(ops::read_scalar<cuda>(gl.data()) == Approx(l_c).epsilon(1e-14));
    require_close(dp_g, dp_c, 1e-14, "categorical_cross_entropy op");
}

TEST_CASE("cuda: cross_entropy{classes} with a label per step equals the CPU (value and gradient on device memory)",
          "[cuda][loss][sequence]") {
    // logits [3, 4, 5] of a sequence model and labels [3, 4]: one label per row of 5 classes, mean over 12 rows
    const auto z = values<double>(60, 11, -3, 3);
    const std::vector<std::int32_t> lab{0, 4, 2, 1, 3, 3, 0, 2, 4, 1, 1, 0};
    const loss::cross_entropy ce{5};
    buffer_t<cuda, double> gz(60), gdz(60), gl(1);
    buffer_t<cuda, std::int32_t> glab(12);
    copy_from_host<cuda>(gz.data(), z.data(), 60);
    copy_from_host<cuda>(glab.data(), lab.data(), 12);
    ce.check_target(lab.data(), lab.size(), 3, 20);
    ce.evaluate<cuda>(gz.data(), glab.data(), gdz.data(), 3, 20, gl.data());
    std::vector<double> dz_c(60), dz_g(60), dz_flat(60);
    const double l_c = ce(z, lab, dz_c, 3);
    REQUIRE(l_c == loss::cross_entropy{}(z, lab, dz_flat));  // = 12 samples of one label each
    copy_to_host<cuda>(dz_g.data(), gdz.data(), 60);
    REQUIRE(ops::read_scalar<cuda>(gl.data()) == Approx(l_c).epsilon(1e-14));
    require_close(dz_g, dz_c, 1e-14, "per-step cross_entropy gradient");
}

TEST_CASE("cuda: cross_entropy with an ignore_index equals the CPU (value and gradient; every row ignored gives 0)",
          "[cuda][loss][ignore_index]") {
    const auto z = values<double>(60, 13, -3, 3);
    const std::vector<std::int32_t> lab{-100, 4, -100, 1, 3, -100, -100, 2, 4, -100, -100, 0};
    const loss::cross_entropy ce{5, {.ignore_index = -100}};
    buffer_t<cuda, double> gz(60), gdz(60), gl(1);
    buffer_t<cuda, std::int32_t> glab(12);
    copy_from_host<cuda>(gz.data(), z.data(), 60);
    for (const auto& labels : {lab, std::vector<std::int32_t>(12, -100)}) {
        copy_from_host<cuda>(glab.data(), labels.data(), 12);
        ce.check_target(labels.data(), labels.size(), 3, 20);
        ce.evaluate<cuda>(gz.data(), glab.data(), gdz.data(), 3, 20, gl.data());
        std::vector<double> dz_c(60), dz_g(60);
        const double l_c = ce(z, labels, dz_c, 3);
        copy_to_host<cuda>(dz_g.data(), gdz.data(), 60);
        REQUIRE(ops::read_scalar<cuda>(gl.data()) == Approx(l_c).epsilon(1e-14).margin(1e-300));
        require_close(dz_g, dz_c, 1e-14, "cross_entropy gradient with ignore_index");
    }
}

TEST_CASE("cuda: a user-defined loss of ops:: calls trains through train_step and fit on the GPU like on the CPU",
          "[cuda][loss][fit]") {
    const auto targets = values<double>(18, 7);
    const std::vector<double> w{1.0, 3.0, 0.5};
    check_step2(test::weighted_mse<cpu>(w), test::weighted_mse<cuda>(w), [](auto ps) { return optim::adam(ps, {1e-2}); },
                targets);
    auto d = data::dataset<float>::zeros(256, 4, 0, 3);
    rng gd{seed{3}};
    for (std::size_t i = 0; i < 256; ++i) {
        for (std::size_t j = 0; j < 4; ++j) d.x[i * 4 + j] = float(gd.uniform(-1, 1));
        for (std::size_t k = 0; k < 3; ++k) d.targets[i * 3 + k] = d.x[i * 4 + k] - 0.5f * d.x[i * 4 + k + 1];
    }
    using model = sequential<input<4>, dense<3>>;
    model c{seed{2}};
    model::on<cuda> g{seed{2}};
    optim::adam oc(c.parameters(), {0.05});
    optim::adam og(g.parameters(), {0.05});
    fit_options o;
    o.epochs = 6;
    o.batch = 32;
    o.sync_every = 3;
    const auto rc = fit(c, oc, test::weighted_mse<cpu>(w), d, o);
    const auto rg = fit(g, og, test::weighted_mse<cuda>(w), d, o);
    REQUIRE(rg.history.size() == 6);
    for (std::size_t e = 0; e < 6; ++e) REQUIRE(rg.history[e].loss == Approx(rc.history[e].loss).epsilon(1e-4));
    REQUIRE(rg.history.back().loss < rg.history.front().loss / 10);
    require_close(g.host_parameters(), c.host_parameters(), 1e-4, "parameters after fit");
}

TEST_CASE("cuda: optimizers equal the CPU optimizers", "[cuda]") {
    const std::vector<std::int32_t> labels{0, 2, 1, 1, 0, 2};
    const loss::cross_entropy ce;
    check_step(ce, [](auto ps) { return optim::sgd(ps, {0.1}); }, labels);
    check_step(ce, [](auto ps) { return optim::sgd(ps, {0.1, 0.9, 0.1, 1e-3}); }, labels);
    check_step(ce, [](auto ps) { return optim::sgd(ps, {0.1, 0.9, 0.0, 0.0, true}); }, labels);
    check_step(ce, [](auto ps) { return optim::adam(ps, {1e-2, 0.9, 0.99, 1e-8, 1e-2}); }, labels);
    check_step(ce, [](auto ps) { return optim::adamw(ps, {1e-2, 0.9, 0.99, 1e-8, 1e-2}); }, labels);
    check_step(ce, [](auto ps) { return optim::rmsprop(ps, {1e-2, 0.9, 1e-8, 1e-3, 0.5}); }, labels);
}

TEST_CASE("cuda: the float MLP trains like the CPU one; frozen layers, save/load and predict across policies",
          "[cuda][model]") {
    using mlp = sequential<input<784>, dense<256>, relu, dense<128>, relu, dense<10>>;
    mlp c{seed{42}};
    mlp::on<cuda> g{seed{42}};
    const std::size_t batch = 64;
    auto cc = c.context(batch);
    auto gc = g.context(batch);
    optim::adam oc(c.parameters(), {1e-3});
    optim::adam og(g.parameters(), {1e-3});
    std::vector<std::int32_t> labels(batch);
    for (std::size_t i = 0; i < batch; ++i) labels[i] = std::int32_t(i % 10);
    for (int s = 0; s < 5; ++s) {
        const auto x = values<float>(batch * 784, 100 + std::uint64_t(s), 0, 1);
        const float lc = train_step(c, cc, oc, loss::cross_entropy{}, x, labels);
        const float lg = train_step(g, gc, og, loss::cross_entropy{}, x, labels);
        REQUIRE(lg == Approx(lc).epsilon(1e-4));
    }
    require_close(g.host_parameters(), c.host_parameters(), 1e-4, "MLP parameters after 5 Adam steps");

    // predictions, and an npz written from the GPU model loads into the CPU model
    const auto x = values<float>(3 * 784, 7, 0, 1);
    require_close(g.predict(x), c.predict(x), 1e-4, "predict");
    const auto path = std::filesystem::temp_directory_path() / "ctnn_cuda_test.npz";
    save_npz(g, path);
    mlp back{seed{0}};
    load_npz(back, path);
    require_close(back.host_parameters(), g.host_parameters(), 0, "npz round trip");
    mlp::on<cuda> moved(back);  // a CPU model moved to the GPU
    require_close(moved.predict(x), back.predict(x), 1e-4, "moved model");
    std::filesystem::remove(path);

    // a frozen layer gets no update on the GPU either
    g.freeze(0);
    const auto before = g.host_parameters();
    train_step(g, gc, og, loss::cross_entropy{}, values<float>(batch * 784, 9, 0, 1), labels);
    const auto after = g.host_parameters();
    for (std::size_t i = 0; i < 256 * 784 + 256; ++i) REQUIRE(after[i] == before[i]);
}

TEST_CASE("cuda: fit and evaluate on the GPU reach the CPU's result on a small problem", "[cuda][fit]") {
    auto d = data::dataset<float>::zeros(512, 12, 3);
    rng gen{seed{4}};
    for (std::size_t i = 0; i < 512; ++i) {
        const int cls = int(gen.below(3));
        d.labels[i] = cls;
        for (std::size_t j = 0; j < 12; ++j) d.x[i * 12 + j] = float(gen.normal() * 0.5 + (j % 3 == std::size_t(cls) ? 1.0 : 0.0));
    }
    using model = sequential<input<12>, dense<16>, relu, dense<3>>;
    model c{seed{2}};
    model::on<cuda> g{seed{2}};
    optim::adam oc(c.parameters(), {1e-2});
    optim::adam og(g.parameters(), {1e-2});
    fit_options o;
    o.epochs = 3;
    o.batch = 32;
    o.sync_every = 5;
    const auto rc = fit(c, oc, loss::cross_entropy{}, d, o);
    const auto rg = fit(g, og, loss::cross_entropy{}, d, o);
    REQUIRE(rg.history.size() == 3);
    REQUIRE(rg.history.back().loss == Approx(rc.history.back().loss).epsilon(1e-3));
    REQUIRE(rg.history.back().train_accuracy == Approx(rc.history.back().train_accuracy).margin(0.01));
    REQUIRE(evaluate(g, d).accuracy() == Approx(evaluate(c, d).accuracy()).margin(0.01));
    REQUIRE(evaluate(g, d).accuracy() > 0.9);
}

int main(int argc, char** argv) {
    if (cuda_api::device_count() == 0) {
        std::printf("ctnn CUDA tests DID NOT RUN: %s. They need an NVIDIA GPU; reported to ctest as skipped.\n",
                    cuda_api::device_description().c_str());
        return 77;
    }
    std::printf("ctnn CUDA tests on %s\n", cuda_api::device_description().c_str());
    return Catch::Session().run(argc, argv);
}
