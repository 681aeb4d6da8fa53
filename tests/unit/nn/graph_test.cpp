// SPDX-License-Identifier: MIT
// The one graph core: blocks nested in any mix (predict = forward in eval mode, gradients, names,
// freezing at depth), models as layers, multi-input / multi-output graphs, user code between two
// models (the VAE and GAN patterns), concurrent predict.
#include <catch2/catch.hpp>
#include <cmath>
#include <ctnn/ctnn.hpp>
#include <ctnn/model/graph.hpp>
#include <ctnn/testing/gradcheck.hpp>
#include <thread>
#include <vector>

#include "../../support/gradcheck.hpp"

using namespace ctnn;

namespace {
template <class T>
std::vector<T> random_input(std::size_t n, std::uint64_t s) {
    rng g{seed{s}};
    std::vector<T> v(n);
    for (auto& x : v) x = T(g.uniform(-1, 1));
    return v;
}
template <class A, class B>
double max_abs_diff(const A& a, const B& b) {
    double m = 0;
    for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(double(a.data()[i]) - double(b.data()[i])));
    return m;
}
/// Forward in eval mode and predict of one model on one batch: they must agree.
template <class M>
double eval_forward_vs_predict(M& m, std::size_t batch, std::uint64_t s) {
    const auto x = random_input<typename M::value_type>(batch * M::input_shape::size, s);
    m.eval();
    auto ctx = m.context(batch);
    const auto y = m.forward(x, ctx);
    const auto p = m.predict(x);
    return max_abs_diff(y, p);
}

// the reproduction: a residual whose main chain holds another residual (dense model)
template <class T>
using nested_dense = basic_sequential<T, input<6>, dense<8>, ctnn::tanh,
                                      residual<chain<dense<8>, ctnn::tanh, residual<chain<dense<8>, batch_norm1d<>, ctnn::tanh>>, dense<8>>>,
                                      concat<chain<dense<3>, relu>, chain<residual<chain<dense<8>, sigmoid>>, dense<2>>>,
                                      parallel<merge::average, chain<dense<4>>, chain<dense<4>, ctnn::tanh>, chain<dense<5>, dense<4>>>, dense<3>>;
// the same with convolutions, batch norm and pools
template <class T>
using nested_conv =
    basic_sequential<T, input<6, 6, 2>, conv2d<4, 3, {.padding = 1}>, relu,
                     residual<chain<conv2d<4, 3, {.padding = 1}>, batch_norm2d<>, relu,
                                    residual<chain<conv2d<4, 3, {.padding = 1, .bias = false}>, batch_norm2d<>>>>,
                              chain<conv2d<4, 1>>>,
                     concat<chain<max_pool2d<2>>, chain<conv2d<3, 2, {.stride = 2}>, ctnn::tanh>>, flatten, dense<3>>;
}  // namespace

TEST_CASE("blocks nest: predict equals forward in eval mode at every depth", "[graph][nesting]") {
    SECTION("dense layers, residual in residual, concat and parallel around them") {
        nested_dense<float> m{seed{3}};
        // train a few forwards first so batch norm's running statistics are not the identity
        auto ctx = m.context(8);
        for (std::uint64_t s = 0; s < 3; ++s) m.forward(random_input<float>(8 * 6, 10 + s), ctx);
        REQUIRE(eval_forward_vs_predict(m, 8, 7) < 1e-5);
        REQUIRE(eval_forward_vs_predict(m, 1, 8) < 1e-5);
    }
    SECTION("convolutions and batch norm, residual in residual and a concat") {
        nested_conv<float> m{seed{4}};
        auto ctx = m.context(4);
        for (std::uint64_t s = 0; s < 3; ++s) m.forward(random_input<float>(4 * 72, 20 + s), ctx);
        REQUIRE(eval_forward_vs_predict(m, 4, 9) < 1e-5);
    }
}

TEST_CASE("blocks nest: backward matches finite differences in double", "[graph][nesting][gradcheck]") {
    SECTION("dense") { test::check_model_gradients(nested_dense<double>{seed{5}}, 3); }
    SECTION("conv, batch norm in training mode, pools") { test::check_model_gradients(nested_conv<double>{seed{6}}, 2, 1e-5); }
    SECTION("dense, eval mode") {
        nested_dense<double> m{seed{7}};
        m.eval();
        test::check_model_gradients(m, 2);
    }
}

