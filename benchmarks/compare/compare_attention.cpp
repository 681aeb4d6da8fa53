// SPDX-License-Identifier: MIT
// ctnn vs libtorch, in one process, same weights (copied by name and checked to agree), same threads:
//  - attention: nn.MultiheadAttention(128, 4) as self-attention at batch 32, sequence 128 — forward and
//    backward (parameter and input gradients), ms per batch;
//  - one training step of nn.TransformerEncoderLayer(128, 4, dim_feedforward 512, dropout 0.1) at batch
//    32, sequence 128: forward, backward, Adam, ms per batch;
//  - generation at batch 1 with a small character GPT (embedding + positions, 2 causal post-norm blocks of
//    E 64, 4 heads, FF 256, GELU; a dense head): 63 greedy tokens, ctnn through its KV cache and without
//    it, libtorch running the model over the context for every token (its modules keep no cache), µs/token;
//  - long sequences (--memory): attention forward + backward at batch 1, E 256, 4 heads for T = 1024,
//    2048, 4096, each in a fresh child process: the growth of its peak resident set (ru_maxrss) over
//    what it held at the start, and the time.
// libtorch 1.13's C++ modules are sequence-first: they get the same data transposed (a view).
// Timings alternate ctnn and libtorch chunk by chunk; each figure is the median over the rounds.
// Options: --threads 1,2 (default), --only attention|encoder|generation|memory (repeatable), --rounds N (default 7),
// --json FILE.
#include <sys/resource.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <ctnn/ctnn.hpp>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "compare_common.hpp"

using namespace ctnn;

