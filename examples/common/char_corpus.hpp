// SPDX-License-Identifier: MIT
#pragma once
// What the character language models (examples 10 and 13) share: the English fortunes as streams of
// character ids, 65-character windows (64 inputs, 64 next-character labels), held-out bits per
// character, and the npz/JSON helpers.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctnn/ctnn.hpp>
#include <filesystem>
#include <span>
#include <string>
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
