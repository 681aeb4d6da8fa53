// SPDX-License-Identifier: MIT
#pragma once
/// @file ratings.hpp  Explicit ratings for recommendation: MovieLens's `ratings.csv` (userId,movieId,rating,timestamp
/// with a header: ml-latest, and the dslabs extract of tools/extract_dslabs_movielens.py) and ml-100k's `u.data`
/// (user item rating timestamp, tab-separated), with raw ids mapped to dense indices 0..n-1 in increasing id order;
/// a random split by rating and a leave-last-out split by timestamp. Malformed input throws ctnn::error naming the
/// file and line.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "../core/error.hpp"
#include "../core/random.hpp"

namespace ctnn::recsys {

/// One rating with dense user and item indices.
struct rating {
    std::int32_t user = 0, item = 0;
    float value = 0;
    std::int64_t timestamp = 0;
};

/// Ratings with their index maps: user_ids[u] is dense user u's id in the file, item_ids[i] item i's.
struct ratings {
    std::vector<rating> rows;
    std::vector<std::int64_t> user_ids, item_ids;
    float min_value = 0, max_value = 0;
    std::size_t users() const noexcept { return user_ids.size(); }
    std::size_t items() const noexcept { return item_ids.size(); }
};

/// A train/test split of one ratings set (same index maps).
struct split {
    std::vector<rating> train, test;
};

/// How the text is laid out.
enum class rating_format {
    movielens_csv,  ///< header `userId,movieId,rating,timestamp`, comma-separated (MovieLens ml-latest, ml-20m, ...)
    ml100k          ///< `u.data`: user item rating timestamp, tab-separated, no header
};

namespace detail_recsys {
template <class N>
bool parse_number(std::string_view s, N& out) {
    while (!s.empty() && (s.front() == ' ')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.remove_suffix(1);
    if (s.empty()) return false;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
    return r.ec == std::errc{} && r.ptr == s.data() + s.size();
}
inline std::string format(double v) {
    std::ostringstream s;
    s << v;
    return s.str();
}
inline std::map<std::int64_t, std::int32_t> dense_ids(std::vector<std::int64_t>& ids) {
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    std::map<std::int64_t, std::int32_t> m;
    for (std::size_t k = 0; k < ids.size(); ++k) m.emplace(ids[k], std::int32_t(k));
    return m;
}
}  // namespace detail_recsys

/// Parses ratings from @p text (@p name: the file name for messages). Ratings must be finite and in
/// [@p lo, @p hi] (MovieLens: 0.5 to 5); ids non-negative integers.
inline ratings parse_ratings(std::string_view text, rating_format format, const std::string& name, float lo = 0.5f, float hi = 5.0f) {
    ratings out;
    out.min_value = lo;
    out.max_value = hi;
    const char sep = format == rating_format::movielens_csv ? ',' : '\t';
    struct raw {
        std::int64_t user, item, ts;
        float value;
    };
    std::vector<raw> rows;
    std::size_t line_no = 0, pos = 0;
    bool header_seen = format != rating_format::movielens_csv;
    while (pos < text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(pos, end - pos);
        pos = end + 1;
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        const std::string where = name + " line " + std::to_string(line_no) + ": ";
        if (!header_seen) {
            if (line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);  // a UTF-8 byte-order mark
            if (line.substr(0, 31) != "userId,movieId,rating,timestamp")
                detail::fail(where + "expected the header 'userId,movieId,rating,timestamp' (MovieLens ratings.csv)");
            header_seen = true;
            continue;
        }
        if (line.empty()) continue;
        std::string_view f[4];
        std::size_t nf = 0, start = 0;
        for (std::size_t k = 0; k <= line.size(); ++k)
            if (k == line.size() || line[k] == sep) {
                if (nf < 4) f[nf] = line.substr(start, k - start);
                ++nf;
                start = k + 1;
            }
        if (nf != 4)
            detail::fail(where + "expected 4 " + (sep == ',' ? "comma" : "tab") + "-separated fields (user, item, rating, timestamp), got " +
                         std::to_string(nf));
        raw r{};
        double v = 0;
        if (!detail_recsys::parse_number(f[0], r.user) || r.user < 0)
            detail::fail(where + "the user id '" + std::string(f[0]) + "' is not a non-negative integer");
        if (!detail_recsys::parse_number(f[1], r.item) || r.item < 0)
            detail::fail(where + "the item id '" + std::string(f[1]) + "' is not a non-negative integer");
        if (!detail_recsys::parse_number(f[2], v) || !std::isfinite(v))
            detail::fail(where + "the rating '" + std::string(f[2]) + "' is not a number");
        if (v < lo || v > hi)
            detail::fail(where + "the rating " + std::string(f[2]) + " is outside [" + detail_recsys::format(lo) + ", " +
                         detail_recsys::format(hi) + "]");
        if (!detail_recsys::parse_number(f[3], r.ts)) detail::fail(where + "the timestamp '" + std::string(f[3]) + "' is not an integer");
        r.value = float(v);
        rows.push_back(r);
    }
    if (!header_seen) detail::fail(name + ": empty file (expected the header 'userId,movieId,rating,timestamp')");
    if (rows.empty()) detail::fail(name + ": no ratings");
    for (const auto& r : rows) out.user_ids.push_back(r.user), out.item_ids.push_back(r.item);
    const auto um = detail_recsys::dense_ids(out.user_ids), im = detail_recsys::dense_ids(out.item_ids);
    out.rows.reserve(rows.size());
    for (const auto& r : rows) out.rows.push_back({um.at(r.user), im.at(r.item), r.value, r.ts});
    return out;
}

/// Reads a ratings file (@p format: MovieLens's ratings.csv or ml-100k's u.data). Files over 4 GiB are refused.
inline ratings read_ratings(const std::filesystem::path& path, rating_format format = rating_format::movielens_csv) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) detail::fail("recsys::read_ratings: cannot open '" + path.string() + "': " + ec.message());
    if (size > (std::uintmax_t(4) << 30)) detail::fail("recsys::read_ratings: '" + path.string() + "' is larger than 4 GiB");
    std::ifstream in(path, std::ios::binary);
    if (!in) detail::fail("recsys::read_ratings: cannot open '" + path.string() + "'");
    std::string text(std::size_t(size), '\0');
    in.read(text.data(), std::streamsize(size));
    if (std::size_t(in.gcount()) != size) detail::fail("recsys::read_ratings: '" + path.string() + "' could not be read in full");
    return parse_ratings(text, format, path.string());
}

