// SPDX-License-Identifier: MIT
#pragma once
// What the ctnn-vs-libtorch comparison programs share: a result row, median timing, the markdown table
// and the JSON file.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <utility>
#include <cstdio>
#include <fstream>
#include <ctnn/ctnn.hpp>
#include <set>
#include <string>
#include <vector>

using clock_type = std::chrono::steady_clock;

struct row {
    std::string what;
    int threads;
    double ctnn_value, torch_value;
    const char* unit;
    bool higher_is_better;
    double ratio() const { return higher_is_better ? ctnn_value / torch_value : torch_value / ctnn_value; }
};

/// Median of @p reps timings (seconds) of @p f.
template <class F>
double median_seconds(int reps, F&& f) {
    std::vector<double> t;
    for (int r = 0; r < reps; ++r) {
        const auto t0 = clock_type::now();
        f();
        t.push_back(std::chrono::duration<double>(clock_type::now() - t0).count());
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

/// n training steps of a ctnn model on consecutive batches of @p train (cross-entropy).
template <class Model, class Opt>
void ctnn_steps(Model& m, typename Model::context_type& ctx, Opt& opt, const ctnn::data::dataset<float>& train,
                std::size_t batch, std::size_t n) {
    const std::size_t ss = train.sample_size;
    for (std::size_t s = 0; s < n; ++s) {
        const ctnn::data::span_tensor<const float> x{train.x.data() + s * batch * ss, batch * ss};
        const ctnn::data::span_tensor<const std::int32_t> y{train.labels.data() + s * batch, batch};
        ctnn::train_step(m, ctx, opt, ctnn::loss::cross_entropy{}, x, y);
    }
}

/// Prints the markdown table and, with a path, writes the rows as JSON (atomically).
/// The ISA ctnn was compiled for (xsimd's best architecture at compile time) and the CPU's model name.
inline std::string isa_line() {
    std::string cpu = "unknown CPU";
    std::ifstream f("/proc/cpuinfo");
    for (std::string l; std::getline(f, l);)
        if (l.rfind("model name", 0) == 0) {
            cpu = l.substr(l.find(':') + 2);
            break;
        }
    return std::string("ISA: ctnn built for ") + xsimd::default_arch::name() + " (xsimd), CPU: " + cpu;
}

inline void print_and_save(const std::vector<row>& rows, const std::string& json_path) {
    std::printf("| benchmark | threads | ctnn | libtorch %s | ctnn advantage |\n|---|---|---|---|---|\n", TORCH_VERSION);
    for (const auto& r : rows)
        std::printf("| %s | %d | %.1f %s | %.1f %s | %.2fx |\n", r.what.c_str(), r.threads, r.ctnn_value, r.unit, r.torch_value, r.unit,
                    r.ratio());
    if (json_path.empty()) return;
    std::string j = "{\n  \"libtorch\": \"" + std::string(TORCH_VERSION) + "\",\n  \"rows\": [";
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto& r = rows[i];
        char buf[512];
        std::snprintf(buf, sizeof buf,
                      "%s\n    {\"benchmark\": \"%s\", \"threads\": %d, \"ctnn\": %.6g, \"libtorch\": %.6g, \"unit\": \"%s\", "
                      "\"ctnn_advantage\": %.4g}",
                      i ? "," : "", r.what.c_str(), r.threads, r.ctnn_value, r.torch_value,
                      std::string(r.unit) == "µs" ? "us" : r.unit, r.ratio());
        j += buf;
    }
    j += "\n  ]\n}\n";
    ctnn::io::write_file_atomic(json_path, j);
}

/// Copies ctnn's parameters into the torch module, tensor by tensor in state_dict order (the same
/// order and shapes in both: PyTorch's names and layouts).
template <class Model>
inline void copy_weights(Model& m, torch::nn::Module& net) {
    torch::NoGradGuard no_grad;
    const auto src = m.named_parameters();
    auto dst = net.parameters();
    if (src.size() != dst.size()) {
        std::fprintf(stderr, "compare: %zu ctnn tensors vs %zu torch tensors\n", src.size(), dst.size());
        std::exit(1);
    }
    for (std::size_t i = 0; i < src.size(); ++i) {
        if (std::size_t(dst[i].numel()) != src[i].desc.size()) {
            std::fprintf(stderr, "compare: tensor %s has %zu values, torch's %ld\n", src[i].name.c_str(), src[i].desc.size(),
                         long(dst[i].numel()));
            std::exit(1);
        }
        dst[i].copy_(torch::from_blob(src[i].value, dst[i].sizes(), torch::kFloat32));
    }
}

inline void require_close(const char* what, const float* a, const float* b, std::size_t n, float tol) {
    float worst = 0;
    for (std::size_t i = 0; i < n; ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
    if (!(worst <= tol)) {
        std::fprintf(stderr, "compare: %s differ by %g between ctnn and libtorch\n", what, double(worst));
        std::exit(1);
    }
}

/// Median seconds of @p a and of @p b over @p rounds, run alternately (the first of a round alternates).
template <class A, class B>
std::pair<double, double> interleaved_medians(int rounds, A&& a, B&& b) {
    std::vector<double> ta, tb;
    auto time = [](auto& f) {
        const auto t0 = clock_type::now();
        f();
        return std::chrono::duration<double>(clock_type::now() - t0).count();
    };
    for (int r = 0; r < rounds; ++r) {
        if (r % 2 == 0) {
            ta.push_back(time(a));
            tb.push_back(time(b));
        } else {
            tb.push_back(time(b));
            ta.push_back(time(a));
        }
    }
    std::sort(ta.begin(), ta.end());
    std::sort(tb.begin(), tb.end());
    return {ta[ta.size() / 2], tb[tb.size() / 2]};
}

inline std::vector<float> uniform(std::size_t n, ctnn::rng& g, double lo = -1, double hi = 1) {
    std::vector<float> v(n);
    for (auto& x : v) x = float(g.uniform(lo, hi));
    return v;
}

/// Copies ctnn's parameters into the torch module by name: ctnn's name with its first @p skip
/// characters removed (a model's "0.") is the torch parameter's name; shapes must agree.
template <class Model>
inline void copy_weights_by_name(Model& m, torch::nn::Module& net, std::size_t skip) {
    torch::NoGradGuard no_grad;
    auto dst = net.named_parameters();
    std::size_t copied = 0;
    for (const auto& p : m.named_parameters()) {
        const std::string name = p.name.substr(skip);
        auto* t = dst.find(name);
        if (!t || std::size_t(t->numel()) != p.desc.size()) {
            std::fprintf(stderr, "compare: torch has no parameter %s of %zu values\n", name.c_str(), p.desc.size());
            std::exit(1);
        }
        t->copy_(torch::from_blob(p.value, t->sizes(), torch::kFloat32));
        ++copied;
    }
    std::size_t defined = 0;
    for (const auto& t : dst) defined += t.value().defined() ? 1 : 0;
    if (copied != defined) {
        std::fprintf(stderr, "compare: %zu ctnn tensors vs %zu torch tensors\n", copied, defined);
        std::exit(1);
    }
}

/// The command line every comparison program takes: --json FILE, --threads 1,2, --only NAME (repeatable),
/// --rounds N. `ok` is false (after printing @p usage) on anything else.
struct compare_args {
    std::string json_path;
    std::vector<int> threads{1, 2};
    std::set<std::string> only;
    int rounds = 9;
    bool ok = true;
    bool wanted(const char* s) const { return only.empty() || only.count(s); }
};
inline compare_args parse_compare_args(int argc, char** argv, int default_rounds, const char* usage) {
    compare_args a;
    a.rounds = default_rounds;
    for (int i = 1; i < argc; i += 2) {
        const std::string k = argv[i], v = i + 1 < argc ? argv[i + 1] : "";
        if (k == "--json" && !v.empty()) a.json_path = v;
        else if (k == "--only" && !v.empty()) a.only.insert(v);
        else if (k == "--rounds" && !v.empty()) a.rounds = std::max(1, std::stoi(v));
        else if (k == "--threads" && !v.empty()) {
            a.threads.clear();
            for (std::size_t p = 0; p < v.size();) {
                const std::size_t q = std::min(v.find(',', p), v.size());
                a.threads.push_back(std::stoi(v.substr(p, q - p)));
                p = q + 1;
            }
        } else {
            std::fprintf(stderr, "%s\n", usage);
            a.ok = false;
            return a;
        }
    }
    return a;
}
