// SPDX-License-Identifier: MIT
// DCGAN on real Fashion-MNIST: a generator of transposed convolutions with batch norm (z → 7×7×128 → 14×14×64 →
// 28×28×1, tanh), a discriminator of stride-2 convolutions with leaky ReLU and dropout (TensorFlow's DCGAN
// tutorial; batch norm in the discriminator let it tell real from fake batches by their statistics and win);
// example 14's training loop and trainer (alternating D and G steps, Adam 2e-4 / β1 0.5, BCE) with batch 128,
// the discriminator stepping on the real and the fake batch apart (PyTorch's DCGAN recipe).
#include "../common/gan_loop.hpp"

using namespace ctnn;
template <std::size_t N, bool Bias = true>
using linear = dense<N, Bias, initializer::torch>;  // nn.Linear's and nn.Conv2d's default initialisation throughout
inline constexpr conv_transpose_options up{.stride = 2, .padding = 1, .bias = false, .init = initializer::torch};
inline constexpr conv_options down{.stride = 2, .padding = 1, .init = initializer::torch};

using dcgan_generator = sequential<input<gan::noise_size>, linear<7 * 7 * 128, false>, batch_norm1d<>, relu, reshape<7, 7, 128>,
                                   conv_transpose2d<64, 4, up>, batch_norm2d<>, relu,                        // 14×14×64
                                   conv_transpose2d<1, 4, {.stride = 2, .padding = 1, .init = initializer::torch}>,
                                   ctnn::tanh>;                                                              // 28×28×1
using dcgan_discriminator = sequential<input<28, 28, 1>, conv2d<64, 4, down>, leaky_relu<0.2>, dropout<0.3>,  // 14×14×64
                                       conv2d<128, 4, down>, leaky_relu<0.2>, dropout<0.3>,                  // 7×7×128
                                       flatten, linear<1>, sigmoid>;
static_assert(std::is_same_v<dcgan_generator::output_shape, shape<28, 28, 1>>);

int main(int argc, char** argv) {
    CLI::App app{"ctnn example 15: DCGAN on Fashion-MNIST"};
    example::gan_loop::settings s;
    s.batch = 128;
    s.epochs = 10;
    s.d_batches = gan::discriminator_batches::separate;  // real and fake batches apart
    example::gan_loop::add_options(app, s);
    CLI11_PARSE(app, argc, argv);
    return example::gan_loop::main_of<dcgan_generator, dcgan_discriminator>(s, "DCGAN");
}
