// SPDX-License-Identifier: MIT
#pragma once
/// @file tokenizer.hpp  Character (UTF-8 code point) and word tokenizers. Standard library only.
#include <string>
#include <string_view>
#include <vector>

#include "utf8.hpp"

namespace ctnn::data::text {

/// One token per Unicode code point (each token is that code point's UTF-8 bytes); white space and
/// newlines are tokens too, so join(tokens(s)) == s. Throws ctnn::error when the text is not UTF-8.
struct char_tokenizer {
    bool lower = false;  ///< pass each code point through to_lower first

    /// The code points of @p s as UTF-8 strings.
    std::vector<std::string> operator()(std::string_view s) const {
        std::vector<std::string> out;
        out.reserve(s.size());
        for (char32_t c : decode_utf8(s)) {
            std::string t;
            append_utf8(t, lower ? to_lower(c) : c);
            out.push_back(std::move(t));
        }
        return out;
    }
    /// The text of @p tokens: their concatenation.
    std::string join(const std::vector<std::string>& tokens) const {
        std::string out;
        for (const auto& t : tokens) out += t;
        return out;
    }
};

/// Words: maximal runs of letters (is_letter), ASCII digits and apostrophes (' and ’, both kept
/// as '), lower-cased with to_lower (ASCII, Latin-1, Latin Extended-A, basic Greek, Cyrillic);
/// apostrophes at either end of a run are dropped ("'tis" → "tis", "dogs'" → "dogs"), inner ones
/// kept ("don’t" → "don't"). Everything else separates words. Throws ctnn::error when not UTF-8.
struct word_tokenizer {
    bool lower = true;  ///< lower-case the words

    /// The words of @p s.
    std::vector<std::string> operator()(std::string_view s) const {
        std::vector<std::string> out;
        std::u32string word;
        auto flush = [&] {
            std::size_t b = 0, e = word.size();
            while (b < e && word[b] == U'\'') ++b;
            while (e > b && word[e - 1] == U'\'') --e;
            if (b < e) out.push_back(encode_utf8(std::u32string_view(word).substr(b, e - b)));
            word.clear();
        };
        for (char32_t c : decode_utf8(s)) {
            if (is_letter(c) || (c >= U'0' && c <= U'9')) word.push_back(lower ? to_lower(c) : c);
            else if (is_apostrophe(c)) word.push_back(U'\'');
            else flush();
        }
        flush();
        return out;
    }
    /// The text of @p tokens: the words joined by single spaces.
    std::string join(const std::vector<std::string>& tokens) const {
        std::string out;
        for (std::size_t i = 0; i < tokens.size(); ++i) {
            if (i) out += ' ';
            out += tokens[i];
        }
        return out;
    }
};

}  // namespace ctnn::data::text
