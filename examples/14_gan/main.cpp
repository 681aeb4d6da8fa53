// SPDX-License-Identifier: MIT
// The seeds' GAN on real Fashion-MNIST (gan.hpp: layer for layer, BCE, Adam 2e-4 / β1 0.5, batch 256, images in
// [-1, 1]), or with --conditional the class-conditional GAN; a PNG grid of a fixed noise batch after every
// epoch, a CSV history, a JSON summary, the generator saved as npz, and N samples exported for scoring.
#include "../common/gan_loop.hpp"

int main(int argc, char** argv) {
    CLI::App app{"ctnn example 14: the seeds' GAN (and a conditional GAN) on Fashion-MNIST"};
    example::gan_loop::settings s;
    bool conditional = false;
    example::gan_loop::add_options(app, s);
    app.add_flag("--conditional", conditional, "the class-conditional GAN (label embedding joined to z and to D's input)");
    CLI11_PARSE(app, argc, argv);
    using namespace example::gan_loop;
    return conditional ? main_of<gan::conditional_generator, gan::conditional_discriminator>(s, "conditional GAN")
                       : main_of<gan::generator, gan::discriminator>(s, "GAN");
}
