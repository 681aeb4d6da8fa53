// SPDX-License-Identifier: MIT
// ctnn::models::resnet18 against torchvision's resnet18: the state_dict exported by
// tools/export_torchvision_resnet18.py (torchvision's own names, int64 num_batches_tracked) loads
// with load_npz, and the eval-mode logits for two random 224×224 images agree within 1e-3 relative;
// then the model saved by ctnn loads back and predicts the same. Usage: resnet18_torchvision FILE.npz
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctnn/ctnn.hpp>
#include <filesystem>
#include <string>
#include <vector>

using namespace ctnn;

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: resnet18_torchvision REFERENCE.npz\n");
        return 2;
    }
    try {
        auto arrays = io::read_npz(argv[1]);
        // the state_dict under its torchvision names, into an npz of its own for load_npz
        std::map<std::string, io::npy_array> state;
        for (auto& [k, v] : arrays)
            if (k.rfind("state.", 0) == 0) state.emplace(k.substr(6), v);
        const auto weights = std::filesystem::path(argv[1]).replace_extension(".state.npz");
        io::write_npz(weights, state, false);
        using net = models::resnet18<10>;
        net model{seed{1}};
        load_npz(model, weights);
        model.eval();
        const auto& xa = arrays.at("x");
        const auto& la = arrays.at("logits");
        std::vector<float> x(xa.data.size() / sizeof(float)), ref(la.data.size() / sizeof(float));
        std::memcpy(x.data(), xa.data.data(), xa.data.size());
        std::memcpy(ref.data(), la.data.data(), la.data.size());
        const auto y = model.predict(x);
        double worst = 0, scale = 0;
        for (float v : ref) scale = std::max(scale, double(std::abs(v)));
        for (std::size_t i = 0; i < ref.size(); ++i) worst = std::max(worst, std::abs(double(y.data()[i]) - double(ref[i])) / scale);
        std::printf("resnet18 vs torchvision: %zu logits, max |difference| / max |logit| = %.2e (%zu parameters, %zu states)\n",
                    ref.size(), worst, net::parameter_count, net::state_count);
        if (!(worst < 1e-3)) {
            std::fprintf(stderr, "FAILED: logits differ from PyTorch's by %.2e relative (tolerance 1e-3)\n", worst);
            return 1;
        }
        // export back: ctnn's npz has exactly torchvision's keys, and reloads to the same predictions
        const auto back = std::filesystem::path(argv[1]).replace_extension(".ctnn.npz");
        save_npz(model, back);
        const auto saved = io::read_npz(back);
        if (saved.size() != state.size()) {
            std::fprintf(stderr, "FAILED: ctnn saved %zu arrays, torchvision's state_dict has %zu\n", saved.size(), state.size());
            return 1;
        }
        for (const auto& [k, v] : state)
            if (!saved.count(k) || saved.at(k).dtype != v.dtype || saved.at(k).shape != v.shape) {
                std::fprintf(stderr, "FAILED: saved array '%s' differs in name, dtype or shape from torchvision's\n", k.c_str());
                return 1;
            }
        net again{seed{2}};
        load_npz(again, back);
        again.eval();
        const auto y2 = again.predict(x);
        for (std::size_t i = 0; i < ref.size(); ++i)
            if (y2.data()[i] != y.data()[i]) {
                std::fprintf(stderr, "FAILED: the re-loaded model predicts differently\n");
                return 1;
            }
        std::printf("saved npz has torchvision's %zu keys, dtypes and shapes; reloaded model predicts identically\n", saved.size());
    } catch (const ctnn::error& e) {
        std::fprintf(stderr, "FAILED: %s\n", e.what());
        return 1;
    }
    return 0;
}
