// SPDX-License-Identifier: MIT
// CPU-vs-CUDA equivalence of the graph core: blocks nested in any mix, a model as a layer, and a
// multi-input, multi-output graph (forward, parameter and input gradients, an optimizer step, predict).
// Linked into test_cuda (real GPU; main() in cuda_test.cpp skips without one) and test_cuda_emulated.
#include <catch2/catch.hpp>
#include <ctnn/ctnn.hpp>
#include <ctnn/model/graph.hpp>
#include <vector>

using namespace ctnn;

namespace {
std::vector<double> inputs_of(std::size_t n, std::uint64_t s) {
    rng g{seed{s}};
    std::vector<double> v(n);
    for (auto& x : v) x = g.uniform(-1, 1);
    return v;
}
template <class A, class B>
void require_same(const A& a, const B& b, const char* what, double tol = 1e-10) {
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        INFO(what << " index " << i);
        REQUIRE(double(a.data()[i]) == Approx(double(b.data()[i])).margin(tol).epsilon(tol));
    }
}
template <class V>
std::vector<double> host(const V& v) {
    std::vector<double> h(v.size());
    copy_to_host<cuda>(h.data(), v.data(), v.size());
    return h;
}

/// Forward, backward (parameter and input gradients) and predict of a sequence model on both
/// policies from the same initial parameters, input and upstream gradient.
template <class M>
void check_sequence_model(std::uint64_t s, std::size_t batch, const std::vector<std::int32_t>& lengths = {}) {
    M c{seed{s}};
    typename M::template on<cuda> g{seed{s}};
    auto cc = c.context(batch);
    auto gc = g.context(batch);
    if (!lengths.empty()) {
        cc.set_lengths(lengths);
        gc.set_lengths(lengths);
    }
    const auto x = inputs_of(batch * M::input_shape::size, s + 1);
    require_same(g.forward(x, gc).to_host(), c.forward(x, cc), "forward");
    const auto dy = inputs_of(batch * M::output_shape::size, s + 2);
    copy_from_host<cuda>(gc.output_gradient().data(), dy.data(), dy.size());
    c.zero_grad();
    g.zero_grad();
    c.backward(dy, cc, true);
    g.backward(gc.output_gradient(), gc, true);
    require_same(g.host_gradients(), c.host_gradients(), "parameter gradients");
    require_same(gc.input_gradient().to_host(), cc.input_gradient(), "input gradient");
    optim::adam oc(c.parameters());
    optim::adam og(g.parameters());
    oc.step();
    og.step();
    require_same(g.host_parameters(), c.host_parameters(), "parameters after a step", 1e-9);
    require_same(g.predict(x, lengths), c.predict(x, lengths), "predict");
}

using nested = basic_sequential<double, input<5, 5, 2>, conv2d<3, 3, {.padding = 1}>, relu,
                                residual<chain<conv2d<3, 3, {.padding = 1}>, batch_norm2d<>, relu,
                                               residual<chain<conv2d<3, 3, {.padding = 1, .bias = false}>, batch_norm2d<>>>>>,
                                parallel<merge::average, chain<conv2d<2, 1>>, chain<conv2d<2, 3, {.padding = 1}>, ctnn::tanh>>,
                                concat<chain<max_pool2d<2, {.padding = 1}>>, chain<avg_pool2d<2, {.padding = 1}>>>, flatten,
                                basic_sequential<double, input<36>, dense<6>, relu, dense<3>>>;

using towers = basic_graph<double, inputs<input<6>, input<4, 4, 1>>,
                           node<from<0>, named<"a", chain<dense<5>, ctnn::tanh>>>,
                           node<from<1>, named<"b", chain<conv2d<2, 3>, relu, flatten, dense<5>>>>,
                           node<concat_of<2, 3>, named<"head", chain<dense<3>>>>,
                           node<average_of<2, 3>, named<"aux", chain<dense<2>, batch_norm1d<>>>>,
                           outputs<4, 5>>;
}  // namespace

