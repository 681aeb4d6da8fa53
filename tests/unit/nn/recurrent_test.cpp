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

/// A 2-layer bidirectional layer on a padded batch of unsorted lengths against PyTorch's packed
/// sequences (tools/export_torch_recurrent_padded_reference.py, float64): every step's output, the
/// final states, and the gradients of L = sum(out ⊙ w_out) + sum(last ⊙ w_last) for x and every weight.
template <template <std::size_t, recurrent_options> class Cell>
void check_padded_against_torch(const std::string& file) {
    using seq_t = basic_sequential<double, input<5, 3>, Cell<4, {.return_sequences = true, .layers = 2, .bidirectional = true}>>;
    using last_t = basic_sequential<double, input<5, 3>, Cell<4, {.layers = 2, .bidirectional = true}>>;
    const auto a = io::read_npz(std::string(CTNN_TEST_DATA_DIR) + "/" + file);
    seq_t seq{seed{0}};
    last_t last{seed{0}};
    std::vector<double> params(seq_t::parameter_count);
    for (const auto& e : seq.parameter_layout()) {
        const std::string name = e.name.substr(2);  // "0.weight_ih_l1_reverse" → nn.LSTM's key
        const auto v = test::npz_doubles(a, "param." + name);
        REQUIRE(v.size() == e.desc.size());
        std::copy(v.begin(), v.end(), params.begin() + long(e.offset));
    }
    seq.set_parameters(params);
    last.set_parameters(params);
    const auto x = test::npz_doubles(a, "x"), out = test::npz_doubles(a, "out"), fin = test::npz_doubles(a, "last");
    const auto lengths = test::npz_ints(a, "lengths");
    auto cs = seq.context(3);
    auto cl = last.context(3);
    cs.set_lengths(lengths);
    cl.set_lengths(lengths);
    const auto ys = seq.forward(x, cs);
    const auto yl = last.forward(x, cl);
    for (std::size_t i = 0; i < out.size(); ++i) REQUIRE(ys.data()[i] == Approx(out[i]).margin(1e-12));
    for (std::size_t i = 0; i < fin.size(); ++i) REQUIRE(yl.data()[i] == Approx(fin[i]).margin(1e-12));
    const auto ps = seq.predict(x, lengths);
    for (std::size_t i = 0; i < out.size(); ++i) REQUIRE(ps.data()[i] == ys.data()[i]);
    seq.zero_grad();
    last.zero_grad();
    seq.backward(test::npz_doubles(a, "w_out"), cs, true);
    last.backward(test::npz_doubles(a, "w_last"), cl, true);
    const auto dx = test::npz_doubles(a, "dx");
    for (std::size_t i = 0; i < dx.size(); ++i) {
        INFO("dx index " << i);
        REQUIRE(cs.input_gradient().data()[i] + cl.input_gradient().data()[i] == Approx(dx[i]).margin(1e-12));
    }
    for (const auto& e : seq.parameter_layout()) {
        const auto g = test::npz_doubles(a, "grad." + e.name.substr(2));
        for (std::size_t i = 0; i < g.size(); ++i) {
            INFO(e.name << " index " << i);
            REQUIRE(seq.gradients()[e.offset + i] + last.gradients()[e.offset + i] == Approx(g[i]).margin(1e-12));
        }
    }
}

TEST_CASE("lstm: 2 layers, bidirectional, padded batch equal nn.LSTM on packed sequences", "[lstm][torch][lengths]") {
    check_padded_against_torch<lstm>("torch_lstm_bidir2_padded_reference.npz");
}

TEST_CASE("gru: 2 layers, bidirectional, padded batch equal nn.GRU on packed sequences", "[gru][torch][lengths]") {
    check_padded_against_torch<gru>("torch_gru_bidir2_padded_reference.npz");
}

