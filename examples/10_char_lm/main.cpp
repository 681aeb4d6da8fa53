// SPDX-License-Identifier: MIT
// Character language model on the English fortunes: Embedding(V, 32) → LSTM 128 (every step) → Dense V
// per step, trained on 64-character windows with per-step cross-entropy (loss::cross_entropy{V}: one
// label per step); held-out bits per character; then text generated one character at a time through
// the LSTM's batch-1 streaming step, with top-k sampling at a temperature. The same model as
// tools/torch_char_lm.py, which trains on the streams `--export-data` writes.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctnn/ctnn.hpp>
#include <filesystem>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "../common/char_corpus.hpp"

using namespace ctnn;
namespace text = ctnn::data::text;

constexpr std::size_t vocab_size = 114;  // <pad>, <unk> + the 112 code points of the English training split
constexpr std::size_t embed = 32, hidden = 128, steps = 64, window = steps + 1;
using char_lm = sequential<input<steps>,                                         // 64 character ids
                           embedding<vocab_size, embed>,                          // [64, 32]
                           lstm<hidden, {.return_sequences = true}>,              // [64, 128]
                           dense<vocab_size, true, initializer::torch>>;          // [64, V] logits, nn.Linear's init
static_assert(std::is_same_v<char_lm::output_shape, shape<steps, vocab_size>>);
using lstm_layer = std::remove_cvref_t<decltype(std::declval<const char_lm&>().layer<1>())>;

using example::char_corpus::bits_per_char;
using example::char_corpus::int32_array;

/// Generation through the LSTM's batch-1 streaming step: the embedding row of a character → lstm.step →
/// logits = W·h + b of the dense layer; top-k sampling from softmax(logits / temperature). Reads the
/// embedding and the LSTM's parameters in place; nothing is allocated per character.
class generator {
public:
    /// Reads @p m's parameters as they are now: the dense weight is copied once, transposed to [H, V], so
    /// the logits are V-wide multiply-adds over h (build the generator after training).
    explicit generator(const char_lm& m) : m_lstm(m.layer<1>()), m_wt(hidden * padded, 0.0f) {
        const auto w = m.layer<2>().weight();  // [V, H]
        for (std::size_t j = 0; j < vocab_size; ++j)
            for (std::size_t k = 0; k < hidden; ++k) m_wt[k * padded + j] = w(j, k);
        const auto b = m.layer<2>().bias();
        std::copy(b.begin(), b.end(), m_b.begin());
        for (const auto& e : m.parameter_layout())
            if (e.name == "0.weight") m_embed = m.parameter_values().data() + e.offset;
    }
    void reset() noexcept { m_state.reset(); }
    /// Advances the state by character @p id; the logits of the next character are then ready.
    void feed(std::int32_t id) noexcept {
        m_lstm.step(m_embed + std::size_t(id) * embed, m_state, m_h.data());
        m_logits = m_b;
        for (std::size_t k = 0; k < hidden; ++k) {
            const float hk = m_h[k];
            const float* w = m_wt.data() + k * padded;
            for (std::size_t j = 0; j < padded; ++j) m_logits[j] += hk * w[j];
        }
    }
    /// The LSTM step alone (for timing).
    void step_only(std::int32_t id) noexcept { m_lstm.step(m_embed + std::size_t(id) * embed, m_state, m_h.data()); }
    /// A draw from softmax(logits / temperature) over the @p top_k largest logits.
    std::int32_t sample(rng& g, double temperature, std::size_t top_k) noexcept { return m_sampler(m_logits.data(), g, temperature, top_k); }

private:
    static constexpr std::size_t padded = (vocab_size + 15) / 16 * 16;  // rows of whole vectors: the loop vectorises
    const lstm_layer& m_lstm;
    std::vector<float> m_wt;  // the dense weight transposed, [H, V] padded with zero columns to [H, padded]
    std::array<float, padded> m_b{};
    const float* m_embed = nullptr;
    lstm_layer::stream_state m_state;
    std::array<float, hidden> m_h{};
    std::array<float, padded> m_logits{};
    example::char_corpus::top_k_sampler<vocab_size> m_sampler;
};

