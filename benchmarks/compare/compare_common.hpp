// SPDX-License-Identifier: MIT
#pragma once
// What the ctnn-vs-libtorch comparison programs share: a result row, median timing, the markdown table
// and the JSON file.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctnn/ctnn.hpp>
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
