// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>
#include <cmath>
#include <ctnn/ctnn.hpp>
#include <vector>

#include "../../support/gradcheck.hpp"

using namespace ctnn;
template <class... L>
using dmodel = basic_sequential<double, L...>;

namespace {
/// Runs a one-layer model on x and returns its output as a vector.
template <class M>
std::vector<double> run(M& m, const std::vector<double>& x) {
    auto ctx = m.context(x.size() / M::input_shape::size);
    auto y = m.forward(x, ctx);
    return {y.begin(), y.end()};
}
}  // namespace

TEST_CASE("dense: forward computes x·Wᵀ + b with the PyTorch weight layout", "[layers][dense]") {
    dmodel<input<3>, dense<2>> m;
    auto p = m.named_parameters();
    REQUIRE(p[0].name == "0.weight");
    REQUIRE(p[0].desc.rank == 2);
    REQUIRE(p[0].desc.dims[0] == 2);
    REQUIRE(p[0].desc.dims[1] == 3);
    REQUIRE(p[1].name == "0.bias");
    const double w[6] = {1, 2, 3, 4, 5, 6}, b[2] = {0.5, -1};
    std::copy(w, w + 6, p[0].value);
    std::copy(b, b + 2, p[1].value);
    REQUIRE(m.layer<0>().weight()(1, 2) == 6.0);  // row = output, column = input
    REQUIRE(m.layer<0>().bias()(1) == -1.0);
    const auto y = run(m, {1, 0, -1, 2, 1, 0});
    REQUIRE(y == std::vector<double>{1 - 3 + 0.5, 4 - 6 - 1, 2 + 2 + 0.5, 8 + 5 - 1});
    const auto yp = m.predict(std::vector<double>{1, 0, -1});
    REQUIRE(yp(0, 0) == -1.5);
    REQUIRE(yp(0, 1) == -3.0);
}

TEST_CASE("dense: backward matches finite differences", "[layers][dense][gradcheck]") {
    test::check_model_gradients(dmodel<input<5>, dense<4>>{seed{1}}, 3);
    test::check_model_gradients(dmodel<input<7>, dense<3, false>>{seed{2}}, 2);
    test::check_model_gradients(dmodel<input<3, 5>, dense<2, true, initializer::torch>>{seed{3}}, 2);  // last-dim semantics
    test::check_model_gradients(dmodel<input<40>, dense<37, true, initializer::xavier>>{seed{4}}, 5);  // SIMD tails
}

TEST_CASE("activations: forward values by hand", "[layers][activation]") {
    const std::vector<double> x{-2, -0.5, 0.5, 3};
    dmodel<input<4>, relu> r;
    REQUIRE(run(r, x) == std::vector<double>{0, 0, 0.5, 3});
    dmodel<input<4>, leaky_relu<0.2>> lr;
    const auto ly = run(lr, x);
    REQUIRE(ly[0] == Approx(-0.4));
    REQUIRE(ly[1] == Approx(-0.1));
    REQUIRE(ly[3] == 3);
    dmodel<input<4>, sigmoid> s;
    const auto sy = run(s, x);
    for (int i = 0; i < 4; ++i) REQUIRE(sy[i] == Approx(1 / (1 + std::exp(-x[i]))).epsilon(1e-14));
    dmodel<input<4>, ctnn::tanh> t;
    const auto ty = run(t, x);
    for (int i = 0; i < 4; ++i) REQUIRE(ty[i] == Approx(std::tanh(x[i])).epsilon(1e-14));
    dmodel<input<4>, identity> id;
    REQUIRE(run(id, x) == x);
    dmodel<input<4>, softmax> sm;
    const auto smy = run(sm, x);
    double z = 0;
    for (double v : x) z += std::exp(v);
    for (int i = 0; i < 4; ++i) REQUIRE(smy[i] == Approx(std::exp(x[i]) / z).epsilon(1e-14));
}

TEST_CASE("activations: backward matches finite differences", "[layers][activation][gradcheck]") {
    test::check_model_gradients(dmodel<input<6>, relu>{}, 3);
    test::check_model_gradients(dmodel<input<6>, leaky_relu<0.2>>{}, 3);
    test::check_model_gradients(dmodel<input<6>, leaky_relu<>>{}, 2);
    test::check_model_gradients(dmodel<input<6>, sigmoid>{}, 3);
    test::check_model_gradients(dmodel<input<6>, ctnn::tanh>{}, 3);
    test::check_model_gradients(dmodel<input<6>, identity>{}, 3);
    test::check_model_gradients(dmodel<input<2, 5>, softmax>{}, 3);  // row-wise over the last dimension
}

