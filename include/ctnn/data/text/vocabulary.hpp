// SPDX-License-Identifier: MIT
#pragma once
/// @file vocabulary.hpp  Token ↔ id vocabulary (`<pad>` = 0, `<unk>` = 1) built from training
/// texts, with encode/decode and an atomic, line-oriented save/load. Standard library only.
#include <algorithm>
#include <cstddef>
#include <climits>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../../core/error.hpp"
#include "../../io/atomic_file.hpp"
#include "utf8.hpp"

namespace ctnn::data::text {

/// How build_vocabulary chooses its tokens.
struct vocabulary_options {
    std::size_t min_frequency = 1;  ///< drop tokens seen fewer times than this in the training texts
    std::size_t max_size = 10000;   ///< at most this many ids, `<pad>` and `<unk>` included (>= 2)
};

/// Token counts over a training split (token → occurrences).
using token_counts = std::map<std::string, std::uint64_t, std::less<>>;

/// A fixed token ↔ id table. Id 0 is `<pad>`, id 1 is `<unk>` (what unknown tokens encode to);
/// ids 2.. are the kept tokens by descending training frequency, ties by ascending byte order of
/// the UTF-8 token (= code point order), so the same counts always give the same ids.
class vocabulary {
public:
    static constexpr std::int32_t pad_id = 0;                ///< id of the padding token
    static constexpr std::int32_t unk_id = 1;                ///< id every unknown token maps to
    static constexpr std::string_view pad_token = "<pad>";  ///< text of id 0
    static constexpr std::string_view unk_token = "<unk>";  ///< text of id 1

    /// A vocabulary holding only `<pad>` and `<unk>`.
    vocabulary() {
        push(std::string(pad_token), 0);
        push(std::string(unk_token), 0);
    }

    /// The vocabulary of @p counts under @p opt: tokens with count >= min_frequency, most frequent
    /// first, cut to max_size ids in all. Empty tokens and the literal `<pad>`/`<unk>` are not added.
    static vocabulary from_counts(const token_counts& counts, const vocabulary_options& opt = {}) {
        ctnn::detail::check(opt.max_size >= 2, "text: vocabulary_options::max_size must be >= 2 (<pad> and <unk>), got " +
                                                   std::to_string(opt.max_size));
        std::vector<std::pair<std::string_view, std::uint64_t>> kept;
        for (const auto& [tok, n] : counts)
            if (n >= opt.min_frequency && n > 0 && !tok.empty() && tok != pad_token && tok != unk_token)
                kept.emplace_back(tok, n);
        // counts is ordered by token already; a stable sort by count keeps ties in byte order.
        std::stable_sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
        vocabulary v;
        for (std::size_t i = 0; i < kept.size() && v.size() < opt.max_size; ++i) v.push(std::string(kept[i].first), kept[i].second);
        return v;
    }

    /// Number of ids (tokens + 2).
    std::size_t size() const noexcept { return m_tokens.size(); }
    /// True when @p token has an id of its own.
    bool contains(std::string_view token) const { return m_ids.find(token) != m_ids.end(); }
    /// The id of @p token, or unk_id when it is not in the vocabulary.
    std::int32_t id(std::string_view token) const {
        auto it = m_ids.find(token);
        return it == m_ids.end() ? unk_id : it->second;
    }
    /// The token of @p id. Throws ctnn::error when @p id is outside [0, size()).
    const std::string& token(std::int32_t id) const {
        check_id(id);
        return m_tokens[std::size_t(id)];
    }
    /// How often the token of @p id occurred in the training texts (0 for `<pad>` and `<unk>`).
    std::uint64_t frequency(std::int32_t id) const {
        check_id(id);
        return m_counts[std::size_t(id)];
    }
    /// The ids of @p tokens (unknown tokens → unk_id).
    std::vector<std::int32_t> encode(const std::vector<std::string>& tokens) const {
        std::vector<std::int32_t> ids;
        ids.reserve(tokens.size());
        for (const auto& t : tokens) ids.push_back(id(t));
        return ids;
    }
    /// The tokens of @p ids; `<pad>` ids are left out when @p skip_pad. Throws on an out-of-range id.
    std::vector<std::string> decode(const std::vector<std::int32_t>& ids, bool skip_pad = true) const {
        std::vector<std::string> out;
        out.reserve(ids.size());
        for (auto i : ids)
            if (!(skip_pad && i == pad_id)) out.push_back(token(i));
        return out;
    }

    /// Writes the vocabulary to @p path atomically (temporary file + rename). Format, UTF-8 text:
    /// a header line `ctnn-vocabulary 1 <size>`, then one line per id in id order,
    /// `<token>\t<training count>`, the token with `\\`, `\t`, `\n`, `\r` escaped by a backslash.
    void save(const std::filesystem::path& path) const {
        std::string s = "ctnn-vocabulary 1 " + std::to_string(size()) + "\n";
        for (std::size_t i = 0; i < size(); ++i) {
            for (char c : m_tokens[i]) {
                switch (c) {
                    case '\\': s += "\\\\"; break;
                    case '\t': s += "\\t"; break;
                    case '\n': s += "\\n"; break;
                    case '\r': s += "\\r"; break;
                    default: s += c;
                }
            }
            s += '\t' + std::to_string(m_counts[i]) + '\n';
        }
        ctnn::io::write_file_atomic(path, s);
    }

