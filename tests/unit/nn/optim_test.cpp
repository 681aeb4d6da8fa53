// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <ctnn/ctnn.hpp>
#include <xtensor/xnpy.hpp>
#include <string>
#include <vector>

using namespace ctnn;

namespace {
/// A two-parameter "model" for optimizer steps: values p, gradients g, one trainable range.
struct two_params {
    std::vector<double> p{1.0, -2.0}, g{0.5, 0.25};
    std::vector<param_range> ranges{{0, 2}};
    parameter_set<double> set() { return {p.data(), g.data(), 2, &ranges}; }
};
}  // namespace

TEST_CASE("sgd: one step follows p - lr·(g + wd·p)", "[optim][sgd]") {
    two_params s;
    optim::sgd<double> o{s.set(), {.lr = 0.1, .weight_decay = 0.01}};
    o.step();
    REQUIRE(s.p[0] == Approx(1.0 - 0.1 * (0.5 + 0.01 * 1.0)));
    REQUIRE(s.p[1] == Approx(-2.0 - 0.1 * (0.25 - 0.01 * 2.0)));
}

TEST_CASE("sgd: momentum buffer starts at g, then μ·b + (1-τ)·g; Nesterov adds μ·b", "[optim][sgd]") {
    two_params s;
    optim::sgd<double> o{s.set(), {.lr = 0.1, .momentum = 0.9, .dampening = 0.5}};
    o.step();  // b = g
    REQUIRE(s.p[0] == Approx(1.0 - 0.1 * 0.5));
    o.step();  // b = 0.9·0.5 + 0.5·0.5 = 0.7
    REQUIRE(s.p[0] == Approx(1.0 - 0.05 - 0.1 * 0.7));
    two_params n;
    optim::sgd<double> on{n.set(), {.lr = 0.1, .momentum = 0.9, .nesterov = true}};
    on.step();  // b = g; update g + μ·b = 1.9·g
    REQUIRE(n.p[0] == Approx(1.0 - 0.1 * 1.9 * 0.5));
    REQUIRE_THROWS_AS((optim::sgd<double>{n.set(), {.lr = 0.1, .nesterov = true}}), ctnn::error);
}

TEST_CASE("adam: the first step moves every parameter by lr·sign(g)", "[optim][adam]") {
    two_params s;
    optim::adam<double> o{s.set(), {.lr = 0.01}};
    o.step();  // m̂ = g, v̂ = g², step = lr·g/(|g| + ε)
    REQUIRE(s.p[0] == Approx(1.0 - 0.01).epsilon(1e-7));
    REQUIRE(s.p[1] == Approx(-2.0 - 0.01).epsilon(1e-7));
    REQUIRE(o.steps() == 1);
}

TEST_CASE("adamw: decays weights by lr·wd before the Adam step", "[optim][adamw]") {
    two_params s;
    optim::adamw<double> o{s.set(), {.lr = 0.01, .weight_decay = 0.1}};
    o.step();
    REQUIRE(s.p[0] == Approx(1.0 * (1 - 0.001) - 0.01).epsilon(1e-7));
}

TEST_CASE("rmsprop: v = (1-α)·g², p -= lr·g/(√v + ε)", "[optim][rmsprop]") {
    two_params s;
    optim::rmsprop<double> o{s.set(), {.lr = 0.01, .alpha = 0.9}};
    o.step();
    REQUIRE(s.p[0] == Approx(1.0 - 0.01 * 0.5 / (std::sqrt(0.1 * 0.25) + 1e-8)));
}

TEST_CASE("optimizers: frozen ranges are skipped", "[optim][freeze]") {
    two_params s;
    s.ranges = {{1, 2}};
    optim::adam<double> o{s.set(), {.lr = 0.01, .weight_decay = 0.5}};
    o.step();
    REQUIRE(s.p[0] == 1.0);
    REQUIRE(s.p[1] != -2.0);
}

