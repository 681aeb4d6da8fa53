// SPDX-License-Identifier: MIT
// Convolution and pooling: values by hand, finite-difference gradient checks in double for every
// option (stride, padding, dilation, groups, depthwise, no bias, fused activation), shape rules, and
// forward outputs and gradients against PyTorch (tests/data/torch_conv_reference.npz).
#include <catch2/catch.hpp>
#include <ctnn/ctnn.hpp>
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "../../support/gradcheck.hpp"

using namespace ctnn;
template <class... L>
using dmodel = basic_sequential<double, L...>;

TEST_CASE("conv2d: shapes and parameter layout follow nn.Conv2d", "[conv]") {
    using m = dmodel<input<28, 28, 3>, conv2d<8, 3>, conv2d<16, {3, 5}, {.stride = 2, .padding = {1, 2}}>,
                     conv2d<16, 3, {.padding = 2, .dilation = 2, .groups = 4, .bias = false}>, max_pool2d<2>,
                     avg_pool2d<3, {.stride = 1, .padding = 1}>, global_avg_pool2d>;
    static_assert(std::is_same_v<m::layer_type<0>::output_shape, shape<26, 26, 8>>);
    static_assert(std::is_same_v<m::layer_type<1>::output_shape, shape<13, 13, 16>>);
    static_assert(std::is_same_v<m::layer_type<2>::output_shape, shape<13, 13, 16>>);
    static_assert(std::is_same_v<m::layer_type<3>::output_shape, shape<6, 6, 16>>);
    static_assert(std::is_same_v<m::layer_type<4>::output_shape, shape<6, 6, 16>>);
    static_assert(std::is_same_v<m::output_shape, shape<1, 1, 16>>);
    static_assert(m::parameter_count == (8 * 3 * 9 + 8) + (16 * 8 * 15 + 16) + (16 * 4 * 9));
    m model{seed{1}};
    const auto names = model.parameter_layout();
    REQUIRE(names.size() == 5);
    REQUIRE(names[0].name == "0.weight");
    REQUIRE(names[0].desc.rank == 4);
    REQUIRE(names[0].desc.dims[1] == 3);
    REQUIRE(names[4].name == "2.weight");
    REQUIRE(names[4].desc.dims[1] == 4);  // C / groups
}

TEST_CASE("conv2d: a 2x2 kernel on a 3x3 image by hand", "[conv]") {
    dmodel<input<3, 3, 1>, conv2d<1, 2>> m{seed{0}};
    auto p = m.parameter_values();
    p[0] = 1, p[1] = 2, p[2] = 3, p[3] = 4, p[4] = 0.5;  // weight [[1, 2], [3, 4]], bias 0.5
    const std::vector<double> x{1, 2, 3, 4, 5, 6, 7, 8, 9};
    const auto y = m.predict(x);
    // top-left window 1 2 / 4 5: 1 + 4 + 12 + 20 + 0.5
    REQUIRE(y(0, 0, 0, 0) == 37.5);
    REQUIRE(y(0, 0, 1, 0) == 47.5);
    REQUIRE(y(0, 1, 0, 0) == 67.5);
    REQUIRE(y(0, 1, 1, 0) == 77.5);
    dmodel<input<2, 4, 1>, max_pool2d<2>> mp;
    const auto z = mp.predict(std::vector<double>{1, 5, 2, 0, 3, 4, 7, 8});
    REQUIRE(z(0, 0, 0, 0) == 5);
    REQUIRE(z(0, 0, 1, 0) == 8);
}