TEST_CASE("recurrent layers: stacked, bidirectional, masked and with dropout match finite differences in double",
          "[lstm][gru][rnn][gradcheck][lengths]") {
    const std::vector<std::int32_t> lengths{3, 5, 1};
    auto check = [&](auto m, std::vector<std::int32_t> l) {
        const auto r = testing::check_gradients(std::move(m), 3, {.lengths = std::move(l)});
        INFO(r.message());
        REQUIRE(r.ok);
    };
    SECTION("lstm, every step, pooled by mean") {
        check(basic_sequential<double, input<5, 3>, lstm<4, {.return_sequences = true, .layers = 2, .bidirectional = true}>,
                               sequence_pool<pooling::mean>, dense<2>>{seed{1}},
              lengths);
    }
    SECTION("gru, final state, dropout between layers") {
        check(basic_sequential<double, input<5, 3>, gru<4, {.layers = 2, .bidirectional = true, .dropout = 0.3}>, dense<2>>{seed{2}},
              lengths);
    }
    SECTION("relu rnn, every step, pooled by max") {
        check(basic_sequential<double, input<5, 3>,
                               simple_rnn<4, {.return_sequences = true, .nonlinearity = rnn_nonlinearity::relu, .layers = 2, .bidirectional = true}>,
                               sequence_pool<pooling::max>, dense<2>>{seed{3}},
              {3, 5, 2});
    }
    SECTION("three unidirectional lstm layers without lengths") {
        check(basic_sequential<double, input<4, 2>, lstm<3, {.layers = 3}>>{seed{4}}, {});
    }
}

TEST_CASE("recurrent layers: padded steps change nothing and lengths are checked", "[lstm][lengths]") {
    using m_t = sequential<input<6, 2>, lstm<5, {.return_sequences = true, .bidirectional = true}>>;
    m_t m{seed{5}};
    rng g{seed{6}};
    std::vector<float> x(2 * 6 * 2);
    for (auto& v : x) v = float(g.uniform(-1, 1));
    const std::vector<std::int32_t> lengths{4, 6};
    const auto y = m.predict(x, lengths);
    auto x2 = x;
    for (std::size_t t = 4; t < 6; ++t) x2[t * 2] = x2[t * 2 + 1] = 9.0f;  // garbage in sample 0's padding
    const auto y2 = m.predict(x2, lengths);
    for (std::size_t i = 0; i < y.size(); ++i) REQUIRE(y.data()[i] == y2.data()[i]);
    for (std::size_t t = 4; t < 6; ++t)
        for (std::size_t j = 0; j < 10; ++j) REQUIRE(y(0, t, j) == 0.0f);
    // a sample of length n equals the same sample cut to n steps
    sequential<input<4, 2>, lstm<5, {.return_sequences = true, .bidirectional = true}>> cut{seed{5}};
    cut.set_parameters(m.host_parameters());
    const auto yc = cut.predict(std::vector<float>(x.begin(), x.begin() + 8));
    for (std::size_t t = 0; t < 4; ++t)
        for (std::size_t j = 0; j < 10; ++j) REQUIRE(yc(0, t, j) == Approx(y(0, t, j)).margin(1e-6));
    auto ctx = m.context(2);
    ctx.set_lengths(std::vector<std::int32_t>{4});
    REQUIRE_THROWS_WITH(m.forward(x, ctx), Catch::Contains("lstm") && Catch::Contains("1 sequence lengths") && Catch::Contains("batch of 2"));
    ctx.set_lengths(std::vector<std::int32_t>{0, 6});
    REQUIRE_THROWS_WITH(m.forward(x, ctx), Catch::Contains("outside [1, 6]"));
    ctx.set_lengths(std::vector<std::int32_t>{7, 6});
    REQUIRE_THROWS_WITH(m.forward(x, ctx), Catch::Contains("outside [1, 6]"));
    ctx.clear_lengths();
    REQUIRE(ctx.lengths().empty());
    const auto full = m.forward(x, ctx);
    const auto pf = m.predict(x);
    for (std::size_t i = 0; i < full.size(); ++i) REQUIRE(full.data()[i] == pf.data()[i]);
}

