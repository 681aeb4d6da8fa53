// SPDX-License-Identifier: MIT
// Compiled with -march=x86-64-v3 (AVX2 + FMA, no AVX-512) by the test `isa_avx2_compiles`: the code paths
// of machines without AVX-512 instantiate for every kind of model (dense, conv/BN blocks, a graph, an
// embedding and recurrent layers). test_nn and friends run on them when built with CTNN_NATIVE=OFF and
// CMAKE_CXX_FLAGS=-march=x86-64-v3 (see README, Tests).
#include <ctnn/ctnn.hpp>
#include <vector>

#if defined(__AVX512F__)
#error "isa_avx2.cpp must be compiled without AVX-512 (-march=x86-64-v3)"
#endif

using namespace ctnn;
template <class M, class X>
void step(M& m, const X& x) {
    auto ctx = m.context(2);
    auto y = m.forward(x, ctx);
    m.backward(y, ctx, true);
    optim::adam o{m.parameters()};
    o.step();
    (void)m.predict(x);
}
int main() {
    sequential<input<28, 28, 1>, flatten, dense<256>, relu, dense<10>> mlp;
    step(mlp, std::vector<float>(2 * 784));
    models::resnet8<10, 28, 28, 1, 8> resnet;
    step(resnet, std::vector<float>(2 * 784));
    sequential<input<6>, embedding<20, 8>, lstm<8, {.return_sequences = true}>, gru<4>, dense<2>> text;
    step(text, std::vector<float>(12, 1.0f));
    sequential<input<5, 3>, gru<4, {.return_sequences = true, .layers = 2, .bidirectional = true, .dropout = 0.1}>,
               sequence_pool<pooling::max>, dense<2>>
        tagger;
    step(tagger, std::vector<float>(30, 0.5f));
    sequential<input<5, 3>, lstm<4, {.layers = 2}>> streaming;
    typename std::remove_cvref_t<decltype(streaming.layer<0>())>::stream_state state;
    std::vector<float> h(4);
    streaming.layer<0>().step(std::vector<float>(3, 0.5f).data(), state, h.data());
    sequential<input<6>, embedding<20, 8>, positional_embedding<>, sinusoidal_encoding,
               transformer_encoder<2, {.nhead = 2, .dim_feedforward = 16, .activation = transformer_activation::gelu}>,
               multi_head_attention<4, {.dropout = 0.1, .causal = true}>, layer_norm<>, gelu_tanh, dense<2>>
        encoder;
    step(encoder, std::vector<float>(12, 1.0f));
    graph<inputs<input<4>, input<3>>, node<from<0>, dense<5>>, node<from<1>, dense<5>>, node<concat_of<2, 3>, dense<1>>, outputs<4>> g;
    auto gctx = g.context(2);
    const std::vector<float> a(8), b(6);
    auto [y] = g.forward(std::tie(a, b), gctx);
    g.backward(std::tie(y), gctx);
    sequential<input<28, 28, 1>, flatten, dense<8>, relu, dense<4>, gaussian_sample<2>, dense<784>, sigmoid, reshape<28, 28, 1>> vae;
    step(vae, std::vector<float>(2 * 784, 0.5f));
    sequential<input<4>, dense<7 * 7 * 2, false>, batch_norm1d<>, relu, reshape<7, 7, 2>,
               conv_transpose2d<2, 4, {.stride = 2, .padding = 1}>, batch_norm2d<>, leaky_relu<0.2>,
               conv_transpose2d<1, 4, {.stride = 2, .padding = 1}>, ctnn::tanh>
        dcgan_generator;
    step(dcgan_generator, std::vector<float>(8, 0.5f));
    return 0;
}