TEST_CASE("conv2d and pools: backward matches finite differences", "[conv][gradcheck]") {
    test::check_model_gradients(dmodel<input<5, 5, 2>, conv2d<3, 3>>{seed{1}}, 2);
    test::check_model_gradients(dmodel<input<6, 7, 2>, conv2d<4, {3, 2}, {.stride = {2, 1}, .padding = {1, 0}}>>{seed{2}}, 2);
    test::check_model_gradients(dmodel<input<7, 7, 2>, conv2d<2, 3, {.padding = 2, .dilation = 2, .bias = false}>>{seed{3}}, 2);
    test::check_model_gradients(dmodel<input<5, 5, 4>, conv2d<6, 3, {.padding = 1, .groups = 2}>>{seed{4}}, 2);
    test::check_model_gradients(dmodel<input<5, 5, 3>, conv2d<3, 3, {.padding = 1, .groups = 3}>>{seed{5}}, 2);  // depthwise
    test::check_model_gradients(dmodel<input<6, 6, 2>, conv2d<3, 3, {.padding = 1}>, relu, max_pool2d<2>, conv2d<2, 2>,
                                       ctnn::tanh, global_avg_pool2d, flatten, dense<2>>{seed{6}},
                                2);
    test::check_model_gradients(dmodel<input<5, 6, 2>, max_pool2d<3, {.stride = 2, .padding = 1}>>{seed{7}}, 2);
    test::check_model_gradients(dmodel<input<5, 6, 2>, avg_pool2d<3, {.stride = 2, .padding = 1}>>{seed{8}}, 2);
    test::check_model_gradients(dmodel<input<4, 4, 3>, avg_pool2d<2>, global_avg_pool2d>{seed{9}}, 3);
    // 8+ channels per group: the forward and dW are implicit GEMMs (gathered im2col blocks); with 8+
    // filters per group and stride 1, dX is the convolution of dY with the flipped kernel
    test::check_model_gradients(dmodel<input<4, 4, 8>, conv2d<8, 3, {.padding = 1}>>{seed{12}}, 2);
    test::check_model_gradients(dmodel<input<5, 4, 8>, conv2d<8, {3, 2}>>{seed{13}}, 2);
    test::check_model_gradients(dmodel<input<5, 5, 16>, conv2d<16, 3, {.padding = {2, 1}, .dilation = {2, 1}, .groups = 2}>>{seed{14}}, 2);
    test::check_model_gradients(dmodel<input<5, 4, 8>, conv2d<3, 3, {.padding = 1}>>{seed{10}}, 2);
    test::check_model_gradients(dmodel<input<5, 5, 16>, conv2d<4, 3, {.stride = 2, .padding = 1, .dilation = {1, 2}, .groups = 2}>>{seed{11}},
                                2);
}

TEST_CASE("conv2d: the implicit-GEMM forward equals a direct convolution, with any thread count", "[conv][threads]") {
    // 12×12×24 → 20 filters, groups 2 (12 channels per group), stride 1, padding 1, batch 6: rows are
    // split among threads; results must be bit-identical across thread counts and match the definition
    using m = basic_sequential<float, input<12, 12, 24>, conv2d<20, 3, {.padding = 1, .groups = 2}>>;
    m model{seed{5}};
    const std::size_t batch = 6;
    rng g{seed{6}};
    std::vector<float> x(batch * 12 * 12 * 24);
    for (auto& v : x) v = float(g.uniform(-1, 1));
    const auto w = model.parameter_values();  // [20, 12, 3, 3] then bias [20]
    set_num_threads(1);
    const auto y1 = model.predict(x);
    set_num_threads(2);
    const auto y2 = model.predict(x);
    set_num_threads(1);
    for (std::size_t i = 0; i < y1.size(); ++i) REQUIRE(y1.data()[i] == y2.data()[i]);
    for (std::size_t n = 0; n < batch; ++n)
        for (std::size_t oy = 0; oy < 12; ++oy)
            for (std::size_t ox = 0; ox < 12; ++ox)
                for (std::size_t f = 0; f < 20; ++f) {
                    double s = w[20 * 12 * 9 + f];
                    const std::size_t grp = f / 10;
                    for (std::size_t c = 0; c < 12; ++c)
                        for (std::size_t ky = 0; ky < 3; ++ky)
                            for (std::size_t kx = 0; kx < 3; ++kx) {
                                const long iy = long(oy + ky) - 1, ix = long(ox + kx) - 1;
                                if (iy < 0 || iy >= 12 || ix < 0 || ix >= 12) continue;
                                s += double(w[((f * 12 + c) * 3 + ky) * 3 + kx]) *
                                     double(x[((n * 12 + std::size_t(iy)) * 12 + std::size_t(ix)) * 24 + grp * 12 + c]);
                            }
                    REQUIRE(y1(n, oy, ox, f) == Approx(s).margin(1e-4));
                }
}

