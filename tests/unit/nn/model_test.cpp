// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>
#include <cstring>
#include <ctnn/ctnn.hpp>
#include <filesystem>
#include <fstream>
#include <vector>

using namespace ctnn;
namespace fs = std::filesystem;

namespace {
using small_mlp = sequential<input<4, 3>, flatten, dense<16>, relu, dropout<0.2>, dense<3>>;

fs::path temp_path(const std::string& name) { return fs::temp_directory_path() / ("ctnn_model_test_" + name); }

/// A separable 3-class problem on 12 features.
data::dataset<float> toy_data(std::size_t n, std::uint64_t s) {
    rng g{seed{s}};
    auto d = data::dataset<float>::zeros(n, 12, 3);
    for (std::size_t i = 0; i < n; ++i) {
        const int c = int(g.below(3));
        d.labels[i] = c;
        for (std::size_t j = 0; j < 12; ++j) d.x[i * 12 + j] = float(g.normal() * 0.5 + (j % 3 == std::size_t(c) ? 1.0 : 0.0));
    }
    return d;
}
}  // namespace

TEST_CASE("sequential: parameters are named like torch.nn.Sequential", "[model][sequential]") {
    small_mlp m;
    const auto p = m.named_parameters();
    REQUIRE(p.size() == 4);
    REQUIRE(p[0].name == "1.weight");
    REQUIRE(p[1].name == "1.bias");
    REQUIRE(p[2].name == "4.weight");
    REQUIRE(p[3].name == "4.bias");
    REQUIRE(p[2].value - p[0].value == 16 * 12 + 16);  // one flat buffer, in layer order
    REQUIRE(small_mlp::parameter_count == 12 * 16 + 16 + 16 * 3 + 3);
}

TEST_CASE("sequential: dense + activation are fused and give what the layers give one by one", "[model][sequential][fusion]") {
    using m = sequential<input<12>, dense<40>, relu, dense<33>, ctnn::tanh, dense<17>, leaky_relu<0.1>, dense<9>, sigmoid,
                         dropout<0.5>, dense<5>, leaky_relu<-0.5>, dense<3>, identity>;
    static_assert(m::fuses_next<0>() && m::fused_into_previous<1>() && m::fuses_next<2>() && m::fuses_next<4>() &&
                  m::fuses_next<6>() && m::fuses_next<11>());
    static_assert(!m::fuses_next<1>() && !m::fuses_next<8>() && !m::fuses_next<9>(),
                  "activations, dropout and the layer after them are not fused");
    static_assert(!m::fuses_next<10>(), "leaky_relu with a negative slope needs its input for backward: not fused");
    m model{seed{4}};
    model.eval();
    for (std::size_t batch : {std::size_t(1), std::size_t(7), std::size_t(64)}) {
        rng g{seed{batch}};
        std::vector<float> x(batch * 12);
        for (auto& v : x) v = float(g.uniform(-2, 2));
        // reference: every layer's own (unfused) predict, one after the other
        std::vector<float> cur = x, next;
        auto step = [&]<std::size_t I>(std::integral_constant<std::size_t, I>) {
            next.assign(batch * m::activation_sizes[I + 1], 0.0f);
            model.layer<I>().predict(cur.data(), next.data(), batch);
            cur.swap(next);
        };
        [&]<std::size_t... I>(std::index_sequence<I...>) { (step(std::integral_constant<std::size_t, I>{}), ...); }(
            std::make_index_sequence<m::depth>{});
        const auto fused = model.predict(x);
        auto ctx = model.context(batch);
        const auto trained = model.forward(x, ctx);
        REQUIRE(fused.size() == cur.size());
        for (std::size_t i = 0; i < cur.size(); ++i) {
            INFO("batch " << batch << " output " << i);
            REQUIRE(fused.data()[i] == Approx(cur[i]).margin(1e-5));
            REQUIRE(trained.data()[i] == Approx(cur[i]).margin(1e-5));
        }
    }
}

TEST_CASE("sequential: the same seed gives bit-identical training", "[model][sequential][determinism]") {
    auto train = [] {
        small_mlp m{seed{3}};
        optim::adam o{m.parameters(), {.lr = 1e-2}};
        const auto d = toy_data(64, 1);
        fit(m, o, loss::cross_entropy{}, d, {.epochs = 2, .batch = 16, .shuffle_seed = seed{2}});
        return std::vector<float>(m.parameter_values().begin(), m.parameter_values().end());
    };
    REQUIRE(train() == train());
}

