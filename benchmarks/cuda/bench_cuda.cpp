// SPDX-License-Identifier: MIT
// The CUDA policy on a GPU, as ratios to the device's own limits and to cuBLAS, in one run:
//  - device-to-device copy bandwidth (the limit of elementwise kernels), and relu / Adam as % of it;
//  - sgemm at the MLP's layer shapes through ctnn (cuBLAS + epilogue kernel) vs cuBLAS alone;
//  - MLP 784-256-128-10 training samples/s at batch 64, 256, 1024 (compare tools/torch_cuda_mlp.py).
// Prints a markdown table; `--json FILE` also writes the figures. Exits 77 without a device.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctnn/ctnn.hpp>
#include <fstream>
#include <string>
#include <vector>

using namespace ctnn;
using clock_type = std::chrono::steady_clock;

namespace {
/// Seconds per call of f, timed over whole seconds of repetitions with the GPU drained at both ends.
template <class F>
double seconds_per_call(F&& f, double min_seconds = 0.5) {
    for (int i = 0; i < 3; ++i) f();
    cuda_api::synchronize();
    std::size_t n = 0;
    const auto t0 = clock_type::now();
    double s = 0;
    do {
        for (int i = 0; i < 10; ++i, ++n) f();
        cuda_api::synchronize();
        s = std::chrono::duration<double>(clock_type::now() - t0).count();
    } while (s < min_seconds);
    return s / double(n);
}

struct row {
    std::string name, value, ratio;
};
}  // namespace

int main(int argc, char** argv) {
    std::string json;
    for (int i = 1; i + 1 < argc; ++i)
        if (std::strcmp(argv[i], "--json") == 0) json = argv[i + 1];
    if (cuda_api::device_count() == 0) {
        std::printf("bench_cuda did not run: %s\n", cuda_api::device_description().c_str());
        return 77;
    }
    std::printf("# ctnn CUDA policy on %s\n\n", cuda_api::device_description().c_str());
    std::vector<row> rows;
    std::vector<std::pair<std::string, double>> figures;

    // memory-bound kernels vs a device-to-device copy (bytes read + written per second)
    const std::size_t n = std::size_t(1) << 26;  // 64 Mi floats = 256 MiB per array
    backend::cuda::device_buffer<float> a(n), b(n), c(n), d(n);
    const double copy_gbs = 2.0 * n * sizeof(float) / seconds_per_call([&] { cuda_api::copy_on_device(b.data(), a.data(), n * sizeof(float)); }) / 1e9;
    const double relu_gbs = 2.0 * n * sizeof(float) /
                            seconds_per_call([&] { cuda_api::activation_forward(activation_kind::relu, 0.f, a.data(), b.data(), n); }) / 1e9;
    const double adam_gbs = 7.0 * n * sizeof(float) / seconds_per_call([&] {
                                cuda_api::adam_update(a.data(), b.data(), c.data(), d.data(), n, 0.9f, 0.999f, 1e-8f, 0.f, 1e-3f, 1.f, 1.f, false);
                            }) / 1e9;
    rows.push_back({"device-to-device copy", std::to_string(int(copy_gbs)) + " GB/s", "1.00"});
    rows.push_back({"relu forward", std::to_string(int(relu_gbs)) + " GB/s", std::to_string(relu_gbs / copy_gbs).substr(0, 4)});
    rows.push_back({"Adam step (7 floats/parameter)", std::to_string(int(adam_gbs)) + " GB/s", std::to_string(adam_gbs / copy_gbs).substr(0, 4)});
    figures.insert(figures.end(), {{"copy_gbs", copy_gbs}, {"relu_gbs", relu_gbs}, {"adam_gbs", adam_gbs}});

    // sgemm at the layer shapes: ctnn (cuBLAS + bias/relu epilogue) vs cuBLAS alone
    struct shape {
        std::size_t M, N, K;
    };
    for (const shape s : {shape{64, 256, 784}, shape{1024, 256, 784}, shape{1024, 128, 256}, shape{4096, 4096, 4096}}) {
        backend::cuda::device_buffer<float> x(s.M * s.K), w(s.N * s.K), y(s.M * s.N), bias(s.N);
        const double flops = 2.0 * double(s.M) * double(s.N) * double(s.K);
        const double plain = flops / seconds_per_call([&] {
                                 cuda_api::gemm(false, true, s.M, s.N, s.K, 1.f, x.data(), s.K, w.data(), s.K, 0.f, y.data(), s.N, epilogue<float>{});
                             }) / 1e9;
        const double fused = flops / seconds_per_call([&] {
                                 cuda_api::gemm(false, true, s.M, s.N, s.K, 1.f, x.data(), s.K, w.data(), s.K, 0.f, y.data(), s.N,
                                                epilogue<float>{bias.data(), activation_kind::relu, 0.f});
                             }) / 1e9;
        const std::string name = std::to_string(s.M) + "x" + std::to_string(s.N) + "x" + std::to_string(s.K);
        rows.push_back({"X·Wᵀ " + name + " + bias + relu", std::to_string(int(fused)) + " GFLOP/s (cuBLAS alone " +
                                                            std::to_string(int(plain)) + ")",
                        std::to_string(fused / plain).substr(0, 4)});
        figures.push_back({"gemm_" + name + "_gflops", fused});
        figures.push_back({"cublas_" + name + "_gflops", plain});
    }

    // MLP training samples/s
    using mlp = sequential<input<784>, dense<256>, relu, dense<128>, relu, dense<10>>::on<cuda>;
    for (std::size_t batch : {64, 256, 1024}) {
        mlp model{seed{1}};
        auto ctx = model.context(batch);
        optim::adam opt{model.parameters(), {1e-3}};
        std::vector<float> x(batch * 784, 0.5f);
        std::vector<std::int32_t> labels(batch);
        for (std::size_t i = 0; i < batch; ++i) labels[i] = std::int32_t(i % 10);
        const double sps = double(batch) / seconds_per_call([&] { train_step(model, ctx, opt, loss::cross_entropy{}, x, labels); }, 1.0);
        rows.push_back({"MLP training, batch " + std::to_string(batch), std::to_string(long(sps)) + " samples/s", "-"});
        figures.push_back({"mlp_train_b" + std::to_string(batch) + "_samples_per_s", sps});
    }

    std::printf("| benchmark | ctnn | ratio |\n|---|---|---|\n");
    for (const auto& r : rows) std::printf("| %s | %s | %s |\n", r.name.c_str(), r.value.c_str(), r.ratio.c_str());
    if (!json.empty()) {
        std::ofstream f(json);
        f << "{\"device\": \"" << cuda_api::device_description() << "\"";
        for (const auto& [k, v] : figures) f << ", \"" << k << "\": " << v;
        f << "}\n";
    }
    return 0;
}
