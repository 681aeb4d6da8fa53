// SPDX-License-Identifier: MIT
// embedding<Vocab, Dim, {.padding_idx}>: values by hand, PyTorch's nn.Embedding (forward and weight
// gradient, tests/data/torch_embedding_reference.npz), finite differences, the padding row, bad ids.
#include <catch2/catch.hpp>
#include <cstring>
#include <ctnn/ctnn.hpp>
#include <ctnn/testing/gradcheck.hpp>

#include "../../support/npz_floats.hpp"

using namespace ctnn;

using test::npz_floats;

TEST_CASE("embedding: rows by id, padding row zero and without gradient", "[embedding]") {
    using m_t = basic_sequential<double, input<4>, embedding<5, 3, {.padding_idx = 2}>>;
    static_assert(std::is_same_v<m_t::output_shape, shape<4, 3>>);
    m_t m{seed{1}};
    const auto w = m.host_parameters();
    for (std::size_t d = 0; d < 3; ++d) REQUIRE(w[2 * 3 + d] == 0.0);  // padding row starts at zero
    const std::vector<double> ids{4, 0, 2, 4, 1, 1, 3, 0};
    auto ctx = m.context(2);
    const auto y = m.forward(ids, ctx);
    for (std::size_t p = 0; p < 8; ++p)
        for (std::size_t d = 0; d < 3; ++d) REQUIRE(y.data()[p * 3 + d] == w[std::size_t(ids[p]) * 3 + d]);
    std::vector<double> dy(24);
    for (std::size_t i = 0; i < 24; ++i) dy[i] = double(i + 1);
    m.zero_grad();
    m.backward(dy, ctx, true);
    const auto g = m.host_gradients();
    for (std::size_t d = 0; d < 3; ++d) {
        REQUIRE(g[4 * 3 + d] == dy[0 * 3 + d] + dy[3 * 3 + d]);  // id 4 at positions 0 and 3
        REQUIRE(g[1 * 3 + d] == dy[4 * 3 + d] + dy[5 * 3 + d]);
        REQUIRE(g[2 * 3 + d] == 0.0);  // the padding row
    }
    for (double v : ctx.input_gradient()) REQUIRE(v == 0.0);  // ids have no gradient
}

TEST_CASE("embedding: equals PyTorch's nn.Embedding(padding_idx=0) -> Flatten -> Linear", "[embedding][torch]") {
    const auto a = io::read_npz(std::string(CTNN_TEST_DATA_DIR) + "/torch_embedding_reference.npz");
    using m_t = sequential<input<5>, embedding<7, 4, {.padding_idx = 0}>, flatten, dense<3>>;
    m_t m{seed{0}};
    std::vector<float> params(m_t::parameter_count);
    for (const auto& e : m.parameter_layout()) {
        const auto v = npz_floats(a, "param." + e.name);
        REQUIRE(v.size() == e.desc.size());
        std::copy(v.begin(), v.end(), params.begin() + long(e.offset));
    }
    m.set_parameters(params);
    const auto ids = npz_floats(a, "ids"), dy = npz_floats(a, "dy"), y_ref = npz_floats(a, "y");
    auto ctx = m.context(3);
    const auto y = m.forward(ids, ctx);
    for (std::size_t i = 0; i < y_ref.size(); ++i) REQUIRE(y.data()[i] == Approx(y_ref[i]).epsilon(1e-5).margin(1e-6));
    m.zero_grad();
    m.backward(dy, ctx);
    for (const auto& e : m.parameter_layout()) {
        const auto g = npz_floats(a, "grad." + e.name);
        for (std::size_t i = 0; i < g.size(); ++i) {
            INFO(e.name << " index " << i);
            REQUIRE(m.gradients()[e.offset + i] == Approx(g[i]).epsilon(1e-5).margin(1e-6));
        }
    }
}

TEST_CASE("embedding: weight gradients match finite differences (ids as explicit inputs)", "[embedding][gradcheck]") {
    // (the padding row is used by forward but gets no gradient by definition, as in PyTorch: its
    // finite difference is not zero, so the checked model has no padding id; the padding rule is tested above)
    const basic_sequential<double, input<6>, embedding<9, 3>, ctnn::tanh, flatten, dense<2>> m{seed{3}};
    const std::vector<double> ids{1, 8, 8, 0, 3, 5, 0, 2, 2, 2, 7, 1};
    const auto r = testing::check_gradients(m, 2, {.inputs = {ids}, .input_gradients = false});
    INFO(r.message());
    REQUIRE(r.ok);
    REQUIRE(r.checked == decltype(m)::parameter_count);
}

TEST_CASE("embedding: ids outside [0, Vocab) or not integers are errors before anything runs", "[embedding][bad-input]") {
    sequential<input<3>, embedding<10, 2>, flatten, dense<1>> m{seed{1}};
    auto ctx = m.context(2);
    REQUIRE_THROWS_WITH(m.forward(std::vector<float>{1, 2, 10, 0, 0, 0}, ctx),
                        Catch::Contains("embedding: token id 10") && Catch::Contains("input index 2") && Catch::Contains("[0, 10)"));
    REQUIRE_THROWS_WITH(m.predict(std::vector<float>{1, -1, 3}), Catch::Contains("token id -1"));
    REQUIRE_THROWS_WITH(m.predict(std::vector<float>{1, 2.5f, 3}), Catch::Contains("is not an integer"));
    // in a graph, a node reading an input checks it too
    graph<inputs<input<1>, input<1>>, node<from<0>, embedding<4, 2>>, node<from<1>, embedding<6, 2>>,
          node<concat_of<2, 3>, chain<flatten, dense<1>>>, outputs<4>>
        g{seed{2}};
    auto gctx = g.context(2);
    const std::vector<float> users{0, 3}, items{5, 6};
    REQUIRE_THROWS_WITH(g.forward(std::tie(users, items), gctx), Catch::Contains("token id 6") && Catch::Contains("[0, 6)"));
}

TEST_CASE("embedding: matrix factorisation as a two-input graph learns ratings", "[embedding][graph][train]") {
    // 12 users × 10 items with a rank-2 rating matrix; embeddings of each concatenated, then a dense head
    const std::size_t U = 12, I = 10;
    rng g{seed{5}};
    std::vector<double> ua(U * 2), ib(I * 2);
    for (auto& v : ua) v = g.uniform(-1, 1);
    for (auto& v : ib) v = g.uniform(-1, 1);
    data::multi_dataset<float> d(U * I);
    float* us = d.add_input(1);
    float* is = d.add_input(1);
    float* r = d.add_values(1);
    for (std::size_t u = 0; u < U; ++u)
        for (std::size_t i = 0; i < I; ++i) {
            us[u * I + i] = float(u);
            is[u * I + i] = float(i);
            r[u * I + i] = float(ua[2 * u] * ib[2 * i] + ua[2 * u + 1] * ib[2 * i + 1]);
        }
    graph<inputs<input<1>, input<1>>, node<from<0>, named<"user", embedding<U, 8>>>, node<from<1>, named<"item", embedding<I, 8>>>,
          node<concat_of<2, 3>, named<"mlp", chain<flatten, dense<32>, relu, dense<1>>>>, outputs<4>>
        m{seed{6}};
    optim::adam opt{m.parameters(), {.lr = 1e-2f}};
    const auto res = fit(m, opt, std::tuple{loss::mse{}}, d, {.epochs = 150, .batch = 30});
    REQUIRE(res.history.back().loss < 0.1 * res.history.front().loss);
    REQUIRE(m.parameter_layout()[0].name == "user.weight");
}