TEST_CASE("recurrent layers: state_dict names of stacked and bidirectional layers are nn.LSTM's", "[lstm][names]") {
    sequential<input<3, 2>, gru<4, {.layers = 2, .bidirectional = true}>> m{seed{1}};
    std::vector<std::string> names;
    for (const auto& e : m.parameter_layout()) names.push_back(e.name);
    REQUIRE(names.size() == 16);
    REQUIRE(names[4] == "0.weight_ih_l0_reverse");
    REQUIRE(names[8] == "0.weight_ih_l1");
    REQUIRE(names[15] == "0.bias_hh_l1_reverse");
    REQUIRE(m.parameter_layout()[8].desc.dims[1] == 8);  // layer 1 reads both directions of layer 0
}

TEST_CASE("recurrent layers: dropout between layers is active in training only", "[lstm][dropout]") {
    using m_t = sequential<input<4, 3>, lstm<8, {.layers = 2, .dropout = 0.5}>>;
    m_t m{seed{2}};
    std::vector<float> x(2 * 4 * 3, 0.5f);
    auto ctx = m.context(2);
    const auto ya = m.forward(x, ctx);
    const std::vector<float> a(ya.begin(), ya.end());
    const auto yb = m.forward(x, ctx);
    const std::vector<float> b(yb.begin(), yb.end());
    REQUIRE(a != b);  // a fresh mask per training forward
    m.eval();
    const auto e = m.forward(x, ctx);
    const auto p = m.predict(x);
    for (std::size_t i = 0; i < e.size(); ++i) REQUIRE(e.data()[i] == p.data()[i]);
}

TEST_CASE("recurrent layers: the streaming step equals predict's every-step output", "[lstm][gru][rnn][stream]") {
    auto check = [](auto m) {
        using m_t = decltype(m);
        using layer_t = std::remove_cvref_t<decltype(m.template layer<0>())>;
        rng g{seed{9}};
        std::vector<float> x(7 * 3);
        for (auto& v : x) v = float(g.uniform(-1, 1));
        const auto y = m.predict(x);
        typename layer_t::stream_state s;
        std::array<float, 6> out{};
        for (std::size_t t = 0; t < 7; ++t) {
            m.template layer<0>().step(x.data() + t * 3, s, out.data());
            for (std::size_t j = 0; j < 6; ++j) REQUIRE(out[j] == Approx(y(0, t, j)).margin(1e-5));
        }
        s.reset();
        m.template layer<0>().step(x.data(), s, out.data());
        REQUIRE(out[0] == Approx(y(0, 0, 0)).margin(1e-5));
        static_assert(m_t::depth == 1);
    };
    check(sequential<input<7, 3>, lstm<6, {.return_sequences = true, .layers = 2}>>{seed{1}});
    check(sequential<input<7, 3>, gru<6, {.return_sequences = true, .layers = 2}>>{seed{2}});
    check(sequential<input<7, 3>, simple_rnn<6, {.return_sequences = true}>>{seed{3}});
}