namespace {

constexpr std::size_t batch = 32, steps = 128, E = 128, heads = 4;
using mha_model = sequential<input<steps, E>, multi_head_attention<heads>>;
constexpr encoder_options enc_opts{.nhead = heads, .dim_feedforward = 512, .dropout = 0.1};
using encoder_model = sequential<input<steps, E>, transformer_encoder_layer<enc_opts>>;

/// [B, T, E] values as libtorch's [T, B, E] (a transposed view of the same memory).
torch::Tensor seq_first(const std::vector<float>& v, std::size_t b, std::size_t t, std::size_t e) {
    return torch::from_blob(const_cast<float*>(v.data()), {long(b), long(t), long(e)}).transpose(0, 1);
}

void attention_bench(std::vector<row>& rows, int threads, int rounds) {
    rng g{seed{3}};
    const auto x = uniform(batch * steps * E, g), dy = uniform(batch * steps * E, g);
    mha_model m{seed{1}};
    torch::nn::MultiheadAttention net{torch::nn::MultiheadAttentionOptions(long(E), long(heads))};
    copy_weights_by_name(m, *net, 2);
    auto ctx = m.context(batch);
    const auto xt_ = seq_first(x, batch, steps, E).detach().requires_grad_(true);
    const auto dyt = seq_first(dy, batch, steps, E);
    torch::Tensor yt;
    const int reps = 2;
    auto ctnn_chunk = [&] {
        for (int r = 0; r < reps; ++r) {
            m.forward(x, ctx);
            m.backward(dy, ctx, true);
        }
    };
    auto torch_chunk = [&] {
        for (int r = 0; r < reps; ++r) {
            yt = std::get<0>(net->forward(xt_, xt_, xt_, {}, false));
            yt.backward(dyt);
        }
    };
    m.zero_grad();
    ctnn_chunk();
    net->zero_grad();
    torch_chunk();
    const auto y_ctnn = m.predict(x);
    const auto y_torch = yt.detach().transpose(0, 1).contiguous();
    require_close("attention outputs", y_ctnn.data(), y_torch.data_ptr<float>(), x.size(), 1e-4f);
    const auto g_torch = net->named_parameters()["in_proj_weight"].grad().contiguous();
    require_close("in_proj_weight gradients", m.gradients().data(), g_torch.data_ptr<float>(), 3 * E * E, 2e-2f);
    const auto [tc, tt] = interleaved_medians(rounds, ctnn_chunk, torch_chunk);
    rows.push_back({"attention forward + backward, batch 32, T 128, E 128, 4 heads", threads, tc / reps * 1e3, tt / reps * 1e3, "ms", false});
}

void encoder_bench(std::vector<row>& rows, int threads, int rounds) {
    rng g{seed{4}};
    const auto x = uniform(batch * steps * E, g), dy = uniform(batch * steps * E, g, -1e-3, 1e-3);
    encoder_model m{seed{1}};
    torch::nn::TransformerEncoderLayer net{torch::nn::TransformerEncoderLayerOptions(long(E), long(heads)).dim_feedforward(512).dropout(0.1)};
    copy_weights_by_name(m, *net, 2);
    m.eval();
    net->eval();
    {
        torch::NoGradGuard no_grad;
        const auto y_ctnn = m.predict(x);
        const auto y_torch = net->forward(seq_first(x, batch, steps, E)).transpose(0, 1).contiguous();
        require_close("encoder layer outputs (evaluation)", y_ctnn.data(), y_torch.data_ptr<float>(), x.size(), 1e-4f);
    }
    m.train();
    net->train();
    optim::adam opt{m.parameters(), {.lr = 1e-4}};
    torch::optim::Adam topt(net->parameters(), torch::optim::AdamOptions(1e-4));
    auto ctx = m.context(batch);
    const auto xt_ = seq_first(x, batch, steps, E);
    const auto dyt = seq_first(dy, batch, steps, E);
    const int reps = 2;
    auto ctnn_chunk = [&] {
        for (int r = 0; r < reps; ++r) {
            m.zero_grad();
            m.forward(x, ctx);
            m.backward(dy, ctx);
            opt.step();
        }
    };
    auto torch_chunk = [&] {
        for (int r = 0; r < reps; ++r) {
            topt.zero_grad();
            net->forward(xt_).backward(dyt);
            topt.step();
        }
    };
    ctnn_chunk();
    torch_chunk();
    const auto [tc, tt] = interleaved_medians(rounds, ctnn_chunk, torch_chunk);
    rows.push_back({"encoder layer training step (FF 512, dropout 0.1, Adam), batch 32, T 128", threads, tc / reps * 1e3,
                    tt / reps * 1e3, "ms", false});
}

// ---- generation: a small character GPT (post-norm blocks: libtorch 1.13's C++ layer has no norm_first) ----
constexpr std::size_t gen_vocab = 114, gen_steps = 64, gen_e = 64;
using gen_block = transformer_encoder_layer<{.nhead = 4, .dim_feedforward = 256, .dropout = 0, .activation = transformer_activation::gelu,
                                             .causal = true}>;
using gen_model = sequential<input<gen_steps>, embedding<gen_vocab, gen_e>, positional_embedding<>, named<"layers.0", gen_block>,
                             named<"layers.1", gen_block>, dense<gen_vocab>>;

struct torch_gpt : torch::nn::Module {
    torch::nn::Embedding emb{nullptr};
    torch::Tensor pos;
    torch::nn::ModuleList layers;
    torch::nn::Linear head{nullptr};
    torch::Tensor mask;
    torch_gpt() {
        emb = register_module("emb", torch::nn::Embedding(long(gen_vocab), long(gen_e)));
        pos = register_parameter("pos", torch::zeros({long(gen_steps), long(gen_e)}));
        layers = register_module("layers", torch::nn::ModuleList());
        for (int i = 0; i < 2; ++i)
            layers->push_back(torch::nn::TransformerEncoderLayer(
                torch::nn::TransformerEncoderLayerOptions(long(gen_e), 4).dim_feedforward(256).dropout(0.0).activation(torch::kGELU)));
        head = register_module("head", torch::nn::Linear(long(gen_e), long(gen_vocab)));
        mask = torch::triu(torch::full({long(gen_steps), long(gen_steps)}, -INFINITY), 1);
    }
    /// ids [T] int64 → logits [T, V] (sequence-first inside, batch 1).
    torch::Tensor forward(const torch::Tensor& ids) {
        const long t = ids.size(0);
        auto x = (emb->forward(ids) + pos.narrow(0, 0, t)).unsqueeze(1);  // [T, 1, E]
        const auto m = mask.narrow(0, 0, t).narrow(1, 0, t);
        for (const auto& l : *layers) x = l->as<torch::nn::TransformerEncoderLayer>()->forward(x, m);
        return head->forward(x.squeeze(1));
    }
};

void generation_bench(std::vector<row>& rows, int threads, int rounds) {
    gen_model m{seed{6}};
    torch_gpt net;
    {  // ctnn's names → the torch module's
        torch::NoGradGuard no_grad;
        auto dst = net.named_parameters();
        for (const auto& p : m.named_parameters()) {
            std::string name = p.name;
            if (name == "0.weight") name = "emb.weight";
            else if (name == "1.weight") name = "pos";
            else if (name.rfind("4.", 0) == 0) name = "head." + name.substr(2);
            auto* t = dst.find(name);
            if (!t || std::size_t(t->numel()) != p.desc.size()) {
                std::fprintf(stderr, "compare_attention: torch has no parameter %s of %zu values\n", name.c_str(), p.desc.size());
                std::exit(1);
            }
            t->copy_(torch::from_blob(p.value, t->sizes(), torch::kFloat32));
        }
    }
    m.eval();
    net.eval();
    torch::NoGradGuard no_grad;
    rng g{seed{7}};
    std::vector<float> ids(gen_steps);
    for (auto& v : ids) v = float(g.below(gen_vocab));
    {  // the same logits over a whole sequence
        std::vector<std::int64_t> ids64(ids.begin(), ids.end());
        const auto yt = net.forward(torch::from_blob(ids64.data(), {long(gen_steps)}, torch::kInt64)).contiguous();
        const auto yc = m.predict(ids);
        require_close("GPT logits", yc.data(), yt.data_ptr<float>(), gen_steps * gen_vocab, 1e-3f);
    }
    const float* emb = m.parameter_values().data();
    typename std::remove_cvref_t<decltype(m.layer<2>())>::stream_state s0, s1;
    std::array<float, gen_e> a{}, b{};
    std::array<float, gen_vocab> logits{};
    auto argmax = [](const float* v, std::size_t n) { return std::int32_t(std::max_element(v, v + n) - v); };
    constexpr std::size_t tokens = gen_steps - 1;
    auto cached = [&] {  // 63 tokens after a 1-token prompt, greedy, one position per token
        s0.reset();
        s1.reset();
        std::int32_t c = 1;
        for (std::size_t t = 0; t < tokens; ++t) {
            m.layer<1>().step(emb + std::size_t(c) * gen_e, t, a.data());
            m.layer<2>().step(a.data(), s0, b.data());
            m.layer<3>().step(b.data(), s1, a.data());
            m.layer<4>().predict_rows(a.data(), logits.data(), 1);
            c = argmax(logits.data(), gen_vocab);
        }
    };
    std::vector<float> window(gen_steps), y(gen_steps * gen_vocab);
    auto uncached = [&] {  // the same with predict over the whole context per token
        std::vector<std::int32_t> hist{1};
        for (std::size_t t = 0; t < tokens; ++t) {
            std::fill(window.begin(), window.end(), 0.0f);
            for (std::size_t i = 0; i < hist.size(); ++i) window[i] = float(hist[i]);
            m.predict_into(window.data(), y.data(), 1);
            hist.push_back(argmax(y.data() + (hist.size() - 1) * gen_vocab, gen_vocab));
        }
    };
    auto torch_loop = [&] {  // libtorch: the model over the context so far for every token (nn.Transformer* keep no cache)
        std::vector<std::int64_t> hist{1};
        for (std::size_t t = 0; t < tokens; ++t) {
            const auto lt = net.forward(torch::from_blob(hist.data(), {long(hist.size())}, torch::kInt64));
            hist.push_back(lt[long(hist.size()) - 1].argmax().item<std::int64_t>());
        }
    };
    const auto [tc, tt] = interleaved_medians(rounds, cached, torch_loop);
    const auto [tu, tt2] = interleaved_medians(rounds, uncached, torch_loop);
    rows.push_back({"GPT generation, batch 1, 63 tokens: ctnn with its KV cache vs libtorch", threads, tc / tokens * 1e6,
                    tt / tokens * 1e6, "µs", false});
    rows.push_back({"GPT generation, batch 1, 63 tokens: ctnn without the cache vs libtorch", threads, tu / tokens * 1e6,
                    tt2 / tokens * 1e6, "µs", false});
}

/// Resident set now (kB), from /proc/self/statm.
long resident_kb() {
    std::ifstream f("/proc/self/statm");
    long size = 0, resident = 0;
    f >> size >> resident;
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/// Attention forward + backward at batch 1, E 256, 4 heads, T positions, in a child: {peak growth MiB, ms}.
template <std::size_t T_>
std::pair<double, double> long_sequence_child(bool torch_side) {
    int fd[2];
    if (pipe(fd) != 0) std::exit(1);
    const pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        constexpr std::size_t e = 256;
        rng g{seed{5}};
        const auto x = uniform(T_ * e, g), dy = uniform(T_ * e, g);
        const long start = resident_kb();
        const auto t0 = clock_type::now();
        if (torch_side) {
            torch::nn::MultiheadAttention net{torch::nn::MultiheadAttentionOptions(long(e), 4)};
            const auto xt_ = seq_first(x, 1, T_, e).detach().requires_grad_(true);
            std::get<0>(net->forward(xt_, xt_, xt_, {}, false)).backward(seq_first(dy, 1, T_, e));
        } else {
            sequential<input<T_, e>, multi_head_attention<4>> m{seed{1}};
            auto ctx = m.context(1);
            m.forward(x, ctx);
            m.backward(dy, ctx, true);
        }
        const double ms = std::chrono::duration<double>(clock_type::now() - t0).count() * 1e3;
        rusage u{};
        getrusage(RUSAGE_SELF, &u);
        const double out[2] = {double(u.ru_maxrss - start) / 1024.0, ms};
        if (write(fd[1], out, sizeof out) != sizeof out) _exit(1);
        _exit(0);
    }
    close(fd[1]);
    double in[2] = {0, 0};
    if (read(fd[0], in, sizeof in) != sizeof in) std::fprintf(stderr, "compare_attention: the T=%zu child failed\n", T_);
    close(fd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return {in[0], in[1]};
}

void memory_bench(std::vector<row>& rows) {
    auto one = [&]<std::size_t T_>(std::integral_constant<std::size_t, T_>) {
        const auto c = long_sequence_child<T_>(false);
        const auto t = long_sequence_child<T_>(true);
        rows.push_back({"attention fwd + bwd peak memory growth, batch 1, E 256, 4 heads, T " + std::to_string(T_), 1, c.first, t.first,
                        "MiB", false});
        rows.push_back({"attention fwd + bwd time (one run, cold), batch 1, E 256, 4 heads, T " + std::to_string(T_), 1, c.second,
                        t.second, "ms", false});
    };
    one(std::integral_constant<std::size_t, 1024>{});
    one(std::integral_constant<std::size_t, 2048>{});
    one(std::integral_constant<std::size_t, 4096>{});
}

}  // namespace

int main(int argc, char** argv) {
    const auto args = parse_compare_args(argc, argv, 7, "usage: compare_attention [--json FILE] [--threads 1,2] [--only attention|encoder|generation|memory]... [--rounds N]");
    if (!args.ok) return 2;
    auto wanted = [&](const char* s) { return args.wanted(s); };
    std::vector<row> rows;
    if (wanted("memory")) {  // first, single-threaded, before this process has grown
        ctnn::set_num_threads(1);
        torch::set_num_threads(1);
        memory_bench(rows);
    }
    for (int threads : args.threads) {
        ctnn::set_num_threads(std::size_t(threads));
        torch::set_num_threads(threads);
        if (wanted("attention")) attention_bench(rows, threads, args.rounds);
        if (wanted("encoder")) encoder_bench(rows, threads, args.rounds);
        if (wanted("generation")) generation_bench(rows, threads, args.rounds);
    }
    print_and_save(rows, args.json_path);
    return 0;
}