TEST_CASE("sequential: a copy owns its parameters", "[model][sequential]") {
    small_mlp a{seed{1}};
    small_mlp b = a;
    b.parameter_values()[0] += 1.0f;
    REQUIRE(a.parameter_values()[0] != b.parameter_values()[0]);
    auto x = std::vector<float>(12, 0.5f);
    a.eval();
    REQUIRE(b.predict(x)(0, 0) != a.predict(x)(0, 0));
}

TEST_CASE("sequential: batch larger than reserved and wrong input sizes throw ctnn::error", "[model][sequential][bad-input]") {
    small_mlp m;
    auto ctx = m.context(4);
    std::vector<float> x5(5 * 12), x_bad(13);
    REQUIRE_THROWS_WITH(m.forward(x5, ctx), Catch::Contains("batch of 5 is larger than the 4 reserved"));
    REQUIRE_THROWS_WITH(m.forward(x_bad, ctx), Catch::Contains("12 elements per sample"));
    xt::xtensor<float, 2> wrong_lead = xt::zeros<float>({3, 24});  // 72 values = 6 samples, but leading dim 3
    REQUIRE_THROWS_WITH(m.forward(wrong_lead, ctx), Catch::Contains("leading (batch) dimension 3"));
    std::vector<float> x2(2 * 12);
    m.forward(x2, ctx);
    std::vector<float> dy3(3 * 3);
    REQUIRE_THROWS_WITH(m.backward(dy3, ctx), Catch::Contains("does not match the last forward's batch 2"));
    REQUIRE_THROWS_AS(m.context(0), ctnn::error);
    REQUIRE_THROWS_AS(m.freeze(9), ctnn::error);
}

TEST_CASE("sequential: save_npz -> load_npz gives identical predictions", "[model][io]") {
    small_mlp a{seed{7}}, b{seed{8}};
    a.eval();
    b.eval();
    std::vector<float> x(5 * 12);
    rng g{seed{1}};
    for (auto& v : x) v = float(g.normal());
    for (bool compress : {true, false}) {
        const auto path = temp_path(compress ? "deflate.npz" : "stored.npz");
        save_npz(a, path, compress);
        REQUIRE(fs::exists(path));
        REQUIRE_FALSE(fs::exists(path.string() + ".tmp-" + std::to_string(::getpid())));
        load_npz(b, path);
        const auto ya = a.predict(x), yb = b.predict(x);
        REQUIRE(std::memcmp(ya.data(), yb.data(), ya.size() * sizeof(float)) == 0);
        fs::remove(path);
    }
}

TEST_CASE("sequential: load_npz rejects mismatches and leaves the model unchanged", "[model][io][bad-input]") {
    small_mlp m{seed{1}};
    const std::vector<float> before(m.parameter_values().begin(), m.parameter_values().end());
    auto write = [](const std::string& name, std::map<std::string, io::npy_array> arrays) {
        const auto p = temp_path(name);
        io::write_npz(p, arrays);
        return p;
    };
    auto f32 = [](std::vector<std::size_t> shape) {
        io::npy_array a{"<f4", shape, {}};
        a.data.assign(a.count() * 4, '\0');
        return a;
    };
    std::map<std::string, io::npy_array> good{{"1.weight", f32({16, 12})}, {"1.bias", f32({16})}, {"4.weight", f32({3, 16})}, {"4.bias", f32({3})}};
    SECTION("missing array") {
        auto a = good;
        a.erase("4.bias");
        REQUIRE_THROWS_WITH(load_npz(m, write("missing.npz", a)), Catch::Contains("lacks array '4.bias'"));
    }
    SECTION("extra array") {
        auto a = good;
        a["5.weight"] = f32({1});
        REQUIRE_THROWS_WITH(load_npz(m, write("extra.npz", a)), Catch::Contains("unexpected array '5.weight'"));
    }
    SECTION("wrong shape (transposed weight)") {
        auto a = good;
        a["1.weight"] = f32({12, 16});
        REQUIRE_THROWS_WITH(load_npz(m, write("shape.npz", a)),
                            Catch::Contains("'1.weight' has shape [12, 16], expected [16, 12]"));
    }
    SECTION("wrong dtype") {
        auto a = good;
        a["1.bias"] = io::npy_array{"<f8", {16}, std::string(16 * 8, '\0')};
        REQUIRE_THROWS_WITH(load_npz(m, write("dtype.npz", a)), Catch::Contains("'1.bias' has dtype <f8, expected <f4"));
    }
    SECTION("missing file") { REQUIRE_THROWS_WITH(load_npz(m, temp_path("nope.npz")), Catch::Contains("cannot open")); }
    const std::vector<float> after(m.parameter_values().begin(), m.parameter_values().end());
    REQUIRE(before == after);
}

