// SPDX-License-Identifier: MIT
#pragma once
/// @file batch.hpp  Padding/truncating token-id sequences to a fixed length, keeping the true lengths.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../../core/error.hpp"
#include "vocabulary.hpp"

namespace ctnn::data::text {

/// Which tokens a sequence longer than the batch length keeps.
enum class truncate_side {
    keep_front,  ///< the first `length` tokens (drop the end)
    keep_back    ///< the last `length` tokens (drop the start)
};

/// A batch of token ids: ids [count, length] row-major int32, each row's tokens left-aligned and
/// followed by padding; lengths [count] the number of real tokens per row (min(sequence size, length)).
struct token_batch {
    std::vector<std::int32_t> ids;      ///< [count, length], row-major
    std::vector<std::int32_t> lengths;  ///< [count], real tokens in each row
    std::size_t count = 0;              ///< rows
    std::size_t length = 0;             ///< columns (time steps)

    /// The id at row @p i, step @p t. @pre i < count, t < length.
    std::int32_t at(std::size_t i, std::size_t t) const noexcept { return ids[i * length + t]; }
};

/// @p seqs padded with @p pad (default `<pad>` = 0) or truncated (by @p side) to @p length ids each.
/// Throws ctnn::error when @p length is 0.
inline token_batch pad_batch(const std::vector<std::vector<std::int32_t>>& seqs, std::size_t length,
                             truncate_side side = truncate_side::keep_front, std::int32_t pad = vocabulary::pad_id) {
    ctnn::detail::check(length > 0, "text: pad_batch length must be > 0");
    ctnn::detail::check(length <= std::size_t(INT32_MAX), "text: pad_batch length must fit in int32");
    token_batch b;
    b.count = seqs.size();
    b.length = length;
    b.ids.assign(b.count * length, pad);
    b.lengths.resize(b.count);
    for (std::size_t i = 0; i < b.count; ++i) {
        const auto& s = seqs[i];
        const std::size_t n = std::min(s.size(), length);
        const std::size_t from = side == truncate_side::keep_front ? 0 : s.size() - n;
        std::copy_n(s.begin() + std::ptrdiff_t(from), n, b.ids.begin() + std::ptrdiff_t(i * length));
        b.lengths[i] = std::int32_t(n);
    }
    return b;
}

/// @p texts tokenized by @p tokenize, encoded with @p vocab and padded/truncated to @p length.
template <class Tokenizer>
token_batch encode_batch(const vocabulary& vocab, const Tokenizer& tokenize, const std::vector<std::string>& texts,
                         std::size_t length, truncate_side side = truncate_side::keep_front) {
    std::vector<std::vector<std::int32_t>> seqs;
    seqs.reserve(texts.size());
    for (const auto& t : texts) seqs.push_back(vocab.encode(tokenize(t)));
    return pad_batch(seqs, length, side);
}

}  // namespace ctnn::data::text