TEST_CASE("optimizers: the vectorised pass equals the scalar rule on unaligned ranges and tails", "[optim][simd]") {
    // 67 parameters starting one float past an aligned address: vector body on unaligned memory + tail
    constexpr std::size_t n = 67;
    aligned_buffer<float> pbuf(n + 1), gbuf(n + 1);
    float* p = pbuf.data() + 1;
    float* g = gbuf.data() + 1;
    for (std::size_t i = 0; i < n; ++i) {
        p[i] = 0.01f * float(i) - 0.3f;
        g[i] = 0.02f * float(i % 7) - 0.05f;
    }
    std::vector<param_range> ranges{{3, n}};  // starts off any vector boundary
    const std::vector<float> p0(p, p + n);
    optim::adam<float> o{parameter_set<float>{p, g, n, &ranges}, {.lr = 0.01, .weight_decay = 0.1}};
    o.step();
    o.step();
    for (std::size_t i = 0; i < n; ++i) {
        if (i < 3) {
            REQUIRE(p[i] == p0[i]);
            continue;
        }
        // two Adam steps with a constant gradient, by the published rule, in double
        double pd = p0[i], m = 0, v = 0;
        for (int t = 1; t <= 2; ++t) {
            const double gd = double(g[i]) + 0.1 * pd;
            m = 0.9 * m + 0.1 * gd;
            v = 0.999 * v + 0.001 * gd * gd;
            pd -= 0.01 * (m / (1 - std::pow(0.9, t))) / (std::sqrt(v / (1 - std::pow(0.999, t))) + 1e-8);
        }
        INFO("parameter " << i);
        REQUIRE(p[i] == Approx(pd).margin(1e-6));
    }
    optim::sgd<float> s{parameter_set<float>{p, g, n, &ranges}, {.lr = 0.1, .momentum = 0.5}};
    optim::rmsprop<float> r{parameter_set<float>{p, g, n, &ranges}, {.lr = 0.01, .momentum = 0.5}};
    s.step();
    r.step();
    for (std::size_t i = 0; i < 3; ++i) REQUIRE(p[i] == p0[i]);
    for (std::size_t i = 3; i < n; ++i) REQUIRE(std::isfinite(p[i]));
}