TEST_CASE("blocks nest: state_dict names follow PyTorch's module nesting", "[graph][nesting][names]") {
    const nested_dense<float> m{seed{1}};
    std::vector<std::string> names;
    for (const auto& e : m.parameter_layout()) names.push_back(e.name);
    const std::vector<std::string> expect{
        "0.weight", "0.bias",
        "2.main.0.weight", "2.main.0.bias", "2.main.2.main.0.weight", "2.main.2.main.0.bias", "2.main.2.main.1.weight",
        "2.main.2.main.1.bias", "2.main.3.weight", "2.main.3.bias",
        "3.a.0.weight", "3.a.0.bias", "3.b.0.main.0.weight", "3.b.0.main.0.bias", "3.b.1.weight", "3.b.1.bias",
        "4.0.0.weight", "4.0.0.bias", "4.1.0.weight", "4.1.0.bias", "4.2.0.weight", "4.2.0.bias", "4.2.1.weight", "4.2.1.bias",
        "5.weight", "5.bias"};
    REQUIRE(names == expect);
    std::vector<std::string> states;
    for (const auto& e : m.state_layout()) states.push_back(e.name);
    REQUIRE(states.size() == 5);
    REQUIRE(states[0] == "2.main.2.main.1.running_mean");
    REQUIRE(states[2] == "2.main.2.main.1.num_batches_tracked");
}

TEST_CASE("blocks nest: fusion and freezing work at every depth", "[graph][nesting][freeze]") {
    using inner = residual<chain<dense<4>, relu, dense<4>, sigmoid>>::bind<shape<4>, float>;
    static_assert(inner::branch_type<0>::fuses_next<0>() && inner::branch_type<0>::fuses_next<2>(),
                  "a dense layer inside a block runs its activation in the GEMM epilogue, as at the top level");
    nested_dense<float> m{seed{2}};
    m.freeze("2.main.2");  // the inner residual, batch norm included
    const auto before = m.host_parameters();
    const auto states_before = m.host_states();
    optim::sgd opt{m.parameters(), {.lr = 0.1f}};
    auto ctx = m.context(4);
    const auto x = random_input<float>(4 * 6, 3);
    m.zero_grad();
    const auto y = m.forward(x, ctx);
    auto dy = ctx.output_gradient();
    for (std::size_t i = 0; i < dy.size(); ++i) dy.data()[i] = y.data()[i];
    m.backward(dy, ctx);
    opt.step();
    const auto after = m.host_parameters();
    const auto layout = m.parameter_layout();
    std::size_t changed = 0, frozen_checked = 0;
    for (const auto& e : layout)
        for (std::size_t i = e.offset; i < e.offset + e.desc.size(); ++i) {
            if (e.name.rfind("2.main.2.", 0) == 0) {
                REQUIRE(after[i] == before[i]);
                REQUIRE(m.gradients()[i] == 0.0f);
                ++frozen_checked;
            } else
                changed += after[i] != before[i];
        }
    REQUIRE(frozen_checked == 8 * 8 + 8 + 2 * 8);
    REQUIRE(changed > 100);
    // frozen in eval mode: the nested batch norm kept its running statistics
    REQUIRE(m.host_states() == states_before);
    // frozen_mode::model: the batch norm trains its statistics but not its weights
    m.unfreeze("2.main.2");
    m.freeze("2.main.2", frozen_mode::model);
    m.forward(x, ctx);
    REQUIRE(m.host_states() != states_before);
    REQUIRE_THROWS_WITH(m.freeze("2.main.9"), Catch::Contains("no layer is named \"2.main.9\""));
}