/// Initial states in, final states out, and both gradients, against nn.LSTM/nn.GRU on a padded batch
/// started from given states (tools/export_torch_recurrent_padded_reference.py, float64).
template <template <std::size_t, recurrent_options> class Cell, bool has_cell>
void check_states_against_torch(const std::string& file) {
    using m_t = basic_sequential<double, input<5, 3>, Cell<4, {.return_sequences = true, .layers = 2, .bidirectional = true}>>;
    const auto a = io::read_npz(std::string(CTNN_TEST_DATA_DIR) + "/" + file);
    m_t m{seed{0}};
    std::vector<double> params(m_t::parameter_count);
    for (const auto& e : m.parameter_layout()) {
        const auto v = test::npz_doubles(a, "param." + e.name.substr(2));
        std::copy(v.begin(), v.end(), params.begin() + long(e.offset));
    }
    m.set_parameters(params);
    const auto x = test::npz_doubles(a, "x"), h0 = test::npz_doubles(a, "h0"), w_hn = test::npz_doubles(a, "w_hn");
    const auto c0 = has_cell ? test::npz_doubles(a, "c0") : std::vector<double>{};
    const auto w_cn = has_cell ? test::npz_doubles(a, "w_cn") : std::vector<double>{};
    auto& layer = m.template layer<0>();
    std::vector<double> dh0(h0.size()), dc0(h0.size()), h_n(h0.size()), c_n(h0.size());
    layer.set_initial_state(h0.data(), has_cell ? c0.data() : nullptr, 3);
    layer.set_state_gradients(w_hn.data(), has_cell ? w_cn.data() : nullptr, dh0.data(), has_cell ? dc0.data() : nullptr, 3);
    auto ctx = m.context(3);
    ctx.set_lengths(test::npz_ints(a, "lengths"));
    const auto y = m.forward(x, ctx);
    const auto out = test::npz_doubles(a, "out");
    for (std::size_t i = 0; i < out.size(); ++i) REQUIRE(y.data()[i] == Approx(out[i]).margin(1e-12));
    layer.final_state(ctx.template layer_cache<0>(), 3, h_n.data(), c_n.data());
    const auto h_ref = test::npz_doubles(a, "h_n");
    for (std::size_t i = 0; i < h_ref.size(); ++i) REQUIRE(h_n[i] == Approx(h_ref[i]).margin(1e-12));
    if (has_cell) {
        const auto c_ref = test::npz_doubles(a, "c_n");
        for (std::size_t i = 0; i < c_ref.size(); ++i) REQUIRE(c_n[i] == Approx(c_ref[i]).margin(1e-12));
    }
    m.zero_grad();
    m.backward(test::npz_doubles(a, "w_out"), ctx, true);
    const auto dx = test::npz_doubles(a, "dx"), dh0_ref = test::npz_doubles(a, "dh0");
    for (std::size_t i = 0; i < dx.size(); ++i) REQUIRE(ctx.input_gradient().data()[i] == Approx(dx[i]).margin(1e-12));
    for (std::size_t i = 0; i < dh0.size(); ++i) REQUIRE(dh0[i] == Approx(dh0_ref[i]).margin(1e-12));
    if (has_cell) {
        const auto dc0_ref = test::npz_doubles(a, "dc0");
        for (std::size_t i = 0; i < dc0.size(); ++i) REQUIRE(dc0[i] == Approx(dc0_ref[i]).margin(1e-12));
    }
    for (const auto& e : m.parameter_layout()) {
        const auto g = test::npz_doubles(a, "grad." + e.name.substr(2));
        for (std::size_t i = 0; i < g.size(); ++i) {
            INFO(e.name << " index " << i);
            REQUIRE(m.gradients()[e.offset + i] == Approx(g[i]).margin(1e-12));
        }
    }
    // predict uses the initial state too; a run of another batch is refused, clearing restores zeros
    const auto p = m.predict(x, test::npz_ints(a, "lengths"));
    for (std::size_t i = 0; i < out.size(); ++i) REQUIRE(p.data()[i] == Approx(out[i]).margin(1e-12));
    REQUIRE_THROWS_WITH(m.predict(std::vector<double>(x.begin(), x.begin() + 15)), Catch::Contains("initial state was set for a batch of 3"));
    layer.set_initial_state();
    layer.set_state_gradients();
    const auto z = m.predict(std::vector<double>(x.begin(), x.begin() + 15));
    REQUIRE(z.size() == 5 * 8);
}

TEST_CASE("lstm: initial states in, final states out, with their gradients, equal nn.LSTM", "[lstm][torch][states]") {
    check_states_against_torch<lstm, true>("torch_lstm_states_reference.npz");
}

TEST_CASE("gru: initial state in, final state out, with their gradients, equal nn.GRU", "[gru][torch][states]") {
    check_states_against_torch<gru, false>("torch_gru_states_reference.npz");
}

