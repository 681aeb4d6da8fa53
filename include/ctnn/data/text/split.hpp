// SPDX-License-Identifier: MIT
#pragma once
/// @file split.hpp  Deterministic train/test split by a hash of each entry's text, so equal entries
/// always land on the same side. Standard library only.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../../core/error.hpp"
#include "fortune.hpp"

namespace ctnn::data::text {

/// 64-bit FNV-1a of @p s (offset basis 0xcbf29ce484222325, prime 0x100000001b3).
constexpr std::uint64_t fnv1a_64(std::string_view s) noexcept {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (char c : s) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ULL;
    }
    return h;
}

/// @p s with leading/trailing ASCII white space removed and inner runs of it (space, \t, \n, \r,
/// \f, \v) replaced by one space: entries differing only in spacing or line ends count as equal.
inline std::string normalize_space(std::string_view s) {
    auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
    std::string out;
    out.reserve(s.size());
    bool gap = false;
    for (char c : s) {
        if (ws(c)) {
            gap = !out.empty();
            continue;
        }
        if (gap) out += ' ';
        gap = false;
        out += c;
    }
    return out;
}

/// Where @p text falls in [0, 1): h = fnv1a_64(normalize_space(text)) ^ seed, mixed by the
/// splitmix64 finaliser (h ^= h>>30; h *= 0xbf58476d1ce4e5b9; h ^= h>>27; h *= 0x94d049bb133111eb;
/// h ^= h>>31), then (h >> 11) / 2^53. Fixed across platforms and releases.
inline double split_position(std::string_view text, std::uint64_t seed = 0) {
    std::uint64_t h = fnv1a_64(normalize_space(text)) ^ seed;
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return double(h >> 11) * 0x1.0p-53;
}

/// True when @p text belongs to the test split: split_position(text, seed) < test_fraction.
inline bool is_test_text(std::string_view text, double test_fraction, std::uint64_t seed = 0) {
    return split_position(text, seed) < test_fraction;
}

/// Row indices of a split, each list ascending.
struct split_indices {
    std::vector<std::size_t> train;  ///< rows for training
    std::vector<std::size_t> test;   ///< rows held out
};

/// Splits @p texts by is_test_text; about @p test_fraction of the distinct texts go to test.
/// Throws ctnn::error unless 0 <= test_fraction <= 1.
inline split_indices split_by_hash(const std::vector<std::string>& texts, double test_fraction, std::uint64_t seed = 0) {
    ctnn::detail::check(test_fraction >= 0.0 && test_fraction <= 1.0,
                        "text: test_fraction must be in [0, 1], got " + std::to_string(test_fraction));
    split_indices s;
    for (std::size_t i = 0; i < texts.size(); ++i) (is_test_text(texts[i], test_fraction, seed) ? s.test : s.train).push_back(i);
    return s;
}

/// The rows @p rows of @p data (texts and labels; classes unchanged).
inline labelled_texts select_rows(const labelled_texts& data, const std::vector<std::size_t>& rows) {
    labelled_texts out;
    out.classes = data.classes;
    for (auto r : rows) {
        out.texts.push_back(data.texts.at(r));
        if (!data.labels.empty()) out.labels.push_back(data.labels.at(r));
    }
    return out;
}

/// {train, test} of @p data split by split_by_hash(data.texts, test_fraction, seed).
inline std::pair<labelled_texts, labelled_texts> split_train_test(const labelled_texts& data, double test_fraction,
                                                                  std::uint64_t seed = 0) {
    const auto s = split_by_hash(data.texts, test_fraction, seed);
    return {select_rows(data, s.train), select_rows(data, s.test)};
}

}  // namespace ctnn::data::text