TEST_CASE("a model type is a layer of another model", "[graph][composition]") {
    using encoder = basic_sequential<double, input<5>, dense<6>, ctnn::tanh, dense<3>>;
    using whole = basic_sequential<double, input<5>, encoder, relu, dense<2>>;
    whole m{seed{4}};
    std::vector<std::string> names;
    for (const auto& e : m.parameter_layout()) names.push_back(e.name);
    REQUIRE(names == std::vector<std::string>{"0.0.weight", "0.0.bias", "0.2.weight", "0.2.bias", "2.weight", "2.bias"});
    test::check_model_gradients(m, 3);
    // a `chain<...>` is the same thing without a model type
    using same = basic_sequential<double, input<5>, chain<dense<6>, ctnn::tanh, dense<3>>, relu, dense<2>>;
    same s{seed{4}};
    REQUIRE(s.host_parameters() == m.host_parameters());
    const auto x = random_input<double>(10, 1);
    REQUIRE(max_abs_diff(s.predict(x), m.predict(x)) == 0.0);
}

namespace {
// two inputs, fan-out, concat and average merges, two outputs (one of which also feeds another node)
template <class T>
using two_tower = basic_graph<T, inputs<input<6>, input<4>>,
                              node<from<0>, named<"user", chain<dense<5>, ctnn::tanh>>>,        // 2
                              node<from<1>, named<"item", chain<dense<5>, ctnn::tanh>>>,        // 3
                              node<concat_of<2, 3>, named<"head", chain<dense<4>, relu, dense<2>>>>,  // 4
                              node<average_of<2, 3>, named<"score", chain<dense<1>>>>,           // 5
                              node<add_of<4, 4>, dense<2>>,                                      // 6
                              outputs<4, 5, 6>>;
}  // namespace

TEST_CASE("graph: two inputs, merges, three outputs — gradients, names, predict", "[graph][multi]") {
    SECTION("backward matches finite differences (inputs and parameters)") { test::check_model_gradients(two_tower<double>{seed{8}}, 3); }
    SECTION("names per node, as a custom nn.Module's attributes") {
        const two_tower<float> g{seed{1}};
        std::vector<std::string> names;
        for (const auto& e : g.parameter_layout()) names.push_back(e.name);
        REQUIRE(names == std::vector<std::string>{"user.0.weight", "user.0.bias", "item.0.weight", "item.0.bias", "head.0.weight",
                                                  "head.0.bias", "head.2.weight", "head.2.bias", "score.0.weight", "score.0.bias",
                                                  "6.weight", "6.bias"});
    }
    SECTION("predict equals forward, values by hand for the merges") {
        two_tower<double> g{seed{2}};
        const auto a = random_input<double>(2 * 6, 1), b = random_input<double>(2 * 4, 2);
        auto ctx = g.context(2);
        const auto [y0, y1, y2] = g.forward(std::tie(a, b), ctx);
        const auto [p0, p1, p2] = g.predict(std::tie(a, b));
        REQUIRE(max_abs_diff(y0, p0) < 1e-12);
        REQUIRE(max_abs_diff(y1, p1) < 1e-12);
        REQUIRE(max_abs_diff(y2, p2) < 1e-12);
        // node 5 = dense(average of the towers), computed here from the towers' values
        const auto u = ctx.value<2>(), v = ctx.value<3>();
        const auto& score = g.layer<3>().layer<0>();
        for (std::size_t n = 0; n < 2; ++n) {
            double s = score.bias()(0);
            for (std::size_t j = 0; j < 5; ++j) s += score.weight()(0, j) * 0.5 * (u(n, j) + v(n, j));
            REQUIRE(y1(n, 0) == Approx(s).epsilon(1e-12));
        }
    }
    SECTION("a frozen tower gets no gradient, the input gradient only when asked") {
        two_tower<float> g{seed{3}};
        g.freeze("item");
        REQUIRE(g.is_frozen(1));
        const auto a = random_input<float>(2 * 6, 1), b = random_input<float>(2 * 4, 2);
        auto ctx = g.context(2);
        g.zero_grad();
        g.forward(std::tie(a, b), ctx);
        std::vector<float> d0(4, 1.0f), d1(2, 1.0f), d2(4, 1.0f);
        g.backward(std::tie(d0, d1, d2), ctx);
        for (const auto& e : g.parameter_layout()) {
            double s = 0;
            for (std::size_t i = e.offset; i < e.offset + e.desc.size(); ++i) s += std::abs(g.gradients()[i]);
            if (e.name.rfind("item.", 0) == 0) REQUIRE(s == 0.0);
            else REQUIRE(s > 0.0);
        }
        REQUIRE(g.trainable_ranges().size() == 2);
    }
    SECTION("mismatched batches and oversized batches are errors naming the input") {
        two_tower<float> g{seed{3}};
        auto ctx = g.context(2);
        const auto a = random_input<float>(2 * 6, 1), b = random_input<float>(3 * 4, 2), c = random_input<float>(3 * 6, 2);
        REQUIRE_THROWS_WITH(g.forward(std::tie(a, b), ctx), Catch::Contains("input 1 has batch 3, input 0 has 2"));
        REQUIRE_THROWS_WITH(g.forward(std::tie(c, b), ctx), Catch::Contains("larger than the 2 reserved"));
    }
}

