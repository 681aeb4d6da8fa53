// SPDX-License-Identifier: MIT
// The CUDA policy's kernels, run on the host: the same functors that nvcc launches through Thrust's CUDA
// system run here through Thrust's CPP system, and must agree with ctnn's CPU layers, losses and
// optimizers. This runs on every machine (no GPU needed); tests/unit/cuda/cuda_test.cpp compares the
// real GPU against the CPU when a device is present.
#include <thrust/execution_policy.h>
#include <thrust/for_each.h>
#include <thrust/iterator/counting_iterator.h>

#include <catch2/catch.hpp>
#include <ctnn/ctnn.hpp>
#include <ctnn/kernels/functors.cuh>
#include <vector>

using namespace ctnn;

namespace {
template <class F>
void run(std::size_t n, F f) {
    thrust::for_each_n(thrust::cpp::par, thrust::counting_iterator<std::size_t>(0), n, f);
}
std::vector<double> values(std::size_t n, std::uint64_t s, double lo = -2, double hi = 2) {
    rng g{seed{s}};
    std::vector<double> v(n);
    for (auto& x : v) x = g.uniform(lo, hi);
    return v;
}
void require_close(const std::vector<double>& a, const std::vector<double>& b, double tol = 1e-12) {
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        INFO("index " << i);
        REQUIRE(a[i] == Approx(b[i]).margin(tol).epsilon(tol));
    }
}

/// Forward and backward of a one-layer double model on the CPU (the reference).
template <class Layer>
std::pair<std::vector<double>, std::vector<double>> cpu_layer(const std::vector<double>& x, const std::vector<double>& dy,
                                                              std::size_t batch) {
    basic_sequential<double, input<12>, Layer> m{seed{1}};
    auto ctx = m.context(batch);
    auto y = m.forward(x, ctx);
    std::vector<double> yv(y.begin(), y.end());
    m.backward(dy, ctx, true);
    auto dx = ctx.input_gradient();
    return {yv, std::vector<double>(dx.begin(), dx.end())};
}

template <class Layer>
void check_activation(activation_kind kind, double slope) {
    const std::size_t batch = 5, n = batch * 12;
    const auto x = values(n, 3), dy = values(n, 4);
    const auto [y_ref, dx_ref] = cpu_layer<Layer>(x, dy, batch);
    std::vector<double> y(n), dx(n);
    run(n, kernels::activation_forward<double>{kind, slope, x.data(), y.data()});
    run(n, kernels::activation_backward<double>{kind, slope, x.data(), y.data(), dy.data(), dx.data()});
    require_close(y, y_ref);
    require_close(dx, dx_ref);
}
}  // namespace

TEST_CASE("cuda kernels on the host: activations equal the CPU layers, forward and backward", "[cuda-host]") {
    check_activation<relu>(activation_kind::relu, 0);
    check_activation<leaky_relu<0.1>>(activation_kind::leaky_relu, 0.1);
    check_activation<leaky_relu<-0.3>>(activation_kind::leaky_relu, -0.3);
    check_activation<sigmoid>(activation_kind::sigmoid, 0);
    check_activation<ctnn::tanh>(activation_kind::tanh, 0);
    check_activation<gelu>(activation_kind::gelu, 0);
    check_activation<gelu_tanh>(activation_kind::gelu_tanh, 0);
}

TEST_CASE("cuda kernels on the host: softmax rows equal the CPU layer", "[cuda-host]") {
    const std::size_t batch = 4, n = batch * 12;
    const auto x = values(n, 5), dy = values(n, 6);
    const auto [y_ref, dx_ref] = cpu_layer<softmax>(x, dy, batch);
    std::vector<double> y(n), dx(n);
    run(batch, kernels::softmax_rows<double>{x.data(), y.data(), 12});
    run(batch, kernels::softmax_rows_backward<double>{y.data(), dy.data(), dx.data(), 12});
    require_close(y, y_ref);
    require_close(dx, dx_ref);
}