TEST_CASE("optimizer ops: ops::*_update<cpu> equal the scalar rules, bit for bit across the threaded split",
          "[optim][ops]") {
    // 70 000 values: above the 64 Ki threshold, so the range is split among the pool's threads
    constexpr std::size_t n = 70000;
    std::vector<double> p(n), g(n);
    for (std::size_t i = 0; i < n; ++i) {
        p[i] = std::sin(0.001 * double(i));
        g[i] = std::cos(0.003 * double(i)) * 0.1;
    }
    SECTION("sgd with Nesterov momentum, two steps") {
        auto q = p;
        std::vector<double> buf(n), ref_b(n);
        auto ref = p;
        for (int t = 0; t < 2; ++t) {
            ops::sgd_update<cpu>(q.data(), g.data(), buf.data(), n, 0.1, 0.9, 1.0, 1e-2, t == 0, true);
            for (std::size_t i = 0; i < n; ++i) {
                const double gd = g[i] + 1e-2 * ref[i];
                ref_b[i] = t == 0 ? gd : 0.9 * ref_b[i] + gd;
                ref[i] -= 0.1 * (gd + 0.9 * ref_b[i]);
            }
        }
        for (std::size_t i = 0; i < n; i += 997) REQUIRE(q[i] == Approx(ref[i]).epsilon(1e-14));
    }
    SECTION("adamw and rmsprop, one step") {
        auto q = p;
        std::vector<double> m(n), v(n);
        const double lr = 1e-3, b1 = 0.9, b2 = 0.999, wd = 0.01;
        ops::adam_update<cpu>(q.data(), g.data(), m.data(), v.data(), n, b1, b2, 1e-8, wd, lr / (1 - b1),
                              1 / std::sqrt(1 - b2), 1 - lr * wd, true);
        for (std::size_t i = 0; i < n; i += 997) {
            const double pd = p[i] * (1 - lr * wd), mv = (1 - b1) * g[i], vv = (1 - b2) * g[i] * g[i];
            REQUIRE(m[i] == Approx(mv).epsilon(1e-14));
            REQUIRE(q[i] == Approx(pd - lr / (1 - b1) * mv / (std::sqrt(vv) / std::sqrt(1 - b2) + 1e-8)).epsilon(1e-12));
        }
        auto r = p;
        std::vector<double> vr(n);
        ops::rmsprop_update<cpu>(r.data(), g.data(), vr.data(), static_cast<double*>(nullptr), n, 0.01, 0.99, 1e-8, 0.0, 0.0);
        for (std::size_t i = 0; i < n; i += 997)
            REQUIRE(r[i] == Approx(p[i] - 0.01 * g[i] / (std::sqrt(0.01 * g[i] * g[i]) + 1e-8)).epsilon(1e-12));
    }
    SECTION("the result does not depend on the thread count") {
        auto a = p, b = p;
        std::vector<double> ma(n), va(n), mb(n), vb(n);
        ops::adam_update<cpu>(a.data(), g.data(), ma.data(), va.data(), n, 0.9, 0.999, 1e-8, 0.0, 1e-2, 1.0, 1.0, false);
        const std::size_t threads = default_pool().size();
        set_num_threads(1);
        ops::adam_update<cpu>(b.data(), g.data(), mb.data(), vb.data(), n, 0.9, 0.999, 1e-8, 0.0, 1e-2, 1.0, 1.0, false);
        set_num_threads(threads);
        REQUIRE(std::memcmp(a.data(), b.data(), n * sizeof(double)) == 0);
    }
}

TEST_CASE("schedules: step, cosine and warm-up", "[optim][schedule]") {
    optim::step_lr st{.base = 1.0, .gamma = 0.5, .step_size = 2};
    REQUIRE(st(0) == 1.0);
    REQUIRE(st(1) == 1.0);
    REQUIRE(st(2) == 0.5);
    REQUIRE(st(5) == 0.25);
    optim::cosine_lr c{.base = 1.0, .period = 10, .eta_min = 0.1};
    REQUIRE(c(0) == Approx(1.0));
    REQUIRE(c(5) == Approx(0.55));
    REQUIRE(c(10) == Approx(0.1));
    REQUIRE(c(20) == Approx(0.1));
    optim::warmup_lr w{4, optim::constant_lr{0.8}};
    REQUIRE(w(0) == Approx(0.2));
    REQUIRE(w(3) == Approx(0.8));
    REQUIRE(w(9) == Approx(0.8));
}

// ---- PyTorch reference (tests/data/torch_reference.npz, made by tools/export_torch_reference.py) ----
namespace {
using ref_model = basic_sequential<double, input<5>, dense<4>, ctnn::tanh, dense<3>>;
const auto& reference() {
    static const auto r = io::read_npz(CTNN_TEST_DATA_DIR "/torch_reference.npz");
    return r;
}
std::vector<double> ref_array(const std::string& name) {
    const auto& a = reference().at(name);
    REQUIRE(a.dtype == "<f8");
    std::vector<double> v(a.count());
    std::memcpy(v.data(), a.data.data(), a.data.size());
    return v;
}
std::vector<std::int64_t> ref_labels() {
    const auto& a = reference().at("labels");
    REQUIRE(a.dtype == "<i8");
    std::vector<std::int64_t> v(a.count());
    std::memcpy(v.data(), a.data.data(), a.data.size());
    return v;
}
void load_reference_weights(ref_model& m, const std::string& prefix) {
    for (auto& p : m.named_parameters()) {
        const auto v = ref_array(prefix + p.name);
        REQUIRE(v.size() == p.desc.size());
        std::copy(v.begin(), v.end(), p.value);
    }
}
void require_close(const std::vector<double>& a, const double* b, double tol) {
    for (std::size_t i = 0; i < a.size(); ++i) {
        INFO("element " << i);
        REQUIRE(a[i] == Approx(b[i]).margin(tol));
    }
}
template <class Opt>
void check_against_torch(const std::string& name, auto make) {
    ref_model m;
    load_reference_weights(m, "init.");
    auto opt = make(m.parameters());
    const auto x = ref_array("x");
    const auto lab = ref_labels();
    auto ctx = m.context(6);
    for (int s = 0; s < 3; ++s) train_step(m, ctx, opt, loss::cross_entropy{}, x, lab);
    for (auto& p : m.named_parameters()) {
        INFO(name << " " << p.name);
        require_close(ref_array(name + "." + p.name), p.value, 1e-12);
    }
}
}  // namespace