TEST_CASE("cuda: nested blocks and a model as a layer equal the CPU (forward, gradients, step, predict)", "[cuda][graph]") {
    nested c{seed{2}};
    nested::on<cuda> g{seed{2}};
    const std::size_t B = 3;
    auto cc = c.context(B);
    auto gc = g.context(B);
    const auto x = inputs_of(B * 50, 1);
    const auto yc = c.forward(x, cc);
    const auto yg = g.forward(x, gc).to_host();
    require_same(yg, yc, "forward");
    require_same(g.host_states(), c.host_states(), "running statistics");
    const auto dy = inputs_of(yc.size(), 2);
    copy_from_host<cuda>(gc.output_gradient().data(), dy.data(), dy.size());
    c.zero_grad();
    g.zero_grad();
    c.backward(dy, cc, true);
    g.backward(gc.output_gradient(), gc, true);
    require_same(g.host_gradients(), c.host_gradients(), "parameter gradients");
    require_same(gc.input_gradient().to_host(), cc.input_gradient(), "input gradient");
    optim::sgd oc(c.parameters(), {1e-2, 0.9});
    optim::sgd og(g.parameters(), {1e-2, 0.9});
    oc.step();
    og.step();
    require_same(g.host_parameters(), c.host_parameters(), "parameters after a step");
    c.eval();
    g.eval();
    require_same(g.predict(x), c.predict(x), "predict");
}

TEST_CASE("cuda: a two-input, two-output graph equals the CPU graph", "[cuda][graph]") {
    towers c{seed{4}};
    towers::on<cuda> g{seed{4}};
    require_same(g.host_parameters(), c.host_parameters(), "initial parameters", 0);
    const std::size_t B = 4;
    auto cc = c.context(B);
    auto gc = g.context(B);
    const auto a = inputs_of(B * 6, 5), b = inputs_of(B * 16, 6);
    const auto [c0, c1] = c.forward(std::tie(a, b), cc);
    const auto [g0, g1] = g.forward(std::tie(a, b), gc);
    require_same(host(g0), c0, "output 0");
    require_same(host(g1), c1, "output 1");
    const auto d0 = inputs_of(c0.size(), 7), d1 = inputs_of(c1.size(), 8);
    copy_from_host<cuda>(gc.output_gradient<0>().data(), d0.data(), d0.size());
    copy_from_host<cuda>(gc.output_gradient<1>().data(), d1.data(), d1.size());
    c.zero_grad();
    g.zero_grad();
    c.backward(std::tie(d0, d1), cc, true);
    g.backward(std::make_tuple(gc.output_gradient<0>(), gc.output_gradient<1>()), gc, true);
    require_same(g.host_gradients(), c.host_gradients(), "parameter gradients");
    require_same(host(gc.input_gradient<0>()), cc.input_gradient<0>(), "input 0 gradient");
    require_same(host(gc.input_gradient<1>()), cc.input_gradient<1>(), "input 1 gradient");
    optim::adam oc(c.parameters());
    optim::adam og(g.parameters());
    oc.step();
    og.step();
    require_same(g.host_parameters(), c.host_parameters(), "parameters after an Adam step", 1e-9);
    const auto [p0, p1] = g.predict(std::tie(a, b));
    const auto [q0, q1] = c.predict(std::tie(a, b));
    require_same(p0, q0, "predict 0");
    require_same(p1, q1, "predict 1");
}

TEST_CASE("cuda: graph train_step with two weighted losses equals the CPU", "[cuda][graph][train]") {
    towers c{seed{6}};
    towers::on<cuda> g{seed{6}};
    const std::size_t B = 5;
    auto cc = c.context(B);
    auto gc = g.context(B);
    optim::adam oc(c.parameters());
    optim::adam og(g.parameters());
    std::vector<std::int32_t> labels{0, 2, 1, 1, 0};
    const auto t = inputs_of(B * 2, 9);
    for (std::uint64_t s = 0; s < 2; ++s) {
        const auto a = inputs_of(B * 6, 20 + s), b = inputs_of(B * 16, 30 + s);
        const auto lc = train_step(c, cc, oc, std::tuple{loss::cross_entropy{}, loss::mse{}}, std::tie(a, b), std::tie(labels, t),
                                   {1.0, 0.25});
        const auto lg = train_step(g, gc, og, std::tuple{loss::cross_entropy{}, loss::mse{}}, std::tie(a, b), std::tie(labels, t),
                                   {1.0, 0.25});
        REQUIRE(double(lg[0]) == Approx(lc[0]).epsilon(1e-10));
        REQUIRE(double(lg[1]) == Approx(lc[1]).epsilon(1e-10));
    }
    require_same(g.host_parameters(), c.host_parameters(), "parameters after two steps", 1e-9);
}

