// SPDX-License-Identifier: MIT
#pragma once
// A float32/float64/int32 array of a reference archive (tests/data/*.npz written by tools/export_torch_*.py), by name.
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <ctnn/io/npz.hpp>
#include <map>
#include <string>
#include <vector>

namespace ctnn::test {

/// The values of array @p key, which must have numpy dtype @p dtype ("<f4", "<f8", "<i4") matching T.
template <class T>
std::vector<T> npz_values(const std::map<std::string, io::npy_array>& a, const std::string& key, const char* dtype) {
    const auto it = a.find(key);
    INFO("array " << key);
    REQUIRE(it != a.end());
    REQUIRE(it->second.dtype == dtype);
    std::vector<T> v(it->second.data.size() / sizeof(T));
    std::memcpy(v.data(), it->second.data.data(), it->second.data.size());
    return v;
}
inline std::vector<float> npz_floats(const std::map<std::string, io::npy_array>& a, const std::string& key) {
    return npz_values<float>(a, key, "<f4");
}
inline std::vector<double> npz_doubles(const std::map<std::string, io::npy_array>& a, const std::string& key) {
    return npz_values<double>(a, key, "<f8");
}
inline std::vector<std::int32_t> npz_ints(const std::map<std::string, io::npy_array>& a, const std::string& key) {
    return npz_values<std::int32_t>(a, key, "<i4");
}

}  // namespace ctnn::test