TEST_CASE("conv2d: fused activation equals the layers run one by one", "[conv][fusion]") {
    using m = basic_sequential<float, input<8, 8, 3>, conv2d<5, 3, {.padding = 1}>, relu, conv2d<4, 3, {.groups = 1}>, sigmoid>;
    static_assert(m::fuses_next<0>() && m::fuses_next<2>());
    m model{seed{3}};
    rng g{seed{1}};
    std::vector<float> x(2 * 8 * 8 * 3);
    for (auto& v : x) v = float(g.uniform(-1, 1));
    std::vector<float> a(2 * 8 * 8 * 5), b(a.size()), c(2 * 6 * 6 * 4), d(c.size());
    // each conv layer gets the scratch it declares (its slice of a container's plan)
    std::vector<float> scratch(std::max(m::layer_type<0>::scratch_size(2), m::layer_type<2>::scratch_size(2)));
    model.layer<0>().predict(x.data(), a.data(), 2, scratch.data());
    model.layer<1>().predict(a.data(), b.data(), 2);
    model.layer<2>().predict(b.data(), c.data(), 2, scratch.data());
    model.layer<3>().predict(c.data(), d.data(), 2);
    const auto y = model.predict(x);
    for (std::size_t i = 0; i < d.size(); ++i) REQUIRE(y.data()[i] == Approx(d[i]).margin(1e-6));
}

namespace {
/// Loads model parameters `<prefix>.param.<name>` from the reference archive, runs forward and backward
/// with its upstream gradient, and compares outputs, input gradient and parameter gradients.
template <class Model>
void check_against_torch(const std::string& prefix) {
    auto arrays = io::read_npz(std::string(CTNN_TEST_DATA_DIR) + "/torch_conv_reference.npz");
    auto has = [&](const std::string& key) { return arrays.count(prefix + "." + key) > 0; };
    auto get = [&](const std::string& key) {
        const auto it = arrays.find(prefix + "." + key);
        INFO("array " << prefix << "." << key);
        REQUIRE(it != arrays.end());
        const auto& a = it->second;
        std::vector<float> v(a.data.size() / sizeof(float));
        std::memcpy(v.data(), a.data.data(), a.data.size());
        return v;
    };
    Model m{seed{0}};
    std::vector<float> params(Model::parameter_count);
    for (const auto& p : m.parameter_layout()) {
        const auto v = get("param." + p.name);
        REQUIRE(v.size() == p.desc.size());
        std::copy(v.begin(), v.end(), params.begin() + long(p.offset));
    }
    m.set_parameters(params);
    auto states = m.host_states();
    for (const auto& e : m.state_layout())
        if (has("state0." + e.name)) {
            const auto v = get("state0." + e.name);
            std::copy(v.begin(), v.end(), states.begin() + long(e.offset));
        }
    m.set_states(states);
    const auto x = get("x"), r = get("r"), y_ref = get("y"), dx_ref = get("dx");
    const std::size_t batch = x.size() / Model::input_shape::size;
    auto ctx = m.context(batch);
    const auto y = m.forward(x, ctx);
    REQUIRE(y.size() == y_ref.size());
    for (std::size_t i = 0; i < y.size(); ++i) REQUIRE(y.data()[i] == Approx(y_ref[i]).margin(1e-4));
    m.zero_grad();
    m.backward(r, ctx, true);
    const auto dx = ctx.input_gradient();
    for (std::size_t i = 0; i < dx_ref.size(); ++i) REQUIRE(dx.data()[i] == Approx(dx_ref[i]).margin(1e-4));
    const auto grads = m.host_gradients();
    for (const auto& p : m.parameter_layout()) {
        const auto g = get("grad." + p.name);
        for (std::size_t i = 0; i < g.size(); ++i) {
            INFO(p.name << " element " << i);
            // (a bias right before a batch norm has gradient 0 up to float noise: margin 5e-4)
            REQUIRE(grads[p.offset + i] == Approx(g[i]).margin(5e-4).epsilon(1e-4));
        }
    }
    // batch norm: running statistics after the training forward, then the eval-mode output
    const auto after = m.host_states();
    for (const auto& e : m.state_layout())
        if (e.desc.persistent) {
            const auto v = get("state." + e.name);
            for (std::size_t i = 0; i < v.size(); ++i) {
                INFO(e.name << " element " << i);
                REQUIRE(after[e.offset + i] == Approx(v[i]).margin(1e-5));
            }
        }
    if (has("y_eval")) {
        const auto y_eval = get("y_eval");
        const auto p = m.predict(x);
        for (std::size_t i = 0; i < y_eval.size(); ++i) REQUIRE(p.data()[i] == Approx(y_eval[i]).margin(1e-4));
    }
}
}  // namespace