// NeuMF's shape: a GMF tower (the element-wise product of user and item vectors) beside an MLP tower, joined;
// node 6 squares a value (multiply_of<i, i>: both gradients land on the same id)
template <class T>
using gmf_mlp = basic_graph<T, inputs<input<5>, input<3>>,
                            node<from<0>, named<"user", chain<dense<4>, ctnn::tanh>>>,     // 2
                            node<from<1>, named<"item", chain<dense<4>, ctnn::tanh>>>,     // 3
                            node<multiply_of<2, 3>, identity>,                             // 4: GMF
                            node<concat_of<2, 3>, named<"mlp", chain<dense<4>, relu>>>,    // 5
                            node<multiply_of<5, 5>, identity>,                             // 6
                            node<concat_of<4, 6>, named<"predict", dense<1>>>,             // 7
                            outputs<7, 4>>;

TEST_CASE("graph: multiply_of — the element-wise product of two ids (GMF), gradients and values", "[graph][multi][multiply]") {
    SECTION("backward matches finite differences (inputs and parameters)") { test::check_model_gradients(gmf_mlp<double>{seed{5}}, 3); }
    SECTION("the product by hand, predict equals forward") {
        gmf_mlp<double> g{seed{6}};
        const auto a = random_input<double>(2 * 5, 3), b = random_input<double>(2 * 3, 4);
        auto ctx = g.context(2);
        const auto [y, gmf] = g.forward(std::tie(a, b), ctx);
        const auto u = ctx.value<2>(), v = ctx.value<3>();
        for (std::size_t n = 0; n < 2; ++n)
            for (std::size_t j = 0; j < 4; ++j) REQUIRE(gmf(n, j) == u(n, j) * v(n, j));
        const auto [py, pg] = g.predict(std::tie(a, b));
        REQUIRE(max_abs_diff(y, py) < 1e-12);
        REQUIRE(max_abs_diff(gmf, pg) < 1e-12);
    }
}

TEST_CASE("user code between two models: the VAE's reparameterisation, gradients through both", "[graph][composition][vae]") {
    // encoder x -> [mu, logvar]; z = mu + exp(logvar / 2) * eps; decoder z -> y; L = sum(r * y).
    using encoder = basic_sequential<double, input<4>, dense<5>, ctnn::tanh, dense<4>>;  // 2 latent dims: mu, logvar
    using decoder = basic_sequential<double, input<2>, dense<5>, ctnn::tanh, dense<3>>;
    const std::size_t B = 3;
    const auto x = random_input<double>(B * 4, 1), eps = random_input<double>(B * 2, 2), r = random_input<double>(B * 3, 3);
    auto loss = [&](encoder& e, decoder& d, bool with_backward) {
        auto ce = e.context(B);
        auto cd = d.context(B);
        const auto h = e.forward(x, ce);
        std::vector<double> z(B * 2);
        for (std::size_t n = 0; n < B; ++n)
            for (std::size_t k = 0; k < 2; ++k) z[n * 2 + k] = h(n, k) + std::exp(0.5 * h(n, 2 + k)) * eps[n * 2 + k];
        const auto y = d.forward(z, cd);
        double l = 0;
        for (std::size_t i = 0; i < r.size(); ++i) l += r[i] * y.data()[i];
        if (with_backward) {
            d.backward(r, cd, true);  // dL/dz, the decoder's input gradient
            const auto dz = cd.input_gradient();
            auto dh = ce.output_gradient();
            for (std::size_t n = 0; n < B; ++n)
                for (std::size_t k = 0; k < 2; ++k) {
                    dh(n, k) = dz(n, k);
                    dh(n, 2 + k) = dz(n, k) * eps[n * 2 + k] * 0.5 * std::exp(0.5 * h(n, 2 + k));
                }
            e.backward(dh, ce);
        }
        return l;
    };
    encoder e{seed{4}};
    decoder d{seed{5}};
    e.zero_grad();
    d.zero_grad();
    loss(e, d, true);
    const std::vector<double> ge(e.gradients().begin(), e.gradients().end()), gd(d.gradients().begin(), d.gradients().end());
    const double h = 1e-6;
    for (std::size_t i = 0; i < encoder::parameter_count; ++i) {
        encoder ep = e, em = e;
        decoder d1 = d, d2 = d;
        ep.parameter_values()[i] += h;
        em.parameter_values()[i] -= h;
        const double num = (loss(ep, d1, false) - loss(em, d2, false)) / (2 * h);
        INFO("encoder parameter " << i);
        REQUIRE(ge[i] == Approx(num).epsilon(1e-6).margin(1e-8));
    }
    for (std::size_t i = 0; i < decoder::parameter_count; ++i) {
        encoder e1 = e, e2 = e;
        decoder dp = d, dm = d;
        dp.parameter_values()[i] += h;
        dm.parameter_values()[i] -= h;
        const double num = (loss(e1, dp, false) - loss(e2, dm, false)) / (2 * h);
        INFO("decoder parameter " << i);
        REQUIRE(gd[i] == Approx(num).epsilon(1e-6).margin(1e-8));
    }
}