    /// Reads a vocabulary written by save(). Throws ctnn::error naming the file and the line for a
    /// missing file, a wrong header, a malformed line, a bad escape, invalid UTF-8, a duplicate
    /// token, ids 0/1 not being `<pad>`/`<unk>`, or a line count different from the header's size.
    static vocabulary load(const std::filesystem::path& path) {
        const std::string f = path.string();
        std::ifstream in(path, std::ios::binary);
        if (!in) ctnn::detail::fail("text: cannot open vocabulary file '" + f + "': no such file or no permission");
        auto bad = [&](std::size_t line, const std::string& what) {
            ctnn::detail::fail("text: vocabulary file '" + f + "' line " + std::to_string(line) + ": " + what);
        };
        std::string line;
        if (!std::getline(in, line)) bad(1, "empty file; expected header 'ctnn-vocabulary 1 <size>'");
        constexpr std::string_view magic = "ctnn-vocabulary 1 ";
        std::uint64_t n = 0;
        if (line.compare(0, magic.size(), magic) != 0 || !parse_count(std::string_view(line).substr(magic.size()), n) ||
            n < 2 || n > std::uint64_t(INT32_MAX))
            bad(1, "expected header 'ctnn-vocabulary 1 <size>' with 2 <= size < 2^31, got '" + line.substr(0, 60) + "'");
        vocabulary v;
        v.m_tokens.clear();
        v.m_counts.clear();
        v.m_ids.clear();
        for (std::uint64_t i = 0; i < n; ++i) {
            const std::size_t ln = i + 2;
            if (!std::getline(in, line))
                bad(ln, "file ends after " + std::to_string(i) + " of the " + std::to_string(n) + " tokens the header announces");
            const std::size_t tab = line.rfind('\t');
            if (tab == std::string::npos) bad(ln, "expected '<token>\\t<count>', found no tab");
            std::uint64_t count = 0;
            if (!parse_count(std::string_view(line).substr(tab + 1), count))
                bad(ln, "count '" + line.substr(tab + 1, 30) + "' is not a non-negative integer");
            std::string tok;
            for (std::size_t k = 0; k < tab; ++k) {
                if (line[k] == '\t') bad(ln, "unescaped tab inside the token");
                if (line[k] != '\\') {
                    tok += line[k];
                    continue;
                }
                const char e = k + 1 < tab ? line[++k] : '\0';
                if (e == '\\') tok += '\\';
                else if (e == 't') tok += '\t';
                else if (e == 'n') tok += '\n';
                else if (e == 'r') tok += '\r';
                else bad(ln, "bad escape in token (expected \\\\, \\t, \\n or \\r)");
            }
            if (tok.empty()) bad(ln, "empty token");
            if (const auto p = find_invalid_utf8(tok); p.offset != tok.size())
                bad(ln, "token is not valid UTF-8 (byte " + std::to_string(p.offset) + " of the token: " + p.reason + ")");
            if (i == 0 && tok != pad_token) bad(ln, "id 0 must be <pad>, got '" + tok + "'");
            if (i == 1 && tok != unk_token) bad(ln, "id 1 must be <unk>, got '" + tok + "'");
            if (v.contains(tok)) bad(ln, "duplicate token '" + tok + "' (first at line " + std::to_string(v.id(tok) + 2) + ")");
            v.push(std::move(tok), count);
        }
        while (std::getline(in, line))
            if (!line.empty()) bad(n + 2, "unexpected line after the " + std::to_string(n) + " tokens the header announces");
        return v;
    }

private:
    void push(std::string tok, std::uint64_t count) {
        m_ids.emplace(tok, std::int32_t(m_tokens.size()));
        m_tokens.push_back(std::move(tok));
        m_counts.push_back(count);
    }
    void check_id(std::int32_t id) const {
        if (id < 0 || std::size_t(id) >= m_tokens.size())
            ctnn::detail::fail("text: token id " + std::to_string(id) + " is outside the vocabulary [0, " +
                               std::to_string(m_tokens.size()) + ")");
    }
    static bool parse_count(std::string_view s, std::uint64_t& out) {
        if (s.empty() || s.size() > 19) return false;
        out = 0;
        for (char c : s) {
            if (c < '0' || c > '9') return false;
            out = out * 10 + std::uint64_t(c - '0');
        }
        return true;
    }

    std::vector<std::string> m_tokens;
    std::vector<std::uint64_t> m_counts;
    std::map<std::string, std::int32_t, std::less<>> m_ids;
};

/// Adds the tokens of @p tokens to @p counts.
inline void count_tokens(token_counts& counts, const std::vector<std::string>& tokens) {
    for (const auto& t : tokens) {
        auto it = counts.find(t);
        if (it == counts.end()) counts.emplace(t, 1);
        else ++it->second;
    }
}

/// The vocabulary of the training texts @p texts split by @p tokenize (char_tokenizer, word_tokenizer
/// or any callable string_view → vector<string>). Pass only the training split.
template <class Tokenizer>
vocabulary build_vocabulary(const std::vector<std::string>& texts, const Tokenizer& tokenize,
                            const vocabulary_options& opt = {}) {
    token_counts counts;
    for (const auto& t : texts) count_tokens(counts, tokenize(t));
    return vocabulary::from_counts(counts, opt);
}

/// The ids of @p text under @p tokenize and @p vocab.
template <class Tokenizer>
std::vector<std::int32_t> encode(const vocabulary& vocab, const Tokenizer& tokenize, std::string_view text) {
    return vocab.encode(tokenize(text));
}

/// The text of @p ids (padding left out) joined as @p tokenize joins tokens; `<unk>` ids give "<unk>".
template <class Tokenizer>
std::string decode(const vocabulary& vocab, const Tokenizer& tokenize, const std::vector<std::int32_t>& ids) {
    return tokenize.join(vocab.decode(ids));
}

}  // namespace ctnn::data::text