TEST_CASE("torch reference: batch_norm2d/1d in training (outputs, gradients, running statistics) and eval mode",
          "[conv][norm][torch]") {
    check_against_torch<sequential<input<5, 5, 2>, conv2d<3, 3, {.padding = 1}>, batch_norm2d<>, relu, global_avg_pool2d, flatten,
                                   dense<4>, batch_norm1d<>>>("bn");
}

TEST_CASE("batch_norm: gradient checks in training and evaluation mode; states saved as a state_dict", "[conv][norm][gradcheck]") {
    test::check_model_gradients(dmodel<input<3, 3, 2>, conv2d<3, 2>, batch_norm2d<>, ctnn::tanh>{seed{1}}, 3);
    test::check_model_gradients(dmodel<input<5>, batch_norm1d<{.affine = false}>, dense<2>>{seed{2}}, 4);
    test::check_model_gradients(dmodel<input<2, 4>, batch_norm1d<{.eps = 1e-3, .momentum = 0.3}>>{seed{3}}, 3);
    dmodel<input<3, 3, 2>, batch_norm2d<>, dense<2>> m{seed{4}};
    m.eval();
    test::check_model_gradients(m, 3);
    // names as in PyTorch; num_batches_tracked is an int64 scalar; the batch statistics are not saved
    const auto path = std::filesystem::temp_directory_path() / "ctnn_bn_test.npz";
    save_npz(m, path);
    const auto arrays = io::read_npz(path);
    REQUIRE(arrays.size() == 7);  // 0.weight, 0.bias, 0.running_mean, 0.running_var, 0.num_batches_tracked, 1.weight, 1.bias
    REQUIRE(arrays.at("0.running_var").shape == std::vector<std::size_t>{2});
    REQUIRE(arrays.at("0.num_batches_tracked").dtype == "<i8");
    REQUIRE(arrays.at("0.num_batches_tracked").shape.empty());
    decltype(m) back{seed{9}};
    load_npz(back, path);
    REQUIRE(back.host_states()[0] == m.host_states()[0]);
    std::filesystem::remove(path);
}

TEST_CASE("torch reference: a small CNN and a strided/dilated conv with max pooling match PyTorch", "[conv][torch]") {
    check_against_torch<sequential<input<8, 8, 3>, conv2d<4, 3, {.padding = 1}>, relu, max_pool2d<2>,
                                   conv2d<6, 3, {.padding = 1, .groups = 2}>, ctnn::tanh, avg_pool2d<2>, global_avg_pool2d,
                                   flatten, dense<3>>>("cnn");
    check_against_torch<sequential<input<9, 8, 2>,
                                   conv2d<3, {3, 2}, {.stride = {2, 1}, .padding = {1, 0}, .dilation = {1, 2}, .bias = false}>,
                                   max_pool2d<3, {.stride = 2, .padding = 1}>>>("strided");
}

TEST_CASE("torch reference: torchvision's BasicBlock with downsample, and transposed convolutions, match PyTorch",
          "[conv][residual][transpose][torch]") {
    // the block in training mode (batch statistics, running statistics updated), then in eval mode
    check_against_torch<sequential<input<6, 6, 4>, named<"block", models::basic_block<6, 2>>, relu>>("block");
    check_against_torch<sequential<input<3, 4, 3>, zero_pad2d<{0, 1, 2, 0}>,
                                   conv_transpose2d<4, 3, {.stride = 2, .padding = 1, .output_padding = 1}>, relu,
                                   conv_transpose2d<2, {2, 3}, {.stride = {1, 2}, .dilation = {2, 1}, .groups = 2, .bias = false}>,
                                   upsample2d<{2, 1}>>>("transpose");
    // flatten of a 4×5×3 map feeds nn.Linear's weight columns in (c, h, w) order
    check_against_torch<sequential<input<4, 5, 2>, conv2d<3, 3, {.padding = 1}>, relu, flatten, dense<4>>>("flat");
}