TEST_CASE("user code between two models: the GAN's generator step through a frozen discriminator", "[graph][composition][gan]") {
    using generator = sequential<input<3>, dense<8>, leaky_relu<0.2>, dense<4>, ctnn::tanh>;
    using discriminator = sequential<input<4>, dense<8>, leaky_relu<0.2>, dense<1>>;
    generator g{seed{1}};
    discriminator d{seed{2}};
    for (std::size_t i = 0; i < discriminator::depth; ++i) d.freeze(i);  // Keras's trainable = False in the combined model
    REQUIRE(d.parameters().trainable->empty());
    optim::adam og{g.parameters(), {.lr = 1e-2f}};
    const auto d_before = d.host_parameters();
    const auto z = random_input<float>(16 * 3, 3);
    std::vector<float> ones(16, 1.0f);
    auto cg = g.context(16);
    auto cd = d.context(16);
    auto generator_loss = [&] {
        const auto fake = g.forward(z, cg);
        const auto logits = d.forward(fake, cd);
        auto dl = cd.output_gradient();
        return loss::bce_with_logits{}(logits, ones, dl);  // non-saturating: fakes labelled real
    };
    const float first = generator_loss();
    for (int step = 0; step < 30; ++step) {
        g.zero_grad();
        d.zero_grad();
        generator_loss();
        d.backward(cd.output_gradient(), cd, true);  // D's input gradient; D's own parameters get none
        g.backward(cd.input_gradient(), cg);
        og.step();
        REQUIRE(d.host_gradients() == std::vector<float>(discriminator::parameter_count, 0.0f));
    }
    REQUIRE(d.host_parameters() == d_before);
    REQUIRE(generator_loss() < first * 0.8f);  // the generator learned to fool the fixed discriminator
}

TEST_CASE("predict runs from several threads on one model at once (CPU)", "[graph][threads]") {
    nested_conv<float> m{seed{5}};
    const auto x = random_input<float>(3 * 72, 4);
    const auto expect = m.predict(x);
    std::vector<double> worst(4, 1.0);
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            double w = 0;
            for (int r = 0; r < 20; ++r) w = std::max(w, max_abs_diff(m.predict(x), expect));
            worst[t] = w;
        });
    for (auto& t : threads) t.join();
    for (double w : worst) REQUIRE(w == 0.0);
}

