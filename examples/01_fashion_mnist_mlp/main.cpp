// SPDX-License-Identifier: MIT
// Fashion-MNIST MLP 784-256-128-10 (ReLU), Adam 1e-3, batch 64, cross-entropy: the flagship example.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <ctnn/ctnn.hpp>

using namespace ctnn;
using mlp = sequential<input<28, 28, 1>, flatten, dense<256>, relu, dense<128>, relu, dense<10>>;
static_assert(mlp::parameter_count == 235'146, "784-256-128-10 has 235 146 parameters");

struct options {
    std::size_t epochs = 10, batch = 64, threads = 1;
    double lr = 1e-3;
    std::uint64_t seed_value = 42;
    std::string data_dir, save_path, json_path, schedule = "cosine", device = "cpu";
};

/// Trains and evaluates the MLP on execution policy P: the model type is the same layer list either way.
template <class P>
void train_on(const options& o, const data::split<float>& data) {
    typename mlp::template on<P> model{seed{o.seed_value}};
    optim::adam opt{model.parameters(), {.lr = o.lr}};
    callbacks::json_summary summary{o.json_path, {{"threads", double(o.threads)}, {"batch", double(o.batch)}}};
    auto run = [&](auto&&... extra) {
        return fit(model, opt, loss::cross_entropy{}, data.train,
                   {.epochs = o.epochs,
                    .batch = o.batch,
                    .shuffle = true,
                    .shuffle_seed = seed{o.seed_value + 1},
                    .lr_schedule = o.schedule == "cosine"
                                       ? std::function<double(std::size_t)>(optim::cosine_lr{o.lr, o.epochs, o.lr / 100})
                                       : optim::constant_lr{o.lr}},
                   callbacks::evaluate<float>{data.test}, callbacks::progress{}, extra...);
    };
    const auto result = o.json_path.empty() ? run() : run(summary);
    const auto cm = evaluate(model, data.test);
    std::printf("test accuracy %.4f  macro F1 %.4f  after %zu epochs; %.1f s training, %.1f s/epoch, %.0f samples/s\n",
                cm.accuracy(), cm.macro_f1(), result.history.size(), result.train_seconds,
                result.train_seconds / double(result.history.size()), result.samples_per_second());
    if (!o.save_path.empty()) {
        save_npz(model, o.save_path);
        std::printf("model saved to %s\n", o.save_path.c_str());
    }
    if (!o.json_path.empty()) std::printf("summary written to %s\n", o.json_path.c_str());
}

int main(int argc, char** argv) {
    CLI::App app{"ctnn example 01: MLP on Fashion-MNIST"};
    options o;
    app.add_option("--epochs", o.epochs, "training epochs")->check(CLI::Range(1, 1000));
    app.add_option("--batch", o.batch, "batch size")->check(CLI::Range(1, 65536));
    app.add_option("--lr", o.lr, "Adam learning rate")->check(CLI::PositiveNumber);
    app.add_option("--threads", o.threads, "CPU threads")->check(CLI::Range(1, 256));
    app.add_option("--seed", o.seed_value, "seed for init and shuffling");
    app.add_option("--data", o.data_dir, "directory with the Fashion-MNIST IDX files (default $CTNN_DATA_DIR, else "
                                         "/usr/share/datasets/fashion-mnist)");
    app.add_option("--schedule", o.schedule, "learning-rate schedule over the epochs: cosine (decay to lr/100) or constant")
        ->check(CLI::IsMember({"cosine", "constant"}));
    app.add_option("--device", o.device, "where to train: cpu or cuda (an NVIDIA GPU; needs ctnn built with CUDA)")
        ->check(CLI::IsMember({"cpu", "cuda"}));
    app.add_option("--save", o.save_path, "save the trained model to this .npz");
    app.add_option("--json", o.json_path, "write a JSON summary here");
    CLI11_PARSE(app, argc, argv);

    try {
        set_num_threads(o.threads);
        const auto data = data::fashion_mnist::load(o.data_dir);
        std::printf("Fashion-MNIST: %zu train, %zu test samples; model 784-256-128-10 (%zu parameters); %s\n",
                    data.train.count, data.test.count, mlp::parameter_count,
                    o.device == "cpu" ? (std::to_string(num_threads()) + " CPU thread(s)").c_str() : "CUDA");
        if (o.device == "cuda") {
#ifdef CTNN_WITH_CUDA
            if (cuda_api::device_count() == 0) {
                std::fprintf(stderr, "--device cuda: %s\n", cuda_api::device_description().c_str());
                return 1;
            }
            std::printf("GPU: %s\n", cuda_api::device_description().c_str());
            train_on<cuda>(o, data);
#else
            std::fprintf(stderr, "--device cuda: this build of ctnn has no CUDA policy (configure with nvcc available)\n");
            return 1;
#endif
        } else
            train_on<cpu>(o, data);
    } catch (const ctnn::error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}
