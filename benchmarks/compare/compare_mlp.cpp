// SPDX-License-Identifier: MIT
// ctnn vs libtorch, in one process, on the same data with the same thread count: the flagship MLP
// (784-256-128-10 ReLU, Adam 1e-3, cross-entropy) training throughput at batch 64 and 256, and
// inference latency at batch 1 and 64. Prints a markdown table with ratios; --json FILE writes JSON.
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <ctnn/ctnn.hpp>
#include <string>
#include <vector>

#include "compare_common.hpp"

using namespace ctnn;
using mlp = sequential<input<784>, dense<256>, relu, dense<128>, relu, dense<10>>;

namespace {
torch::nn::Sequential torch_mlp() {
    return torch::nn::Sequential(torch::nn::Linear(784, 256), torch::nn::ReLU(), torch::nn::Linear(256, 128), torch::nn::ReLU(),
                                 torch::nn::Linear(128, 10));
}
}  // namespace

int main(int argc, char** argv) {
    std::string json_path, data_dir;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--json") json_path = argv[i + 1];
        else if (a == "--data") data_dir = argv[i + 1];
    }
    data::dataset<float> train;
    try {
        train = data::fashion_mnist::load(data_dir).train;
    } catch (const ctnn::error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    const std::size_t steps = 200;
    std::vector<row> rows;
    for (int threads : {1, 2}) {
        ctnn::set_num_threads(std::size_t(threads));
        torch::set_num_threads(threads);
        for (std::size_t batch : {std::size_t(64), std::size_t(256)}) {
            const std::size_t n = std::min(train.count / batch, steps);
            // ctnn
            mlp m{seed{1}};
            optim::adam opt{m.parameters(), {.lr = 1e-3}};
            auto ctx = m.context(batch);
            auto ctnn_epoch = [&] { ctnn_steps(m, ctx, opt, train, batch, n); };
            // libtorch
            auto net = torch_mlp();
            torch::optim::Adam topt(net->parameters(), torch::optim::AdamOptions(1e-3));
            auto xs = torch::from_blob(train.x.data(), {long(train.count), 784}, torch::kFloat32);
            std::vector<std::int64_t> labels64(train.labels.begin(), train.labels.end());
            auto ys = torch::from_blob(labels64.data(), {long(train.count)}, torch::kInt64);
            auto torch_epoch = [&] {
                for (std::size_t s = 0; s < n; ++s) {
                    auto x = xs.narrow(0, long(s * batch), long(batch));
                    auto y = ys.narrow(0, long(s * batch), long(batch));
                    topt.zero_grad();
                    auto loss = torch::nn::functional::cross_entropy(net->forward(x), y);
                    loss.backward();
                    topt.step();
                }
            };
            ctnn_epoch();  // warm-up
            torch_epoch();
            const double tc = median_seconds(3, ctnn_epoch), tt = median_seconds(3, torch_epoch);
            rows.push_back({"MLP training, batch " + std::to_string(batch), threads, double(n * batch) / tc, double(n * batch) / tt,
                            "samples/s", true});
        }
        // inference latency
        for (std::size_t batch : {std::size_t(1), std::size_t(64)}) {
            mlp m{seed{1}};
            std::vector<float> out(batch * 10);
            const float* x = train.x.data();
            auto net = torch_mlp();
            net->eval();
            torch::NoGradGuard no_grad;
            auto xt_ = torch::from_blob(const_cast<float*>(x), {long(batch), 784}, torch::kFloat32);
            const int reps = batch == 1 ? 20000 : 2000;
            auto ctnn_inf = [&] {
                for (int r = 0; r < reps; ++r) m.predict_into(x, out.data(), batch);
            };
            auto torch_inf = [&] {
                for (int r = 0; r < reps; ++r) {
                    auto y = net->forward(xt_);
                    if (y.data_ptr<float>() == nullptr) std::abort();
                }
            };
            ctnn_inf();
            torch_inf();
            const double tc = median_seconds(5, ctnn_inf) / reps, tt = median_seconds(5, torch_inf) / reps;
            rows.push_back({"MLP inference, batch " + std::to_string(batch), threads, tc * 1e6, tt * 1e6, "µs", false});
        }
    }
    print_and_save(rows, json_path);
    return 0;
}