TEST_CASE("cuda: graph fit on the GPU gives the CPU's history", "[cuda][graph][fit]") {
    const std::size_t N = 40;
    data::multi_dataset<double> d(N);
    const auto a = inputs_of(N * 6, 40), b = inputs_of(N * 16, 41), t = inputs_of(N * 2, 42);
    std::copy(a.begin(), a.end(), d.add_input(6));
    std::copy(b.begin(), b.end(), d.add_input(16));
    std::int32_t* l = d.add_labels();
    for (std::size_t n = 0; n < N; ++n) l[n] = std::int32_t(n % 3);
    std::copy(t.begin(), t.end(), d.add_values(2));
    towers c{seed{8}};
    towers::on<cuda> g{seed{8}};
    optim::sgd oc(c.parameters(), {1e-2, 0.9});
    optim::sgd og(g.parameters(), {1e-2, 0.9});
    const fit_options o{.epochs = 2, .batch = 8, .sync_every = 2, .loss_weights = {1.0, 2.0}};
    const auto rc = fit(c, oc, std::tuple{loss::cross_entropy{}, loss::mse{}}, d, o);
    const auto rg = fit(g, og, std::tuple{loss::cross_entropy{}, loss::mse{}}, d, o);
    for (std::size_t e = 0; e < 2; ++e) {
        REQUIRE(rg.history[e].loss == Approx(rc.history[e].loss).epsilon(1e-9));
        REQUIRE(rg.history[e].train_accuracy == rc.history[e].train_accuracy);
    }
    require_same(g.host_parameters(), c.host_parameters(), "parameters after fit", 1e-8);
}

TEST_CASE("cuda: a graph used as a layer equals the CPU (forward, gradients, predict)", "[cuda][graph]") {
    using inner = basic_graph<double, inputs<input<6>>, node<from<0>, named<"a", chain<dense<5>, ctnn::tanh>>>,
                              node<from<0>, named<"b", chain<dense<5>, relu>>>, node<average_of<1, 2>, named<"c", dense<4>>>,
                              node<concat_of<1, 3>, named<"d", chain<dense<3>, batch_norm1d<>>>>, outputs<4>>;
    using m_t = basic_sequential<double, input<6>, inner, sigmoid, dense<2>>;
    m_t c{seed{21}};
    m_t::on<cuda> g{seed{21}};
    const std::size_t B = 4;
    auto cc = c.context(B);
    auto gc = g.context(B);
    const auto x = inputs_of(B * 6, 22);
    require_same(g.forward(x, gc).to_host(), c.forward(x, cc), "forward");
    const auto dy = inputs_of(B * 2, 23);
    copy_from_host<cuda>(gc.output_gradient().data(), dy.data(), dy.size());
    c.zero_grad();
    g.zero_grad();
    c.backward(dy, cc, true);
    g.backward(gc.output_gradient(), gc, true);
    require_same(g.host_gradients(), c.host_gradients(), "parameter gradients");
    require_same(gc.input_gradient().to_host(), cc.input_gradient(), "input gradient");
    c.eval();
    g.eval();
    require_same(g.predict(x), c.predict(x), "predict");
}

TEST_CASE("cuda: embedding equals the CPU layer (forward, weight gradient with repeats and padding, step)", "[cuda][embedding]") {
    using m_t = basic_sequential<double, input<6>, embedding<9, 4, {.padding_idx = 3}>, ctnn::tanh, flatten, dense<2>>;
    m_t c{seed{31}};
    m_t::on<cuda> g{seed{31}};
    require_same(g.host_parameters(), c.host_parameters(), "initial parameters", 0);
    const std::vector<double> ids{1, 3, 3, 8, 0, 1, 5, 5, 5, 2, 3, 7, 0, 0, 4, 6, 8, 1};
    auto cc = c.context(3);
    auto gc = g.context(3);
    require_same(g.forward(ids, gc).to_host(), c.forward(ids, cc), "forward");
    const auto dy = inputs_of(6, 32);
    copy_from_host<cuda>(gc.output_gradient().data(), dy.data(), dy.size());
    c.zero_grad();
    g.zero_grad();
    c.backward(dy, cc);
    g.backward(gc.output_gradient(), gc);
    // (the scatter adds in the same order on both policies, but the gradient reaching it comes through the GEMMs)
    require_same(g.host_gradients(), c.host_gradients(), "parameter gradients");
    optim::adam oc(c.parameters());
    optim::adam og(g.parameters());
    oc.step();
    og.step();
    require_same(g.host_parameters(), c.host_parameters(), "parameters after a step", 1e-12);
    REQUIRE_THROWS_WITH(g.predict(std::vector<double>(6, 9.0)), Catch::Contains("embedding: token id 9"));
}

TEST_CASE("cuda: lstm equals the CPU layer (sequence and last-state outputs, BPTT gradients, step)", "[cuda][lstm]") {
    check_sequence_model<basic_sequential<double, input<5, 3>, lstm<4, {.return_sequences = true}>, lstm<3>, dense<2>>>(41, 3);
}

TEST_CASE("cuda: gru equals the CPU layer (sequence and last-state outputs, BPTT gradients, step)", "[cuda][gru]") {
    check_sequence_model<basic_sequential<double, input<4, 3>, gru<5, {.return_sequences = true}>, gru<3>, dense<2>>>(51, 3);
}

