// SPDX-License-Identifier: MIT
#pragma once
/// @file npz.hpp  numpy `.npz` archives (a zip of `.npy` files), stored or deflated, read and written
/// with zlib. Every size and offset read from a file is checked before use.
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "../core/error.hpp"
#include "atomic_file.hpp"

namespace ctnn::io {

/// One array of an archive: numpy dtype string (`<f4`, `<f8`, `<i8`, ...), C-order shape, raw bytes.
struct npy_array {
    std::string dtype;
    std::vector<std::size_t> shape;
    std::string data;
    std::size_t count() const noexcept {
        std::size_t n = 1;
        for (auto d : shape) n *= d;
        return n;
    }
};

/// The numpy dtype string of T (`<f4` for float, `<f8` for double, ...).
template <class T>
constexpr const char* npy_dtype() {
    if constexpr (std::is_same_v<T, float>) return "<f4";
    else if constexpr (std::is_same_v<T, double>) return "<f8";
    else if constexpr (std::is_same_v<T, std::int32_t>) return "<i4";
    else if constexpr (std::is_same_v<T, std::int64_t>) return "<i8";
    else if constexpr (std::is_same_v<T, std::uint8_t>) return "|u1";
    else static_assert(sizeof(T) == 0, "ctnn::io::npy_dtype: unsupported element type; use float, double, int32, int64 or uint8");
}

namespace detail {
inline std::size_t dtype_size(const std::string& d) {
    if (d.size() < 3 || (d[0] != '<' && d[0] != '|' && d[0] != '=')) return 0;
    const char k = d[1];
    if (k != 'f' && k != 'i' && k != 'u' && k != 'b') return 0;
    std::size_t n = 0;
    for (std::size_t i = 2; i < d.size(); ++i) {
        if (d[i] < '0' || d[i] > '9') return 0;
        n = n * 10 + std::size_t(d[i] - '0');
        if (n > 16) return 0;
    }
    return n;
}
inline void put16(std::string& s, std::uint32_t v) {
    s.push_back(char(v & 0xff));
    s.push_back(char((v >> 8) & 0xff));
}
inline void put32(std::string& s, std::uint32_t v) {
    put16(s, v & 0xffff);
    put16(s, v >> 16);
}
inline std::uint32_t get16(const unsigned char* p) { return std::uint32_t(p[0]) | (std::uint32_t(p[1]) << 8); }
inline std::uint32_t get32(const unsigned char* p) { return get16(p) | (get16(p + 2) << 16); }

/// The .npy (version 1.0) encoding of @p a.
inline std::string encode_npy(const npy_array& a) {
    std::string dict = "{'descr': '" + a.dtype + "', 'fortran_order': False, 'shape': (";
    for (std::size_t i = 0; i < a.shape.size(); ++i) dict += std::to_string(a.shape[i]) + (a.shape.size() == 1 ? "," : i + 1 < a.shape.size() ? ", " : "");
    dict += "), }";
    std::size_t total = 10 + dict.size() + 1;
    dict.append((64 - total % 64) % 64, ' ');
    dict.push_back('\n');
    std::string out("\x93NUMPY\x01\x00", 8);
    put16(out, std::uint32_t(dict.size()));
    out += dict;
    out += a.data;
    return out;
}

/// Parses a .npy blob (versions 1-3) of entry @p name in file @p file.
inline npy_array decode_npy(const std::string& blob, const std::string& file, const std::string& name) {
    const std::string where = "npz: '" + file + "' array '" + name + "': ";
    if (blob.size() < 10 || std::memcmp(blob.data(), "\x93NUMPY", 6) != 0) ctnn::detail::fail(where + "not a .npy entry (wrong magic)");
    const auto* u = reinterpret_cast<const unsigned char*>(blob.data());
    const unsigned major = u[6];
    std::size_t hlen, hstart;
    if (major == 1) {
        hlen = get16(u + 8);
        hstart = 10;
    } else if (major == 2 || major == 3) {
        if (blob.size() < 12) ctnn::detail::fail(where + "truncated header");
        hlen = get32(u + 8);
        hstart = 12;
    } else {
        ctnn::detail::fail(where + "unsupported .npy version " + std::to_string(major));
    }
    if (hlen > blob.size() - hstart) ctnn::detail::fail(where + "truncated header");
    const std::string h = blob.substr(hstart, hlen);
    auto value_of = [&](const std::string& key) -> std::string {
        const auto k = h.find("'" + key + "'");
        if (k == std::string::npos) ctnn::detail::fail(where + "header lacks '" + key + "'");
        auto c = h.find(':', k);
        if (c == std::string::npos) ctnn::detail::fail(where + "malformed header");
        ++c;
        while (c < h.size() && h[c] == ' ') ++c;
        return h.substr(c);
    };
    npy_array a;
    {
        const std::string v = value_of("descr");
        if (v.empty() || v[0] != '\'') ctnn::detail::fail(where + "malformed descr");
        const auto e = v.find('\'', 1);
        if (e == std::string::npos) ctnn::detail::fail(where + "malformed descr");
        a.dtype = v.substr(1, e - 1);
    }
    if (value_of("fortran_order").rfind("False", 0) != 0) ctnn::detail::fail(where + "Fortran-order arrays are not supported; save C-order");
    {
        const std::string v = value_of("shape");
        if (v.empty() || v[0] != '(') ctnn::detail::fail(where + "malformed shape");
        std::size_t i = 1, cur = 0;
        bool have = false;
        for (; i < v.size() && v[i] != ')'; ++i) {
            const char ch = v[i];
            if (ch >= '0' && ch <= '9') {
                if (cur > (std::size_t(1) << 40)) ctnn::detail::fail(where + "absurd dimension in shape");
                cur = cur * 10 + std::size_t(ch - '0');
                have = true;
            } else if (ch == ',') {
                if (have) a.shape.push_back(cur);
                cur = 0;
                have = false;
            } else if (ch != ' ') {
                ctnn::detail::fail(where + "malformed shape");
            }
        }
        if (i == v.size()) ctnn::detail::fail(where + "malformed shape");
        if (have) a.shape.push_back(cur);
        if (a.shape.size() > 8) ctnn::detail::fail(where + "rank above 8");
    }
    const std::size_t item = dtype_size(a.dtype);
    if (item == 0) ctnn::detail::fail(where + "unsupported dtype '" + a.dtype + "'");
    std::size_t bytes = item;
    for (auto d : a.shape) {
        if (d != 0 && bytes > (std::size_t(1) << 40) / d) ctnn::detail::fail(where + "absurd shape");
        bytes *= d;
    }
    const std::size_t payload = blob.size() - hstart - hlen;
    if (payload != bytes)
        ctnn::detail::fail(where + "shape and dtype need " + std::to_string(bytes) + " bytes, entry has " + std::to_string(payload));
    a.data = blob.substr(hstart + hlen);
    return a;
}
}  // namespace detail

/// An array of @p values with C-order @p shape, ready for write_npz (float, double, int32, int64, uint8).
/// Throws ctnn::error when the shape does not hold exactly values.size() elements.
template <class T>
npy_array make_array(std::span<const T> values, std::vector<std::size_t> shape) {
    npy_array a{npy_dtype<T>(), std::move(shape), {}};
    if (a.count() != values.size()) [[unlikely]]
        ctnn::detail::fail("make_array: the shape holds " + std::to_string(a.count()) + " elements, the values are " +
                           std::to_string(values.size()));
    a.data.assign(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
    return a;
}
/// make_array of a vector: shape [v.size()] unless given.
template <class T>
npy_array make_array(const std::vector<T>& values, std::vector<std::size_t> shape = {}) {
    if (shape.empty()) shape = {values.size()};
    return make_array(std::span<const T>{values}, std::move(shape));
}

/// Writes @p arrays (name -> array; `.npy` is appended to each entry name) as an npz archive,
/// atomically. @p compress selects deflate (np.savez_compressed) or stored entries (np.savez).
inline void write_npz(const std::filesystem::path& path, const std::map<std::string, npy_array>& arrays, bool compress = true) {
    std::string out, central;
    std::uint16_t entries = 0;
    for (const auto& [name, arr] : arrays) {
        if (entries == 0xffff) ctnn::detail::fail("npz: too many arrays for '" + path.string() + "'");
        const std::string raw = detail::encode_npy(arr);
        if (raw.size() >= 0xffffffffu) ctnn::detail::fail("npz: array '" + name + "' exceeds 4 GiB (zip64 not supported)");
        const std::string fname = name + ".npy";
        const std::uint32_t crc = std::uint32_t(crc32(0, reinterpret_cast<const Bytef*>(raw.data()), uInt(raw.size())));
        std::string body = raw;
        std::uint16_t method = 0;
        if (compress) {
            z_stream zs{};
            deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
            body.resize(deflateBound(&zs, uLong(raw.size())));
            zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
            zs.avail_in = uInt(raw.size());
            zs.next_out = reinterpret_cast<Bytef*>(body.data());
            zs.avail_out = uInt(body.size());
            const int r = deflate(&zs, Z_FINISH);
            body.resize(zs.total_out);
            deflateEnd(&zs);
            if (r != Z_STREAM_END) ctnn::detail::fail("npz: deflate failed for array '" + name + "'");
            method = 8;
        }
        const std::uint32_t offset = std::uint32_t(out.size());
        auto header = [&](std::string& s, bool central_entry) {
            detail::put32(s, central_entry ? 0x02014b50 : 0x04034b50);
            if (central_entry) detail::put16(s, 20);  // version made by
            detail::put16(s, 20);                    // version needed
            detail::put16(s, 0);                     // flags
            detail::put16(s, method);
            detail::put16(s, 0);  // time
            detail::put16(s, 0x21);  // date 1980-01-01
            detail::put32(s, crc);
            detail::put32(s, std::uint32_t(body.size()));
            detail::put32(s, std::uint32_t(raw.size()));
            detail::put16(s, std::uint16_t(fname.size()));
            detail::put16(s, 0);  // extra
            if (central_entry) {
                detail::put16(s, 0);  // comment
                detail::put16(s, 0);  // disk
                detail::put16(s, 0);  // internal attrs
                detail::put32(s, 0);  // external attrs
                detail::put32(s, offset);
            }
            s += fname;
        };
        header(out, false);
        out += body;
        header(central, true);
        ++entries;
        if (out.size() >= 0xffffffffu) ctnn::detail::fail("npz: archive '" + path.string() + "' exceeds 4 GiB (zip64 not supported)");
    }
    const std::uint32_t cd_offset = std::uint32_t(out.size());
    out += central;
    detail::put32(out, 0x06054b50);
    detail::put16(out, 0);
    detail::put16(out, 0);
    detail::put16(out, entries);
    detail::put16(out, entries);
    detail::put32(out, std::uint32_t(central.size()));
    detail::put32(out, cd_offset);
    detail::put16(out, 0);
    write_file_atomic(path, out);
}

/// Reads every array of an npz archive (stored or deflated entries; CRCs verified). Throws
/// ctnn::error naming the file and entry for truncation, bad magic, unsupported features (zip64,
/// encryption), CRC mismatch or malformed .npy headers. Never allocates more than the file's size
/// times deflate's maximum ratio.
inline std::map<std::string, npy_array> read_npz(const std::filesystem::path& path) {
    const std::string f = path.string();
    std::ifstream in(path, std::ios::binary);
    if (!in) ctnn::detail::fail("npz: cannot open '" + f + "'");
    std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto* u = reinterpret_cast<const unsigned char*>(file.data());
    const std::size_t n = file.size();
    if (n < 22) ctnn::detail::fail("npz: '" + f + "' is too short to be a zip archive (truncated?)");
    std::size_t eocd = std::string::npos;
    for (std::size_t i = n - 22 + 1; i-- > (n > 22 + 65535 ? n - 22 - 65535 : 0);)
        if (detail::get32(u + i) == 0x06054b50) {
            eocd = i;
            break;
        }
    if (eocd == std::string::npos) ctnn::detail::fail("npz: '" + f + "' is not a zip archive (no end-of-central-directory; truncated or wrong format)");
    const std::size_t count = detail::get16(u + eocd + 10);
    const std::size_t cd_size = detail::get32(u + eocd + 12), cd_off = detail::get32(u + eocd + 16);
    if (cd_off > eocd || cd_size > eocd - cd_off) ctnn::detail::fail("npz: '" + f + "' has a corrupt central directory");
    std::map<std::string, npy_array> out;
    std::size_t p = cd_off;
    for (std::size_t e = 0; e < count; ++e) {
        if (p + 46 > eocd || detail::get32(u + p) != 0x02014b50) ctnn::detail::fail("npz: '" + f + "' has a corrupt central directory entry");
        const std::uint32_t flags = detail::get16(u + p + 8), method = detail::get16(u + p + 10), crc = detail::get32(u + p + 16);
        const std::size_t csize = detail::get32(u + p + 20), usize = detail::get32(u + p + 24);
        const std::size_t nlen = detail::get16(u + p + 28), xlen = detail::get16(u + p + 30), clen = detail::get16(u + p + 32);
        const std::size_t loff = detail::get32(u + p + 42);
        if (p + 46 + nlen > eocd) ctnn::detail::fail("npz: '" + f + "' has a corrupt central directory entry");
        std::string name(file.data() + p + 46, nlen);
        p += 46 + nlen + xlen + clen;
        if (csize == 0xffffffff || usize == 0xffffffff || loff == 0xffffffff)
            ctnn::detail::fail("npz: '" + f + "' entry '" + name + "' uses zip64, which is not supported");
        if (flags & 1) ctnn::detail::fail("npz: '" + f + "' entry '" + name + "' is encrypted");
        if (loff + 30 > n || detail::get32(u + loff) != 0x04034b50)
            ctnn::detail::fail("npz: '" + f + "' entry '" + name + "': local header out of bounds or wrong magic");
        const std::size_t data = loff + 30 + detail::get16(u + loff + 26) + detail::get16(u + loff + 28);
        if (data > n || csize > n - data) ctnn::detail::fail("npz: '" + f + "' entry '" + name + "' is truncated");
        std::string raw;
        if (method == 0) {
            if (csize != usize) ctnn::detail::fail("npz: '" + f + "' entry '" + name + "': stored sizes disagree");
            raw.assign(file.data() + data, csize);
        } else if (method == 8) {
            if (usize > csize * 1032 + 1024) ctnn::detail::fail("npz: '" + f + "' entry '" + name + "' declares an impossible size");
            raw.resize(usize);
            z_stream zs{};
            inflateInit2(&zs, -15);
            zs.next_in = const_cast<Bytef*>(reinterpret_cast<const Bytef*>(file.data() + data));
            zs.avail_in = uInt(csize);
            zs.next_out = reinterpret_cast<Bytef*>(raw.data());
            zs.avail_out = uInt(usize);
            const int r = inflate(&zs, Z_FINISH);
            const std::size_t got = zs.total_out;
            inflateEnd(&zs);
            if (r != Z_STREAM_END || got != usize) ctnn::detail::fail("npz: '" + f + "' entry '" + name + "' is corrupt (inflate failed)");
        } else {
            ctnn::detail::fail("npz: '" + f + "' entry '" + name + "' uses compression method " + std::to_string(method) + " (only stored and deflate are supported)");
        }
        if (std::uint32_t(crc32(0, reinterpret_cast<const Bytef*>(raw.data()), uInt(raw.size()))) != crc)
            ctnn::detail::fail("npz: '" + f + "' entry '" + name + "' fails its CRC check (corrupt)");
        if (name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0) name.resize(name.size() - 4);
        out[name] = detail::decode_npy(raw, f, name);
    }
    return out;
}

}  // namespace ctnn::io