TEST_CASE("flatten and reshape: copy values, pass gradients through", "[layers][reshape][gradcheck]") {
    dmodel<input<2, 3>, flatten> f;
    REQUIRE(run(f, {1, 2, 3, 4, 5, 6}) == std::vector<double>{1, 2, 3, 4, 5, 6});
    test::check_model_gradients(dmodel<input<2, 3>, flatten>{}, 2);
    test::check_model_gradients(dmodel<input<6>, reshape<3, 2>>{}, 2);
}

TEST_CASE("dropout: drops about Rate of the values in training, identity in eval", "[layers][dropout]") {
    using model = basic_sequential<double, input<1000>, dropout<0.3>>;
    model m{seed{4}};
    std::vector<double> x(1000, 1.0);
    const auto y = run(m, x);
    std::size_t zeros = 0;
    for (double v : y) {
        if (v == 0) ++zeros;
        else REQUIRE(v == Approx(1 / 0.7));
    }
    REQUIRE(zeros > 250);
    REQUIRE(zeros < 350);
    m.eval();
    REQUIRE(run(m, x) == x);
    const auto p = m.predict(x);
    for (double v : p) REQUIRE(v == 1.0);
}

TEST_CASE("dropout: backward uses the same mask (finite differences)", "[layers][dropout][gradcheck]") {
    test::check_model_gradients(dmodel<input<20>, dropout<0.5>>{seed{3}}, 3);
    test::check_model_gradients(dmodel<input<8>, dense<6>, dropout<0.25>, dense<2>>{seed{5}}, 4);
}

TEST_CASE("gaussian_sample: z = mu + exp(logvar/2)·eps with standard normal eps in training, mu in eval", "[layers][vae]") {
    using model = basic_sequential<double, input<4000>, gaussian_sample<2000>>;
    model m{seed{6}};
    std::vector<double> x(4000);
    for (std::size_t i = 0; i < 2000; ++i) {
        x[i] = i % 2 ? 1.5 : -0.5;           // mu
        x[2000 + i] = i % 2 ? 0.0 : std::log(4.0);  // log-variance: sigma 1 or 2
    }
    const auto z = run(m, x);
    double s[2] = {0, 0}, s2[2] = {0, 0};
    for (std::size_t i = 0; i < 2000; ++i) {
        const double e = (z[i] - x[i]) / (i % 2 ? 1.0 : 2.0);  // the eps drawn
        s[i % 2] += e;
        s2[i % 2] += e * e;
    }
    for (int k = 0; k < 2; ++k) {  // 1000 draws each: mean within 4 standard errors, variance within 15 %
        REQUIRE(std::abs(s[k] / 1000) < 4 / std::sqrt(1000.0));
        REQUIRE(s2[k] / 1000 == Approx(1.0).margin(0.15));
    }
    REQUIRE(run(m, x) != z);  // a new draw every training forward
    m.eval();
    const auto zm = run(m, x);
    const auto p = m.predict(x);
    for (std::size_t i = 0; i < 2000; ++i) {
        REQUIRE(zm[i] == x[i]);
        REQUIRE(p[i] == x[i]);
    }
}

TEST_CASE("gaussian_sample: the reparameterisation gradient (finite differences, in double)", "[layers][vae][gradcheck]") {
    test::check_model_gradients(dmodel<input<6>, gaussian_sample<3>>{seed{3}}, 4);
    test::check_model_gradients(dmodel<input<5>, dense<8>, gaussian_sample<4>, dense<6>, sigmoid>{seed{5}}, 3);  // encoder → z → decoder
}

TEST_CASE("sequential: a deep container passes the gradient check", "[model][sequential][gradcheck]") {
    test::check_model_gradients(dmodel<input<2, 3>, flatten, dense<8>, ctnn::tanh, dense<5>, leaky_relu<0.1>, dense<4>, sigmoid,
                                       dense<3>, softmax>{seed{11}},
                                4);
    // the fused forms: dense with relu/identity in its epilogue, and a leaky_relu with negative slope (not fused)
    test::check_model_gradients(dmodel<input<6>, dense<7>, relu, dense<5>, identity, dense<4>, leaky_relu<-0.3>, dense<2>>{seed{12}}, 3);
}
