// SPDX-License-Identifier: MIT
// Replaces global operator new in this executable to count heap allocations, and requires zero of
// them across training steps after warm-up (loader batch, forward, loss, backward, optimizer step).
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <ctnn/ctnn.hpp>
#include <ctnn/model/graph.hpp>
#include <new>

namespace {
std::atomic<std::size_t> g_allocations{0};
}
// operator new below allocates with malloc/aligned_alloc, so free is the matching release
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) {
    ++g_allocations;
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void* operator new(std::size_t n, std::align_val_t a) {
    ++g_allocations;
    const std::size_t al = std::size_t(a);
    if (void* p = std::aligned_alloc(al, (n + al - 1) / al * al)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

using namespace ctnn;

namespace {
template <class Model, class Opt, class Loss>
std::size_t allocations_in_steps(Model& model, Opt& opt, const Loss& loss, const data::dataset<float>& d, std::size_t steps) {
    data::loader<float> ld(d, 64, true, seed{1});
    auto ctx = model.context(64);
    data::batch<float> b;
    auto step = [&] {
        if (!ld.next(b)) {
            ld.start_epoch();
            ld.next(b);
        }
        train_step(model, ctx, opt, loss, b.x, b.labels);
    };
    for (int i = 0; i < 3; ++i) step();  // warm-up: GEMM packing buffers grow here
    const std::size_t before = g_allocations.load();
    for (std::size_t i = 0; i < steps; ++i) step();
    return g_allocations.load() - before;
}

data::dataset<float> random_images(std::size_t n, std::size_t features = 784) {
    auto d = data::dataset<float>::zeros(n, features, 10);
    rng g{seed{3}};
    for (auto& v : d.x) v = float(g.uniform());
    for (auto& l : d.labels) l = std::int32_t(g.below(10));
    return d;
}
}  // namespace

TEST_CASE("training step: zero heap allocations after warm-up (MLP, Adam, 1 thread)", "[alloc]") {
    const auto d = random_images(200);  // 3 full batches + 1 partial: covers the epoch wrap-around
    sequential<input<28, 28, 1>, flatten, dense<256>, relu, dropout<0.1>, dense<128>, relu, dense<10>> m{seed{1}};
    optim::adam o{m.parameters()};
    REQUIRE(allocations_in_steps(m, o, loss::cross_entropy{}, d, 10) == 0);
}

TEST_CASE("training step: zero heap allocations after warm-up (SGD momentum, 2 threads)", "[alloc][threads]") {
    set_num_threads(2);
    const auto d = random_images(256);
    sequential<input<784>, dense<128>, ctnn::tanh, dense<10>> m{seed{2}};
    optim::sgd o{m.parameters(), {.lr = 0.01, .momentum = 0.9, .nesterov = true}};
    const std::size_t n = allocations_in_steps(m, o, loss::cross_entropy{}, d, 10);
    set_num_threads(1);
    REQUIRE(n == 0);
}

TEST_CASE("training step: zero heap allocations after warm-up (ResNet-8: conv, batch norm, residual, 2 threads)", "[alloc][conv]") {
    set_num_threads(2);
    const auto d = random_images(200);
    models::resnet8<10, 28, 28, 1, 8> m{seed{4}};  // 8-16-32 channels: the implicit-GEMM conv paths too
    optim::sgd o{m.parameters(), {.lr = 0.01, .momentum = 0.9}};
    const std::size_t n = allocations_in_steps(m, o, loss::cross_entropy{}, d, 4);
    set_num_threads(1);
    REQUIRE(n == 0);
}

TEST_CASE("training step: zero heap allocations after warm-up (ResNet-18, torchvision's architecture, 2 threads)", "[alloc][conv]") {
    set_num_threads(2);
    const auto d = random_images(130, 32 * 32 * 3);
    models::resnet18<10, 32, 32> m{seed{5}};
    optim::sgd o{m.parameters(), {.lr = 0.01, .momentum = 0.9}};
    const std::size_t n = allocations_in_steps(m, o, loss::cross_entropy{}, d, 3);
    set_num_threads(1);
    REQUIRE(n == 0);
}

TEST_CASE("training step: zero heap allocations after warm-up (blocks nested three deep, frozen inner block)", "[alloc][graph]") {
    const auto d = random_images(200);
    sequential<input<784>, dense<32>, relu,
               residual<chain<dense<32>, relu, residual<chain<dense<32>, batch_norm1d<>, relu, concat<chain<dense<8>>, chain<>>, dense<32>>>>>,
               parallel<merge::average, chain<dense<16>>, chain<dense<16>, ctnn::tanh>>, dropout<0.2>, dense<10>>
        m{seed{6}};
    m.freeze("2.main.2");
    optim::adam o{m.parameters()};
    REQUIRE(allocations_in_steps(m, o, loss::cross_entropy{}, d, 6) == 0);
}

TEST_CASE("training step: zero heap allocations after warm-up (two-input, two-output graph)", "[alloc][graph]") {
    graph<inputs<input<20>, input<12>>, node<from<0>, chain<dense<16>, relu>>, node<from<1>, chain<dense<16>, relu>>,
          node<concat_of<2, 3>, chain<dense<4>>>, node<add_of<2, 3>, chain<dense<1>>>, outputs<4, 5>>
        g{seed{7}};
    optim::adam o{g.parameters()};
    auto ctx = g.context(32);
    std::vector<float> a(32 * 20, 0.5f), b(32 * 12, -0.25f), t(32, 1.0f);
    std::vector<std::int32_t> labels(32, 2);
    auto step = [&] {
        g.zero_grad();
        const auto [y0, y1] = g.forward(std::tie(a, b), ctx);
        auto d0 = ctx.output_gradient<0>();
        auto d1 = ctx.output_gradient<1>();
        loss::cross_entropy{}(y0, labels, d0);
        loss::mse{}(y1, t, d1);
        g.backward(std::make_tuple(d0, d1), ctx);
        o.step();
    };
    for (int i = 0; i < 3; ++i) step();
    const std::size_t before = g_allocations.load();
    for (int i = 0; i < 10; ++i) step();
    REQUIRE(g_allocations.load() - before == 0);
}

TEST_CASE("allocation counter: counts what it should (self-test)", "[alloc]") {
    const std::size_t before = g_allocations.load();
    auto* v = new std::vector<int>(10);
    delete v;
    REQUIRE(g_allocations.load() - before == 2);
}