TEST_CASE("flatten: NHWC images come out in PyTorch's (c, h, w) order; gradient check", "[conv][flatten][gradcheck]") {
    dmodel<input<2, 2, 3>, flatten> f;
    std::vector<double> x(12);
    for (std::size_t i = 0; i < 12; ++i) x[i] = double(i);  // x[h, w, c] = (h·2 + w)·3 + c
    const auto y = f.predict(x);
    for (std::size_t c = 0; c < 3; ++c)
        for (std::size_t p = 0; p < 4; ++p) REQUIRE(y(0, c * 4 + p) == double(p * 3 + c));
    dmodel<input<1, 1, 5>, flatten> pooled;  // 1×1 maps and single channels are already in that order
    REQUIRE(pooled.predict(std::vector<double>{1, 2, 3, 4, 5})(0, 3) == 4);
    test::check_model_gradients(dmodel<input<3, 3, 2>, conv2d<3, 2>, ctnn::tanh, flatten, dense<3>>{seed{4}}, 2);
}

TEST_CASE("residual: basic and projection blocks pass the gradient check; names and shape rules", "[conv][residual][gradcheck]") {
    // a ResNet basic block (identity shortcut) and a downsampling block (1x1 stride-2 projection + batch norm)
    using basic = residual<chain<conv2d<2, 3, {.padding = 1}>, batch_norm2d<>, relu, conv2d<2, 3, {.padding = 1}>, batch_norm2d<>>>;
    using down = residual<chain<conv2d<3, 3, {.stride = 2, .padding = 1, .bias = false}>, batch_norm2d<>, relu,
                                conv2d<3, 3, {.padding = 1, .bias = false}>, batch_norm2d<>>,
                          chain<conv2d<3, 1, {.stride = 2, .bias = false}>, batch_norm2d<>>>;
    using m = dmodel<input<4, 4, 2>, basic, relu, down, relu, global_avg_pool2d, flatten, dense<2>>;
    static_assert(std::is_same_v<m::layer_type<2>::output_shape, shape<2, 2, 3>>);
    test::check_model_gradients(m{seed{1}}, 3);
    m model{seed{2}};
    const auto names = model.parameter_layout();
    REQUIRE(names[0].name == "0.main.0.weight");
    REQUIRE(names[2].name == "0.main.1.weight");  // batch norm γ
    bool has_projection = false;
    for (const auto& e : names) has_projection = has_projection || e.name == "2.shortcut.0.weight";
    REQUIRE(has_projection);
    const auto states = model.state_layout();
    REQUIRE(states[0].name == "0.main.1.running_mean");
    // eval mode: predict equals forward
    model.eval();
    std::vector<double> x(3 * 32, 0.5);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(double(i));
    auto ctx = model.context(3);
    const auto y = model.forward(x, ctx);
    const auto p = model.predict(x);
    for (std::size_t i = 0; i < y.size(); ++i) REQUIRE(p.data()[i] == Approx(y.data()[i]).epsilon(1e-12));
}

TEST_CASE("zero_pad2d and upsample2d: values by hand, gradient checks", "[conv][resample][gradcheck]") {
    dmodel<input<2, 2, 1>, zero_pad2d<{1, 2}>> pad;
    static_assert(std::is_same_v<decltype(pad)::output_shape, shape<4, 6, 1>>);
    const auto p = pad.predict(std::vector<double>{1, 2, 3, 4});
    REQUIRE(p(0, 0, 0, 0) == 0);
    REQUIRE(p(0, 1, 2, 0) == 1);
    REQUIRE(p(0, 2, 3, 0) == 4);
    REQUIRE(p(0, 3, 5, 0) == 0);
    dmodel<input<2, 2, 1>, upsample2d<{2, 3}>> up;
    static_assert(std::is_same_v<decltype(up)::output_shape, shape<4, 6, 1>>);
    const auto u = up.predict(std::vector<double>{1, 2, 3, 4});
    REQUIRE(u(0, 0, 0, 0) == 1);
    REQUIRE(u(0, 1, 2, 0) == 1);
    REQUIRE(u(0, 1, 3, 0) == 2);
    REQUIRE(u(0, 3, 5, 0) == 4);
    dmodel<input<2, 2, 1>, zero_pad2d<{0, 1, 2, 0}>> asym;  // nn.ZeroPad2d((left 0, right 1, top 2, bottom 0))
    static_assert(std::is_same_v<decltype(asym)::output_shape, shape<4, 3, 1>>);
    const auto a = asym.predict(std::vector<double>{1, 2, 3, 4});
    REQUIRE(a(0, 1, 2, 0) == 0);
    REQUIRE(a(0, 2, 0, 0) == 1);
    REQUIRE(a(0, 3, 1, 0) == 4);
    REQUIRE(a(0, 3, 2, 0) == 0);
    test::check_model_gradients(dmodel<input<3, 4, 2>, zero_pad2d<{2, 1}>, conv2d<2, 3>>{seed{1}}, 2);
    test::check_model_gradients(dmodel<input<3, 4, 2>, zero_pad2d<{1, 0, 0, 2}>, conv2d<2, 3>>{seed{3}}, 2);
    test::check_model_gradients(dmodel<input<3, 2, 2>, upsample2d<2>, conv2d<2, 3, {.padding = 1}>>{seed{2}}, 2);
}

