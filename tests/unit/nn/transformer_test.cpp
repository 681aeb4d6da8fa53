// SPDX-License-Identifier: MIT
// The transformer's parts: layer_norm, gelu / gelu_tanh, positional_embedding, sinusoidal_encoding —
// values by hand, finite differences in double, PyTorch's nn.LayerNorm / nn.GELU on the same model
// (tests/data/torch_transformer_parts_reference.npz, tools/export_torch_transformer_reference.py).
#include <catch2/catch.hpp>
#include <cmath>
#include <ctnn/ctnn.hpp>
#include <ctnn/testing/gradcheck.hpp>
#include <string>
#include <vector>

#include "../../support/npz_floats.hpp"

using namespace ctnn;

using test::npz_floats;

TEST_CASE("gelu: exact and tanh forms by value and derivative", "[gelu][activation]") {
    // Φ(1) = 0.841344746068543, φ(1) = 0.241970724519143
    REQUIRE(rules::gelu(1.0) == Approx(0.841344746068543).epsilon(1e-14));
    REQUIRE(rules::gelu(-2.0) == Approx(-2.0 * 0.0227501319481792).epsilon(1e-13));
    REQUIRE(rules::gelu_derivative(1.0) == Approx(0.841344746068543 + 0.241970724519143).epsilon(1e-13));
    REQUIRE(rules::gelu_tanh(1.0) == Approx(0.5 * (1 + std::tanh(std::sqrt(2 / M_PI) * 1.044715))).epsilon(1e-14));
    for (double x : {-3.0, -0.7, 0.0, 0.4, 2.5}) {
        const double h = 1e-6;
        REQUIRE(rules::gelu_tanh_derivative(x) == Approx((rules::gelu_tanh(x + h) - rules::gelu_tanh(x - h)) / (2 * h)).epsilon(1e-8));
        REQUIRE(rules::gelu_derivative(x) == Approx((rules::gelu(x + h) - rules::gelu(x - h)) / (2 * h)).epsilon(1e-8));
    }
    // the layers (xtensor expressions on the CPU) equal the scalar rules the GPU runs
    sequential<input<5>, gelu> a{seed{1}};
    sequential<input<5>, gelu_tanh> b{seed{1}};
    const std::vector<float> x{-3.f, -0.7f, 0.f, 0.4f, 2.5f};
    const auto ya = a.predict(x), yb = b.predict(x);
    for (std::size_t i = 0; i < 5; ++i) {
        REQUIRE(ya.data()[i] == Approx(rules::gelu(double(x[i]))).epsilon(1e-6).margin(1e-7));
        REQUIRE(yb.data()[i] == Approx(rules::gelu_tanh(double(x[i]))).epsilon(1e-6).margin(1e-7));
    }
}

