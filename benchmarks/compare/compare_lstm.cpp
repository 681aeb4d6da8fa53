// SPDX-License-Identifier: MIT
// ctnn vs libtorch, in one process, same data, same weights (copied from ctnn into torch and checked to
// agree), same thread count:
//  - LSTM(64 hidden) over sequences of 32 steps × 64 input features, batch-first:
//      training at batch 64 (LSTM → Linear(64, 10) → cross-entropy → Adam 1e-3), sequences/s;
//      inference of that model at batch 1 over the whole 32-step sequence, µs;
//      one streaming step at batch 1 (ctnn: the layer's step(x_t, state, y); libtorch: nn::LSTMCell with
//      its (h, c)), µs per step.
//  - the text classifier Embedding(10000, 64, padding_idx 0) → LSTM(64, every step) → LSTM(64) →
//    Dense(64, relu) → Dense(1, sigmoid), BCE, Adam 1e-3, batch 32, T = 128 random ids with random lengths
//    in [1, 128] (ctnn: ctx.set_lengths; libtorch: pack_padded_sequence(enforce_sorted = false) through both
//    LSTMs), training samples/s.
// Timings alternate ctnn and libtorch chunk by chunk (which goes first alternates too); each figure is
// the median over the rounds. Prints a markdown table with ratios; --json FILE writes JSON.
// Options: --threads 1,2 (default), --only train|infer|step|text (repeatable), --rounds N (default 9).
// Instruction counts of the same ctnn work (valgrind cannot run this program: libtorch's libhwy executes
// rdtscp at load) come from benchmarks/instructions/count_lstm.cpp.
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <ctnn/ctnn.hpp>
#include <set>
#include <string>
#include <vector>

#include "compare_common.hpp"

using namespace ctnn;

namespace {

constexpr std::size_t steps = 32, features = 64, hidden = 64, classes = 10;
using lstm_model = sequential<input<steps, features>, lstm<hidden>, dense<classes>>;

constexpr std::size_t text_steps = 128, vocab = 10000, embed = 64;
using text_model = sequential<input<text_steps>, embedding<vocab, embed, {.padding_idx = 0}>, lstm<64, {.return_sequences = true}>,
                              lstm<64>, dense<64>, relu, dense<1>, sigmoid>;

struct torch_lstm_net : torch::nn::Module {
    torch::nn::LSTM rnn{nullptr};
    torch::nn::Linear fc{nullptr};
    torch_lstm_net() {
        rnn = register_module("rnn", torch::nn::LSTM(torch::nn::LSTMOptions(features, hidden).batch_first(true)));
        fc = register_module("fc", torch::nn::Linear(hidden, classes));
    }
    torch::Tensor forward(const torch::Tensor& x) {
        const auto h_n = std::get<0>(std::get<1>(rnn->forward(x)));  // [1, batch, hidden]
        return fc->forward(h_n[0]);
    }
};

struct torch_text_net : torch::nn::Module {
    torch::nn::Embedding emb{nullptr};
    torch::nn::LSTM rnn1{nullptr}, rnn2{nullptr};
    torch::nn::Linear fc1{nullptr}, fc2{nullptr};
    torch_text_net() {
        emb = register_module("emb", torch::nn::Embedding(torch::nn::EmbeddingOptions(vocab, embed).padding_idx(0)));
        rnn1 = register_module("rnn1", torch::nn::LSTM(torch::nn::LSTMOptions(embed, 64).batch_first(true)));
        rnn2 = register_module("rnn2", torch::nn::LSTM(torch::nn::LSTMOptions(64, 64).batch_first(true)));
        fc1 = register_module("fc1", torch::nn::Linear(64, 64));
        fc2 = register_module("fc2", torch::nn::Linear(64, 1));
    }
    /// ids [batch, T] int64, lengths [batch] int64 (CPU): probabilities [batch, 1].
    torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& lengths) {
        namespace rnn = torch::nn::utils::rnn;
        const auto packed = rnn::pack_padded_sequence(emb->forward(ids), lengths, true, false);
        const auto seq = std::get<0>(rnn1->forward_with_packed_input(packed));
        const auto h_n = std::get<0>(std::get<1>(rnn2->forward_with_packed_input(seq)));  // original sample order
        return torch::sigmoid(fc2->forward(torch::relu(fc1->forward(h_n[0]))));
    }
};