TEST_CASE("cuda kernels on the host: dropout draws the CPU layer's mask", "[cuda-host]") {
    const std::size_t batch = 6, n = batch * 12;
    basic_sequential<double, input<12>, dropout<0.4>> m{seed{9}};
    const auto x = values(n, 7);
    auto ctx = m.context(batch);
    // the CPU layer's second training forward: counter 1
    m.forward(x, ctx);
    const auto y_cpu = m.forward(x, ctx);
    std::vector<double> y(n), mask(n);
    const auto& layer = m.layer<0>();
    run(n, kernels::dropout_forward<double>{x.data(), y.data(), mask.data(), 0.4, layer.mask_seed(), 1});
    REQUIRE(layer.mask_counter() == 2);
    require_close(y, std::vector<double>(y_cpu.begin(), y_cpu.end()), 0);
    std::size_t dropped = 0;
    for (double v : mask) dropped += v == 0;
    REQUIRE(dropped > 0);
    REQUIRE(dropped < n);
}

TEST_CASE("cuda kernels on the host: bias gradient column sums and predicted classes", "[cuda-host]") {
    const std::size_t rows = 7, n = 5;
    const auto a = values(rows * n, 8);
    std::vector<double> acc(n, 1.0), ref(n, 1.0);
    ops::accumulate_column_sums<cpu>(ref.data(), a.data(), rows, n);
    run(n, kernels::accumulate_column_sums<double>{acc.data(), a.data(), rows, n});
    require_close(acc, ref);
    std::vector<std::int32_t> arg(rows), labels(rows), correct(rows);
    run(rows, kernels::predicted_class_rows<double>{a.data(), n, 0.0, nullptr, arg.data()});
    for (std::size_t r = 0; r < rows; ++r) {
        REQUIRE(std::size_t(arg[r]) == metrics::predicted_class(a.data() + r * n, n));
        labels[r] = std::int32_t(r % n);
    }
    run(rows, kernels::predicted_class_rows<double>{a.data(), n, 0.0, labels.data(), correct.data()});
    for (std::size_t r = 0; r < rows; ++r) REQUIRE(correct[r] == (arg[r] == labels[r] ? 1 : 0));
    // a single output: the class is output > threshold
    run(rows, kernels::predicted_class_rows<double>{a.data(), 1, 0.25, nullptr, arg.data()});
    for (std::size_t r = 0; r < rows; ++r) REQUIRE(std::size_t(arg[r]) == metrics::predicted_class(a.data() + r, 1, 0.25));
}

TEST_CASE("cuda kernels on the host: losses equal the CPU losses (value and gradient)", "[cuda-host]") {
    const std::size_t batch = 8, k = 10;
    const auto z = values(batch * k, 10, -4, 4);
    std::vector<std::int32_t> labels(batch);
    for (std::size_t b = 0; b < batch; ++b) labels[b] = std::int32_t((b * 7) % k);
    std::vector<double> g_ref(batch * k), g(batch * k), terms(batch);
    const double l_ref = loss::cross_entropy{}(z, labels, g_ref);
    run(batch, kernels::cross_entropy_rows<double>{z.data(), labels.data(), g.data(), terms.data(), k, 1.0 / batch});
    double l = 0;
    for (double t : terms) l += t;
    REQUIRE(l == Approx(l_ref).epsilon(1e-12));
    require_close(g, g_ref);

    const std::size_t n = 40;
    const auto y = values(n, 11, -3, 3), p = values(n, 12, 0.01, 0.99), t = values(n, 13, 0, 1);
    auto check = [&](rules::pointwise_kind kind, double param, const std::vector<double>& in, auto loss) {
        std::vector<double> gr(n), gk(n), tk(n);
        const double lr = loss(in, t, gr);
        const rules::pointwise_loss<double> rule{kind, param};
        run(n, kernels::store_terms<double, rules::pointwise_terms<double>>{
                   {rule, in.data(), t.data(), nullptr, 1, gk.data(), 1.0 / n}, tk.data()});
        double lk = 0;
        for (double v : tk) lk += v;
        REQUIRE(lk == Approx(lr).epsilon(1e-12));
        require_close(gk, gr);
    };
    check(rules::pointwise_kind::mse, 0, y, loss::mse{});
    check(rules::pointwise_kind::bce, 0, p, loss::bce{});
    check(rules::pointwise_kind::bce_with_logits, 0, y, loss::bce_with_logits{});
    check(rules::pointwise_kind::huber, 0.7, y, loss::huber{0.7});
    check(rules::pointwise_kind::smooth_l1, 0.4, y, loss::smooth_l1{0.4});
}

