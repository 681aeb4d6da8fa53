// SPDX-License-Identifier: MIT
#pragma once
// A float32 array of a reference archive (tests/data/*.npz written by tools/export_torch_*.py), by name.
#include <catch2/catch.hpp>
#include <cstring>
#include <ctnn/io/npz.hpp>
#include <map>
#include <string>
#include <vector>

namespace ctnn::test {

inline std::vector<float> npz_floats(const std::map<std::string, io::npy_array>& a, const std::string& key) {
    const auto it = a.find(key);
    INFO("array " << key);
    REQUIRE(it != a.end());
    REQUIRE(it->second.dtype == "<f4");
    std::vector<float> v(it->second.data.size() / sizeof(float));
    std::memcpy(v.data(), it->second.data.data(), it->second.data.size());
    return v;
}

}  // namespace ctnn::test