void lstm_training(std::vector<row>& rows, int threads, int rounds) {
    constexpr std::size_t batch = 64, batches = 8, per_chunk = 8;
    rng g{seed{3}};
    const auto x = uniform(batches * batch * steps * features, g);
    std::vector<std::int32_t> labels(batches * batch);
    for (auto& l : labels) l = std::int32_t(g.below(classes));
    std::vector<std::int64_t> labels64(labels.begin(), labels.end());

    lstm_model m{seed{1}};
    torch_lstm_net net;
    copy_weights(m, net);
    optim::adam opt{m.parameters(), {.lr = 1e-3}};
    auto ctx = m.context(batch);
    torch::optim::Adam topt(net.parameters(), torch::optim::AdamOptions(1e-3));
    const auto xs = torch::from_blob(const_cast<float*>(x.data()), {long(batches * batch), long(steps), long(features)});
    const auto ys = torch::from_blob(labels64.data(), {long(batches * batch)}, torch::kInt64);
    std::size_t next_c = 0, next_t = 0;
    float loss_c = 0, loss_t = 0;
    auto ctnn_chunk = [&] {
        for (std::size_t s = 0; s < per_chunk; ++s, next_c = (next_c + 1) % batches) {
            const data::span_tensor<const float> xb{x.data() + next_c * batch * steps * features, batch * steps * features};
            const data::span_tensor<const std::int32_t> yb{labels.data() + next_c * batch, batch};
            loss_c = train_step(m, ctx, opt, loss::cross_entropy{}, xb, yb);
        }
    };
    auto torch_chunk = [&] {
        for (std::size_t s = 0; s < per_chunk; ++s, next_t = (next_t + 1) % batches) {
            topt.zero_grad();
            auto loss = torch::nn::functional::cross_entropy(net.forward(xs.narrow(0, long(next_t * batch), long(batch))),
                                                             ys.narrow(0, long(next_t * batch), long(batch)));
            loss.backward();
            topt.step();
            loss_t = loss.item<float>();
        }
    };
    ctnn_chunk();  // the first chunk doubles as the check: same weights, same batches, same Adam
    torch_chunk();
    require_close("LSTM training losses after 8 steps", &loss_c, &loss_t, 1, 2e-3f);
    const auto [tc, tt] = interleaved_medians(rounds, ctnn_chunk, torch_chunk);
    const double n = double(per_chunk * batch);
    rows.push_back({"LSTM training, batch 64", threads, n / tc, n / tt, "sequences/s", true});
}

void lstm_inference(std::vector<row>& rows, int threads, int rounds) {
    rng g{seed{4}};
    const auto x = uniform(steps * features, g);
    lstm_model m{seed{1}};
    torch_lstm_net net;
    copy_weights(m, net);
    net.eval();
    torch::NoGradGuard no_grad;
    const auto xt_ = torch::from_blob(const_cast<float*>(x.data()), {1, long(steps), long(features)});
    std::array<float, classes> out{};
    const int reps = 200;
    torch::Tensor yt;
    auto ctnn_chunk = [&] {
        for (int r = 0; r < reps; ++r) m.predict_into(x.data(), out.data(), 1);
    };
    auto torch_chunk = [&] {
        for (int r = 0; r < reps; ++r) yt = net.forward(xt_);
    };
    ctnn_chunk();
    torch_chunk();
    require_close("batch-1 logits", out.data(), yt.contiguous().data_ptr<float>(), classes, 1e-4f);
    const auto [tc, tt] = interleaved_medians(rounds, ctnn_chunk, torch_chunk);
    rows.push_back({"LSTM inference, batch 1, 32 steps", threads, tc / reps * 1e6, tt / reps * 1e6, "µs", false});
}

void lstm_streaming(std::vector<row>& rows, int threads, int rounds) {
    rng g{seed{5}};
    const auto x = uniform(steps * features, g);
    lstm_model m{seed{1}};
    const auto& layer = m.template layer<0>();
    using layer_t = std::remove_cvref_t<decltype(layer)>;
    typename layer_t::stream_state s;
    torch::nn::LSTMCell cell(torch::nn::LSTMCellOptions(features, hidden));
    {
        torch::NoGradGuard no_grad;
        const auto p = m.named_parameters();  // weight_ih, weight_hh, bias_ih, bias_hh: LSTMCell's order too
        auto dst = cell->parameters();
        for (std::size_t i = 0; i < 4; ++i) dst[i].copy_(torch::from_blob(p[i].value, dst[i].sizes(), torch::kFloat32));
    }
    torch::NoGradGuard no_grad;
    const auto xt_ = torch::from_blob(const_cast<float*>(x.data()), {long(steps), 1, long(features)});
    std::array<float, hidden> y{};
    std::tuple<torch::Tensor, torch::Tensor> state{torch::zeros({1, long(hidden)}), torch::zeros({1, long(hidden)})};
    const int reps = 100;  // sequences of 32 steps per chunk
    auto ctnn_chunk = [&] {
        for (int r = 0; r < reps; ++r) {
            s.reset();
            for (std::size_t t = 0; t < steps; ++t) layer.step(x.data() + t * features, s, y.data());
        }
    };
    auto torch_chunk = [&] {
        for (int r = 0; r < reps; ++r) {
            state = {torch::zeros({1, long(hidden)}), torch::zeros({1, long(hidden)})};
            for (std::size_t t = 0; t < steps; ++t) state = cell->forward(xt_[long(t)], state);
        }
    };
    ctnn_chunk();
    torch_chunk();
    require_close("streaming hidden states after 32 steps", y.data(), std::get<0>(state).contiguous().data_ptr<float>(), hidden, 1e-4f);
    const auto [tc, tt] = interleaved_medians(rounds, ctnn_chunk, torch_chunk);
    const double n = double(reps * steps);
    rows.push_back({"LSTM streaming step, batch 1", threads, tc / n * 1e6, tt / n * 1e6, "µs", false});
}