// a layer defined outside the library, with a deliberately wrong input gradient
struct wrong_scale {
    template <shape_type In, class T, class P = cpu>
    struct bind : parameter_free {
        using value_type = T;
        using input_shape = In;
        using output_shape = In;
        static constexpr std::string_view name = "wrong_scale";
        static constexpr std::size_t cache_size = 0;
        void forward(const T* x, T* y, std::size_t batch, T*, mode) const { predict(x, y, batch); }
        void predict(const T* x, T* y, std::size_t batch) const {
            for (std::size_t i = 0; i < batch * In::size; ++i) y[i] = 3 * x[i];
        }
        void backward(const T*, const T*, const T* dy, T* dx, std::size_t batch, const T*, bool) const {
            if (dx)
                for (std::size_t i = 0; i < batch * In::size; ++i) dx[i] = 2 * dy[i];  // should be 3
        }
    };
};

TEST_CASE("the public gradient checker reports a wrong backward", "[graph][gradcheck]") {
    const basic_sequential<double, input<3>, dense<3>, wrong_scale> m{seed{1}};
    const auto r = testing::check_gradients(m, 2);
    REQUIRE_FALSE(r.ok);
    REQUIRE(r.checked == decltype(m)::parameter_count + 2 * 3);
    REQUIRE(r.message().find("gradients differ") == 0);
    const basic_sequential<double, input<3>, wrong_scale> alone{seed{1}};
    const auto a = testing::check_gradients(alone, 2);
    REQUIRE_FALSE(a.ok);
    REQUIRE(a.worst_at.find("input 0 element") == 0);
    REQUIRE(a.worst == Approx(1.0 / 5.0).epsilon(0.3));  // |2 - 3| / (2 + 3) for r of magnitude 1
}

TEST_CASE("graph train_step: one loss per head with its weight (actor-critic shape)", "[graph][train]") {
    // a shared trunk with a policy head (cross-entropy on 3 actions) and a value head (Huber-free MSE)
    using ac = graph<inputs<input<4>>, node<from<0>, named<"trunk", chain<dense<16>, relu>>>,
                     node<from<1>, named<"policy", chain<dense<3>>>>, node<from<1>, named<"value", chain<dense<1>>>>, outputs<2, 3>>;
    const std::size_t B = 32;
    rng g{seed{9}};
    std::vector<float> x(B * 4), v(B);
    std::vector<std::int32_t> a(B);
    for (std::size_t n = 0; n < B; ++n) {
        for (std::size_t k = 0; k < 4; ++k) x[n * 4 + k] = float(g.uniform(-1, 1));
        a[n] = x[n * 4] > 0 ? (x[n * 4 + 1] > 0 ? 0 : 1) : 2;  // the action depends on the state
        v[n] = x[n * 4 + 2] + 0.5f * x[n * 4 + 3];               // and so does the return
    }
    SECTION("both losses fall") {
        ac m{seed{1}};
        optim::adam opt{m.parameters(), {.lr = 1e-2f}};
        auto ctx = m.context(B);
        const auto first = train_step(m, ctx, opt, std::tuple{loss::cross_entropy{}, loss::mse{}}, std::tie(x), std::tie(a, v),
                                      {1.0, 0.5});
        std::array<float, 2> last{};
        for (int s = 0; s < 200; ++s)
            last = train_step(m, ctx, opt, std::tuple{loss::cross_entropy{}, loss::mse{}}, std::tie(x), std::tie(a, v), {1.0, 0.5});
        REQUIRE(last[0] < 0.3f * first[0]);
        REQUIRE(last[1] < 0.3f * first[1]);
    }
    SECTION("a head of weight 0 gets no gradient, and the weights scale each head's gradient") {
        ac m{seed{2}};
        auto ctx = m.context(B);
        optim::sgd none{m.parameters(), {.lr = 0.0f}};
        train_step(m, ctx, none, std::tuple{loss::cross_entropy{}, loss::mse{}}, std::tie(x), std::tie(a, v), {1.0, 0.0});
        const std::vector<float> g10(m.gradients().begin(), m.gradients().end());
        train_step(m, ctx, none, std::tuple{loss::cross_entropy{}, loss::mse{}}, std::tie(x), std::tie(a, v), {0.0, 2.0});
        const std::vector<float> g02(m.gradients().begin(), m.gradients().end());
        train_step(m, ctx, none, std::tuple{loss::cross_entropy{}, loss::mse{}}, std::tie(x), std::tie(a, v), {1.0, 2.0});
        const std::vector<float> g12(m.gradients().begin(), m.gradients().end());
        for (const auto& e : m.parameter_layout())
            for (std::size_t i = e.offset; i < e.offset + e.desc.size(); ++i) {
                if (e.name.rfind("value.", 0) == 0) REQUIRE(g10[i] == 0.0f);
                if (e.name.rfind("policy.", 0) == 0) REQUIRE(g02[i] == 0.0f);
                REQUIRE(g12[i] == Approx(g10[i] + g02[i]).margin(1e-6));  // L = 1·L_policy + 2·L_value
            }
    }
    SECTION("a wrong target is an error naming the loss") {
        ac m{seed{3}};
        auto ctx = m.context(B);
        optim::sgd opt{m.parameters(), {.lr = 0.1f}};
        std::vector<float> short_v(B - 1);
        REQUIRE_THROWS_WITH(train_step(m, ctx, opt, std::tuple{loss::cross_entropy{}, loss::mse{}}, std::tie(x), std::tie(a, short_v)),
                            Catch::Contains("mse"));
    }
}

