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
