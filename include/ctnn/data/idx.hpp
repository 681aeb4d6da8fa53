// SPDX-License-Identifier: MIT
#pragma once
/// @file idx.hpp  Reader for IDX files (the MNIST family format), raw or gzip-compressed.
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "../core/error.hpp"

namespace ctnn::data {

/// Element types an IDX file may declare (third byte of the magic number).
enum class idx_type : std::uint8_t { u8 = 0x08, i8 = 0x09, i16 = 0x0B, i32 = 0x0C, f32 = 0x0D, f64 = 0x0E };

/// One IDX array: element type, dimensions, raw big-endian bytes as stored.
struct idx_array {
    idx_type type = idx_type::u8;
    std::vector<std::size_t> dims;
    std::vector<std::uint8_t> bytes;
    std::size_t size() const noexcept {
        std::size_t s = 1;
        for (auto d : dims) s *= d;
        return s;
    }
};

namespace detail {
inline std::size_t idx_item_size(std::uint8_t t) {
    switch (t) {
        case 0x08: case 0x09: return 1;
        case 0x0B: return 2;
        case 0x0C: case 0x0D: return 4;
        case 0x0E: return 8;
        default: return 0;
    }
}
struct gz_closer {
    void operator()(gzFile f) const noexcept { gzclose(f); }
};
}  // namespace detail

/// Reads an IDX file (a `.gz` file is decompressed on the fly; a raw file is read as is).
/// Memory grows only as data actually arrives, so a header announcing absurd sizes cannot make the
/// reader allocate them; @p max_bytes bounds the payload. Throws ctnn::error naming the file for a
/// missing file, a wrong magic number, an unknown type, a truncated payload or trailing bytes.
inline idx_array read_idx(const std::filesystem::path& path, std::size_t max_bytes = std::size_t(1) << 32) {
    const std::string f = path.string();
    if (!std::filesystem::is_regular_file(path)) ctnn::detail::fail("idx: cannot open '" + f + "': no such file");
    std::unique_ptr<gzFile_s, detail::gz_closer> gz(gzopen(f.c_str(), "rb"));
    if (!gz) ctnn::detail::fail("idx: cannot open '" + f + "'");
    auto read = [&](void* dst, std::size_t n) -> std::size_t {
        const int r = gzread(gz.get(), dst, unsigned(n));
        if (r < 0) ctnn::detail::fail("idx: '" + f + "' is corrupt (gzip error)");
        return std::size_t(r);
    };
    unsigned char magic[4];
    if (read(magic, 4) != 4) ctnn::detail::fail("idx: '" + f + "' is truncated: no 4-byte magic number");
    const std::size_t item = detail::idx_item_size(magic[2]);
    if (magic[0] != 0 || magic[1] != 0 || item == 0)
        ctnn::detail::fail("idx: '" + f + "' has a wrong magic number (expected 00 00 <type 08/09/0B/0C/0D/0E> <rank>)");
    const std::size_t rank = magic[3];
    if (rank == 0 || rank > 8) ctnn::detail::fail("idx: '" + f + "' declares rank " + std::to_string(rank) + " (expected 1..8)");
    idx_array a;
    a.type = idx_type(magic[2]);
    std::size_t total = item;
    for (std::size_t i = 0; i < rank; ++i) {
        unsigned char b[4];
        if (read(b, 4) != 4) ctnn::detail::fail("idx: '" + f + "' is truncated inside its dimension list");
        const std::size_t d = (std::size_t(b[0]) << 24) | (std::size_t(b[1]) << 16) | (std::size_t(b[2]) << 8) | b[3];
        if (d == 0) ctnn::detail::fail("idx: '" + f + "' has a zero dimension " + std::to_string(i));
        if (total > max_bytes / d)
            ctnn::detail::fail("idx: '" + f + "' declares more than " + std::to_string(max_bytes) + " bytes of data; refusing");
        total *= d;
        a.dims.push_back(d);
    }
    constexpr std::size_t chunk = std::size_t(1) << 20;
    while (a.bytes.size() < total) {
        const std::size_t want = std::min(chunk, total - a.bytes.size());
        const std::size_t old = a.bytes.size();
        a.bytes.resize(old + want);
        const std::size_t got = read(a.bytes.data() + old, want);
        if (got != want)
            ctnn::detail::fail("idx: '" + f + "' is truncated: header declares " + std::to_string(total) +
                               " data bytes, file has " + std::to_string(old + got));
    }
    unsigned char extra;
    if (read(&extra, 1) != 0)
        ctnn::detail::fail("idx: '" + f + "' has trailing bytes after the " + std::to_string(total) + " declared data bytes");
    return a;
}

}  // namespace ctnn::data
