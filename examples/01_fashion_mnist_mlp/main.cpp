// SPDX-License-Identifier: MIT
// Fashion-MNIST MLP 784-256-128-10 (ReLU), Adam 1e-3, batch 64, cross-entropy: the flagship example.
#include "../common/example.hpp"

using namespace ctnn;
using mlp = sequential<input<28, 28, 1>, flatten, dense<256>, relu, dense<128>, relu, dense<10>>;
static_assert(mlp::parameter_count == 235'146, "784-256-128-10 has 235 146 parameters");

int main(int argc, char** argv) {
    CLI::App app{"ctnn example 01: MLP on Fashion-MNIST"};
    example::options o;
    std::string schedule = "cosine";
    example::add_options(app, o);
    app.add_option("--schedule", schedule, "learning-rate schedule over the epochs: cosine (decay to lr/100) or constant")
        ->check(CLI::IsMember({"cosine", "constant"}));
    CLI11_PARSE(app, argc, argv);
    return example::on_device(o, [&]<class P>(P) {
        const auto data = data::fashion_mnist::load(o.data_dir);
        std::printf("Fashion-MNIST: %zu train, %zu test samples; model 784-256-128-10 (%zu parameters); %s, %zu thread(s)\n",
                    data.train.count, data.test.count, mlp::parameter_count, P::name, num_threads());
        typename mlp::template on<P> model{seed{o.seed_value}};
        example::train_and_report(model, o, data,
                                  schedule == "cosine" ? std::function<double(std::size_t)>(optim::cosine_lr{o.lr, o.epochs, o.lr / 100})
                                                       : optim::constant_lr{o.lr});
    });
}
