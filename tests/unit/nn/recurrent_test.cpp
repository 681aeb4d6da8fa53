// SPDX-License-Identifier: MIT
// lstm<H, {.return_sequences}>: PyTorch's nn.LSTM (outputs, input and parameter gradients,
// tests/data/torch_lstm_reference.npz), backpropagation through time against finite differences,
// state_dict names, predict = forward.
#include <catch2/catch.hpp>
#include <cstring>
#include <ctnn/ctnn.hpp>
#include <ctnn/testing/gradcheck.hpp>

#include "../../support/npz_floats.hpp"

#include "../../support/gradcheck.hpp"

using namespace ctnn;

using test::npz_floats;

/// Two stacked recurrent layers (every step, then the last) and a dense head against the reference
/// tools/export_torch_recurrent_reference.py wrote: outputs, input and weight gradients, names.
template <class M>
void check_recurrent_against_torch(const std::string& file) {
    const auto a = io::read_npz(std::string(CTNN_TEST_DATA_DIR) + "/" + file);
    M m{seed{0}};
    std::vector<std::string> names;
    std::vector<float> params(M::parameter_count);
    for (const auto& e : m.parameter_layout()) {
        names.push_back(e.name);
        const auto v = npz_floats(a, "param." + e.name);
        REQUIRE(v.size() == e.desc.size());
        std::copy(v.begin(), v.end(), params.begin() + long(e.offset));
    }
    REQUIRE(names == std::vector<std::string>{"0.weight_ih_l0", "0.weight_hh_l0", "0.bias_ih_l0", "0.bias_hh_l0", "1.weight_ih_l0",
                                              "1.weight_hh_l0", "1.bias_ih_l0", "1.bias_hh_l0", "2.weight", "2.bias"});
    m.set_parameters(params);
    const auto x = npz_floats(a, "x"), dy = npz_floats(a, "dy"), y_ref = npz_floats(a, "y"), dx_ref = npz_floats(a, "dx");
    auto ctx = m.context(3);
    const auto y = m.forward(x, ctx);
    for (std::size_t i = 0; i < y_ref.size(); ++i) REQUIRE(y.data()[i] == Approx(y_ref[i]).epsilon(1e-5).margin(1e-6));
    m.zero_grad();
    m.backward(dy, ctx, true);
    for (std::size_t i = 0; i < dx_ref.size(); ++i) {
        INFO("dx index " << i);
        REQUIRE(ctx.input_gradient().data()[i] == Approx(dx_ref[i]).epsilon(1e-4).margin(1e-6));
    }
    for (const auto& e : m.parameter_layout()) {
        const auto g = npz_floats(a, "grad." + e.name);
        for (std::size_t i = 0; i < g.size(); ++i) {
            INFO(e.name << " index " << i);
            REQUIRE(m.gradients()[e.offset + i] == Approx(g[i]).epsilon(1e-4).margin(1e-6));
        }
    }
    REQUIRE(m.predict(x)(0, 0) == Approx(y_ref[0]).epsilon(1e-5));
}

TEST_CASE("lstm: two stacked layers equal PyTorch's nn.LSTM (outputs, input and weight gradients)", "[lstm][torch]") {
    check_recurrent_against_torch<sequential<input<5, 3>, lstm<4, {.return_sequences = true}>, lstm<3>, dense<2>>>(
        "torch_lstm_reference.npz");
}

TEST_CASE("gru: two stacked layers equal PyTorch's nn.GRU (outputs, input and weight gradients)", "[gru][torch]") {
    check_recurrent_against_torch<sequential<input<5, 3>, gru<4, {.return_sequences = true}>, gru<3>, dense<2>>>(
        "torch_gru_reference.npz");
}

TEST_CASE("simple_rnn: tanh then relu layers equal PyTorch's nn.RNN (outputs, input and weight gradients)", "[rnn][torch]") {
    check_recurrent_against_torch<sequential<input<5, 3>, simple_rnn<4, {.return_sequences = true}>,
                                             simple_rnn<3, {.nonlinearity = rnn_nonlinearity::relu}>, dense<2>>>("torch_rnn_reference.npz");
}

TEST_CASE("simple_rnn: backpropagation through time matches finite differences in double", "[rnn][gradcheck]") {
    test::check_model_gradients(basic_sequential<double, input<4, 3>, simple_rnn<5, {.return_sequences = true}>,
                                                 simple_rnn<3, {.nonlinearity = rnn_nonlinearity::relu}>, dense<2>>{seed{7}},
                                3);
}

TEST_CASE("gru: backpropagation through time matches finite differences in double", "[gru][gradcheck]") {
    test::check_model_gradients(basic_sequential<double, input<4, 3>, gru<5, {.return_sequences = true}>, gru<3>, dense<2>>{seed{5}}, 3);
    test::check_model_gradients(basic_sequential<double, input<3, 2>, gru<4, {.return_sequences = true}>, lstm<2>>{seed{6}}, 2);
}

TEST_CASE("lstm: backpropagation through time matches finite differences in double", "[lstm][gradcheck]") {
    SECTION("every step's output, then the last step's") {
        test::check_model_gradients(basic_sequential<double, input<4, 3>, lstm<5, {.return_sequences = true}>, lstm<3>, dense<2>>{seed{1}}, 3);
    }
    SECTION("after an embedding, in a residual block") {
        using m_t = basic_sequential<double, input<6>, embedding<8, 4>, residual<chain<lstm<4, {.return_sequences = true}>>>, lstm<2>>;
        const std::vector<double> ids{1, 7, 7, 0, 3, 5, 2, 2, 6, 4, 4, 1};
        const auto r = testing::check_gradients(m_t{seed{2}}, 2, {.inputs = {ids}, .input_gradients = false});
        INFO(r.message());
        REQUIRE(r.ok);
    }
}

TEST_CASE("lstm: predict equals forward, and a sequence classifier learns", "[lstm][train]") {
    // label: whether the first step's feature is larger than the last step's
    const std::size_t N = 128, T = 6;
    auto d = data::dataset<float>::zeros(N, T * 2, 2);
    rng g{seed{3}};
    for (std::size_t n = 0; n < N; ++n) {
        for (std::size_t i = 0; i < T * 2; ++i) d.x[n * T * 2 + i] = float(g.uniform(-1, 1));
        d.labels[n] = d.x[n * T * 2] > d.x[n * T * 2 + (T - 1) * 2] ? 1 : 0;
    }
    sequential<input<T, 2>, lstm<16>, dense<2>> m{seed{4}};
    auto ctx = m.context(8);
    const auto y = m.forward(std::vector<float>(d.x.begin(), d.x.begin() + 8 * T * 2), ctx);
    const auto p = m.predict(std::vector<float>(d.x.begin(), d.x.begin() + 8 * T * 2));
    for (std::size_t i = 0; i < y.size(); ++i) REQUIRE(p.data()[i] == y.data()[i]);
    optim::adam opt{m.parameters(), {.lr = 1e-2f}};
    const auto r = fit(m, opt, loss::cross_entropy{}, d, {.epochs = 60, .batch = 32});
    REQUIRE(r.history.back().train_accuracy > 0.9);
}
