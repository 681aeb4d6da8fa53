// SPDX-License-Identifier: MIT
// Fixed work of compare_lstm's ctnn side for instruction counts under callgrind (repeatable where
// wall-clock time on shared machines is not; compare_lstm itself links libtorch, which valgrind cannot
// load). Sections: train (2 Adam steps of LSTM(64) over 32 steps x 64 features -> Linear(64, 10),
// batch 64), infer (20 batch-1 predictions of that model), step (320 streaming steps), text (1 Adam
// step of the text classifier, batch 32, T 128, random lengths). For a before/after, build this file
// against both trees with -march=x86-64-v3 (valgrind 3.19 does not decode AVX-512), e.g.
//   g++ -std=c++20 -O2 -DNDEBUG -march=x86-64-v3 -DXTENSOR_USE_XSIMD -I TREE/include \
//       benchmarks/instructions/count_lstm.cpp -o count_lstm -lpthread -lz
//   valgrind --tool=callgrind --instr-atstart=no ./count_lstm train
#include <valgrind/callgrind.h>

#include <array>
#include <cstdio>
#include <ctnn/ctnn.hpp>
#include <string>
#include <vector>

using namespace ctnn;

namespace {
constexpr std::size_t steps = 32, features = 64, hidden = 64, classes = 10;
using lstm_model = sequential<input<steps, features>, lstm<hidden>, dense<classes>>;
constexpr std::size_t text_steps = 128, vocab = 10000;
using text_model = sequential<input<text_steps>, embedding<vocab, 64, {.padding_idx = 0}>, lstm<64, {.return_sequences = true}>,
                              lstm<64>, dense<64>, relu, dense<1>, sigmoid>;

std::vector<float> uniform(std::size_t n, rng& g) {
    std::vector<float> v(n);
    for (auto& x : v) x = float(g.uniform(-1, 1));
    return v;
}
}  // namespace

int main(int argc, char** argv) {
    const std::string section = argc > 1 ? argv[1] : "";
    rng g{seed{7}};
    if (section == "train" || section == "infer" || section == "step") {
        lstm_model m{seed{1}};
        const auto x = uniform(64 * steps * features, g);
        if (section == "train") {
            std::vector<std::int32_t> labels(64);
            for (auto& l : labels) l = std::int32_t(g.below(classes));
            optim::adam opt{m.parameters(), {.lr = 1e-3}};
            auto ctx = m.context(64);
            train_step(m, ctx, opt, loss::cross_entropy{}, x, labels);
            CALLGRIND_START_INSTRUMENTATION;
            for (int i = 0; i < 2; ++i) train_step(m, ctx, opt, loss::cross_entropy{}, x, labels);
            CALLGRIND_STOP_INSTRUMENTATION;
        } else if (section == "infer") {
            std::array<float, classes> out{};
            m.predict_into(x.data(), out.data(), 1);
            CALLGRIND_START_INSTRUMENTATION;
            for (int i = 0; i < 20; ++i) m.predict_into(x.data(), out.data(), 1);
            CALLGRIND_STOP_INSTRUMENTATION;
            std::printf("%g\n", double(out[0]));
        } else {
            const auto& layer = m.template layer<0>();
            typename std::remove_cvref_t<decltype(layer)>::stream_state s;
            std::array<float, hidden> y{};
            layer.step(x.data(), s, y.data());
            CALLGRIND_START_INSTRUMENTATION;
            for (int r = 0; r < 10; ++r)
                for (std::size_t t = 0; t < steps; ++t) layer.step(x.data() + t * features, s, y.data());
            CALLGRIND_STOP_INSTRUMENTATION;
            std::printf("%g\n", double(y[0]));
        }
        return 0;
    }
    if (section == "text") {
        text_model m{seed{1}};
        std::vector<std::int32_t> lengths(32);
        std::vector<float> ids(32 * text_steps, 0.0f), targets(32);
        for (std::size_t b = 0; b < 32; ++b) {
            lengths[b] = std::int32_t(1 + g.below(text_steps));
            for (std::size_t t = 0; t < std::size_t(lengths[b]); ++t) ids[b * text_steps + t] = float(1 + g.below(vocab - 1));
            targets[b] = float(g.below(2));
        }
        optim::adam opt{m.parameters(), {.lr = 1e-3}};
        auto ctx = m.context(32);
        ctx.set_lengths(lengths);
        train_step(m, ctx, opt, loss::bce{}, ids, targets);
        CALLGRIND_START_INSTRUMENTATION;
        train_step(m, ctx, opt, loss::bce{}, ids, targets);
        CALLGRIND_STOP_INSTRUMENTATION;
        return 0;
    }
    std::fprintf(stderr, "usage: count_lstm train|infer|step|text (under valgrind --tool=callgrind --instr-atstart=no)\n");
    return 2;
}