int main(int argc, char** argv) {
    CLI::App app{"ctnn example 10: character LSTM language model on the English fortunes"};
    std::size_t epochs = 3, batch = 32, threads = 1, max_chars = 0, max_test_chars = 0, length = 200, top_k = 10;
    double lr = 2e-3, temperature = 0.8;
    std::uint64_t seed_value = 0;
    std::string dir = text::fortune_default_dir, prompt = "The computer", export_path, save_path, load_path, json_path;
    app.add_option("--epochs", epochs, "training epochs (0: none, e.g. with --load)")->check(CLI::Range(0, 1000));
    app.add_option("--batch", batch, "windows per batch")->check(CLI::Range(1, 65536));
    app.add_option("--lr", lr, "Adam learning rate")->check(CLI::PositiveNumber);
    app.add_option("--threads", threads, "CPU threads")->check(CLI::Range(1, 256));
    app.add_option("--seed", seed_value, "seed for init, shuffling and sampling");
    app.add_option("--data", dir, "fortune directory (the English topics are the files with a .u8 marker)");
    app.add_option("--max-chars", max_chars, "use only the first N characters of the training stream (0: all)");
    app.add_option("--max-test-chars", max_test_chars, "use only the first N characters of the test stream (0: all)");
    app.add_option("--export-data", export_path, "write train_text, test_text, vocab_size (int32) to this .npz for tools/torch_char_lm.py");
    app.add_option("--prompt", prompt, "text the sample starts from");
    app.add_option("--length", length, "characters to generate (0: no sample)");
    app.add_option("--temperature", temperature, "softmax temperature of the sampling")->check(CLI::PositiveNumber);
    app.add_option("--top-k", top_k, "sample among the k most likely characters")->check(CLI::Range(1, int(vocab_size)));
    app.add_option("--save", save_path, "save the trained model to this .npz (PyTorch state_dict names)");
    app.add_option("--load", load_path, "start from this saved model");
    app.add_option("--json", json_path, "write a JSON summary here");
    CLI11_PARSE(app, argc, argv);
    try {
        set_num_threads(threads);
        // data: the English topics, split by entry, a character vocabulary of the training split
        auto data = example::char_corpus::load_streams(dir, vocab_size, max_chars, max_test_chars);
        const auto& vocab = data.vocab;
        const auto& train_ids = data.train;
        const auto& test_ids = data.test;
        const std::size_t train_all = data.train_all, test_all = data.test_all;
        const std::size_t n_train = train_ids.size() / window, n_test = test_ids.size() / window;
        if (n_train == 0 || n_test == 0) ctnn::detail::fail("a stream is shorter than one window of 65 characters");
        const auto unk = std::count(test_ids.begin(), test_ids.end(), text::vocabulary::unk_id);
        std::printf("English fortunes: %zu topics, %zu entries (%zu train, %zu test); vocabulary %zu ids (%zu in the model, "
                    "%.3f bits uniform)\n",
                    data.topics, data.entries, data.train_entries, data.test_entries, vocab.size(), vocab_size,
                    std::log2(double(vocab_size)));
        std::printf("streams (entries joined by '\\n'): train %zu of %zu chars → %zu windows, test %zu of %zu chars → %zu "
                    "windows (%lld <unk>)\n",
                    train_ids.size(), train_all, n_train, test_ids.size(), test_all, n_test, static_cast<long long>(unk));
        if (!export_path.empty()) {
            io::write_npz(export_path, {{"train_text", int32_array(train_ids)},
                                        {"test_text", int32_array(test_ids)},
                                        {"vocab_size", int32_array({std::int32_t(vocab_size)})}});
            std::printf("data exported to %s\n", export_path.c_str());
        }

        char_lm m{seed{seed_value}};
        if (!load_path.empty()) {
            load_npz(m, load_path);
            std::printf("model loaded from %s\n", load_path.c_str());
        }
        std::printf("model: embedding %zu×%zu → lstm %zu (every step) → dense %zu per step; %zu parameters; %zu thread(s)\n",
                    vocab_size, embed, hidden, vocab_size, char_lm::parameter_count, num_threads());

        // training: non-overlapping windows, reshuffled every epoch, each from a zero state
        optim::adam opt{m.parameters(), {.lr = lr}};
        auto ctx = m.context(batch);
        std::vector<std::size_t> order(n_train);
        std::iota(order.begin(), order.end(), 0);
        rng shuffle{seed{seed_value + 1}};
        double train_bpc = 0, test_bpc = 0, train_seconds = 0;
        std::string history;
        for (std::size_t e = 1; e <= epochs; ++e) {
            const auto t0 = std::chrono::steady_clock::now();
            const double total = example::char_corpus::train_epoch<steps, vocab_size>(m, ctx, opt, train_ids, order, shuffle, batch) *
                                 double(n_train);
            const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            train_seconds += sec;
            train_bpc = total / double(n_train) / std::log(2.0);
            test_bpc = bits_per_char<steps, vocab_size>(m, test_ids);
            std::printf("epoch %zu: train loss %.4f nat (%.4f bpc)  test %.4f bpc  (%.1f s, %.0f chars/s)\n", e,
                        total / double(n_train), train_bpc, test_bpc, sec, double(n_train * steps) / sec);
            std::fflush(stdout);
            history += std::string(history.empty() ? "" : ", ") + "{\"epoch\": " + std::to_string(e) +
                       ", \"train_bpc\": " + std::to_string(train_bpc) + ", \"test_bpc\": " + std::to_string(test_bpc) +
                       ", \"seconds\": " + std::to_string(sec) + "}";
        }
        if (epochs == 0) {
            test_bpc = bits_per_char<steps, vocab_size>(m, test_ids);
            std::printf("held-out %.4f bits per character\n", test_bpc);
        }
        if (!save_path.empty()) {
            save_npz(m, save_path);
            std::printf("model saved to %s\n", save_path.c_str());
        }

        // generation: the prompt, then `length` sampled characters, one streaming step each
        double us_step = 0, us_char = 0;
        std::string sample;
        if (length > 0) {
            generator gen(m);
            rng g{seed{seed_value + 2}};
            const text::char_tokenizer chars;
            const auto prompt_tokens = chars(prompt);
            std::int32_t next = vocab.id("\n");  // an empty prompt starts as a new entry would
            for (const auto& tok : prompt_tokens) {
                next = vocab.id(tok);
                gen.feed(next);
            }
            if (prompt_tokens.empty()) gen.feed(next);
            sample = prompt;
            std::vector<std::int32_t> generated(length);
            for (std::size_t i = 0; i < length; ++i) {
                generated[i] = gen.sample(g, temperature, top_k);
                gen.feed(generated[i]);
            }
            for (const auto id : generated) sample += vocab.token(id);
            std::printf("\nsample (temperature %.2f, top-%zu, seed %llu):\n----\n%s\n----\n", temperature, top_k,
                        static_cast<unsigned long long>(seed_value), sample.c_str());
            // latency, batch 1: the best of 50 runs of 200 characters (the minimum filters out preemption on a
            // shared machine), for the LSTM step alone and for a whole generated character
            using clock = std::chrono::steady_clock;
            auto best_of = [&](auto&& body) {
                double best = 1e30;
                for (int r = 0; r < 50; ++r) {
                    gen.reset();
                    const auto t0 = clock::now();
                    for (std::size_t i = 0; i < 200; ++i) body(i);
                    best = std::min(best, std::chrono::duration<double, std::micro>(clock::now() - t0).count() / 200);
                }
                return best;
            };
            us_step = best_of([&](std::size_t i) { gen.step_only(generated[i % length]); });
            std::int32_t c = next;
            us_char = best_of([&](std::size_t) {
                gen.feed(c);
                c = gen.sample(g, temperature, top_k);
            });
            std::printf("streaming: %.2f µs per LSTM step, %.2f µs per generated character (step + dense %zu×%zu + top-%zu "
                        "sampling), batch 1, 1 thread\n",
                        us_step, us_char, vocab_size, hidden, top_k);
        }
        if (!json_path.empty()) {
            const std::string esc = example::char_corpus::json_escape(sample);
            const std::string json = "{\"example\": \"10_char_lm\", \"vocab_size\": " + std::to_string(vocab_size) +
                                     ", \"train_chars\": " + std::to_string(train_ids.size()) +
                                     ", \"test_chars\": " + std::to_string(test_ids.size()) +
                                     ", \"train_windows\": " + std::to_string(n_train) + ", \"test_windows\": " +
                                     std::to_string(n_test) + ", \"epochs\": [" + history + "], \"test_bpc\": " +
                                     std::to_string(test_bpc) + ", \"train_bpc\": " + std::to_string(train_bpc) +
                                     ", \"train_seconds\": " + std::to_string(train_seconds) +
                                     ", \"us_per_step\": " + std::to_string(us_step) + ", \"us_per_char\": " +
                                     std::to_string(us_char) + ", \"threads\": " + std::to_string(threads) +
                                     ", \"seed\": " + std::to_string(seed_value) + ", \"sample\": \"" + esc + "\"}\n";
            io::write_file_atomic(json_path, json);
            std::printf("summary written to %s\n", json_path.c_str());
        }
    } catch (const ctnn::error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}