TEST_CASE("concat: channel concatenation of two branches (or the input itself), gradient check, names", "[conv][concat][gradcheck]") {
    using block = concat<chain<conv2d<3, 3, {.padding = 1}>, relu>, chain<conv2d<2, 1>>>;
    using m = dmodel<input<4, 4, 2>, block, concat<chain<conv2d<1, 3, {.padding = 1}>>, chain<>>, global_avg_pool2d, flatten, dense<2>>;
    static_assert(std::is_same_v<m::layer_type<0>::output_shape, shape<4, 4, 5>>);
    static_assert(std::is_same_v<m::layer_type<1>::output_shape, shape<4, 4, 6>>);
    test::check_model_gradients(m{seed{3}}, 2);
    m model{seed{4}};
    REQUIRE(model.parameter_layout()[2].name == "0.b.0.weight");
    // values: the second block's output is [conv(x), x] channel by channel
    dmodel<input<1, 1, 2>, concat<chain<dense<1, false>>, chain<>>> c{seed{0}};
    c.parameter_values()[0] = 1, c.parameter_values()[1] = 10;  // dense: 1·x0 + 10·x1
    const auto y = c.predict(std::vector<double>{2, 3});
    REQUIRE(y(0, 0, 0, 0) == 32);
    REQUIRE(y(0, 0, 0, 1) == 2);
    REQUIRE(y(0, 0, 0, 2) == 3);
}

TEST_CASE("conv_transpose2d: shapes and names as nn.ConvTranspose2d, values by hand, gradient checks", "[conv][transpose][gradcheck]") {
    using m = dmodel<input<7, 7, 4>, conv_transpose2d<8, 4, {.stride = 2, .padding = 1}>,
                     conv_transpose2d<6, 3, {.stride = 2, .padding = 1, .output_padding = 1, .groups = 2, .bias = false}>,
                     conv_transpose2d<2, {3, 2}, {.dilation = {2, 1}}>>;
    static_assert(std::is_same_v<m::layer_type<0>::output_shape, shape<14, 14, 8>>);
    static_assert(std::is_same_v<m::layer_type<1>::output_shape, shape<28, 28, 6>>);
    static_assert(std::is_same_v<m::output_shape, shape<32, 29, 2>>);
    static_assert(m::parameter_count == (4 * 8 * 16 + 8) + (8 * 3 * 9) + (6 * 2 * 6 + 2));
    m model{seed{1}};
    const auto names = model.parameter_layout();
    REQUIRE(names[0].name == "0.weight");
    REQUIRE(names[0].desc.dims[0] == 4);  // [in, out / groups, kh, kw]
    REQUIRE(names[0].desc.dims[1] == 8);
    REQUIRE(names[2].desc.dims[1] == 3);

    // stride 2 on a 2x2 image, 2x2 kernel: every input pixel stamps the kernel onto its own 2x2 block
    dmodel<input<2, 2, 1>, conv_transpose2d<1, 2, {.stride = 2}>> up{seed{0}};
    auto p = up.parameter_values();
    p[0] = 1, p[1] = 2, p[2] = 3, p[3] = 4, p[4] = 0.5;
    const auto y = up.predict(std::vector<double>{1, 2, 3, 4});
    static_assert(std::is_same_v<decltype(up)::output_shape, shape<4, 4, 1>>);
    REQUIRE(y(0, 0, 0, 0) == 1.5);
    REQUIRE(y(0, 1, 1, 0) == 4.5);
    REQUIRE(y(0, 0, 2, 0) == 2.5);
    REQUIRE(y(0, 3, 3, 0) == 16.5);
    // stride 1, overlapping windows add up: y[i + k] += x[i]·w[k]
    dmodel<input<2, 1, 1>, conv_transpose2d<1, {2, 1}, {.bias = false}>> overlap{seed{0}};
    overlap.parameter_values()[0] = 10, overlap.parameter_values()[1] = 1;
    const auto z = overlap.predict(std::vector<double>{2, 3});
    REQUIRE(z(0, 0, 0, 0) == 20);
    REQUIRE(z(0, 1, 0, 0) == 2 + 30);
    REQUIRE(z(0, 2, 0, 0) == 3);

    test::check_model_gradients(dmodel<input<3, 3, 2>, conv_transpose2d<3, 3>>{seed{1}}, 2);
    test::check_model_gradients(dmodel<input<3, 4, 2>, conv_transpose2d<2, 3, {.stride = 2, .padding = 1, .output_padding = 1}>>{seed{2}}, 2);
    test::check_model_gradients(
        dmodel<input<3, 3, 4>, conv_transpose2d<4, {2, 3}, {.stride = {1, 2}, .dilation = {2, 1}, .groups = 2, .bias = false}>>{seed{3}},
        2);
    test::check_model_gradients(dmodel<input<2, 2, 3>, conv_transpose2d<4, 4, {.stride = 2, .padding = 1}>, relu,
                                       conv2d<2, 3, {.padding = 1}>, global_avg_pool2d, flatten, dense<2>>{seed{4}},
                                2);
}

