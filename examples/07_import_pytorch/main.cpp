// SPDX-License-Identifier: MIT
// Import a torchvision ResNet-18 (or ResNet-34: --arch resnet34) into ctnn: load the state_dict that tools/export_torch.py wrote
// (PyTorch's names, shapes and dtypes; ctnn converts to its NHWC layout), classify the reference
// images, compare the logits and top-5 classes with PyTorch's, time the forward pass per image, and
// optionally save the model back (--save: an npz that torchvision loads with strict=True).
//
//   /usr/bin/python3 tools/export_torch.py resnet18 --out resnet18.npz --reference ref.npz [--weights resnet18-f37072fd.pth]
//   build/examples/07_import_pytorch --weights resnet18.npz --reference ref.npz [--labels classes.txt]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <numeric>
#include <string>
#include <type_traits>
#include <vector>

#include "../common/example.hpp"

using namespace ctnn;

namespace {
/// A float32 array of the reference archive, checked: present, dtype <f4, `per_item` values per item.
std::vector<float> floats(const std::map<std::string, io::npy_array>& arrays, const std::string& file, const std::string& name,
                          std::size_t per_item) {
    const auto it = arrays.find(name);
    if (it == arrays.end()) throw error(file + ": no array '" + name + "' (write it with tools/export_torch.py --reference)");
    const auto& a = it->second;
    if (a.dtype != "<f4") throw error(file + ": array '" + name + "' has dtype " + a.dtype + ", expected <f4 (float32)");
    if (a.shape.empty() || a.count() != a.shape[0] * per_item)
        throw error(file + ": array '" + name + "' must hold " + std::to_string(per_item) + " values per item");
    std::vector<float> v(a.count());
    std::memcpy(v.data(), a.data.data(), v.size() * sizeof(float));
    return v;
}

/// The k largest logits of row r, best first.
std::vector<std::size_t> top_k(const float* row, std::size_t n, std::size_t k) {
    std::vector<std::size_t> idx(n);
    std::iota(idx.begin(), idx.end(), std::size_t(0));
    std::partial_sort(idx.begin(), idx.begin() + long(k), idx.end(), [&](std::size_t a, std::size_t b) { return row[a] > row[b]; });
    idx.resize(k);
    return idx;
}
}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"ctnn example 07: import a torchvision ResNet and compare it with PyTorch"};
    example::options o;
    o.threads = 1;
    std::string weights, reference, labels_path, arch = "resnet18";
    double tolerance = 1e-3;
    std::size_t repeat = 3;
    app.add_option("--weights", weights, "state_dict npz written by tools/export_torch.py --out")->required()->check(CLI::ExistingFile);
    app.add_option("--reference", reference, "inputs and PyTorch outputs written by tools/export_torch.py --reference")
        ->required()
        ->check(CLI::ExistingFile);
    app.add_option("--arch", arch, "the torchvision architecture exported: resnet18 or resnet34")
        ->check(CLI::IsMember({"resnet18", "resnet34"}));
    app.add_option("--labels", labels_path, "class names, one per line (for the printout)")->check(CLI::ExistingFile);
    app.add_option("--tolerance", tolerance, "largest accepted |ctnn − PyTorch| / max |PyTorch logit|");
    app.add_option("--repeat", repeat, "timed forward passes over the reference batch")->check(CLI::Range(1, 1000));
    app.add_option("--threads", o.threads, "CPU threads")->check(CLI::Range(1, 256));
    app.add_option("--device", o.device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
    app.add_option("--save", o.save_path, "save the imported model to this .npz (loads into torchvision with strict=True)");
    app.add_option("--json", o.json_path, "write a JSON summary here");
    CLI11_PARSE(app, argc, argv);

    int verdict = 0;
    // torchvision's models with their 1000 ImageNet classes, 224×224 RGB inputs
    auto run = [&]<class P, class Net>(P, std::type_identity<Net>) {
        using net = Net;
        typename net::template on<P> model{seed{1}};
        load_npz(model, weights);  // strict: every name and shape must match, nothing missing or left over
        model.eval();
        std::printf("loaded %s into models::%s<1000>: %zu parameters, %zu running statistics (%s, %zu thread(s))\n",
                    weights.c_str(), arch.c_str(), net::parameter_count, net::state_count, P::name, num_threads());

        const auto arrays = io::read_npz(reference);
        constexpr std::size_t classes = 1000, in = net::input_shape::size;
        const auto x = floats(arrays, reference, "x", in);
        const auto ref = floats(arrays, reference, "y", classes);
        const std::size_t n = x.size() / in;
        if (ref.size() != n * classes) throw error(reference + ": 'x' and 'y' hold different numbers of items");
        std::vector<std::string> labels;
        if (!labels_path.empty())
            for (std::ifstream f(labels_path); f;) {
                std::string line;
                if (std::getline(f, line)) labels.push_back(line);
            }
        auto label = [&](std::size_t c) { return c < labels.size() ? labels[c] : "class " + std::to_string(c); };

        auto y = model.predict(x);  // warm-up (allocates the workspaces)
        const auto t0 = std::chrono::steady_clock::now();
        for (std::size_t r = 0; r < repeat; ++r) y = model.predict(x);
        const double ms_per_image =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / double(repeat * n);

        double scale = 0, worst = 0;
        for (float v : ref) scale = std::max(scale, double(std::abs(v)));
        for (std::size_t i = 0; i < ref.size(); ++i) worst = std::max(worst, std::abs(double(y.data()[i]) - double(ref[i])));
        const double rel = worst / scale;
        std::size_t top1_agree = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const auto mine = top_k(y.data() + i * classes, classes, 5), theirs = top_k(ref.data() + i * classes, classes, 5);
            top1_agree += mine[0] == theirs[0];
            std::printf("image %zu: ctnn top-5", i);
            for (auto c : mine) std::printf(" %s (%.3f)", label(c).c_str(), double(y.data()[i * classes + c]));
            std::printf("\n         PyTorch top-1 %s (%.3f)%s\n", label(theirs[0]).c_str(), double(ref[i * classes + theirs[0]]),
                        mine == theirs ? ", same top-5" : "");
        }
        std::printf("%zu images: max |ctnn - PyTorch| = %.3g = %.2e of the largest logit; top-1 agrees on %zu/%zu\n", n, worst, rel,
                    top1_agree, n);
        std::printf("forward: %.2f ms per image (batch %zu, %zu threads)\n", ms_per_image, n, num_threads());
        if (!(rel <= tolerance)) {
            std::fprintf(stderr, "FAILED: ctnn's logits differ from PyTorch's by %.2e relative (tolerance %.1e)\n", rel, tolerance);
            verdict = 1;
        }
        if (!o.save_path.empty()) {
            save_npz(model, o.save_path);
            std::printf("saved to %s (torchvision's keys, shapes and dtypes)\n", o.save_path.c_str());
        }
        if (!o.json_path.empty()) {
            char json[256];
            std::snprintf(json, sizeof json,
                          "{\"images\": %zu, \"max_relative_difference\": %.3e, \"top1_agreement\": %.4f, \"ms_per_image\": %.3f}\n", n,
                          rel, double(top1_agree) / double(n), ms_per_image);
            io::write_file_atomic(o.json_path, json);
        }
    };
    const int rc = example::on_device(o, [&]<class P>(P p) {
        if (arch == "resnet34") run(p, std::type_identity<models::resnet34<1000>>{});
        else run(p, std::type_identity<models::resnet18<1000>>{});
    });
    return rc ? rc : verdict;
}
