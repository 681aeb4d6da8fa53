// SPDX-License-Identifier: MIT
// ctnn vs libtorch, in one process, same data and threads: the Fashion-MNIST CNN of example 04
// (training samples/s at batch 64) and conv2d forward / backward GFLOP/s at that CNN's layer shapes and
// at ResNet-18 shapes (batch 8). ctnn runs NHWC, libtorch NCHW (its native layout); FLOPs are the
// convolution's 2·N·OH·OW·F·C·KH·KW per pass (backward: 2 passes). With --resnet18 STATE.npz
// --resnet18-script TRACE.pt (tools/export_torch.py resnet18 --out STATE.npz --torchscript TRACE.pt, as
// scripts/bench does) also ResNet-18 inference, images/s at batch 1 and 8, the same weights in both
// (checked: the logits agree). --json FILE writes JSON.
#include <torch/script.h>
#include <torch/torch.h>

#include <cstdio>
#include <ctnn/ctnn.hpp>
#include <string>
#include <vector>

#include "compare_common.hpp"

using namespace ctnn;
using cnn = sequential<input<28, 28, 1>, conv2d<32, 3, {.padding = 1}>, relu, max_pool2d<2>, conv2d<64, 3, {.padding = 1}>, relu,
                       max_pool2d<2>, flatten, dense<128>, relu, dropout<0.3>, dense<10>>;

namespace {
torch::nn::Sequential torch_cnn() {
    namespace nn = torch::nn;
    return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, 32, 3).padding(1)), nn::ReLU(), nn::MaxPool2d(2),
                          nn::Conv2d(nn::Conv2dOptions(32, 64, 3).padding(1)), nn::ReLU(), nn::MaxPool2d(2), nn::Flatten(),
                          nn::Linear(3136, 128), nn::ReLU(), nn::Dropout(0.3), nn::Linear(128, 10));
}

/// conv2d forward and backward (input and weight gradients) of one shape on both libraries.
template <std::size_t H, std::size_t W, std::size_t C, std::size_t F, std::size_t K, std::size_t S>
void conv_shape(std::vector<row>& rows, int threads, std::size_t batch) {
    constexpr std::size_t pad = K / 2;
    using model = sequential<input<H, W, C>, conv2d<F, K, {.stride = S, .padding = pad}>>;
    using layer = typename model::template layer_type<0>;
    model m{seed{1}};
    auto ctx = m.context(batch);
    std::vector<float> x(batch * H * W * C, 0.5f), dy(batch * layer::output_shape::size, 0.01f);
    auto conv = torch::nn::Conv2d(torch::nn::Conv2dOptions(long(C), long(F), long(K)).stride(long(S)).padding(long(pad)));
    auto xt_ = torch::full({long(batch), long(C), long(H), long(W)}, 0.5f).set_requires_grad(true);
    auto dyt = torch::full({long(batch), long(F), long(layer::OH), long(layer::OW)}, 0.01f);
    const double flops = 2.0 * double(batch) * layer::OH * layer::OW * F * C * K * K;
    const int reps = 10;
    auto cf = [&] {
        for (int r = 0; r < reps; ++r) m.forward(x, ctx);
    };
    auto cb = [&] {
        for (int r = 0; r < reps; ++r) m.backward(dy, ctx, true);
    };
    torch::Tensor y;
    auto tf = [&] {
        for (int r = 0; r < reps; ++r) y = conv->forward(xt_);
    };
    auto tb = [&] {
        for (int r = 0; r < reps; ++r) {
            xt_.mutable_grad() = torch::Tensor();
            y.backward(dyt, true);
        }
    };
    cf();
    tf();
    cb();
    tb();
    const double c_fwd = flops * reps / median_seconds(5, cf) / 1e9, t_fwd = flops * reps / median_seconds(5, tf) / 1e9;
    const double c_bwd = 2 * flops * reps / median_seconds(5, cb) / 1e9, t_bwd = 2 * flops * reps / median_seconds(5, tb) / 1e9;
    const std::string name = "conv " + std::to_string(H) + "x" + std::to_string(W) + "x" + std::to_string(C) + " -> " +
                             std::to_string(F) + ", " + std::to_string(K) + "x" + std::to_string(K) + "/" + std::to_string(S) +
                             ", batch " + std::to_string(batch);
    rows.push_back({name + ", forward", threads, c_fwd, t_fwd, "GFLOP/s", true});
    rows.push_back({name + ", backward", threads, c_bwd, t_bwd, "GFLOP/s", true});
}
/// ResNet-18 eval-mode inference on random 224×224 images: ctnn's models::resnet18 with the exported
/// torchvision weights vs the TorchScript trace of the same torchvision model.
void resnet18_inference(std::vector<row>& rows, int threads, const std::string& weights, const std::string& script) {
    using net = models::resnet18<1000>;
    net m{seed{1}};
    load_npz(m, weights);
    m.eval();
    auto module = torch::jit::load(script);
    module.eval();
    torch::NoGradGuard no_grad;
    for (std::size_t batch : {std::size_t(1), std::size_t(8)}) {
        rng g{seed{7}};
        std::vector<float> x(batch * net::input_shape::size);
        for (auto& v : x) v = float(g.normal());
        const auto xt = torch::from_blob(x.data(), {long(batch), 224, 224, 3}, torch::kFloat32).permute({0, 3, 1, 2}).contiguous();
        auto y = m.predict(x);
        auto yt = module.forward({xt}).toTensor().contiguous();
        double worst = 0, scale = 0;
        for (std::size_t i = 0; i < batch * 1000; ++i) {
            worst = std::max(worst, double(std::abs(y.data()[i] - yt.data_ptr<float>()[i])));
            scale = std::max(scale, double(std::abs(yt.data_ptr<float>()[i])));
        }
        if (worst > 1e-3 * scale) std::fprintf(stderr, "warning: ResNet-18 logits differ by %.2e relative\n", worst / scale);
        const int reps = batch == 1 ? 8 : 2;
        const double tc = median_seconds(3, [&] {
            for (int r = 0; r < reps; ++r) y = m.predict(x);
        });
        const double tt = median_seconds(3, [&] {
            for (int r = 0; r < reps; ++r) yt = module.forward({xt}).toTensor();
        });
        rows.push_back({"ResNet-18 inference 224x224, batch " + std::to_string(batch), threads, double(reps * batch) / tc,
                        double(reps * batch) / tt, "images/s", true});
    }
}
}  // namespace