TEST_CASE("freeze: a frozen batch norm runs in eval mode by default (running statistics kept), or in the model's mode",
          "[conv][norm][freeze]") {
    using m = dmodel<input<3, 3, 2>, conv2d<2, 3, {.padding = 1}>, batch_norm2d<>, relu, global_avg_pool2d, flatten, dense<2>>;
    std::vector<double> x(4 * 18);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::cos(double(i) * 0.7);
    const std::vector<double> dy(4 * 2, 0.1);
    for (const frozen_mode how : {frozen_mode::eval, frozen_mode::model}) {
        m model{seed{3}};
        model.train();
        model.freeze(1, how);
        REQUIRE(model.frozen_mode_of(1) == how);
        const auto before = model.host_states();
        auto ctx = model.context(4);
        const auto y = model.forward(x, ctx);
        model.backward(dy, ctx, true);
        const auto after = model.host_states();
        if (how == frozen_mode::eval) {
            REQUIRE(after == before);  // running statistics untouched
            const auto p = model.predict(x);
            for (std::size_t i = 0; i < p.size(); ++i) REQUIRE(p.data()[i] == Approx(y.data()[i]).epsilon(1e-12));
        } else
            REQUIRE(after != before);  // training mode: batch statistics, running ones updated
        // the frozen layer's γ, β get no gradient; the conv below it still does
        const auto g = model.host_gradients();
        const auto names = model.parameter_layout();
        for (const auto& e : names)
            if (e.name.rfind("1.", 0) == 0)
                for (std::size_t i = 0; i < e.desc.size(); ++i) REQUIRE(g[e.offset + i] == 0);
        REQUIRE(std::any_of(g.begin(), g.begin() + long(names[1].offset + names[1].desc.size()), [](double v) { return v != 0; }));
        const auto copy = model;  // the copy keeps the frozen mode
        REQUIRE(copy.frozen_mode_of(1) == how);
    }
}

TEST_CASE("models: resnet18/34 have torchvision's parameter counts and state_dict names", "[conv][models]") {
    STATIC_REQUIRE(models::resnet18<1000>::parameter_count == 11'689'512);
    STATIC_REQUIRE(models::resnet34<1000>::parameter_count == 21'797'672);
    STATIC_REQUIRE(models::resnet18<10>::parameter_count == 11'181'642);
    models::resnet34<1000> r34{seed{1}};
    const auto names = r34.parameter_layout();
    REQUIRE(names.front().name == "conv1.weight");
    REQUIRE(names.back().name == "fc.bias");
    std::vector<std::string> all;
    for (const auto& e : names) all.push_back(e.name);
    for (const char* n : {"layer1.2.conv2.weight", "layer2.0.downsample.0.weight", "layer3.5.bn2.bias", "layer4.2.bn1.weight"})
        REQUIRE(std::find(all.begin(), all.end(), n) != all.end());
    std::string last_saved;
    for (const auto& e : r34.state_layout())
        if (e.desc.persistent) last_saved = e.name;
    REQUIRE(last_saved == "layer4.2.bn2.num_batches_tracked");
}