TEST_CASE("layer_norm: every row normalised by its own statistics, in training and evaluation alike", "[layer_norm]") {
    using m_t = basic_sequential<double, input<3, 4>, layer_norm<>>;
    m_t m{seed{1}};
    REQUIRE(m_t::parameter_count == 8);
    const std::vector<double> x{1, 2, 3, 4, -1, 0, 0, 5, 10, 10, 10, 10.5, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    auto ctx = m.context(2);
    const auto y = m.forward(x, ctx);
    for (std::size_t r = 0; r < 6; ++r) {
        double s = 0, q = 0, mean = 0;
        for (std::size_t j = 0; j < 4; ++j) mean += x[r * 4 + j] / 4;
        for (std::size_t j = 0; j < 4; ++j) q += (x[r * 4 + j] - mean) * (x[r * 4 + j] - mean) / 4;
        for (std::size_t j = 0; j < 4; ++j) {
            REQUIRE(y.data()[r * 4 + j] == Approx((x[r * 4 + j] - mean) / std::sqrt(q + 1e-5)).epsilon(1e-12));
            s += y.data()[r * 4 + j];
        }
        REQUIRE(s == Approx(0).margin(1e-12));
    }
    m.eval();
    const auto p = m.predict(x);
    for (std::size_t i = 0; i < x.size(); ++i) REQUIRE(p.data()[i] == y.data()[i]);
    static_assert(basic_sequential<double, input<4>, layer_norm<{.bias = false}>>::parameter_count == 4);
    static_assert(basic_sequential<double, input<4>, layer_norm<{.elementwise_affine = false}>>::parameter_count == 0);
}

TEST_CASE("position codes: the learned table is added per position, the sinusoid is Vaswani's", "[position]") {
    using m_t = basic_sequential<double, input<3, 4>, sinusoidal_encoding>;
    m_t m{seed{1}};
    const auto y = m.predict(std::vector<double>(12, 0.0));
    for (std::size_t t = 0; t < 3; ++t)
        for (std::size_t j = 0; j < 4; ++j) {
            const double w = std::pow(10000.0, -double(j - j % 2) / 4.0);
            REQUIRE(y.data()[t * 4 + j] == Approx(j % 2 ? std::cos(double(t) * w) : std::sin(double(t) * w)).margin(1e-15));
        }
    using l_t = basic_sequential<double, input<3, 2>, positional_embedding<>>;
    l_t l{seed{2}};
    REQUIRE(l.parameter_layout()[0].name == "0.weight");
    const auto w = l.host_parameters();
    const std::vector<double> x{1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, -6};
    auto ctx = l.context(2);
    const auto yl = l.forward(x, ctx);
    for (std::size_t i = 0; i < 12; ++i) REQUIRE(yl.data()[i] == x[i] + w[i % 6]);
    std::vector<double> dy(12);
    for (std::size_t i = 0; i < 12; ++i) dy[i] = double(i);
    l.zero_grad();
    l.backward(dy, ctx, true);
    for (std::size_t i = 0; i < 6; ++i) REQUIRE(l.host_gradients()[i] == dy[i] + dy[i + 6]);
    for (std::size_t i = 0; i < 12; ++i) REQUIRE(ctx.input_gradient()[i] == dy[i]);
}

TEST_CASE("transformer parts: parameter and input gradients match finite differences", "[gradcheck][layer_norm][gelu][position]") {
    const basic_sequential<double, input<3, 4>, positional_embedding<{.init_std = 0.5}>, sinusoidal_encoding, dense<5>,
                           layer_norm<>, gelu, dense<5>, layer_norm<{.bias = false}>, gelu_tanh, layer_norm<{.elementwise_affine = false}>,
                           flatten, dense<2>>
        m{seed{5}};
    const auto r = testing::check_gradients(m, 3);
    INFO(r.message());
    REQUIRE(r.ok);
    REQUIRE(r.checked > decltype(m)::parameter_count);
}

TEST_CASE("transformer parts: equal PyTorch's nn.LayerNorm, nn.GELU (both forms) and added position codes", "[layer_norm][gelu][torch]") {
    const auto a = io::read_npz(std::string(CTNN_TEST_DATA_DIR) + "/torch_transformer_parts_reference.npz");
    using m_t = sequential<input<4, 6>, positional_embedding<>, sinusoidal_encoding, dense<8>, layer_norm<>, gelu, dense<8>, gelu_tanh,
                           layer_norm<{.elementwise_affine = false}>, dense<3>>;
    m_t m{seed{0}};
    std::vector<float> params(m_t::parameter_count);
    for (const auto& e : m.parameter_layout()) {
        const auto v = npz_floats(a, "param." + e.name);
        REQUIRE(v.size() == e.desc.size());
        std::copy(v.begin(), v.end(), params.begin() + long(e.offset));
    }
    m.set_parameters(params);
    const auto x = npz_floats(a, "x"), dy = npz_floats(a, "dy"), y_ref = npz_floats(a, "y"), dx_ref = npz_floats(a, "dx");
    auto ctx = m.context(3);
    const auto y = m.forward(x, ctx);
    REQUIRE(y.size() == y_ref.size());
    for (std::size_t i = 0; i < y_ref.size(); ++i) REQUIRE(y.data()[i] == Approx(y_ref[i]).epsilon(1e-4).margin(1e-5));
    m.zero_grad();
    m.backward(dy, ctx, true);
    for (std::size_t i = 0; i < dx_ref.size(); ++i) {
        INFO("dx index " << i);
        REQUIRE(ctx.input_gradient()[i] == Approx(dx_ref[i]).epsilon(1e-4).margin(1e-5));
    }
    for (const auto& e : m.parameter_layout()) {
        const auto g = npz_floats(a, "grad." + e.name);
        for (std::size_t i = 0; i < g.size(); ++i) {
            INFO(e.name << " index " << i);
            REQUIRE(m.gradients()[e.offset + i] == Approx(g[i]).epsilon(1e-4).margin(1e-5));
        }
    }
}

namespace {
/// A model of three padded sequences against a PyTorch reference case (@p prefix of @p file): parameters
/// param.<name> loaded by ctnn's names, then the output, the input gradient and every parameter gradient
/// (within @p tol), and predict equal to the training forward.
template <class M>
void check_against_torch(const std::string& file, const std::string& prefix, double tol, bool eval_predict = false) {
    const auto a = io::read_npz(std::string(CTNN_TEST_DATA_DIR) + "/" + file);
    M m{seed{0}};
    std::vector<float> params(M::parameter_count);
    for (const auto& e : m.parameter_layout()) {
        const auto v = npz_floats(a, prefix + "param." + e.name);
        REQUIRE(v.size() == e.desc.size());
        std::copy(v.begin(), v.end(), params.begin() + long(e.offset));
    }
    m.set_parameters(params);
    const auto x = npz_floats(a, prefix + "x"), dy = npz_floats(a, prefix + "dy"), y_ref = npz_floats(a, prefix + "y"),
               dx_ref = npz_floats(a, prefix + "dx");
    const auto lengths = test::npz_ints(a, prefix + "lengths");
    auto ctx = m.context(3);
    ctx.set_lengths(lengths);
    const auto y = m.forward(x, ctx);
    for (std::size_t i = 0; i < y_ref.size(); ++i) {
        INFO(prefix << "y index " << i);
        REQUIRE(y.data()[i] == Approx(y_ref[i]).epsilon(1e-4).margin(tol));
    }
    m.zero_grad();
    m.backward(dy, ctx, true);
    for (std::size_t i = 0; i < dx_ref.size(); ++i) {
        INFO(prefix << "dx index " << i);
        REQUIRE(ctx.input_gradient()[i] == Approx(dx_ref[i]).epsilon(1e-4).margin(tol));
    }
    for (const auto& e : m.parameter_layout()) {
        const auto g = npz_floats(a, prefix + "grad." + e.name);
        for (std::size_t i = 0; i < g.size(); ++i) {
            INFO(prefix << e.name << " index " << i);
            REQUIRE(m.gradients()[e.offset + i] == Approx(g[i]).epsilon(1e-4).margin(tol));
        }
    }
    if (eval_predict) m.eval();
    const auto p = m.predict(x, lengths);
    for (std::size_t i = 0; i < y_ref.size(); ++i) REQUIRE(p.data()[i] == Approx(y.data()[i]).epsilon(1e-5).margin(1e-6));
}
template <bool Causal>
void check_attention_against_torch(const std::string& prefix) {
    check_against_torch<sequential<input<5, 8>, multi_head_attention<2, {.causal = Causal}>, dense<3>>>("torch_attention_reference.npz",
                                                                                                     prefix, 2e-5);
}
}  // namespace

TEST_CASE("multi_head_attention: equals PyTorch's nn.MultiheadAttention without mask, with key padding, causal",
          "[attention][torch][lengths]") {
    using m_t = sequential<input<5, 8>, multi_head_attention<2>, dense<3>>;
    const auto names = m_t{seed{0}}.parameter_layout();
    REQUIRE(names[0].name == "0.in_proj_weight");
    REQUIRE(names[1].name == "0.in_proj_bias");
    REQUIRE(names[2].name == "0.out_proj.weight");
    REQUIRE(names[3].name == "0.out_proj.bias");
    check_attention_against_torch<false>("plain.");
    check_attention_against_torch<false>("padded.");
    check_attention_against_torch<true>("causal.");
}

TEST_CASE("multi_head_attention: parameter and input gradients match finite differences (masks, no bias, stacked)",
          "[attention][gradcheck][lengths]") {
    {
        const basic_sequential<double, input<4, 6>, multi_head_attention<3>, layer_norm<>, flatten, dense<2>> m{seed{7}};
        const auto r = testing::check_gradients(m, 3);
        INFO(r.message());
        REQUIRE(r.ok);
    }
    {
        const basic_sequential<double, input<5, 4>, multi_head_attention<2, {.causal = true}>, gelu,
                               multi_head_attention<1, {.bias = false}>, flatten, dense<2>>
            m{seed{8}};
        const auto r = testing::check_gradients(m, 3, {.lengths = {5, 2, 4}});
        INFO(r.message());
        REQUIRE(r.ok);
        REQUIRE(r.checked > decltype(m)::parameter_count);
    }
}

TEST_CASE("multi_head_attention: padded keys change nothing; causal rows ignore later positions", "[attention][lengths]") {
    using m_t = basic_sequential<double, input<6, 4>, multi_head_attention<2, {.causal = true}>>;
    m_t m{seed{3}};
    rng g{seed{4}};
    std::vector<double> x(2 * 24);
    for (auto& v : x) v = g.uniform(-1, 1);
    const std::vector<std::int32_t> lengths{6, 3};
    const auto y = m.predict(x, lengths);
    auto x2 = x;
    for (std::size_t i = 24 + 3 * 4; i < 48; ++i) x2[i] = 100.0;  // sample 1's padding
    for (std::size_t i = 4 * 4; i < 24; ++i) x2[i] = -7.0;        // sample 0's positions 4, 5: causal rows 0..3 do not see them
    const auto y2 = m.predict(x2, lengths);
    for (std::size_t i = 0; i < 4 * 4; ++i) REQUIRE(y2.data()[i] == Approx(y.data()[i]).epsilon(1e-14));
    for (std::size_t i = 24; i < 24 + 3 * 4; ++i) REQUIRE(y2.data()[i] == Approx(y.data()[i]).epsilon(1e-14));
}

TEST_CASE("multi_head_attention: dropout on the probabilities — training draws masks, evaluation is exact, gradients check",
          "[attention][dropout]") {
    using m_t = basic_sequential<double, input<5, 4>, multi_head_attention<2, {.dropout = 0.3}>, flatten, dense<2>>;
    m_t m{seed{9}};
    rng g{seed{10}};
    std::vector<double> x(2 * 20);
    for (auto& v : x) v = g.uniform(-1, 1);
    auto ctx = m.context(2);
    const auto y1 = m.forward(x, ctx);
    const std::vector<double> a(y1.begin(), y1.end());
    const auto y2 = m.forward(x, ctx);
    bool differs = false;
    for (std::size_t i = 0; i < a.size(); ++i) differs |= a[i] != y2.data()[i];
    REQUIRE(differs);  // a new mask per training forward
    // the mask of a training forward is drawn again in backward: finite differences in training mode
    const auto r = testing::check_gradients(m, 2);
    INFO(r.message());
    REQUIRE(r.ok);
    m.eval();
    const auto e1 = m.predict(x);
    using plain_t = basic_sequential<double, input<5, 4>, multi_head_attention<2>, flatten, dense<2>>;
    plain_t p{seed{1}};
    p.set_parameters(m.host_parameters());
    const auto e2 = p.predict(x);
    for (std::size_t i = 0; i < 4; ++i) REQUIRE(e1.data()[i] == Approx(e2.data()[i]).epsilon(1e-14));
}

namespace {
constexpr encoder_options post_norm{.nhead = 2, .dim_feedforward = 16, .dropout = 0};
constexpr encoder_options pre_norm{.nhead = 2, .dim_feedforward = 16, .dropout = 0, .activation = transformer_activation::gelu,
                                   .norm_first = true};

template <encoder_options O>
void check_encoder_against_torch(const std::string& prefix) {
    check_against_torch<sequential<input<5, 8>, transformer_encoder<2, O>, dense<3>>>("torch_encoder_reference.npz", prefix, 3e-5, true);
}
}  // namespace

TEST_CASE("transformer_encoder_layer: equals PyTorch's nn.TransformerEncoder (post-norm relu, pre-norm gelu, key padding)",
          "[transformer][torch][lengths]") {
    check_encoder_against_torch<post_norm>("post.");
    check_encoder_against_torch<pre_norm>("pre.");
}

TEST_CASE("transformer_encoder_layer: an nn.TransformerEncoder state_dict from tools/export_torch.py loads strictly",
          "[transformer][io]") {
    using enc = transformer_encoder_layer<post_norm>;
    sequential<input<5, 8>, named<"layers.0", enc>, named<"layers.1", enc>> m{seed{1}};
    const auto names = m.parameter_layout();
    REQUIRE(names.size() == 24);
    REQUIRE(names[0].name == "layers.0.self_attn.in_proj_weight");
    REQUIRE(names[11].name == "layers.0.norm2.bias");
    const auto path = std::string(CTNN_TEST_DATA_DIR) + "/torch_encoder_state_dict.npz";
    const auto r = load_npz(m, path);
    REQUIRE(r.loaded.size() == 24);
    const auto a = io::read_npz(path);
    const auto w = npz_floats(a, "layers.1.linear2.weight");
    const auto& e = names[18];
    REQUIRE(e.name == "layers.1.linear2.weight");
    for (std::size_t i = 0; i < w.size(); ++i) REQUIRE(m.host_parameters()[e.offset + i] == w[i]);
    // a model with another feed-forward width is refused, naming the array
    sequential<input<5, 8>, named<"layers.0", transformer_encoder_layer<{.nhead = 2, .dim_feedforward = 32}>>,
               named<"layers.1", transformer_encoder_layer<{.nhead = 2, .dim_feedforward = 32}>>>
        wide{seed{1}};
    REQUIRE_THROWS_WITH(load_npz(wide, path), Catch::Contains("layers.0.linear1.weight"));
}

TEST_CASE("transformer_encoder_layer: gradients match finite differences (post-norm, pre-norm causal, dropout)",
          "[transformer][gradcheck][lengths]") {
    {
        const basic_sequential<double, input<4, 6>, transformer_encoder_layer<{.nhead = 2, .dim_feedforward = 5, .dropout = 0}>, flatten,
                               dense<2>>
            m{seed{11}};
        const auto r = testing::check_gradients(m, 3, {.lengths = {4, 2, 3}});
        INFO(r.message());
        REQUIRE(r.ok);
        REQUIRE(r.checked > decltype(m)::parameter_count);
    }
    {
        const basic_sequential<double, input<4, 6>,
                               transformer_encoder_layer<{.nhead = 3, .dim_feedforward = 7, .dropout = 0.2,
                                                          .activation = transformer_activation::gelu, .norm_first = true, .causal = true}>,
                               flatten, dense<2>>
            m{seed{12}};
        const auto r = testing::check_gradients(m, 2);
        INFO(r.message());
        REQUIRE(r.ok);
    }
}

namespace {
/// The CPU's key-blocked attention kernel against the per-row rules (the GPU's) on sequences longer than
/// a block: outputs, log-sum-exp and d(q, k, v), with key padding, the causal mask and dropout.
template <class T, std::size_t D = 0>
void check_blocked_attention(bool causal, double dropout, double tol) {
    // 3 key blocks, the last one partial; D > 0: the kernel's compile-time head size (rows in registers)
    constexpr std::size_t steps = 150, heads = 3, E = heads * (D ? D : 4), batch = 2;
    rng g{seed{21}};
    std::vector<T> qkv(batch * steps * 3 * E), d_o(batch * steps * E);
    for (auto& v : qkv) v = T(g.uniform(-2, 2));
    for (auto& v : d_o) v = T(g.uniform(-1, 1));
    const std::vector<std::int32_t> lengths{150, 77};
    attn::shape_info<T> s;
    s.steps = steps;
    s.E = E;
    s.heads = heads;
    s.d = E / heads;
    s.scale = T(1) / std::sqrt(T(s.d));
    s.lengths = lengths.data();
    s.causal = causal;
    s.dropout = dropout;
    s.seed = 5;
    s.counter = 2;
    const std::size_t rows = batch * heads * steps;
    std::vector<T> o_ref(batch * steps * E), lse_ref(rows), delta(rows), dqkv_ref(qkv.size());
    for (std::size_t i = 0; i < rows; ++i) attn::forward_rows<T>{s, qkv.data(), o_ref.data(), lse_ref.data()}(i);
    for (std::size_t i = 0; i < rows; ++i)
        attn::backward_rows<T>{s, qkv.data(), o_ref.data(), lse_ref.data(), d_o.data(), delta.data(), dqkv_ref.data()}(i);
    for (std::size_t i = 0; i < rows; ++i) attn::backward_keys<T>{s, qkv.data(), lse_ref.data(), d_o.data(), delta.data(), dqkv_ref.data()}(i);
    std::vector<T> o(o_ref.size()), lse(rows), dqkv(qkv.size()), scratch(ops::attention_scratch<cpu>(batch * heads, steps, s.d));
    ops::attention_forward<cpu, D>(s, qkv.data(), o.data(), lse.data(), batch, scratch.data());
    ops::attention_backward<cpu, D>(s, qkv.data(), o.data(), lse.data(), d_o.data(), delta.data(), dqkv.data(), batch, scratch.data());
    for (std::size_t i = 0; i < o.size(); ++i) REQUIRE(double(o[i]) == Approx(double(o_ref[i])).epsilon(tol).margin(tol));
    for (std::size_t i = 0; i < rows; ++i) REQUIRE(double(lse[i]) == Approx(double(lse_ref[i])).epsilon(tol).margin(tol));
    for (std::size_t i = 0; i < dqkv.size(); ++i) {
        INFO("d(q, k, v) index " << i);
        REQUIRE(double(dqkv[i]) == Approx(double(dqkv_ref[i])).epsilon(tol).margin(tol));
    }
}
}  // namespace

TEST_CASE("attention: the CPU's key-blocked kernel equals the per-row rules over several blocks (padding, causal, dropout)",
          "[attention][lengths]") {
    check_blocked_attention<double>(false, 0.0, 1e-12);
    check_blocked_attention<double>(true, 0.25, 1e-12);
    check_blocked_attention<float>(false, 0.1, 2e-5);
    check_blocked_attention<float>(true, 0.0, 2e-5);
    check_blocked_attention<double, 16>(true, 0.2, 1e-12);  // head sizes that fill whole vectors
    check_blocked_attention<float, 32>(false, 0.0, 2e-5);
    check_blocked_attention<float, 16>(true, 0.3, 2e-5);
}

TEST_CASE("generation with a KV cache: stepping position by position equals predict on the whole prefix", "[transformer][step]") {
    constexpr std::size_t T_ = 7, V = 11, E = 8;
    using block_pre = transformer_encoder_layer<{.nhead = 2, .dim_feedforward = 12, .activation = transformer_activation::gelu,
                                                 .norm_first = true, .causal = true}>;
    using block_post = transformer_encoder_layer<{.nhead = 4, .dim_feedforward = 6, .causal = true}>;
    using gpt = sequential<input<T_>, embedding<V, E>, positional_embedding<{.init_std = 0.3}>, named<"layers.0", block_pre>,
                           named<"layers.1", block_post>, sinusoidal_encoding, layer_norm<>, dense<V>>;
    gpt m{seed{17}};
    m.eval();
    const std::vector<float> ids{3, 1, 4, 1, 5, 9, 2};
    const auto full = m.predict(ids);  // causal: position t of the full sequence depends on positions <= t only
    const float* emb = m.parameter_values().data();  // "0.weight" comes first
    typename std::remove_cvref_t<decltype(m.layer<2>())>::stream_state s0;
    typename std::remove_cvref_t<decltype(m.layer<3>())>::stream_state s1;
    std::array<float, E> a{}, b{};
    std::array<float, V> logits{};
    for (std::size_t t = 0; t < T_; ++t) {
        m.layer<1>().step(emb + std::size_t(ids[t]) * E, t, a.data());
        m.layer<2>().step(a.data(), s0, b.data());
        m.layer<3>().step(b.data(), s1, a.data());
        m.layer<4>().step(a.data(), t, b.data());
        m.layer<5>().predict_rows(b.data(), a.data(), 1);
        m.layer<6>().predict_rows(a.data(), logits.data(), 1);
        for (std::size_t j = 0; j < V; ++j) {
            INFO("position " << t << " logit " << j);
            REQUIRE(logits[j] == Approx(full.data()[t * V + j]).epsilon(1e-4).margin(1e-5));
        }
    }
    REQUIRE(s0.position() == T_);
    REQUIRE_THROWS_WITH(m.layer<2>().step(a.data(), s0, b.data()), Catch::Contains("KV cache is full"));
    REQUIRE_THROWS_WITH(m.layer<1>().step(a.data(), T_, b.data()), Catch::Contains("position 7 is beyond the 7 positions"));
    s0.reset();
    REQUIRE(s0.position() == 0);
}