TEST_CASE("cuda kernels on the host: optimizer updates equal the CPU optimizers over three steps", "[cuda-host]") {
    const std::size_t n = 37;
    auto grads = [&](int step) { return values(n, 20 + std::uint64_t(step)); };
    auto cpu_run = [&](auto make) {
        std::vector<double> p = values(n, 1), g(n);
        std::vector<param_range> ranges{{0, n}};
        parameter_set<double> ps{p.data(), g.data(), n, &ranges};
        auto opt = make(ps);
        for (int s = 0; s < 3; ++s) {
            const auto gs = grads(s);
            std::copy(gs.begin(), gs.end(), g.begin());  // in place: the parameter set points at g
            opt.step();
        }
        return p;
    };
    SECTION("sgd with momentum, dampening, weight decay; and Nesterov") {
        for (bool nesterov : {false, true}) {
            const double mu = 0.9, damp = nesterov ? 0.0 : 0.1, wd = 0.01, lr = 0.05;
            const auto ref = cpu_run([&](auto ps) { return optim::sgd(ps, {lr, mu, damp, wd, nesterov}); });
            std::vector<double> p = values(n, 1), buf(n);
            for (int s = 0; s < 3; ++s) {
                const auto g = grads(s);
                run(n, kernels::sgd_update<double>{p.data(), g.data(), buf.data(), lr, mu, 1 - damp, wd, s == 0, nesterov});
            }
            require_close(p, ref);
        }
    }
    SECTION("adam and adamw") {
        for (bool decoupled : {false, true}) {
            optim::adam_options o{1e-2, 0.9, 0.99, 1e-8, 0.05};
            const auto ref = decoupled ? cpu_run([&](auto ps) { return optim::adamw(ps, o); })
                                       : cpu_run([&](auto ps) { return optim::adam(ps, o); });
            std::vector<double> p = values(n, 1), m(n), v(n);
            for (int s = 0; s < 3; ++s) {
                const auto g = grads(s);
                const double t = s + 1;
                run(n, kernels::adam_update<double>{p.data(), g.data(), m.data(), v.data(), o.beta1, o.beta2, o.eps,
                                                    o.weight_decay, o.lr / (1 - std::pow(o.beta1, t)),
                                                    1 / std::sqrt(1 - std::pow(o.beta2, t)), 1 - o.lr * o.weight_decay,
                                                    decoupled});
            }
            require_close(p, ref);
        }
    }
    SECTION("rmsprop with momentum") {
        optim::rmsprop_options o{1e-2, 0.9, 1e-8, 0.01, 0.5};
        const auto ref = cpu_run([&](auto ps) { return optim::rmsprop(ps, o); });
        std::vector<double> p = values(n, 1), v(n), buf(n);
        for (int s = 0; s < 3; ++s) {
            const auto g = grads(s);
            run(n, kernels::rmsprop_update<double>{p.data(), g.data(), v.data(), buf.data(), o.lr, o.alpha, o.eps,
                                                   o.weight_decay, o.momentum});
        }
        require_close(p, ref);
    }
}

TEST_CASE("cuda kernels on the host: the row-major to cuBLAS column-major mapping computes row-major GEMM",
          "[cuda-host][gemm]") {
    // a column-major reference GEMM with cuBLAS's argument semantics, called as the CUDA policy calls cuBLAS
    auto colmajor_gemm = [](bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const double* a, std::size_t lda,
                            const double* b, std::size_t ldb, double beta, double* c, std::size_t ldc) {
        for (std::size_t j = 0; j < n; ++j)
            for (std::size_t i = 0; i < m; ++i) {
                double s = 0;
                for (std::size_t p = 0; p < k; ++p) s += (ta ? a[i * lda + p] : a[p * lda + i]) * (tb ? b[p * ldb + j] : b[j * ldb + p]);
                c[j * ldc + i] = s + beta * c[j * ldc + i];
            }
    };
    const std::size_t M = 5, N = 7, K = 3;
    for (bool ta : {false, true})
        for (bool tb : {false, true}) {
            const auto a = values(M * K, 30), b = values(K * N, 31);
            const std::size_t lda = ta ? M : K, ldb = tb ? K : N;
            std::vector<double> ref(M * N, 0.5), c(M * N, 0.5);
            backend::cpu::gemm<double>(ta, tb, M, N, K, 1.0, a.data(), lda, b.data(), ldb, 0.25, ref.data(), N);
            const auto cm = kernels::to_column_major(ta, tb, M, N, K);
            colmajor_gemm(cm.trans_first, cm.trans_second, cm.m, cm.n, cm.k, b.data(), ldb, a.data(), lda, 0.25, c.data(), N);
            INFO("ta " << ta << " tb " << tb);
            require_close(c, ref);
        }
}
