// SPDX-License-Identifier: MIT
// Fashion-MNIST CNN: Conv32-3×3 → MaxPool → Conv64-3×3 → MaxPool → Dense128 → Dropout → Dense10, Adam,
// on real Fashion-MNIST (NHWC 28×28×1), on the CPU or (--device cuda) a GPU.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <ctnn/ctnn.hpp>
#include <string>

using namespace ctnn;
using cnn = sequential<input<28, 28, 1>,                                        //
                       conv2d<32, 3, {.padding = 1}>, relu, max_pool2d<2>,      // 14×14×32
                       conv2d<64, 3, {.padding = 1}>, relu, max_pool2d<2>,      // 7×7×64
                       flatten, dense<128>, relu, dropout<0.3>, dense<10>>;
static_assert(std::is_same_v<cnn::layer_type<5>::output_shape, shape<7, 7, 64>>);

struct options {
    std::size_t epochs = 12, batch = 64, threads = 1;
    double lr = 1e-3;
    std::uint64_t seed_value = 42;
    std::string data_dir, save_path, json_path, device = "cpu";
};

template <class P>
void train_on(const options& o, const data::split<float>& data) {
    typename cnn::template on<P> model{seed{o.seed_value}};
    optim::adam opt{model.parameters(), {.lr = o.lr}};
    callbacks::json_summary summary{o.json_path, {{"threads", double(o.threads)}, {"batch", double(o.batch)}}};
    auto run = [&](auto&&... extra) {
        return fit(model, opt, loss::cross_entropy{}, data.train,
                   {.epochs = o.epochs,
                    .batch = o.batch,
                    .shuffle = true,
                    .shuffle_seed = seed{o.seed_value + 1},
                    .lr_schedule = optim::cosine_lr{o.lr, o.epochs, o.lr / 100}},
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
}

int main(int argc, char** argv) {
    CLI::App app{"ctnn example 04: CNN on Fashion-MNIST"};
    options o;
    app.add_option("--epochs", o.epochs, "training epochs")->check(CLI::Range(1, 1000));
    app.add_option("--batch", o.batch, "batch size")->check(CLI::Range(1, 65536));
    app.add_option("--lr", o.lr, "Adam learning rate (cosine-decayed to lr/100)")->check(CLI::PositiveNumber);
    app.add_option("--threads", o.threads, "CPU threads")->check(CLI::Range(1, 256));
    app.add_option("--seed", o.seed_value, "seed for init, shuffling and dropout");
    app.add_option("--data", o.data_dir, "directory with the Fashion-MNIST IDX files");
    app.add_option("--device", o.device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
    app.add_option("--save", o.save_path, "save the trained model to this .npz");
    app.add_option("--json", o.json_path, "write a JSON summary here");
    CLI11_PARSE(app, argc, argv);
    try {
        set_num_threads(o.threads);
        const auto data = data::fashion_mnist::load(o.data_dir);
        std::printf("Fashion-MNIST: %zu train, %zu test; CNN with %zu parameters; %s\n", data.train.count, data.test.count,
                    cnn::parameter_count, o.device.c_str());
        if (o.device == "cuda") {
#ifdef CTNN_WITH_CUDA
            if (cuda_api::device_count() == 0) {
                std::fprintf(stderr, "--device cuda: %s\n", cuda_api::device_description().c_str());
                return 1;
            }
            train_on<cuda>(o, data);
#else
            std::fprintf(stderr, "--device cuda: this build of ctnn has no CUDA policy\n");
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