void text_training(std::vector<row>& rows, int threads, int rounds) {
    constexpr std::size_t batch = 32, batches = 8, per_chunk = 4;
    rng g{seed{6}};
    std::vector<std::int32_t> lengths(batches * batch);
    std::vector<float> ids(batches * batch * text_steps, 0.0f), targets(batches * batch);
    for (std::size_t b = 0; b < lengths.size(); ++b) {
        lengths[b] = std::int32_t(1 + g.below(text_steps));
        for (std::size_t t = 0; t < std::size_t(lengths[b]); ++t) ids[b * text_steps + t] = float(1 + g.below(vocab - 1));
        targets[b] = float(g.below(2));
    }
    const std::vector<std::int64_t> ids64(ids.begin(), ids.end()), lengths64(lengths.begin(), lengths.end());

    text_model m{seed{1}};
    torch_text_net net;
    copy_weights(m, net);
    optim::adam opt{m.parameters(), {.lr = 1e-3}};
    auto ctx = m.context(batch);
    torch::optim::Adam topt(net.parameters(), torch::optim::AdamOptions(1e-3));
    const auto idt = torch::from_blob(const_cast<std::int64_t*>(ids64.data()), {long(batches * batch), long(text_steps)}, torch::kInt64);
    const auto lt = torch::from_blob(const_cast<std::int64_t*>(lengths64.data()), {long(batches * batch)}, torch::kInt64);
    const auto tt_ = torch::from_blob(targets.data(), {long(batches * batch), 1});
    std::size_t next_c = 0, next_t = 0;
    float loss_c = 0, loss_t = 0;
    auto ctnn_chunk = [&] {
        for (std::size_t s = 0; s < per_chunk; ++s, next_c = (next_c + 1) % batches) {
            ctx.set_lengths(std::span<const std::int32_t>(lengths.data() + next_c * batch, batch));
            const data::span_tensor<const float> xb{ids.data() + next_c * batch * text_steps, batch * text_steps};
            const data::span_tensor<const float> yb{targets.data() + next_c * batch, batch};
            loss_c = train_step(m, ctx, opt, loss::bce{}, xb, yb);
        }
    };
    auto torch_chunk = [&] {
        for (std::size_t s = 0; s < per_chunk; ++s, next_t = (next_t + 1) % batches) {
            const long b0 = long(next_t * batch);
            topt.zero_grad();
            auto loss = torch::nn::functional::binary_cross_entropy(net.forward(idt.narrow(0, b0, long(batch)), lt.narrow(0, b0, long(batch))),
                                                                    tt_.narrow(0, b0, long(batch)));
            loss.backward();
            topt.step();
            loss_t = loss.item<float>();
        }
    };
    ctnn_chunk();
    torch_chunk();
    require_close("text classifier losses after 4 steps", &loss_c, &loss_t, 1, 2e-3f);
    const auto [tc, tt] = interleaved_medians(rounds, ctnn_chunk, torch_chunk);
    const double n = double(per_chunk * batch);
    rows.push_back({"text classifier training, batch 32, T 128", threads, n / tc, n / tt, "samples/s", true});
}

}  // namespace

int main(int argc, char** argv) {
    const auto args = parse_compare_args(argc, argv, 9, "usage: compare_lstm [--json FILE] [--threads 1,2] [--only train|infer|step|text]... [--rounds N]");
    if (!args.ok) return 2;
    auto wanted = [&](const char* s) { return args.wanted(s); };
    std::printf("LSTM: hidden %zu, %zu steps x %zu input features (batch-first); text classifier: T %zu, vocabulary %zu\n\n",
                hidden, steps, features, text_steps, vocab);
    std::vector<row> rows;
    for (int threads : args.threads) {
        ctnn::set_num_threads(std::size_t(threads));
        torch::set_num_threads(threads);
        if (wanted("train")) lstm_training(rows, threads, args.rounds);
        if (wanted("infer")) lstm_inference(rows, threads, args.rounds);
        if (wanted("step")) lstm_streaming(rows, threads, args.rounds);
        if (wanted("text")) text_training(rows, threads, args.rounds);
    }
    print_and_save(rows, args.json_path);
    return 0;
}