TEST_CASE("sequential: a frozen layer keeps its parameters and gets no gradient", "[model][freeze]") {
    small_mlp m{seed{2}};
    m.freeze(1);
    REQUIRE(m.is_frozen(1));
    const auto p = m.named_parameters();
    const std::vector<float> w0(p[0].value, p[0].value + 16 * 12 + 16);
    const std::vector<float> h0(p[2].value, p[2].value + 16 * 3 + 3);
    optim::sgd o{m.parameters(), {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.1}};
    const auto d = toy_data(32, 3);
    fit(m, o, loss::cross_entropy{}, d, {.epochs = 2, .batch = 8});
    REQUIRE(std::vector<float>(p[0].value, p[0].value + 16 * 12 + 16) == w0);
    for (std::size_t i = 0; i < 16 * 12 + 16; ++i) REQUIRE(p[0].gradient[i] == 0.0f);
    REQUIRE(std::vector<float>(p[2].value, p[2].value + 16 * 3 + 3) != h0);
    m.unfreeze(1);
    REQUIRE_FALSE(m.is_frozen(1));
}

TEST_CASE("sequential: a model with activations over 8 MB runs on a default stack", "[model][heap]") {
    using big = sequential<input<1024>, dense<2048>, relu, dense<1024>>;
    big m{seed{1}};
    STATIC_REQUIRE(sizeof(big) < 1024);  // parameters and activations live on the heap
    const std::size_t batch = 512;       // activations: (1024 + 2048 + 2048 + 1024) * 512 * 4 B = 12.6 MB
    auto ctx = m.context(batch);
    std::vector<float> x(batch * 1024, 0.01f);
    auto y = m.forward(x, ctx);
    REQUIRE(y.shape()[0] == batch);
    REQUIRE(y.shape()[1] == 1024);
    std::vector<float> dy(batch * 1024, 1e-3f);
    m.backward(dy, ctx);
    REQUIRE(std::isfinite(m.gradients()[0]));
}

TEST_CASE("fit: learns a separable problem; callbacks stop early, checkpoint and write JSON", "[train][fit]") {
    const auto train = toy_data(600, 5), test = toy_data(200, 6);
    small_mlp m{seed{4}};
    optim::adam o{m.parameters(), {.lr = 1e-2}};
    const auto ckpt = temp_path("ckpt_{epoch}.npz"), json = temp_path("summary.json");
    const auto r = fit(m, o, loss::cross_entropy{}, train, {.epochs = 50, .batch = 32, .lr_schedule = optim::step_lr{1e-2, 0.5, 5}},
                       callbacks::evaluate<float>{test}, callbacks::early_stop{.monitor = "test_accuracy", .patience = 2},
                       callbacks::checkpoint{ckpt.string(), 1}, callbacks::json_summary{json.string()});
    REQUIRE(r.stopped_early);
    REQUIRE(r.history.size() < 50);
    REQUIRE(r.history.back().metrics.at("test_accuracy") > 0.9);
    REQUIRE(r.history[0].lr == Approx(1e-2));
    REQUIRE(evaluate(m, test).accuracy() > 0.9);
    REQUIRE(fs::exists(temp_path("ckpt_1.npz")));
    std::ifstream in(json);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    REQUIRE_THAT(text, Catch::Contains("\"test_accuracy\"") && Catch::Contains("\"train_samples_per_second\"") &&
                           Catch::Contains("\"epochs\": " + std::to_string(r.history.size())));
    small_mlp back;
    load_npz(back, temp_path("ckpt_1.npz"));
    for (std::size_t e = 1; e <= r.history.size(); ++e) fs::remove(temp_path("ckpt_" + std::to_string(e) + ".npz"));
    fs::remove(json);
    REQUIRE_THROWS_WITH(fit(m, o, loss::cross_entropy{}, train, {.epochs = 1}, callbacks::early_stop{.monitor = "val_loss"}),
                        Catch::Contains("no metric 'val_loss'"));
}

