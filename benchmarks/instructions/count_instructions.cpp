// SPDX-License-Identifier: MIT
// Fixed work for instruction counts under callgrind (repeatable where wall-clock time is not): the same
// source compiled against two ctnn trees by tools/compare_instructions.sh. Sections: mlp_train (20 Adam
// steps, batch 64), mlp_predict1 (200 batch-1 predictions), cnn_train (2 steps of example 04's CNN,
// batch 32), resnet18_predict (torchvision's ResNet-18 on one 64x64 image).
#include <valgrind/callgrind.h>
#include <ctnn/ctnn.hpp>
#include <cstdio>
#include <cstring>
#include <vector>
using namespace ctnn;
using mlp = sequential<input<28, 28, 1>, flatten, dense<256>, relu, dense<128>, relu, dense<10>>;
using cnn = sequential<input<28, 28, 1>, conv2d<32, 3, {.padding = 1}>, relu, max_pool2d<2>, conv2d<64, 3, {.padding = 1}>, relu,
                       max_pool2d<2>, flatten, dense<128>, relu, dense<10>>;
template <class M>
void train(std::size_t batch, int steps) {
    M m{seed{1}};
    optim::adam opt{m.parameters()};
    auto ctx = m.context(batch);
    std::vector<float> x(batch * M::input_shape::size);
    std::vector<int> labels(batch);
    rng g{seed{2}};
    for (auto& v : x) v = float(g.uniform());
    for (auto& l : labels) l = int(g.below(10));
    for (int i = 0; i < 2; ++i) train_step(m, ctx, opt, loss::cross_entropy{}, x, labels);
    CALLGRIND_START_INSTRUMENTATION;
    for (int i = 0; i < steps; ++i) train_step(m, ctx, opt, loss::cross_entropy{}, x, labels);
    CALLGRIND_STOP_INSTRUMENTATION;
}
template <class M>
void predict(std::size_t batch, int reps) {
    M m{seed{1}};
    std::vector<float> x(batch * M::input_shape::size, 0.5f), out(batch * M::output_shape::size);
    m.predict_into(x.data(), out.data(), batch);
    CALLGRIND_START_INSTRUMENTATION;
    for (int i = 0; i < reps; ++i) m.predict_into(x.data(), out.data(), batch);
    CALLGRIND_STOP_INSTRUMENTATION;
    std::printf("%g\n", double(out[0]));
}
int main(int argc, char** argv) {
    const char* w = argc > 1 ? argv[1] : "";
    if (!std::strcmp(w, "mlp_train")) train<mlp>(64, 20);
    else if (!std::strcmp(w, "mlp_predict1")) predict<mlp>(1, 200);
    else if (!std::strcmp(w, "cnn_train")) train<cnn>(32, 2);
    else if (!std::strcmp(w, "resnet18_predict")) predict<models::resnet18<10, 64, 64>>(1, 1);
    return 0;
}