TEST_CASE("fit and evaluate pass a dataset's sequence lengths to the model", "[lstm][lengths][train]") {
    // label: whether the last valid step's feature is positive; the padding after it holds large
    // values of random sign, so a model that read the padding would be lost
    const std::size_t N = 192, T = 6;
    auto d = data::dataset<float>::zeros(N, T, 2);
    rng g{seed{11}};
    for (std::size_t n = 0; n < N; ++n) {
        const std::int32_t len = std::int32_t(1 + g.below(T));
        d.lengths.push_back(len);
        for (std::size_t t = 0; t < T; ++t) d.x[n * T + t] = float(g.uniform(-1, 1));
        const float last = d.x[n * T + std::size_t(len) - 1];
        d.labels[n] = last > 0 ? 1 : 0;
        for (std::size_t t = std::size_t(len); t < T; ++t) d.x[n * T + t] = g.below(2) ? -5.0f : 5.0f;
    }
    data::loader<float> ld(d, 32, true, seed{1});
    data::batch<float> b;
    REQUIRE(ld.next(b));
    REQUIRE(b.lengths.size() == 32);
    sequential<input<T, 1>, lstm<12>, dense<2>> m{seed{12}};
    optim::adam opt{m.parameters(), {.lr = 2e-2f}};
    const auto r = fit(m, opt, loss::cross_entropy{}, d, {.epochs = 40, .batch = 32});
    REQUIRE(r.history.back().train_accuracy > 0.9);
    REQUIRE(evaluate(m, d).accuracy() > 0.9);
    auto unmasked = d;
    unmasked.lengths.clear();
    REQUIRE(evaluate(m, unmasked).accuracy() < 0.8);  // the same model reading the padding
    auto bad = d.slice(0, 10);
    bad.lengths.pop_back();
    REQUIRE_THROWS_WITH(fit(m, opt, loss::cross_entropy{}, bad, {.epochs = 1, .batch = 4}), Catch::Contains("9 sequence lengths for 10 samples"));
}

TEST_CASE("recurrent layers: every batch size and the streaming step agree at realistic sizes", "[lstm][gru][rnn][stream][lengths]") {
    // small batches may take other code paths than large ones (and the step its own): all must agree
    auto check = [](auto m) {
        using m_t = decltype(m);
        constexpr std::size_t T = m_t::input_shape::dims[0], F = m_t::input_shape::dims[1], O = m_t::output_shape::dims[1];
        using layer_t = std::remove_cvref_t<decltype(m.template layer<0>())>;
        rng g{seed{21}};
        const std::size_t B = 7;
        std::vector<float> x(B * T * F);
        for (auto& v : x) v = float(g.uniform(-1, 1));
        const std::vector<std::int32_t> lengths{int(T), 3, 1, int(T) - 1, 5, 2, int(T)};
        const auto all = m.predict(x, lengths);
        for (std::size_t b = 0; b < B; ++b) {
            const std::vector<float> one(x.begin() + long(b * T * F), x.begin() + long((b + 1) * T * F));
            const std::vector<std::int32_t> len{lengths[b]};
            const auto y = m.predict(one, len);
            for (std::size_t i = 0; i < T * O; ++i) REQUIRE(y.data()[i] == Approx(all.data()[b * T * O + i]).margin(1e-5));
            typename layer_t::stream_state s;
            std::vector<float> h(O);
            for (std::size_t t = 0; t < std::size_t(lengths[b]); ++t) {
                m.template layer<0>().step(one.data() + t * F, s, h.data());
                for (std::size_t j = 0; j < O; ++j) REQUIRE(h[j] == Approx(y(0, t, j)).margin(1e-5));
            }
        }
        auto ctx = m.context(B);  // training forward at a batch of 3 and of 7 equals predict
        for (std::size_t n : {std::size_t(3), B}) {
            ctx.set_lengths(std::vector<std::int32_t>(lengths.begin(), lengths.begin() + long(n)));
            const auto f = m.forward(std::vector<float>(x.begin(), x.begin() + long(n * T * F)), ctx);
            for (std::size_t i = 0; i < n * T * O; ++i) REQUIRE(f.data()[i] == Approx(all.data()[i]).margin(1e-5));
        }
    };
    check(sequential<input<9, 32>, lstm<128, {.return_sequences = true}>>{seed{1}});
    check(sequential<input<9, 20>, lstm<64, {.return_sequences = true, .layers = 2}>>{seed{2}});
    check(sequential<input<9, 17>, gru<48, {.return_sequences = true}>>{seed{3}});
    check(sequential<input<9, 24>, simple_rnn<40, {.return_sequences = true}>>{seed{4}});
}