namespace {
/// A callback that counts the batches fit ran.
struct batch_counter {
    std::size_t* n;
    template <class M>
    void on_batch_end(M&, fit_state&) {
        ++*n;
    }
};
}  // namespace

TEST_CASE("graph fit: a two-input, two-output model trains from a multi_dataset", "[graph][train][fit]") {
    // neural-CF shape: a user vector and an item vector; outputs: a "liked" class and a rating value
    const std::size_t N = 256;
    data::multi_dataset<float> d(N);
    float* u = d.add_input(8);
    float* it = d.add_input(6);
    std::int32_t* liked = d.add_labels();
    float* rating = d.add_values(1);
    rng g{seed{11}};
    for (std::size_t n = 0; n < N; ++n) {
        double s = 0;
        for (std::size_t k = 0; k < 8; ++k) u[n * 8 + k] = float(g.uniform(-1, 1));
        for (std::size_t k = 0; k < 6; ++k) it[n * 6 + k] = float(g.uniform(-1, 1));
        for (std::size_t k = 0; k < 6; ++k) s += u[n * 8 + k] * it[n * 6 + k];
        liked[n] = s > 0 ? 1 : 0;
        rating[n] = float(s);
    }
    graph<inputs<input<8>, input<6>>, node<from<0>, named<"user", chain<dense<16>, relu>>>,
          node<from<1>, named<"item", chain<dense<16>, relu>>>, node<concat_of<2, 3>, named<"mlp", chain<dense<32>, relu>>>,
          node<from<4>, named<"liked", chain<dense<2>>>>, node<from<4>, named<"rating", chain<dense<1>>>>, outputs<5, 6>>
        m{seed{12}};
    optim::adam opt{m.parameters(), {.lr = 3e-3f}};
    std::size_t batches_seen = 0;
    const auto r = fit(m, opt, std::tuple{loss::cross_entropy{}, loss::mse{}}, d,
                       {.epochs = 30, .batch = 32, .shuffle_seed = seed{1}, .loss_weights = {1.0, 0.5}}, batch_counter{&batches_seen});
    REQUIRE(r.history.size() == 30);
    REQUIRE(batches_seen == 30 * 8);
    const auto& first = r.history.front();
    const auto& last = r.history.back();
    REQUIRE(last.loss == Approx(last.metrics.at("loss_0") + 0.5 * last.metrics.at("loss_1")).epsilon(1e-6));
    REQUIRE(last.metrics.at("loss_1") < 0.5 * first.metrics.at("loss_1"));
    REQUIRE(last.train_accuracy > 0.85);
    REQUIRE(last.train_accuracy == last.metrics.at("train_accuracy_0"));
    // the dataset and the graph must agree: a target of the wrong kind is an error naming the loss
    data::multi_dataset<float> wrong(N);
    wrong.add_input(8);
    wrong.add_input(6);
    wrong.add_values(1);
    wrong.add_values(1);
    REQUIRE_THROWS_WITH(fit(m, opt, std::tuple{loss::cross_entropy{}, loss::mse{}}, wrong, {.epochs = 1}),
                        Catch::Contains("cross_entropy (output 0) needs labels"));
}

