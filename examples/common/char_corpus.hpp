// SPDX-License-Identifier: MIT
#pragma once
// What the character language models (examples 10 and 13) share: the English fortunes as streams of
// character ids, 65-character windows (64 inputs, 64 next-character labels), held-out bits per
// character, and the npz/JSON helpers.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctnn/ctnn.hpp>
#include <filesystem>
#include <numeric>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace example::char_corpus {

namespace text = ctnn::data::text;

/// The topics of Debian's English `fortunes` package in @p dir: the files with a `<topic>.u8` marker
/// beside them (the Italian links of fortunes-it and `brasil` have none; language folders are skipped).
inline std::vector<std::string> english_topics(const std::filesystem::path& dir) {
    std::vector<std::string> topics;
    for (const auto& p : text::list_fortune_files(dir)) {
        auto marker = p;
        marker += ".u8";
        if (std::filesystem::exists(marker)) topics.push_back(p.filename().string());
    }
    if (topics.empty())
        ctnn::detail::fail("no English fortune topics (files with a .u8 marker) in '" + dir.string() +
                           "'; install the Debian package `fortunes`");
    return topics;
}

/// The entries' character ids, each entry followed by '\n' (the separator: fortunes end in a line break).
inline std::vector<std::int32_t> char_stream(const text::vocabulary& vocab, const std::vector<std::string>& entries,
                                             const std::vector<std::size_t>& order) {
    const text::char_tokenizer chars;
    const std::int32_t newline = vocab.id("\n");
    std::vector<std::int32_t> s;
    for (const std::size_t i : order) {
        const auto ids = text::encode(vocab, chars, entries[i]);
        s.insert(s.end(), ids.begin(), ids.end());
        s.push_back(newline);
    }
    return s;
}

/// Window k = stream[(S+1)k, (S+1)k + S + 1) as model input (ids 0..S-1, as floats) and labels (ids 1..S).
template <std::size_t S>
void fill_window(const std::vector<std::int32_t>& stream, std::size_t k, float* x, std::int32_t* y) {
    const std::int32_t* w = stream.data() + k * (S + 1);
    for (std::size_t t = 0; t < S; ++t) {
        x[t] = float(w[t]);
        y[t] = w[t + 1];
    }
}

/// Mean cross-entropy over every target of every window of @p stream, in bits, for a model of S inputs
/// and [S, V] logits.
template <std::size_t S, std::size_t V, class Model>
double bits_per_char(const Model& m, const std::vector<std::int32_t>& stream) {
    constexpr std::size_t chunk = 256;
    const std::size_t n = stream.size() / (S + 1);
    std::vector<float> x(chunk * S), y(chunk * S * V), dy(y.size());
    std::vector<std::int32_t> labels(chunk * S);
    const ctnn::loss::cross_entropy ce{V};
    double nats = 0;
    for (std::size_t s = 0; s < n; s += chunk) {
        const std::size_t b = std::min(chunk, n - s);
        for (std::size_t i = 0; i < b; ++i) fill_window<S>(stream, s + i, x.data() + i * S, labels.data() + i * S);
        m.predict_into(x.data(), y.data(), b);
        const std::span<const float> yb(y.data(), b * S * V);
        nats += double(ce(yb, std::span<const std::int32_t>(labels.data(), b * S), std::span<float>(dy.data(), yb.size()), b)) *
                double(b * S);
    }
    return nats / double(n * S) / std::log(2.0);
}

