// SPDX-License-Identifier: MIT
#pragma once
/// @file callbacks.hpp  fit callbacks: progress, evaluate, early_stop, checkpoint, json_summary.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>

#include "../io/atomic_file.hpp"
#include "../io/model_io.hpp"
#include "fit.hpp"

namespace ctnn::callbacks {

/// A progress bar on a terminal (loss, accuracy, samples/s, ETA), one line per epoch otherwise.
struct progress {
    std::FILE* out = stdout;
    bool force_lines = false;  ///< always print one line per epoch, even on a terminal
    template <class M>
    void on_batch_end(M&, fit_state& s) {
        if (!tty() || (s.batch_index % 20 != 0 && s.batch_index != s.batches)) return;
        const double frac = double(s.batch_index) / double(s.batches);
        const int w = 30, fill = int(frac * w);
        const double sps = s.epoch_seconds > 0 ? double(s.counted) / s.epoch_seconds : 0;
        const double eta = frac > 0 ? s.epoch_seconds * (1 - frac) / frac : 0;
        std::fprintf(out, "\repoch %zu/%zu [%.*s%*s] loss %.4f acc %.4f %.0f samples/s ETA %.1fs ", s.epoch + 1, s.epochs, fill,
                     "==============================", w - fill, "", s.running_loss,
                     s.counted ? double(s.correct) / double(s.counted) : 0.0, sps, eta);
        std::fflush(out);
    }
    template <class M>
    void on_epoch_end(M&, fit_state& s) {
        if (tty()) std::fprintf(out, "\r\033[K");
        const auto& c = s.current;
        std::fprintf(out, "epoch %zu/%zu loss %.4f train_acc %.4f", c.epoch, s.epochs, c.loss, c.train_accuracy);
        for (const auto& [k, v] : c.metrics) std::fprintf(out, " %s %.4f", k.c_str(), v);
        std::fprintf(out, " %.1fs %.0f samples/s\n", c.seconds, c.samples_per_second);
        std::fflush(out);
    }
    bool tty() const { return !force_lines && ::isatty(::fileno(out)); }
};

/// Evaluates on a labelled dataset after each epoch; adds `<name>_accuracy` and `<name>_macro_f1`,
/// and for two classes also `<name>_precision`, `<name>_recall` and `<name>_f1` of class 1.
/// `threshold` applies to single-output models: 0 for logits, 0.5 for probabilities.
template <class T = float>
struct evaluate {
    const data::dataset<T>* data;
    std::string name = "test";
    std::size_t batch = 256;
    T threshold = 0;
    evaluate(const data::dataset<T>& d, std::string n = "test", std::size_t b = 256, T thr = 0)
        : data(&d), name(std::move(n)), batch(b), threshold(thr) {}
    template <class M>
    void on_evaluate(M& m, fit_state& s) {
        const auto cm = ctnn::evaluate(m, *data, batch, threshold);
        auto& out = s.current.metrics;
        out[name + "_accuracy"] = cm.accuracy();
        out[name + "_macro_f1"] = cm.macro_f1();
        if (cm.classes() == 2) {
            out[name + "_precision"] = cm.precision(1);
            out[name + "_recall"] = cm.recall(1);
            out[name + "_f1"] = cm.f1(1);
        }
    }
};

/// Stops training when `monitor` has not improved by more than `min_delta` for `patience` epochs.
struct early_stop {
    std::string monitor = "test_accuracy";
    std::size_t patience = 3;
    bool maximize = true;
    double min_delta = 0.0;
    double best = NAN;
    std::size_t bad = 0;
    template <class M>
    void on_epoch_end(M&, fit_state& s) {
        double v;
        if (auto it = s.current.metrics.find(monitor); it != s.current.metrics.end()) v = it->second;
        else if (monitor == "loss") v = s.current.loss;
        else ctnn::detail::fail("early_stop: no metric '" + monitor + "'; add an evaluate callback before early_stop");
        const bool better = std::isnan(best) || (maximize ? v > best + min_delta : v < best - min_delta);
        if (better) {
            best = v;
            bad = 0;
        } else if (++bad >= patience) {
            s.stop = true;
        }
    }
};

/// Saves the model to `path` (npz, atomic) every `every` epochs; `{epoch}` in the path is replaced.
struct checkpoint {
    std::string path;
    std::size_t every = 1;
    template <class M>
    void on_epoch_end(M& m, fit_state& s) {
        if (every == 0 || s.current.epoch % every != 0) return;
        std::string p = path;
        if (auto i = p.find("{epoch}"); i != std::string::npos) p.replace(i, 7, std::to_string(s.current.epoch));
        save_npz(m, p);
    }
};

/// Writes a JSON summary at the end of training: epochs, train seconds, samples/s, the last epoch's
/// metrics flattened to the top level (e.g. `test_accuracy`), `extra` fields, and the history.
struct json_summary {
    std::string path;
    std::map<std::string, double> extra{};
    template <class M>
    void on_train_end(M&, fit_state& s, const fit_result& r) {
        std::ostringstream o;
        o.precision(10);
        o << "{\n  \"epochs\": " << r.history.size() << ",\n  \"train_seconds\": " << r.train_seconds
          << ",\n  \"train_samples_per_second\": " << r.samples_per_second()
          << ",\n  \"stopped_early\": " << (r.stopped_early ? "true" : "false");
        if (!s.history.empty()) {
            const auto& last = s.history.back();
            o << ",\n  \"final_loss\": " << last.loss << ",\n  \"train_accuracy\": " << last.train_accuracy;
            for (const auto& [k, v] : last.metrics) o << ",\n  \"" << k << "\": " << v;
        }
        for (const auto& [k, v] : extra) o << ",\n  \"" << k << "\": " << v;
        o << ",\n  \"history\": [";
        for (std::size_t i = 0; i < r.history.size(); ++i) {
            const auto& h = r.history[i];
            o << (i ? "," : "") << "\n    {\"epoch\": " << h.epoch << ", \"loss\": " << h.loss << ", \"train_accuracy\": "
              << h.train_accuracy << ", \"seconds\": " << h.seconds << ", \"samples_per_second\": " << h.samples_per_second
              << ", \"lr\": " << h.lr;
            for (const auto& [k, v] : h.metrics) o << ", \"" << k << "\": " << v;
            o << "}";
        }
        o << "\n  ]\n}\n";
        io::write_file_atomic(path, o.str());
    }
};

}  // namespace ctnn::callbacks
