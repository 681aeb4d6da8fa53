// SPDX-License-Identifier: MIT
#pragma once
// What the classification examples share: the common command-line options, running a model type on the
// policy chosen with --device, and the train → evaluate → report → save sequence.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <ctnn/ctnn.hpp>
#include <functional>
#include <string>

namespace example {

struct options {
    std::size_t epochs = 10, batch = 64, threads = 1;
    double lr = 1e-3;
    std::uint64_t seed_value = 42;
    std::string data_dir, save_path, json_path, device = "cpu";
};

/// --epochs --batch --lr --threads --seed --data --device --save --json.
inline void add_options(CLI::App& app, options& o) {
    app.add_option("--epochs", o.epochs, "training epochs")->check(CLI::Range(1, 1000));
    app.add_option("--batch", o.batch, "batch size")->check(CLI::Range(1, 65536));
    app.add_option("--lr", o.lr, "Adam learning rate")->check(CLI::PositiveNumber);
    app.add_option("--threads", o.threads, "CPU threads")->check(CLI::Range(1, 256));
    app.add_option("--seed", o.seed_value, "seed for init, shuffling and dropout");
    app.add_option("--data", o.data_dir, "directory with the data set's files (default $CTNN_DATA_DIR, else the Debian path)");
    app.add_option("--device", o.device, "where to train: cpu or cuda (an NVIDIA GPU; needs ctnn built with CUDA)")
        ->check(CLI::IsMember({"cpu", "cuda"}));
    app.add_option("--save", o.save_path, "save the trained model to this .npz");
    app.add_option("--json", o.json_path, "write a JSON summary here");
}

/// Calls run(ctnn::cpu{}) or, for --device cuda, run(ctnn::cuda{}) (an error message and 1 when this
/// build has no CUDA policy or the machine no GPU). ctnn::error becomes a message and exit code 1.
template <class Run>
int on_device(const options& o, Run&& run) {
    try {
        ctnn::set_num_threads(o.threads);
        if (o.device == "cuda") {
#ifdef CTNN_WITH_CUDA
            if (ctnn::cuda_api::device_count() == 0) {
                std::fprintf(stderr, "--device cuda: %s\n", ctnn::cuda_api::device_description().c_str());
                return 1;
            }
            std::printf("GPU: %s\n", ctnn::cuda_api::device_description().c_str());
            run(ctnn::cuda{});
#else
            std::fprintf(stderr, "--device cuda: this build of ctnn has no CUDA policy (configure with nvcc available)\n");
            return 1;
#endif
        } else
            run(ctnn::cpu{});
    } catch (const ctnn::error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}

/// Trains @p model with Adam and cross-entropy on data.train (learning rate per epoch from
/// @p schedule), evaluating on data.test after every epoch; prints the test accuracy, macro F1 and
/// speed; saves the model (--save) and a JSON summary (--json).
template <class Model>
void train_and_report(Model& model, const options& o, const ctnn::data::split<float>& data,
                      std::function<double(std::size_t)> schedule, std::function<void(float*, std::size_t)> augment = {}) {
    using namespace ctnn;
    optim::adam opt{model.parameters(), {.lr = o.lr}};
    callbacks::json_summary summary{o.json_path, {{"threads", double(o.threads)}, {"batch", double(o.batch)}}};
    const fit_options fo{.epochs = o.epochs,
                         .batch = o.batch,
                         .shuffle = true,
                         .shuffle_seed = seed{o.seed_value + 1},
                         .lr_schedule = std::move(schedule),
                         .augment = std::move(augment)};
    auto run = [&](auto&&... extra) {
        return fit(model, opt, loss::cross_entropy{}, data.train, fo, callbacks::evaluate<float>{data.test}, callbacks::progress{},
                   extra...);
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

}  // namespace example
