// SPDX-License-Identifier: MIT
// A decoder-only character transformer (a small GPT) on the English fortunes, the same data, windows and
// training as example 10's LSTM: Embedding(V, 64) + learned positions → 2 causal pre-norm blocks (4 heads,
// feed-forward 256, GELU, dropout 0.1) → LayerNorm → Dense V per position; held-out bits per character;
// then generation at batch 1 with the blocks' KV cache (one position per character) and without it
// (predict over the whole context for every character), tokens per second of both.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctnn/ctnn.hpp>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "../common/char_corpus.hpp"

using namespace ctnn;
namespace text = ctnn::data::text;
namespace corpus = example::char_corpus;

constexpr std::size_t vocab_size = 114;  // <pad>, <unk> + the 112 code points of the English training split (as example 10)
constexpr std::size_t embed = 64, steps = 64, window = steps + 1;
using block = transformer_encoder_layer<{.nhead = 4, .dim_feedforward = 256, .dropout = 0.1, .activation = transformer_activation::gelu,
                                         .norm_first = true, .causal = true}>;
using char_gpt = sequential<input<steps>,                                  // 64 character ids
                            embedding<vocab_size, embed>,                  // [64, 64]
                            positional_embedding<>,                        // + a learned [64, 64] table
                            named<"layers.0", block>, named<"layers.1", block>,
                            layer_norm<>,                                  // the final norm of a pre-norm stack
                            dense<vocab_size, true, initializer::torch>>;  // [64, V] logits
static_assert(std::is_same_v<char_gpt::output_shape, shape<steps, vocab_size>>);
using block_layer = std::remove_cvref_t<decltype(std::declval<const char_gpt&>().layer<2>())>;

/// Batch-1 generation. With the cache, a character is one position through every layer (`step`): the
/// blocks attend over their cached keys and values. Without it, every character runs predict over the
/// whole context (the last ≤ 64 characters), as a model without a cache must. When the context is full
/// the window slides: the cache restarts from the last 32 characters.
class generator {
public:
    explicit generator(const char_gpt& m) : m_(m) {
        for (const auto& e : m.parameter_layout())
            if (e.name == "0.weight") m_embed = m.parameter_values().data() + e.offset;
    }
    void reset() noexcept {
        m_s0.reset();
        m_s1.reset();
        m_history.clear();
    }
    /// Feeds character @p id; the logits of the next character are then ready.
    void feed(std::int32_t id, bool cached) {
        m_history.push_back(id);
        if (!cached) return predict_last();
        if (m_s0.position() == steps) {  // slide: restart the cache from the last steps/2 characters
            m_s0.reset();
            m_s1.reset();
            const std::size_t keep = steps / 2;
            for (std::size_t i = m_history.size() - keep; i < m_history.size(); ++i) one_position(m_history[i]);
            return;
        }
        one_position(id);
    }
    /// A draw from softmax(logits / temperature) over the @p top_k largest logits.
    std::int32_t sample(rng& g, double temperature, std::size_t top_k) noexcept { return m_sampler(m_logits.data(), g, temperature, top_k); }
    const std::array<float, vocab_size>& logits() const noexcept { return m_logits; }

private:
    void one_position(std::int32_t id) {
        const std::size_t t = m_s0.position();
        m_.layer<1>().step(m_embed + std::size_t(id) * embed, t, m_a.data());
        m_.layer<2>().step(m_a.data(), m_s0, m_b.data());
        m_.layer<3>().step(m_b.data(), m_s1, m_a.data());
        m_.layer<4>().predict_rows(m_a.data(), m_b.data(), 1);
        m_.layer<5>().predict_rows(m_b.data(), m_logits.data(), 1);
    }
    void predict_last() {
        const std::size_t n = std::min(steps, m_history.size());
        std::fill(m_x.begin(), m_x.end(), 0.0f);  // positions after n do not reach position n - 1 (causal)
        for (std::size_t i = 0; i < n; ++i) m_x[i] = float(m_history[m_history.size() - n + i]);
        m_.predict_into(m_x.data(), m_y.data(), 1);
        std::copy_n(m_y.data() + (n - 1) * vocab_size, vocab_size, m_logits.begin());
    }
    const char_gpt& m_;
    const float* m_embed = nullptr;
    block_layer::stream_state m_s0, m_s1;
    std::vector<std::int32_t> m_history;
    std::array<float, embed> m_a{}, m_b{};
    std::array<float, vocab_size> m_logits{};
    std::array<float, steps> m_x{};
    std::array<float, steps * vocab_size> m_y{};
    corpus::top_k_sampler<vocab_size> m_sampler;
};