TEST_CASE("cuda: simple_rnn equals the CPU layer (tanh and relu, BPTT gradients, step)", "[cuda][rnn]") {
    check_sequence_model<basic_sequential<double, input<4, 3>, simple_rnn<5, {.return_sequences = true}>,
                                          simple_rnn<3, {.nonlinearity = rnn_nonlinearity::relu}>, dense<2>>>(61, 3);
}

TEST_CASE("cuda: stacked, bidirectional, masked recurrent layers and sequence pooling equal the CPU", "[cuda][lengths]") {
    check_sequence_model<basic_sequential<double, input<5, 3>, lstm<4, {.return_sequences = true, .layers = 2, .bidirectional = true}>,
                                          sequence_pool<pooling::mean>, dense<2>>>(71, 3, {3, 5, 1});
    check_sequence_model<basic_sequential<double, input<5, 3>, gru<4, {.layers = 2, .bidirectional = true, .dropout = 0.25}>, dense<2>>>(
        72, 3, {2, 1, 5});
    check_sequence_model<basic_sequential<double, input<5, 3>, simple_rnn<4, {.return_sequences = true, .bidirectional = true}>,
                                          sequence_pool<pooling::max>, dense<2>>>(73, 3, {4, 5, 3});
}

TEST_CASE("cuda: layer_norm, gelu (both forms) and the position codes equal the CPU layers", "[cuda][layer_norm]") {
    check_sequence_model<basic_sequential<double, input<4, 6>, positional_embedding<>, sinusoidal_encoding, dense<8>, layer_norm<>, gelu,
                                          dense<8>, gelu_tanh, layer_norm<{.elementwise_affine = false}>, flatten, dense<3>>>(91, 3);
    check_sequence_model<basic_sequential<double, input<3, 5>, layer_norm<{.bias = false}>, dense<4>, gelu, layer_norm<>>>(92, 4);
}

TEST_CASE("cuda: multi_head_attention equals the CPU layer (key padding, causal, attention dropout, no bias)", "[cuda][attention]") {
    check_sequence_model<basic_sequential<double, input<5, 8>, multi_head_attention<2>, layer_norm<>, flatten, dense<3>>>(93, 3);
    check_sequence_model<basic_sequential<double, input<5, 8>, multi_head_attention<4, {.causal = true}>, gelu,
                                          multi_head_attention<2, {.dropout = 0.2, .bias = false}>, flatten, dense<3>>>(94, 3, {5, 2, 4});
}

TEST_CASE("cuda: transformer encoder layers equal the CPU layers (post-norm with dropout, pre-norm causal gelu)", "[cuda][transformer]") {
    check_sequence_model<basic_sequential<double, input<5, 8>, transformer_encoder<2, {.nhead = 2, .dim_feedforward = 6, .dropout = 0.1}>,
                                          flatten, dense<3>>>(95, 3, {5, 2, 4});
    check_sequence_model<basic_sequential<double, input<4, 6>,
                                          transformer_encoder_layer<{.nhead = 3, .dim_feedforward = 8, .dropout = 0,
                                                                     .activation = transformer_activation::gelu, .norm_first = true,
                                                                     .causal = true}>,
                                          flatten, dense<2>>>(96, 2);
}

TEST_CASE("cuda: a train_step with one label per step (a character model) equals the CPU", "[cuda][lengths]") {
    using m_t = basic_sequential<double, input<4>, embedding<6, 3>, lstm<5, {.return_sequences = true}>, dense<6>>;
    m_t c{seed{81}};
    m_t::on<cuda> g{seed{81}};
    auto cc = c.context(3);
    auto gc = g.context(3);
    const std::vector<double> ids{1, 2, 3, 4, 0, 5, 5, 1, 2, 2, 3, 0};
    const std::vector<std::int32_t> next{2, 3, 4, 0, 5, 5, 1, 2, 2, 3, 0, 1};  // 12 labels for a batch of 3
    optim::adam oc(c.parameters());
    optim::adam og(g.parameters());
    const std::vector<std::int32_t> lengths{4, 2, 3};
    cc.set_lengths(lengths);
    gc.set_lengths(lengths);
    const double lc = double(train_step(c, cc, oc, loss::cross_entropy{6}, ids, next));
    const double lg = double(train_step(g, gc, og, loss::cross_entropy{6}, ids, next));
    REQUIRE(lg == Approx(lc).epsilon(1e-12));
    require_same(g.host_parameters(), c.host_parameters(), "parameters after a step", 1e-9);
}