/// The English fortunes as example 10 and 13 read them: split by entry (20 % test), a character
/// vocabulary of the training split, the training entries in a fixed shuffled order (so --max-chars
/// keeps every topic), the test entries in file order, each entry followed by '\n'.
struct streams {
    text::vocabulary vocab;
    std::vector<std::int32_t> train, test;
    std::size_t topics = 0, entries = 0, train_entries = 0, test_entries = 0, train_all = 0, test_all = 0;
};
inline streams load_streams(const std::filesystem::path& dir, std::size_t vocab_size, std::size_t max_chars,
                            std::size_t max_test_chars) {
    const auto all = text::read_fortune_topics(dir, english_topics(dir));
    const auto [train, test] = text::split_train_test(all, 0.2);
    streams s;
    s.vocab = text::build_vocabulary(train.texts, text::char_tokenizer{}, {.max_size = vocab_size});
    if (!s.vocab.contains("\n")) ctnn::detail::fail("the training split has no line break to separate entries");
    std::vector<std::size_t> train_order(train.texts.size()), test_order(test.texts.size());
    std::iota(train_order.begin(), train_order.end(), 0);
    std::iota(test_order.begin(), test_order.end(), 0);
    ctnn::rng data_rng{ctnn::seed{12345}};
    data_rng.shuffle(train_order.data(), train_order.size());
    s.train = char_stream(s.vocab, train.texts, train_order);
    s.test = char_stream(s.vocab, test.texts, test_order);
    s.topics = all.classes.size();
    s.entries = all.texts.size();
    s.train_entries = train.texts.size();
    s.test_entries = test.texts.size();
    s.train_all = s.train.size();
    s.test_all = s.test.size();
    if (max_chars && s.train.size() > max_chars) s.train.resize(max_chars);
    if (max_test_chars && s.test.size() > max_test_chars) s.test.resize(max_test_chars);
    return s;
}

/// One epoch over the non-overlapping windows of @p stream in a fresh shuffle of @p order (drawn from
/// @p shuffle), batches of @p batch (the last one partial): the mean training loss per window, in nats.
template <std::size_t S, std::size_t V, class Model, class Ctx, class Opt>
double train_epoch(Model& m, Ctx& ctx, Opt& opt, const std::vector<std::int32_t>& stream, std::vector<std::size_t>& order,
                   ctnn::rng& shuffle, std::size_t batch) {
    const std::size_t n = order.size();
    shuffle.shuffle(order.data(), n);
    const ctnn::loss::cross_entropy loss_fn{V};  // labels [batch, S], mean over batch × S
    std::vector<float> x(batch * S);
    std::vector<std::int32_t> y(batch * S);
    double total = 0;
    for (std::size_t s = 0; s < n; s += batch) {
        const std::size_t b = std::min(batch, n - s);
        for (std::size_t i = 0; i < b; ++i) fill_window<S>(stream, order[s + i], x.data() + i * S, y.data() + i * S);
        const float l = ctnn::train_step(m, ctx, opt, loss_fn, std::span<const float>(x.data(), b * S),
                                         std::span<const std::int32_t>(y.data(), b * S));
        total += double(l) * double(b);
    }
    return total / double(n);
}

/// Top-k sampling at a temperature from V logits, without allocation.
template <std::size_t V>
class top_k_sampler {
public:
    top_k_sampler() { std::iota(m_order.begin(), m_order.end(), 0); }
    /// A draw from softmax(logits / temperature) over the @p top_k largest of @p logits.
    std::int32_t operator()(const float* logits, ctnn::rng& g, double temperature, std::size_t top_k) noexcept {
        const std::size_t k = std::clamp<std::size_t>(top_k, 1, V);
        std::partial_sort(m_order.begin(), m_order.begin() + std::ptrdiff_t(k), m_order.end(),
                          [&](std::int32_t a, std::int32_t b) { return logits[std::size_t(a)] > logits[std::size_t(b)]; });
        const double top = logits[std::size_t(m_order[0])];
        double sum = 0;
        for (std::size_t i = 0; i < k; ++i) sum += m_p[i] = std::exp((logits[std::size_t(m_order[i])] - top) / temperature);
        double u = g.uniform() * sum;
        for (std::size_t i = 0; i + 1 < k; ++i)
            if ((u -= m_p[i]) < 0) return m_order[i];
        return m_order[k - 1];
    }

private:
    std::array<std::int32_t, V> m_order{};
    std::array<double, V> m_p{};
};

inline ctnn::io::npy_array int32_array(const std::vector<std::int32_t>& v) {
    ctnn::io::npy_array a{"<i4", {v.size()}, std::string(v.size() * sizeof(std::int32_t), '\0')};
    std::memcpy(a.data.data(), v.data(), a.data.size());
    return a;
}

/// @p s as the inside of a JSON string.
inline std::string json_escape(const std::string& s) {
    std::string esc;
    for (const char ch : s) {
        if (ch == '"' || ch == '\\') esc += '\\', esc += ch;
        else if (ch == '\n') esc += "\\n";
        else if (static_cast<unsigned char>(ch) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", unsigned(ch));
            esc += buf;
        } else esc += ch;
    }
    return esc;
}

}  // namespace example::char_corpus