TEST_CASE("multi_loader: one shuffled order for every column; malformed columns are errors", "[graph][data]") {
    data::multi_dataset<float> d(5);
    float* a = d.add_input(2);
    float* v = d.add_values(1);
    std::int32_t* l = d.add_labels();
    for (std::size_t n = 0; n < 5; ++n) {
        a[2 * n] = float(n);
        a[2 * n + 1] = float(10 * n);
        v[n] = float(100 * n);
        l[n] = std::int32_t(n);
    }
    data::multi_loader<float> ld(d, 2, true, seed{3});
    REQUIRE(ld.batches() == 3);
    data::multi_batch<float> b;
    std::size_t seen = 0, total = 0;
    while (ld.next(b)) {
        REQUIRE(b.labels[0].size() == 0);
        REQUIRE(b.values[1].size() == 0);
        for (std::size_t i = 0; i < b.size; ++i) {
            const float n = b.inputs[0].data()[2 * i];
            REQUIRE(b.inputs[0].data()[2 * i + 1] == 10 * n);  // the rows stay together across columns
            REQUIRE(b.values[0].data()[i] == 100 * n);
            REQUIRE(b.labels[1].data()[i] == std::int32_t(n));
            total += std::size_t(n);
        }
        seen += b.size;
    }
    REQUIRE(seen == 5);
    REQUIRE(total == 0 + 1 + 2 + 3 + 4);
    d.inputs[0].resize(7);
    REQUIRE_THROWS_WITH(data::multi_loader<float>(d, 2), Catch::Contains("input 0 holds 7 values, expected 5 × 2"));
    REQUIRE_THROWS_WITH(data::multi_loader<float>(data::multi_dataset<float>(0), 2), Catch::Contains("the dataset is empty"));
}

namespace {
// a graph with one input and one output (fan-out, a concat and an add inside) used as a layer
template <class T>
using inner_graph = basic_graph<T, inputs<input<6>>, node<from<0>, named<"a", chain<dense<5>, ctnn::tanh>>>,
                                node<from<0>, named<"b", chain<dense<3>, relu>>>, node<concat_of<1, 2>, named<"c", dense<5>>>,
                                node<add_of<1, 3>, named<"d", chain<dense<4>, batch_norm1d<>>>>, outputs<4>>;
template <class T>
using with_graph = basic_sequential<T, input<6>, inner_graph<T>, sigmoid, residual<chain<dense<4>, ctnn::tanh>>, dense<2>>;
}  // namespace

TEST_CASE("a one-input, one-output graph is a layer of another model", "[graph][composition]") {
    SECTION("backward matches finite differences") { test::check_model_gradients(with_graph<double>{seed{13}}, 3); }
    SECTION("names below the layer's index, predict equals forward in eval mode") {
        with_graph<float> m{seed{14}};
        std::vector<std::string> names;
        for (const auto& e : m.parameter_layout()) names.push_back(e.name);
        REQUIRE(names == std::vector<std::string>{"0.a.0.weight", "0.a.0.bias", "0.b.0.weight", "0.b.0.bias", "0.c.weight", "0.c.bias",
                                                  "0.d.0.weight", "0.d.0.bias", "0.d.1.weight", "0.d.1.bias", "2.main.0.weight",
                                                  "2.main.0.bias", "3.weight", "3.bias"});
        auto ctx = m.context(4);
        for (std::uint64_t s = 0; s < 3; ++s) m.forward(random_input<float>(4 * 6, 30 + s), ctx);  // running statistics
        REQUIRE(eval_forward_vs_predict(m, 4, 5) < 1e-5);
    }
    SECTION("freezing a node inside the graph layer by name") {
        with_graph<float> m{seed{15}};
        m.freeze("0.b");
        const auto before = m.host_parameters();
        optim::sgd opt{m.parameters(), {.lr = 0.1f}};
        auto ctx = m.context(4);
        m.zero_grad();
        m.forward(random_input<float>(4 * 6, 1), ctx);
        std::vector<float> dy(8, 1.0f);
        m.backward(dy, ctx);
        opt.step();
        const auto after = m.host_parameters();
        for (const auto& e : m.parameter_layout())
            for (std::size_t i = e.offset; i < e.offset + e.desc.size(); ++i)
                if (e.name.rfind("0.b.", 0) == 0) REQUIRE(after[i] == before[i]);
        REQUIRE(after != before);
    }
}
