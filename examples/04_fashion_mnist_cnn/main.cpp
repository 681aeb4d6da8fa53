// SPDX-License-Identifier: MIT
// Fashion-MNIST CNN: Conv32-3×3 → MaxPool → Conv64-3×3 → MaxPool → Dense128 → Dropout → Dense10, Adam,
// on real Fashion-MNIST (NHWC 28×28×1), on the CPU or (--device cuda) a GPU.
#include "../common/example.hpp"

using namespace ctnn;
using cnn = sequential<input<28, 28, 1>,                                        //
                       conv2d<32, 3, {.padding = 1}>, relu, max_pool2d<2>,      // 14×14×32
                       conv2d<64, 3, {.padding = 1}>, relu, max_pool2d<2>,      // 7×7×64
                       flatten, dense<128>, relu, dropout<0.3>, dense<10>>;
static_assert(std::is_same_v<cnn::layer_type<5>::output_shape, shape<7, 7, 64>>);
static_assert(cnn::fuses_next<0>() && cnn::fuses_next<3>(), "each conv runs its ReLU in the GEMM epilogue");

int main(int argc, char** argv) {
    CLI::App app{"ctnn example 04: CNN on Fashion-MNIST"};
    example::options o;
    o.epochs = 12;
    example::add_options(app, o);
    CLI11_PARSE(app, argc, argv);
    return example::on_device(o, [&]<class P>(P) {
        const auto data = data::fashion_mnist::load(o.data_dir);
        std::printf("Fashion-MNIST: %zu train, %zu test; CNN with %zu parameters; %s, %zu thread(s)\n", data.train.count,
                    data.test.count, cnn::parameter_count, P::name, num_threads());
        typename cnn::template on<P> model{seed{o.seed_value}};
        example::train_and_report(model, o, data, optim::cosine_lr{o.lr, o.epochs, o.lr / 100});
    });
}