TEST_CASE("torch reference: logits, loss and gradients match PyTorch", "[torch][model]") {
    ref_model m;
    load_reference_weights(m, "init.");
    const auto x = ref_array("x");
    const auto lab = ref_labels();
    auto ctx = m.context(6);
    m.zero_grad();
    auto y = m.forward(x, ctx);
    require_close(ref_array("logits"), y.data(), 1e-12);
    auto dy = ctx.output_gradient();
    const double l = loss::cross_entropy{}(y, lab, dy);
    REQUIRE(l == Approx(ref_array("loss")[0]).epsilon(1e-12));
    m.backward(dy, ctx);
    for (auto& p : m.named_parameters()) {
        INFO(p.name);
        require_close(ref_array("grad." + p.name), p.gradient, 1e-12);
    }
}

TEST_CASE("torch reference: three steps of every optimizer match torch.optim", "[torch][optim]") {
    using ps = parameter_set<double>;
    check_against_torch<void>("sgd", [](ps p) { return optim::sgd<double>{p, {.lr = 0.1}}; });
    check_against_torch<void>("sgd_momentum", [](ps p) {
        return optim::sgd<double>{p, {.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .weight_decay = 0.01}};
    });
    check_against_torch<void>("sgd_nesterov", [](ps p) {
        return optim::sgd<double>{p, {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01, .nesterov = true}};
    });
    check_against_torch<void>("adam", [](ps p) { return optim::adam<double>{p, {.lr = 0.01, .weight_decay = 0.1}}; });
    check_against_torch<void>("adamw", [](ps p) { return optim::adamw<double>{p, {.lr = 0.01, .weight_decay = 0.1}}; });
    check_against_torch<void>("rmsprop", [](ps p) { return optim::rmsprop<double>{p, {.lr = 0.01}}; });
    check_against_torch<void>("rmsprop_momentum", [](ps p) {
        return optim::rmsprop<double>{p, {.lr = 0.01, .weight_decay = 0.1, .momentum = 0.5}};
    });
}

TEST_CASE("torch reference: load_npz reads a state_dict saved by np.savez_compressed and predicts like PyTorch",
          "[torch][io]") {
    sequential<input<5>, dense<4>, ctnn::tanh, dense<3>> m;
    load_npz(m, CTNN_TEST_DATA_DIR "/torch_state_dict.npz");
    const auto expected = xt::load_npy<float>(CTNN_TEST_DATA_DIR "/torch_state_dict_logits.npy");
    xt::xtensor<float, 2> x({2, 5});
    for (std::size_t i = 0; i < 10; ++i) x.data()[i] = -1.0f + 2.0f * float(i) / 9.0f;  // torch.linspace(-1, 1, 10)
    const auto y = m.predict(x);
    REQUIRE(expected.shape()[0] == 2);
    REQUIRE(xt::allclose(y, expected, 1e-5, 1e-6));
}
