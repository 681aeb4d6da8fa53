// SPDX-License-Identifier: MIT
#pragma once
/// @file model_io.hpp  save_npz / load_npz for models, with PyTorch `state_dict` names and layouts.
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "npz.hpp"

namespace ctnn {

/// Saves every named parameter of @p model (`0.weight` [out, in], `0.bias` [out], ...) as an npz
/// archive, atomically. Load it in Python with `np.load` and `torch.from_numpy` into the
/// equivalent nn.Sequential's state_dict. A CUDA model's parameters are copied through the host.
template <class Model>
void save_npz(const Model& model, const std::filesystem::path& path, bool compress = true) {
    using T = typename Model::value_type;
    const auto values = model.host_parameters();
    std::map<std::string, io::npy_array> arrays;
    for (const auto& p : model.parameter_layout()) {
        io::npy_array a;
        a.dtype = io::npy_dtype<T>();
        a.shape.assign(p.desc.dims.begin(), p.desc.dims.begin() + p.desc.rank);
        a.data.assign(reinterpret_cast<const char*>(values.data() + p.offset), p.desc.size() * sizeof(T));
        arrays.emplace(p.name, std::move(a));
    }
    io::write_npz(path, arrays, compress);
}

/// Loads parameters saved by save_npz (or exported from PyTorch) into @p model. Every name, dtype
/// and shape is checked before anything is copied: on the first mismatch (missing array, extra
/// array, wrong dtype, wrong shape) ctnn::error names it and the model is unchanged. A CUDA model's
/// parameters are assembled on the host and uploaded once.
template <class Model>
void load_npz(Model& model, const std::filesystem::path& path) {
    using T = typename Model::value_type;
    const std::string f = path.string();
    auto arrays = io::read_npz(path);
    const auto params = model.parameter_layout();
    for (const auto& p : params) {
        auto it = arrays.find(p.name);
        if (it == arrays.end()) ctnn::detail::fail("load_npz: '" + f + "' lacks array '" + p.name + "'");
        const auto& a = it->second;
        if (a.dtype != io::npy_dtype<T>())
            ctnn::detail::fail("load_npz: '" + f + "' array '" + p.name + "' has dtype " + a.dtype + ", expected " + io::npy_dtype<T>());
        bool same = a.shape.size() == p.desc.rank;
        for (std::size_t i = 0; same && i < p.desc.rank; ++i) same = a.shape[i] == p.desc.dims[i];
        if (!same) {
            auto str = [](auto b, auto e) {
                std::string s = "[";
                for (auto i = b; i != e; ++i) s += (i == b ? "" : ", ") + std::to_string(*i);
                return s + "]";
            };
            ctnn::detail::fail("load_npz: '" + f + "' array '" + p.name + "' has shape " + str(a.shape.begin(), a.shape.end()) +
                               ", expected " + str(p.desc.dims.begin(), p.desc.dims.begin() + p.desc.rank));
        }
    }
    if (arrays.size() != params.size())
        for (const auto& [name, a] : arrays) {
            bool known = false;
            for (const auto& p : params) known = known || p.name == name;
            if (!known) ctnn::detail::fail("load_npz: '" + f + "' has unexpected array '" + name + "' (the model has no such parameter)");
        }
    std::vector<T> values(Model::parameter_count);
    for (const auto& p : params) std::memcpy(values.data() + p.offset, arrays[p.name].data.data(), p.desc.size() * sizeof(T));
    model.set_parameters(values);
}

}  // namespace ctnn