TEST_CASE("fit: regression with MSE reads float targets", "[train][fit]") {
    auto d = data::dataset<float>::zeros(256, 2, 0, 1);
    rng g{seed{1}};
    for (std::size_t i = 0; i < 256; ++i) {
        d.x[2 * i] = float(g.uniform(-1, 1));
        d.x[2 * i + 1] = float(g.uniform(-1, 1));
        d.targets[i] = 2 * d.x[2 * i] - d.x[2 * i + 1] + 0.5f;
    }
    sequential<input<2>, dense<1>> m{seed{1}};
    optim::sgd o{m.parameters(), {.lr = 0.1, .momentum = 0.9}};
    const auto r = fit(m, o, loss::mse{}, d, {.epochs = 60, .batch = 16});
    REQUIRE(r.history.back().loss < 1e-4);
    const auto w = m.named_parameters();
    REQUIRE(w[0].value[0] == Approx(2.0).margin(0.01));
    REQUIRE(w[0].value[1] == Approx(-1.0).margin(0.01));
    REQUIRE(w[1].value[0] == Approx(0.5).margin(0.01));
}

TEST_CASE("fit: binary classification with sigmoid + bce uses the 0.5 threshold for accuracy", "[train][fit]") {
    auto d = data::dataset<float>::zeros(400, 2, 2, 1);
    rng g{seed{3}};
    for (std::size_t i = 0; i < 400; ++i) {
        d.x[2 * i] = float(g.uniform(-1, 1));
        d.x[2 * i + 1] = float(g.uniform(-1, 1));
        d.labels[i] = d.x[2 * i] + d.x[2 * i + 1] > 0.2f;
        d.targets[i] = float(d.labels[i]);
    }
    sequential<input<2>, dense<8>, relu, dense<1>, sigmoid> m{seed{2}};
    optim::adam o{m.parameters(), {.lr = 0.02}};
    const auto r = fit(m, o, loss::bce{}, d, {.epochs = 40, .batch = 20}, callbacks::evaluate<float>{d, "train", 256, 0.5f});
    const auto& last = r.history.back();
    REQUIRE(last.train_accuracy > 0.95);  // with threshold 0 every probability would count as class 1 (~40 %)
    REQUIRE(last.metrics.at("train_accuracy") > 0.95);
    REQUIRE(last.metrics.at("train_precision") > 0.9);
    REQUIRE(last.metrics.at("train_recall") > 0.9);
    REQUIRE(last.metrics.at("train_f1") > 0.9);
}

TEST_CASE("training is bit-identical for 1, 2 and 3 threads (GEMM and optimizer split deterministically)",
          "[model][threads][determinism]") {
    using net = sequential<input<784>, dense<128>, relu, dense<10>>;  // > 64 Ki parameters: threaded update
    auto train = [](std::size_t threads) {
        set_num_threads(threads);
        net m{seed{9}};
        optim::adam o{m.parameters(), {.lr = 1e-3}};
        auto ctx = m.context(48);
        std::vector<float> x(48 * 784);
        std::vector<int> y(48);
        rng g{seed{4}};
        for (auto& v : x) v = float(g.uniform());
        for (auto& l : y) l = int(g.below(10));
        for (int step = 0; step < 3; ++step) train_step(m, ctx, o, loss::cross_entropy{}, x, y);
        set_num_threads(1);
        return std::vector<float>(m.parameter_values().begin(), m.parameter_values().end());
    };
    const auto one = train(1);
    REQUIRE(train(2) == one);
    REQUIRE(train(3) == one);
}

TEST_CASE("load_npz non-strict: transfer the matching entries, report the head that does not fit", "[model][io][transfer]") {
    using backbone8 = sequential<input<6>, named<"body", dense<5>>, relu, named<"head", dense<8>>>;
    using backbone2 = sequential<input<6>, named<"body", dense<5>>, relu, named<"head", dense<2>>>;
    backbone8 pre{seed{1}};
    const auto path = temp_path("transfer.npz");
    save_npz(pre, path);
    backbone2 m{seed{2}};
    const auto before = m.host_parameters();
    REQUIRE_THROWS_WITH(load_npz(m, path), Catch::Contains("'head.weight' has shape [8, 5], expected [2, 5]"));
    REQUIRE(m.host_parameters() == before);  // a failed strict load changes nothing
    const auto r = load_npz(m, path, {.strict = false});
    REQUIRE(r.loaded == std::vector<std::string>{"body.weight", "body.bias"});
    REQUIRE(r.skipped == std::vector<std::string>{"head.weight", "head.bias"});
    REQUIRE(r.missing.empty());
    const auto after = m.host_parameters(), source = pre.host_parameters();
    for (std::size_t i = 0; i < 35; ++i) REQUIRE(after[i] == source[i]);          // body transferred
    for (std::size_t i = 35; i < after.size(); ++i) REQUIRE(after[i] == before[i]);  // head kept
    fs::remove(path);
}