TEST_CASE("export_torch.py output: a custom nn.Module's state_dict loads strictly and predicts as PyTorch", "[conv][torch][io]") {
    // tests/data/torch_small_cnn*.npz: tools/export_torch.py torch_models:small_cnn (see tools/torch_models.py)
    using m = sequential<input<8, 8, 1>, conv2d<8, 3, {.padding = 1}>, batch_norm2d<>, relu, max_pool2d<2>,
                         conv2d<16, 3, {.padding = 1}>, relu, flatten, dense<10>>;
    m model{seed{9}};
    const std::string dir = CTNN_TEST_DATA_DIR;
    load_npz(model, dir + "/torch_small_cnn.npz");  // strict: PyTorch's names, shapes, int64 num_batches_tracked
    model.eval();
    auto ref = io::read_npz(dir + "/torch_small_cnn_reference.npz");
    const auto& xa = ref.at("x");
    const auto& ya = ref.at("y");
    REQUIRE(xa.dtype == "<f4");
    std::vector<float> x(xa.count()), y(ya.count());
    std::memcpy(x.data(), xa.data.data(), x.size() * sizeof(float));
    std::memcpy(y.data(), ya.data.data(), y.size() * sizeof(float));
    const auto p = model.predict(x);
    REQUIRE(p.size() == y.size());
    for (std::size_t i = 0; i < y.size(); ++i) REQUIRE(p.data()[i] == Approx(y[i]).margin(1e-4));
    // and back: ctnn's npz has exactly the exported keys, shapes and dtypes
    const auto path = std::filesystem::temp_directory_path() / "ctnn_small_cnn_roundtrip.npz";
    save_npz(model, path);
    const auto saved = io::read_npz(path), exported = io::read_npz(dir + "/torch_small_cnn.npz");
    REQUIRE(saved.size() == exported.size());
    for (const auto& [k, v] : exported) {
        INFO(k);
        REQUIRE(saved.count(k) == 1);
        REQUIRE(saved.at(k).dtype == v.dtype);
        REQUIRE(saved.at(k).shape == v.shape);
        REQUIRE(saved.at(k).data == v.data);
    }
    std::filesystem::remove(path);
}

TEST_CASE("conv2d backward: the gathered paths (large column matrices) equal the materialised ones", "[conv][threads]") {
    // batch 16 of 32×32×32 has 18.9 MB of columns: dW and dX take the implicit-GEMM paths; one sample at a
    // time (1.2 MB) takes the im2col + GEMM + col2im path, which the gradient checks cover
    using m = basic_sequential<float, input<32, 32, 32>, conv2d<16, 3, {.padding = 1}>>;
    m big{seed{7}}, one{seed{7}};
    const std::size_t batch = 16, in = 32 * 32 * 32, out = 32 * 32 * 16;
    rng g{seed{8}};
    std::vector<float> x(batch * in), dy(batch * out);
    for (auto& v : x) v = float(g.uniform(-1, 1));
    for (auto& v : dy) v = float(g.uniform(-1, 1));
    set_num_threads(2);
    auto ctx = big.context(batch);
    big.zero_grad();
    big.forward(x, ctx);
    big.backward(dy, ctx, true);
    const std::vector<float> dx_big(ctx.input_gradient().data(), ctx.input_gradient().data() + batch * in);
    set_num_threads(1);
    auto c1 = one.context(1);
    one.zero_grad();
    for (std::size_t n = 0; n < batch; ++n) {
        one.forward(std::vector<float>(x.begin() + long(n * in), x.begin() + long((n + 1) * in)), c1);
        one.backward(std::vector<float>(dy.begin() + long(n * out), dy.begin() + long((n + 1) * out)), c1, true);
        const float* dx1 = c1.input_gradient().data();
        for (std::size_t i = 0; i < in; i += 7) REQUIRE(dx_big[n * in + i] == Approx(dx1[i]).margin(1e-4));
    }
    const auto gb = big.host_gradients(), g1 = one.host_gradients();
    for (std::size_t i = 0; i < gb.size(); ++i) REQUIRE(gb[i] == Approx(g1[i]).margin(2e-3).epsilon(1e-4));
}
