// SPDX-License-Identifier: MIT
// ResNet-18 (CIFAR variant: 3×3 stem, no max-pool) on CIFAR-10 from its binary files (--data DIR with
// data_batch_1..5.bin and test_batch.bin): random crop (padding 4) + horizontal flip + per-channel
// normalisation, SGD lr 1e-3 momentum 0.9, batch 64, 10 epochs. `--synthetic` trains on generated
// 32×32 images instead (the data set cannot be downloaded here), `--max-steps N` stops early: the
// smoke test runs both.
#include <cstdio>
#include <string>

#include "../common/example.hpp"

using namespace ctnn;
using net = models::resnet18_small<10, 32, 32, 3>;

namespace {
/// Images whose colour depends on the class (a learnable stand-in for CIFAR-10), in [0, 1].
data::dataset<float> synthetic(std::size_t n, std::uint64_t s) {
    rng g{seed{s}};
    auto d = data::dataset<float>::zeros(n, 32 * 32 * 3, 10);
    for (std::size_t i = 0; i < n; ++i) {
        const int c = int(g.below(10));
        d.labels[i] = c;
        for (std::size_t p = 0; p < 32 * 32; ++p)
            for (std::size_t ch = 0; ch < 3; ++ch)
                d.x[(i * 1024 + p) * 3 + ch] = float(std::clamp(0.5 + 0.3 * std::sin(double(c + 3 * ch)) + 0.1 * g.normal(), 0.0, 1.0));
    }
    return d;
}
}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"ctnn example 06: ResNet-18 on CIFAR-10"};
    example::options o;
    o.epochs = 10;
    bool synth = false;
    std::size_t max_steps = 0;
    example::add_options(app, o);
    app.add_flag("--synthetic", synth, "train on generated images instead of the CIFAR-10 files");
    app.add_option("--max-steps", max_steps, "stop after this many training steps (0: all epochs)");
    CLI11_PARSE(app, argc, argv);
    return example::on_device(o, [&]<class P>(P) {
        auto data = synth ? data::split<float>{synthetic(512, 1), synthetic(128, 2)} : data::cifar10::load(o.data_dir);
        const data::normalize_channels<> norm({0.4914, 0.4822, 0.4465}, {0.2470, 0.2435, 0.2616});
        norm.apply(data.train.x.data(), data.train.x.size());
        norm.apply(data.test.x.data(), data.test.x.size());
        std::printf("%s: %zu train, %zu test images; ResNet-18 (%zu parameters); %s, %zu thread(s)\n",
                    synth ? "synthetic CIFAR-10 stand-in" : "CIFAR-10", data.train.count, data.test.count, net::parameter_count,
                    P::name, num_threads());
        typename net::template on<P> model{seed{o.seed_value}};
        optim::sgd opt{model.parameters(), {.lr = o.lr, .momentum = 0.9}};
        data::loader<float> ld(data.train, o.batch, true, seed{o.seed_value + 1});
        const data::image_shape img{32, 32, 3};
        ld.set_transform(data::compose(data::random_crop<>(img, 4, seed{o.seed_value + 2}),
                                       data::horizontal_flip<>(img, 0.5, seed{o.seed_value + 3})));
        auto ctx = model.context(o.batch);
        std::size_t steps = 0, samples = 0;
        double seconds = 0;
        for (std::size_t e = 0; e < o.epochs && (max_steps == 0 || steps < max_steps); ++e) {
            model.train();
            ld.start_epoch();
            data::batch<float> b;
            double loss_sum = 0;
            std::size_t n = 0;
            const auto t0 = std::chrono::steady_clock::now();
            while ((max_steps == 0 || steps < max_steps) && ld.next(b)) {
                const float l = train_step(model, ctx, opt, loss::cross_entropy{}, b.x, b.labels);
                loss_sum += double(l) * double(b.size);
                n += b.size;
                ++steps;
            }
            const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            seconds += s;
            samples += n;
            model.eval();
            std::printf("epoch %zu: loss %.4f, test accuracy %.4f, %.0f samples/s\n", e + 1, loss_sum / double(n),
                        evaluate(model, data.test).accuracy(), double(n) / s);
        }
        const double acc = evaluate(model, data.test).accuracy(), sps = double(samples) / seconds;
        std::printf("test accuracy %.4f after %zu steps; %.0f samples/s\n", acc, steps, sps);
        if (!o.json_path.empty())
            io::write_file_atomic(o.json_path, "{\"test_accuracy\": " + std::to_string(acc) + ", \"train_samples_per_second\": " +
                                                   std::to_string(sps) + ", \"steps\": " + std::to_string(steps) + "}\n");
        if (!o.save_path.empty()) save_npz(model, o.save_path);
    });
}
