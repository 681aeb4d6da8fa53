// SPDX-License-Identifier: MIT
// Fashion-MNIST MLP 784-256-128-10 (ReLU), Adam 1e-3, batch 64, cross-entropy: the flagship example.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <ctnn/ctnn.hpp>

using namespace ctnn;
using mlp = sequential<input<28, 28, 1>, flatten, dense<256>, relu, dense<128>, relu, dense<10>>;
static_assert(mlp::parameter_count == 235'146, "784-256-128-10 has 235 146 parameters");

int main(int argc, char** argv) {
    CLI::App app{"ctnn example 01: MLP on Fashion-MNIST"};
    std::size_t epochs = 10, batch = 64, threads = 1;
    double lr = 1e-3;
    std::uint64_t seed_value = 42;
    std::string data_dir, save_path, json_path, schedule = "cosine";
    app.add_option("--epochs", epochs, "training epochs")->check(CLI::Range(1, 1000));
    app.add_option("--batch", batch, "batch size")->check(CLI::Range(1, 65536));
    app.add_option("--lr", lr, "Adam learning rate")->check(CLI::PositiveNumber);
    app.add_option("--threads", threads, "CPU threads")->check(CLI::Range(1, 256));
    app.add_option("--seed", seed_value, "seed for init and shuffling");
    app.add_option("--data", data_dir, "directory with the Fashion-MNIST IDX files (default $CTNN_DATA_DIR, else "
                                       "/usr/share/datasets/fashion-mnist)");
    app.add_option("--schedule", schedule, "learning-rate schedule over the epochs: cosine (decay to lr/100) or constant")
        ->check(CLI::IsMember({"cosine", "constant"}));
    app.add_option("--save", save_path, "save the trained model to this .npz");
    app.add_option("--json", json_path, "write a JSON summary here");
    CLI11_PARSE(app, argc, argv);

    try {
        set_num_threads(threads);
        const auto data = data::fashion_mnist::load(data_dir);
        std::printf("Fashion-MNIST: %zu train, %zu test samples; model 784-256-128-10 (%zu parameters); %zu thread(s)\n",
                    data.train.count, data.test.count, mlp::parameter_count, num_threads());
        mlp model{seed{seed_value}};
        optim::adam opt{model.parameters(), {.lr = lr}};
        callbacks::json_summary summary{json_path, {{"threads", double(threads)}, {"batch", double(batch)}}};
        auto run = [&](auto&&... extra) {
            return fit(model, opt, loss::cross_entropy{}, data.train,
                       {.epochs = epochs,
                        .batch = batch,
                        .shuffle = true,
                        .shuffle_seed = seed{seed_value + 1},
                        .lr_schedule = schedule == "cosine" ? std::function<double(std::size_t)>(optim::cosine_lr{lr, epochs, lr / 100})
                                                            : optim::constant_lr{lr}},
                       callbacks::evaluate<float>{data.test}, callbacks::progress{}, extra...);
        };
        const auto result = json_path.empty() ? run() : run(summary);
        const auto cm = evaluate(model, data.test);
        std::printf("test accuracy %.4f  macro F1 %.4f  after %zu epochs; %.1f s training, %.1f s/epoch, %.0f samples/s\n",
                    cm.accuracy(), cm.macro_f1(), result.history.size(), result.train_seconds,
                    result.train_seconds / double(result.history.size()), result.samples_per_second());
        if (!save_path.empty()) {
            save_npz(model, save_path);
            std::printf("model saved to %s\n", save_path.c_str());
        }
        if (!json_path.empty()) std::printf("summary written to %s\n", json_path.c_str());
    } catch (const ctnn::error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}