/// A random split by rating: each rating goes to the test set with probability @p test_fraction (exactly
/// round(fraction · n) ratings, a seeded shuffle).
inline split random_split(const ratings& r, double test_fraction, seed s) {
    detail::check(test_fraction > 0 && test_fraction < 1, "recsys::random_split: the test fraction must be in (0, 1)");
    std::vector<std::size_t> order(r.rows.size());
    std::iota(order.begin(), order.end(), std::size_t(0));
    rng g{s};
    g.shuffle(order.data(), order.size());
    const std::size_t n_test = std::size_t(std::llround(test_fraction * double(order.size())));
    split out;
    for (std::size_t k = 0; k < order.size(); ++k) (k < n_test ? out.test : out.train).push_back(r.rows[order[k]]);
    return out;
}

/// Leave-last-out: each user's latest rating (largest timestamp; among equal timestamps the later row) is the
/// test set, the rest the training set; users with a single rating stay in training only.
inline split leave_last_out(const ratings& r) {
    std::vector<std::size_t> last(r.users(), SIZE_MAX), count(r.users(), 0);
    for (std::size_t k = 0; k < r.rows.size(); ++k) {
        const auto u = std::size_t(r.rows[k].user);
        ++count[u];
        if (last[u] == SIZE_MAX || r.rows[k].timestamp >= r.rows[last[u]].timestamp) last[u] = k;
    }
    split out;
    for (std::size_t k = 0; k < r.rows.size(); ++k) {
        const auto u = std::size_t(r.rows[k].user);
        (count[u] > 1 && last[u] == k ? out.test : out.train).push_back(r.rows[k]);
    }
    return out;
}

}  // namespace ctnn::recsys