int main(int argc, char** argv) {
    CLI::App app{"ctnn example 13: a character GPT (decoder-only transformer) on the English fortunes"};
    std::size_t epochs = 3, batch = 32, threads = 1, max_chars = 0, max_test_chars = 0, length = 200, top_k = 10;
    double lr = 1e-3, temperature = 0.8;
    std::uint64_t seed_value = 0;
    std::string dir = text::fortune_default_dir, prompt = "The computer", save_path, load_path, json_path;
    app.add_option("--epochs", epochs, "training epochs (0: none, e.g. with --load)")->check(CLI::Range(0, 1000));
    app.add_option("--batch", batch, "windows per batch")->check(CLI::Range(1, 65536));
    app.add_option("--lr", lr, "Adam learning rate")->check(CLI::PositiveNumber);
    app.add_option("--threads", threads, "CPU threads")->check(CLI::Range(1, 256));
    app.add_option("--seed", seed_value, "seed for init, dropout, shuffling and sampling");
    app.add_option("--data", dir, "fortune directory (the English topics are the files with a .u8 marker)");
    app.add_option("--max-chars", max_chars, "use only the first N characters of the training stream (0: all)");
    app.add_option("--max-test-chars", max_test_chars, "use only the first N characters of the test stream (0: all)");
    app.add_option("--prompt", prompt, "text the sample starts from");
    app.add_option("--length", length, "characters to generate (0: no sample, no timing)");
    app.add_option("--temperature", temperature, "softmax temperature of the sampling")->check(CLI::PositiveNumber);
    app.add_option("--top-k", top_k, "sample among the k most likely characters")->check(CLI::Range(1, int(vocab_size)));
    app.add_option("--save", save_path, "save the trained model to this .npz (PyTorch state_dict names)");
    app.add_option("--load", load_path, "start from this saved model");
    app.add_option("--json", json_path, "write a JSON summary here");
    CLI11_PARSE(app, argc, argv);
    try {
        set_num_threads(threads);
        // data: exactly example 10's (the same split, vocabulary, entry order and windows)
        const auto data = corpus::load_streams(dir, vocab_size, max_chars, max_test_chars);
        const auto& vocab = data.vocab;
        const auto& train_ids = data.train;
        const auto& test_ids = data.test;
        const std::size_t n_train = train_ids.size() / window, n_test = test_ids.size() / window;
        if (n_train == 0 || n_test == 0) ctnn::detail::fail("a stream is shorter than one window of 65 characters");
        std::printf("English fortunes: %zu entries (%zu train, %zu test); streams: train %zu chars → %zu windows, test %zu chars "
                    "→ %zu windows; vocabulary %zu (%.3f bits uniform)\n",
                    data.entries, data.train_entries, data.test_entries, train_ids.size(), n_train, test_ids.size(), n_test,
                    vocab_size, std::log2(double(vocab_size)));

        char_gpt m{seed{seed_value}};
        if (!load_path.empty()) {
            load_npz(m, load_path);
            std::printf("model loaded from %s\n", load_path.c_str());
        }
        std::printf("model: embedding %zu×%zu + positions → 2 causal pre-norm blocks (4 heads, FF 256, GELU, dropout 0.1) → "
                    "layer norm → dense %zu; %zu parameters; %zu thread(s)\n",
                    vocab_size, embed, vocab_size, char_gpt::parameter_count, num_threads());

        optim::adam opt{m.parameters(), {.lr = lr}};
        auto ctx = m.context(batch);
        std::vector<std::size_t> order(n_train);
        std::iota(order.begin(), order.end(), 0);
        rng shuffle{seed{seed_value + 1}};
        double train_bpc = 0, test_bpc = 0, train_seconds = 0;
        std::string history;
        for (std::size_t e = 1; e <= epochs; ++e) {
            m.train();
            const auto t0 = std::chrono::steady_clock::now();
            const double total = corpus::train_epoch<steps, vocab_size>(m, ctx, opt, train_ids, order, shuffle, batch) * double(n_train);
            const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            train_seconds += sec;
            train_bpc = total / double(n_train) / std::log(2.0);
            m.eval();
            test_bpc = corpus::bits_per_char<steps, vocab_size>(m, test_ids);
            std::printf("epoch %zu: train loss %.4f nat (%.4f bpc, dropout on)  test %.4f bpc  (%.1f s, %.0f chars/s)\n", e,
                        total / double(n_train), train_bpc, test_bpc, sec, double(n_train * steps) / sec);
            std::fflush(stdout);
            history += std::string(history.empty() ? "" : ", ") + "{\"epoch\": " + std::to_string(e) + ", \"train_bpc\": " +
                       std::to_string(train_bpc) + ", \"test_bpc\": " + std::to_string(test_bpc) + ", \"seconds\": " +
                       std::to_string(sec) + "}";
        }
        m.eval();
        if (epochs == 0) {
            test_bpc = corpus::bits_per_char<steps, vocab_size>(m, test_ids);
            std::printf("held-out %.4f bits per character\n", test_bpc);
        }
        if (!save_path.empty()) {
            save_npz(m, save_path);
            std::printf("model saved to %s\n", save_path.c_str());
        }

        double us_cached = 0, us_uncached = 0;
        std::string sample;
        if (length > 0) {
            generator gen(m);
            rng g{seed{seed_value + 2}};
            const text::char_tokenizer chars;
            std::vector<std::int32_t> prompt_ids;
            for (const auto& tok : chars(prompt)) prompt_ids.push_back(vocab.id(tok));
            if (prompt_ids.empty()) prompt_ids.push_back(vocab.id("\n"));  // an empty prompt starts as a new entry would
            for (const auto id : prompt_ids) gen.feed(id, true);
            sample = prompt;
            for (std::size_t i = 0; i < length; ++i) {
                const std::int32_t next = gen.sample(g, temperature, top_k);
                sample += vocab.token(next);
                gen.feed(next, true);
            }
            std::printf("\nsample (temperature %.2f, top-%zu, seed %llu):\n----\n%s\n----\n", temperature, top_k,
                        static_cast<unsigned long long>(seed_value), sample.c_str());
            // tokens/s at batch 1: 63 characters after a 1-character prompt (one full context), the best of
            // 20 runs (the minimum filters out preemption on a shared machine), with and without the cache
            using clock = std::chrono::steady_clock;
            auto best_of = [&](bool cached) {
                double best = 1e30;
                for (int r = 0; r < 20; ++r) {
                    gen.reset();
                    const auto t0 = clock::now();
                    std::int32_t c = prompt_ids[0];
                    for (std::size_t i = 0; i + 1 < steps; ++i) {
                        gen.feed(c, cached);
                        c = gen.sample(g, temperature, top_k);
                    }
                    best = std::min(best, std::chrono::duration<double, std::micro>(clock::now() - t0).count() / double(steps - 1));
                }
                return best;
            };
            us_cached = best_of(true);
            us_uncached = best_of(false);
            std::printf("generation, batch 1, %zu thread(s): %.1f µs per character with the KV cache (%.0f characters/s), "
                        "%.1f µs without it (%.0f characters/s): %.1fx\n",
                        num_threads(), us_cached, 1e6 / us_cached, us_uncached, 1e6 / us_uncached, us_uncached / us_cached);
        }
        if (!json_path.empty()) {
            const std::string json =
                "{\"example\": \"13_char_gpt\", \"vocab_size\": " + std::to_string(vocab_size) + ", \"parameters\": " +
                std::to_string(char_gpt::parameter_count) + ", \"train_chars\": " + std::to_string(train_ids.size()) +
                ", \"test_chars\": " + std::to_string(test_ids.size()) + ", \"epochs\": [" + history + "], \"test_bpc\": " +
                std::to_string(test_bpc) + ", \"train_bpc\": " + std::to_string(train_bpc) + ", \"train_seconds\": " +
                std::to_string(train_seconds) + ", \"us_per_char_cached\": " + std::to_string(us_cached) +
                ", \"us_per_char_uncached\": " + std::to_string(us_uncached) + ", \"threads\": " + std::to_string(threads) +
                ", \"seed\": " + std::to_string(seed_value) + ", \"sample\": \"" + corpus::json_escape(sample) + "\"}\n";
            io::write_file_atomic(json_path, json);
            std::printf("summary written to %s\n", json_path.c_str());
        }
    } catch (const ctnn::error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}