int main(int argc, char** argv) {
    std::string json_path, data_dir, r18_weights, r18_script;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--json") json_path = argv[i + 1];
        else if (a == "--data") data_dir = argv[i + 1];
        else if (a == "--resnet18") r18_weights = argv[i + 1];
        else if (a == "--resnet18-script") r18_script = argv[i + 1];
    }
    data::dataset<float> train;
    try {
        train = data::fashion_mnist::load(data_dir).train;
    } catch (const ctnn::error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    std::vector<row> rows;
    for (int threads : {1, 2}) {
        ctnn::set_num_threads(std::size_t(threads));
        torch::set_num_threads(threads);
        const std::size_t batch = 64, n = 40;
        cnn m{seed{1}};
        optim::adam opt{m.parameters(), {.lr = 1e-3}};
        auto ctx = m.context(batch);
        auto ctnn_run = [&] { ctnn_steps(m, ctx, opt, train, batch, n); };
        auto net = torch_cnn();
        torch::optim::Adam topt(net->parameters(), torch::optim::AdamOptions(1e-3));
        // 28×28×1: NHWC and NCHW are the same bytes
        auto xs = torch::from_blob(train.x.data(), {long(train.count), 1, 28, 28}, torch::kFloat32);
        std::vector<std::int64_t> labels64(train.labels.begin(), train.labels.end());
        auto ys = torch::from_blob(labels64.data(), {long(train.count)}, torch::kInt64);
        auto torch_run = [&] {
            for (std::size_t s = 0; s < n; ++s) {
                topt.zero_grad();
                auto loss = torch::nn::functional::cross_entropy(net->forward(xs.narrow(0, long(s * batch), long(batch))),
                                                                 ys.narrow(0, long(s * batch), long(batch)));
                loss.backward();
                topt.step();
            }
        };
        ctnn_run();
        torch_run();
        const double tc = median_seconds(3, ctnn_run), tt = median_seconds(3, torch_run);
        rows.push_back({"CNN training (example 04), batch 64", threads, double(n * batch) / tc, double(n * batch) / tt, "samples/s", true});
        conv_shape<28, 28, 1, 32, 3, 1>(rows, threads, 64);   // the CNN's first conv
        conv_shape<14, 14, 32, 64, 3, 1>(rows, threads, 64);  // its second
        conv_shape<56, 56, 64, 64, 3, 1>(rows, threads, 8);   // ResNet-18 layer1
        conv_shape<28, 28, 128, 128, 3, 1>(rows, threads, 8); // ResNet-18 layer2
        conv_shape<56, 56, 64, 128, 3, 2>(rows, threads, 8);  // ResNet-18 layer2 downsampling
        if (!r18_weights.empty() && !r18_script.empty()) {
            try {
                resnet18_inference(rows, threads, r18_weights, r18_script);
            } catch (const std::exception& e) {
                std::fprintf(stderr, "ResNet-18 inference not compared: %s\n", e.what());
            }
        }
    }
    print_and_save(rows, json_path);
    return 0;
}
